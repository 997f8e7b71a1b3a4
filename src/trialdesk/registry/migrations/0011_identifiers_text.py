"""Identifiers in the full-text index: an NCT id or an organisation's study id typed in the
search box finds its trial (issue 15, item 4).

``Trial.identifiers_text`` holds the NCT id, merged NCT ids (``nctIdAliases``), the
organisation's study id and the secondary ids, one per line; existing rows are filled from
their stored record. The full-text index gains it as an eighth column:

- SQLite: the FTS5 table and its triggers are made again with ``identifiers_text`` last
  (its bm25 weight is the titles', ``sqlplan.BM25_WEIGHTS``) and rebuilt;
- PostgreSQL: the generated ``search_vector`` is made again with the identifiers at weight A.
  PostgreSQL's parser reads ``ISC.19.29`` as one host-name token and ``2021-KY-044`` with a
  negative number in it, so the identifiers' punctuation becomes spaces first: their words
  then match as a phrase, as the search box's ``"ISC 19 29"`` reads them (``textquery``).

The registry gets a new stamp: the SQLite text index (``textindex``) is then behind and is
rebuilt by the next import or ``trialdesk registry reindex`` (its schema also changed;
until then FTS5 answers).
"""

import json
import uuid

from django.db import migrations, models

FTS_COLUMNS = (
    "brief_title",
    "official_title",
    "acronym",
    "conditions_text",
    "interventions_text",
    "brief_summary",
    "criteria_text",
    "identifiers_text",
)
OLD_FTS_COLUMNS = FTS_COLUMNS[:-1]


def _fts_statements(columns) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"""CREATE VIRTUAL TABLE registry_trial_fts USING fts5(
            {cols},
            content='registry_trial', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        f"""CREATE TRIGGER registry_trial_fts_ai AFTER INSERT ON registry_trial BEGIN
            INSERT INTO registry_trial_fts(rowid, {cols}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER registry_trial_fts_ad AFTER DELETE ON registry_trial BEGIN
            INSERT INTO registry_trial_fts(registry_trial_fts, rowid, {cols})
            VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER registry_trial_fts_au AFTER UPDATE OF {cols} ON registry_trial BEGIN
            INSERT INTO registry_trial_fts(registry_trial_fts, rowid, {cols})
            VALUES ('delete', old.id, {old});
            INSERT INTO registry_trial_fts(rowid, {cols}) VALUES (new.id, {new});
        END""",
        "INSERT INTO registry_trial_fts(registry_trial_fts) VALUES ('rebuild')",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registry_trial_fts_au",
    "DROP TRIGGER IF EXISTS registry_trial_fts_ad",
    "DROP TRIGGER IF EXISTS registry_trial_fts_ai",
    "DROP TABLE IF EXISTS registry_trial_fts",
]


def _pg_vector(with_identifiers: bool) -> list[str]:
    parts = [
        ("brief_title", "A"),
        ("official_title", "A"),
        ("acronym", "A"),
        ("conditions_text", "B"),
        ("interventions_text", "B"),
        ("brief_summary", "C"),
        ("criteria_text", "D"),
    ]
    terms = [
        f"setweight(to_tsvector('english'::regconfig, coalesce({c}, '')), '{w}')" for c, w in parts
    ]
    if with_identifiers:
        terms.append(
            "setweight(to_tsvector('english'::regconfig, regexp_replace("
            "coalesce(identifiers_text, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')"
        )
    return [
        "ALTER TABLE registry_trial ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        + " || ".join(terms)
        + ") STORED",
        "CREATE INDEX registry_trial_search_gin ON registry_trial USING gin (search_vector)",
    ]


PG_DROP = [
    "DROP INDEX IF EXISTS registry_trial_search_gin",
    "ALTER TABLE registry_trial DROP COLUMN IF EXISTS search_vector",
]


#: One statement on both databases. Django's own AddField would copy the whole table on
#: SQLite (a NOT NULL column with a default), dropping the full-text triggers with it.
ADD_COLUMN = "ALTER TABLE registry_trial ADD COLUMN identifiers_text text NOT NULL DEFAULT ''"


def _identifiers(record) -> str:
    """The record's identifiers, one per line (as ``parsing.identifiers`` lists them)."""
    if isinstance(record, str):
        record = json.loads(record)
    ident = (record.get("protocolSection") or {}).get("identificationModule") or {}
    found = [ident.get("nctId"), *(ident.get("nctIdAliases") or ())]
    found.append((ident.get("orgStudyIdInfo") or {}).get("id"))
    found += [(s or {}).get("id") for s in ident.get("secondaryIdInfos") or ()]
    return "\n".join(dict.fromkeys(i.strip() for i in found if isinstance(i, str) and i.strip()))


def _fill(cursor) -> None:
    last = -1
    while True:
        cursor.execute(
            "SELECT id, record FROM registry_trial WHERE id > %s ORDER BY id LIMIT 2000", [last]
        )
        rows = cursor.fetchall()
        if not rows:
            return
        cursor.executemany(
            "UPDATE registry_trial SET identifiers_text = %s WHERE id = %s",
            [(_identifiers(record), pk) for pk, record in rows],
        )
        last = rows[-1][0]


def _new_stamp(cursor) -> None:
    cursor.execute(
        "UPDATE registry_registrystate SET version = version + 1, previous_stamp = stamp, "
        "stamp = %s",
        [uuid.uuid4().hex],
    )


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(ADD_COLUMN)
        if vendor == "sqlite":
            for sql in SQLITE_DROP:
                cursor.execute(sql)
            _fill(cursor)
            for sql in _fts_statements(FTS_COLUMNS):
                cursor.execute(sql)
        elif vendor == "postgresql":
            for sql in PG_DROP:
                cursor.execute(sql)
            _fill(cursor)
            for sql in _pg_vector(with_identifiers=True):
                cursor.execute(sql)
        else:
            _fill(cursor)
        _new_stamp(cursor)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "sqlite":
            for sql in SQLITE_DROP:
                cursor.execute(sql)
            for sql in _fts_statements(OLD_FTS_COLUMNS):
                cursor.execute(sql)
        elif vendor == "postgresql":
            for sql in PG_DROP:
                cursor.execute(sql)
            for sql in _pg_vector(with_identifiers=False):
                cursor.execute(sql)
        cursor.execute("ALTER TABLE registry_trial DROP COLUMN identifiers_text")
        _new_stamp(cursor)


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_registry_state_stamp")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="trial",
                    name="identifiers_text",
                    field=models.TextField(blank=True, default=""),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
