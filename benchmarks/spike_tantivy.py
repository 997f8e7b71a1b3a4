"""Spike (kept for the record; trialdesk now uses Tantivy: registry/textindex.py): how fast
would Tantivy answer the registry's slowest searches?

FTS5 scores every match of a term (no top-k pruning), so a very common word is slow at
500,000 trials (docs/benchmarks-registry.md). This indexes the same seven text columns
and two filters of an existing registry database in Tantivy (BM25 with the same column
weights as boosts, English stemming) and times top-20 with an exact count.

    python benchmarks/spike_tantivy.py /path/to/trialdesk.sqlite3 /tmp/tantivy-index

Measured 2026-11-23 on the 500,000-study benchmark database, quiet machine: indexing 19.7 s
(2 writer threads, reading from SQLite included), index 126 MB; `cancer` (196,184 hits,
the same number FTS5 matches) 2.7 ms, `vaccine` 2.1 ms, `diabetes` 0.5 ms, `cancer` with
status and age filters 4.2 ms (FTS5 path: 310, 33 and about 50 ms).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import time

COLUMNS = ["brief_title", "official_title", "acronym", "conditions_text",
           "interventions_text", "brief_summary", "criteria_text"]  # fmt: skip
#: The SQLite bm25 column weights (sqlplan.BM25_WEIGHTS) as Tantivy field boosts.
BOOSTS = dict(zip(COLUMNS, (10.0, 8.0, 8.0, 4.0, 3.0, 2.0, 1.0), strict=True))


def main(db: str, path: str) -> None:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for column in COLUMNS:
        builder.add_text_field(column, stored=False, tokenizer_name="en_stem")
    builder.add_text_field("status", stored=False, tokenizer_name="raw")
    builder.add_integer_field("min_age", indexed=True, fast=True)
    builder.add_integer_field("max_age", indexed=True, fast=True)
    schema = builder.build()
    if not os.path.exists(path):
        os.makedirs(path)
        index = tantivy.Index(schema, path=path)
        writer = index.writer(heap_size=400_000_000, num_threads=2)
        started, n = time.perf_counter(), 0
        rows = sqlite3.connect(db).execute(
            f"SELECT id, {', '.join(COLUMNS)}, overall_status, coalesce(min_age_days, -1), "
            "coalesce(max_age_days, 999999) FROM registry_trial"
        )
        for row in rows:
            doc = tantivy.Document(id=row[0], status=row[8], min_age=row[9], max_age=row[10])
            for column, value in zip(COLUMNS, row[1:8], strict=True):
                if value:
                    doc.add_text(column, value)
            writer.add_document(doc)
            n += 1
        writer.commit()
        writer.wait_merging_threads()
        print(f"indexed {n:,} trials in {time.perf_counter() - started:.1f} s")
    index = tantivy.Index.open(path)
    index.reload()
    searcher = index.searcher()

    def query(text: str, status: str | None, age: int | None):
        parts = [(tantivy.Occur.Must, index.parse_query(text, COLUMNS, field_boosts=BOOSTS))]
        if status:
            parts.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "status", status)))
        if age is not None:
            for field, low, high in (("min_age", -1, age), ("max_age", age, 999999)):
                parts.append((tantivy.Occur.Must, tantivy.Query.range_query(
                    schema, field, tantivy.FieldType.Integer, low, high)))  # fmt: skip
        return tantivy.Query.boolean_query(parts)

    for text, status, age in [("cancer", None, None), ("vaccine", None, None),
                              ("diabetes", None, None), ("cancer", "RECRUITING", 25933)]:  # fmt: skip
        q, times = query(text, status, age), []
        for _ in range(5):
            started = time.perf_counter()
            hits = searcher.search(q, 20, count=True)
            times.append((time.perf_counter() - started) * 1000)
        print(f"{text!r} status={status} age_days={age}: top 20 + exact count "
              f"{statistics.median(times):.1f} ms median of 5, {hits.count:,} hits")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
