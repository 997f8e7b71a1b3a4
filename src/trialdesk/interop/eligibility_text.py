"""Split a ClinicalTrials.gov ``eligibilityCriteria`` text into inclusion/exclusion items.

The API delivers the criteria as one Markdown-ish text, typically::

    Inclusion Criteria:

    * Age 18 to 75 years
    * Adequate organ function:

      * ANC >= 1.5 x 10^9/L
      * Platelets >= 100 x 10^9/L

    Exclusion Criteria:

    1. Pregnancy
    2. Active infection

Rules (documented in docs/registry-record.md, tested in tests/interop/test_eligibility_text.py):

- Headings: a line such as ``Inclusion Criteria:``, ``INCLUSION CRITERIA``, ``Key Exclusion
  Criteria:``, ``Exclusion criteria for Part B:`` or ``Inclusion:`` opens that section; text
  after the colon on the heading line is the section's first item.
- Items: bullets ``*``, ``-``, ``+``, ``•``, numbers ``1.`` ``1)`` ``(1)``, letters ``a.``
  ``a)`` ``(a)`` and roman numerals ``i.``. The first bullet of a section sets the top level;
  a bullet indented deeper, or of another kind right after an item ending in ``:``, is a
  sub-item and stays with its parent as text (``"parent:\\n  * child"``). A line without a
  bullet continues the item above it; in a section without any bullets each line is an item.
- ``other``: everything outside an inclusion or exclusion section (a preamble, headings such
  as ``DISEASE CHARACTERISTICS:``) and lead-in lines inside a section that end in ``:`` and
  introduce the list (``Patients must meet all of the following:``).
- Markdown escapes of the API (``\\<``, ``\\>``, ``\\^``, ``\\*``) are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_QUALIFIERS = (
    r"(?:(?:key|main|major|general|additional|specific|other|principal|study|patients?|"
    r"participants?|subjects?|donors?|recipients?)\s+){0,2}"
)
_HEADING_COLON = re.compile(
    r"^[\s*#\-•>_]{0,6}" + _QUALIFIERS + r"(inclusion|exclusion)\s+criteri(?:a|on)s?"
    r"([^:\n]{0,60}?)[*_]{0,2}\s*:[*_]{0,2}\s*(.*)$",
    re.IGNORECASE,
)
_HEADING_BARE = re.compile(
    r"^[\s*#\-•>_]{0,6}" + _QUALIFIERS + r"(inclusion|exclusion)(?:\s+criteri(?:a|on)s?)?"
    r"[*_]{0,2}\s*:?[*_]{0,2}\s*$",
    re.IGNORECASE,
)
_OTHER_HEADING = re.compile(r"^[A-Z][A-Z0-9 ,/&()'\-]{2,60}:\s*$")
_BULLET = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[*\-+•·▪◦]|\d{1,3}[.)]|\(\d{1,3}\)|[ivxIVX]{1,4}[.)]"
    r"|[a-zA-Z][.)]|\([a-zA-Z]{1,4}\))[ \t]+(?P<text>\S.*)$"
)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^~|=])")


@dataclass(frozen=True)
class EligibilityText:
    """The items of an eligibility text: inclusion, exclusion and everything else."""

    inclusion: list[str] = field(default_factory=list)
    exclusion: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


def _kind(marker: str) -> str:
    if marker[0].isdigit():
        return "number" + marker[-1]
    if marker.startswith("("):
        return "paren-number" if marker[1].isdigit() else "paren-letter"
    if marker[0].isalpha():
        roman = len(marker) > 2 and set(marker[:-1].lower()) <= set("ivx")
        return "roman" if roman else "letter"
    return "bullet" + marker


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _heading(line: str) -> tuple[str, str] | None:
    match = _HEADING_COLON.match(line)
    if match:
        return match.group(1).lower(), match.group(3).strip()
    match = _HEADING_BARE.match(line)
    if match:
        return match.group(1).lower(), ""
    return None


def _itemise(lines: list[str]) -> tuple[list[str], list[str]]:
    """One section's lines -> (items, labels)."""
    parsed = [(line, _BULLET.match(line)) for line in lines]
    has_bullets = any(match for _, match in parsed)
    items: list[list[str]] = []
    labels: list[str] = []
    top: tuple[int, str] | None = None  # (indent, kind) of top-level bullets
    child_indents: list[int] = []
    open_item = False  # the previous line belongs to the last item
    after_blank = False
    for line, match in parsed:
        stripped = line.strip()
        if not stripped:
            after_blank = True
            continue
        indent = _indent(line)
        if match:
            kind = _kind(match["marker"])
            text = match["text"].strip()
            if top is None:
                top = (indent, kind)
            current = items[-1] if items else None
            is_child = current is not None and (
                indent > top[0]
                or (
                    kind != top[1]
                    and indent == top[0]
                    and (current[-1].rstrip().endswith(":") or len(current) > 1)
                )
            )
            if is_child:
                while child_indents and child_indents[-1] > indent:
                    child_indents.pop()
                if not child_indents or child_indents[-1] < indent:
                    child_indents.append(indent)
                current.append("  " * len(child_indents) + f"{match['marker']} {text}")
            else:
                if indent < top[0] or kind != top[1]:
                    top = (indent, kind)
                child_indents = []
                items.append([text])
            open_item = True
        elif not has_bullets:
            # No bullets in this section: every line is an item, except a lead-in ending in ':'
            if stripped.endswith(":") and not items:
                labels.append(stripped)
            else:
                items.append([stripped])
        else:
            top_indent = top[0] if top else 0
            if items and (open_item and not after_blank or indent > top_indent):
                items[-1][-1] = f"{items[-1][-1]} {stripped}"  # wrapped or indented text
            elif stripped.endswith(":"):
                labels.append(stripped)  # a lead-in: "Patients must meet all of:"
                open_item = False
            else:
                items.append([stripped])  # a free paragraph between bullets
                child_indents = []
                open_item = True
        after_blank = False
    texts = ["\n".join([item[0].strip(), *item[1:]]) for item in items]
    return texts, labels


def split_eligibility(text: str | None) -> EligibilityText:
    """Split CT.gov ``eligibilityCriteria`` text into inclusion, exclusion and other items.

    Sub-bullets stay with their parent item as text; see the module docstring for the rules.
    ``None`` or blank text gives three empty lists.
    """
    result = EligibilityText()
    if not text or not text.strip():
        return result
    text = _ESCAPE.sub(r"\1", text.replace("\r\n", "\n").replace("\r", "\n"))
    # (section name, heading label for `other`, lines)
    sections: list[tuple[str, str | None, list[str]]] = [("other", None, [])]
    for line in text.split("\n"):
        heading = _heading(line)
        if heading is not None:
            name, rest = heading
            sections.append((name, None, [rest] if rest else []))
        elif _OTHER_HEADING.match(line):
            sections.append(("other", line.strip(), []))
        else:
            sections[-1][2].append(line.rstrip())
    for name, label, lines in sections:
        items, labels = _itemise(lines)
        if label:
            result.other.append(label)
        result.other.extend(labels)
        target = {"inclusion": result.inclusion, "exclusion": result.exclusion}.get(
            name, result.other
        )
        target.extend(items)
    return result
