"""User text as a small web-search syntax, rebuilt for each full-text engine.

User text is never passed to an engine raw. ``parse_text`` reads words, "quoted
phrases", ``OR`` and ``-excluded`` terms into a ``TextQuery``, which rebuilds the query as
an FTS5 ``MATCH`` expression (``TextQuery.fts5``, SQLite) or a ``websearch_to_tsquery``
string (``TextQuery.websearch``, PostgreSQL); the Tantivy index (``textindex``, SQLite)
builds its query objects from the same terms. So input like ``cirrhosis AND (`` never
raises a syntax error and the engines agree on which words count (the PostgreSQL English
stop words are dropped on all of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: PostgreSQL's English stop words (share/tsearch_data/english.stop, from Snowball); dropped
#: from queries on every engine so that SQLite and PostgreSQL read the same query.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now""".split()
)


@dataclass(frozen=True)
class Term:
    """One word or quoted phrase of a text query."""

    text: str
    negated: bool = False
    phrase: bool = False


@dataclass(frozen=True)
class TextQuery:
    """A parsed text query: alternatives (OR) of conjunctions (AND) of terms.

    ``exclusions`` holds the alternatives of a query made only of excluded terms
    (``-cirrhosis``): it ranks nothing (``groups`` is empty) and keeps the trials that no
    alternative's terms exclude, i.e. it drops the trials matching ``fts5_excluded``."""

    groups: tuple[tuple[Term, ...], ...] = field(default_factory=tuple)
    exclusions: tuple[tuple[Term, ...], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        """Nothing to rank (no word or phrase to find; there may be ``exclusions``)."""
        return not self.groups

    def websearch(self) -> str:
        """The query in ``websearch_to_tsquery`` syntax (also shown to users)."""
        parts = []
        for group in self.groups or self.exclusions:
            words = []
            for term in group:
                body = f'"{term.text}"' if term.phrase else term.text
                words.append(("-" if term.negated else "") + body)
            parts.append(" ".join(words))
        return " or ".join(parts)

    def fts5(self) -> str:
        """The query as an FTS5 MATCH expression, every term a quoted string."""
        alternatives = []
        for group in self.groups:
            pos = " AND ".join(fts5_string(t.text) for t in group if not t.negated)
            neg = "".join(f" NOT {fts5_string(t.text)}" for t in group if t.negated)
            alternatives.append(f"({pos}){neg}")
        return " OR ".join(f"({a})" for a in alternatives)

    def fts5_excluded(self) -> str:
        """For ``exclusions``: the FTS5 MATCH expression of the trials to drop. Keeping a
        trial when any alternative excludes none of its terms, ``(-a -b) OR -c``, is
        dropping those that match ``("a" OR "b") AND "c"``."""
        return " AND ".join(
            "(" + " OR ".join(fts5_string(t.text) for t in group) + ")" for group in self.exclusions
        )


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
#: An NCT number written with a space, hyphen or colon after "NCT" ("NCT 05227846"): the
#: indexes hold it as one word, "nct05227846".
_SPLIT_NCT = re.compile(r"\bNCT[\s:_-]*(\d{8})\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


def fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def clean_words(text: str) -> list[str]:
    """Letters/digits runs of ``text`` without stop words (what the tokenizers index)."""
    return [w for w in _WORD.findall(text) if w.lower() not in STOP_WORDS]


def _phrase_words(text: str) -> list[str]:
    """The words of a phrase without the stop words at its ends (PostgreSQL drops them, so
    ``"liver of"`` is ``liver`` on every engine); stop words inside are kept (they hold the
    word positions). A phrase of nothing but stop words has no words."""
    words = _WORD.findall(text)
    keep = [i for i, w in enumerate(words) if w.lower() not in STOP_WORDS]
    return words[keep[0] : keep[-1] + 1] if keep else []


def parse_text(text: str) -> TextQuery:
    """Read user text as web-search syntax; never fails.

    - words are ANDed; ``"a phrase"`` must appear in that order; ``OR`` (any case) between
      terms gives alternatives; ``-word`` / ``-"a phrase"`` excludes;
    - ``AND``, punctuation, unbalanced quotes or brackets, and stop words are ignored;
    - a hyphenated word like ``COVID-19`` is the phrase "covid 19" (so is an identifier such
      as ``MSC-DLC-1`` or ``ISC.19.29``, found in the trials' identifiers);
    - ``NCT 05227846`` (any case, a space, hyphen or colon after NCT) is the NCT number
      ``NCT05227846``;
    - a phrase's leading and trailing stop words are dropped (``"failure of"`` is
      ``failure``), as PostgreSQL does; a stop word inside a phrase stays;
    - a query made only of exclusions (``-cirrhosis``) finds every trial without them,
      unranked (``TextQuery.exclusions``); next to an alternative with words, an
      alternative made only of exclusions is dropped (it cannot rank anything).
    """
    groups: list[list[Term]] = [[]]
    text = _SPLIT_NCT.sub(r"NCT\1", text or "")
    for match in _TOKEN.finditer(text):
        minus, quoted, bare = match.group(1), match.group(2), match.group(3)
        if quoted is not None:
            words = _phrase_words(quoted)
            negated = bool(minus)
        else:
            if bare.upper() == "OR":
                groups.append([])
                continue
            if bare.upper() == "AND":
                continue
            negated = bare.startswith("-") and len(bare) > 1
            words = _phrase_words(bare[1:] if negated else bare)
        if not words:
            continue
        if len(words) == 1:
            groups[-1].append(Term(words[0], negated, phrase=False))
        else:
            groups[-1].append(Term(" ".join(words), negated, phrase=True))
    kept = tuple(tuple(g) for g in groups if any(not t.negated for t in g))
    if kept:
        return TextQuery(kept)
    return TextQuery((), tuple(tuple(g) for g in groups if g))
