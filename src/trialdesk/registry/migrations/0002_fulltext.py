"""Full-text index over each trial's titles, acronym, conditions, interventions, summary, criteria.

- SQLite: an external-content FTS5 table ``registry_trial_fts`` (rowid = ``registry_trial.id``,
  Porter stemming over unicode61) kept in step by triggers, so every insert, upsert and delete
  of a trial updates the index in the same transaction.
- PostgreSQL: a stored generated ``tsvector`` column ``registry_trial.search_vector``
  (english configuration; weights A = titles and acronym, B = conditions and interventions,
  C = summary, D = criteria) with a GIN index, plus a GIN index on the conditions alone for
  the condition filter.
Other database vendors get no full-text index (search then refuses text queries).
"""

from django.db import migrations

FTS_COLUMNS = (
    "brief_title",
    "official_title",
    "acronym",
    "conditions_text",
    "interventions_text",
    "brief_summary",
    "criteria_text",
)

_cols = ", ".join(FTS_COLUMNS)
_new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
_old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)

SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE registry_trial_fts USING fts5(
        {_cols},
        content='registry_trial', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER registry_trial_fts_ai AFTER INSERT ON registry_trial BEGIN
        INSERT INTO registry_trial_fts(rowid, {_cols}) VALUES (new.id, {_new});
    END""",
    f"""CREATE TRIGGER registry_trial_fts_ad AFTER DELETE ON registry_trial BEGIN
        INSERT INTO registry_trial_fts(registry_trial_fts, rowid, {_cols})
        VALUES ('delete', old.id, {_old});
    END""",
    f"""CREATE TRIGGER registry_trial_fts_au AFTER UPDATE OF {_cols} ON registry_trial BEGIN
        INSERT INTO registry_trial_fts(registry_trial_fts, rowid, {_cols})
        VALUES ('delete', old.id, {_old});
        INSERT INTO registry_trial_fts(rowid, {_cols}) VALUES (new.id, {_new});
    END""",
    # Index whatever rows already exist (none on a fresh database).
    "INSERT INTO registry_trial_fts(registry_trial_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS registry_trial_fts_au",
    "DROP TRIGGER IF EXISTS registry_trial_fts_ad",
    "DROP TRIGGER IF EXISTS registry_trial_fts_ai",
    "DROP TABLE IF EXISTS registry_trial_fts",
]

PG_FORWARD = [
    """ALTER TABLE registry_trial ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(brief_title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(official_title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(acronym, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(conditions_text, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(interventions_text, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(brief_summary, '')), 'C') ||
        setweight(to_tsvector('english'::regconfig, coalesce(criteria_text, '')), 'D')
    ) STORED""",
    "CREATE INDEX registry_trial_search_gin ON registry_trial USING gin (search_vector)",
    """CREATE INDEX registry_trial_conditions_gin ON registry_trial
        USING gin (to_tsvector('english'::regconfig, conditions_text))""",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS registry_trial_conditions_gin",
    "DROP INDEX IF EXISTS registry_trial_search_gin",
    "ALTER TABLE registry_trial DROP COLUMN IF EXISTS search_vector",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        ),
    ]
