"""Synthetic cirrhosis cohorts (cohort-table format) with realistic joint distributions.

One latent liver-dysfunction score per patient drives bilirubin, albumin, INR, sodium,
creatinine, platelets, ascites, hepatic encephalopathy and the decompensating events
together (sicker patients have all of them worse, as in real cohorts); the aetiology
(HBV, HCV, alcohol, autoimmune, other) drives the viral markers, antiviral or steroid
treatment and sex; age is roughly normal around 56. Some labs are missing or older than
a month, some histories are incomplete (concepts not documented), and a small share of
rows sits exactly on the seed trials' cut-offs (bilirubin 170 umol/L, creatinine 1.2 x ULN,
ages 18 and 75, sodium 125) so the boundaries are exercised.

The numbers are plausible, not fitted to a registry: for tests and benchmarks only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["synthetic_batches", "synthetic_cohort", "write_synthetic_cohort"]

_CONDITION_RATES = {  # concept: (rate, driven by severity?, days back (low, high), resolved share)
    "variceal_bleeding": (0.22, True, (5, 1500), 1.0),
    "spontaneous_bacterial_peritonitis": (0.06, True, (5, 900), 1.0),
    "hepatorenal_syndrome": (0.04, True, (5, 600), 0.7),
    "refractory_ascites": (0.04, True, (5, 400), 0.3),
    "severe_infection": (0.05, True, (2, 200), 0.85),
    "infection": (0.15, False, (2, 400), 0.9),
    "biliary_obstruction": (0.01, False, (30, 2000), 0.5),
    "hepatic_vein_thrombosis": (0.005, False, (30, 2000), 0.2),
    "portal_vein_thrombosis": (0.04, True, (30, 2000), 0.4),
    "splenic_vein_thrombosis": (0.005, False, (30, 2000), 0.3),
    "portal_cavernoma": (0.005, False, (60, 3000), 0.0),
    "malignancy": (0.04, False, (10, 3000), 0.3),
    "chronic_kidney_disease": (0.05, False, (100, 4000), 0.0),
    "coagulation_disorder": (0.03, True, (30, 2000), 0.3),
    "hiv": (0.01, False, (300, 6000), 0.0),
    "substance_use_disorder": (0.03, False, (100, 5000), 0.4),
    "psychosis": (0.01, False, (100, 5000), 0.3),
    "severe_allergy": (0.02, False, (100, 8000), 1.0),
}
_PROCEDURE_RATES = {
    "tips": (0.04, (10, 2000)),
    "portosystemic_shunt_surgery": (0.01, (100, 5000)),
    "devascularization_surgery": (0.01, (100, 5000)),
    "organ_transplant": (0.01, (100, 5000)),
    "blood_transfusion": (0.08, (1, 400)),
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class _Batch:
    def __init__(self, n: int, rng: np.random.Generator, d: date, offset: int) -> None:
        self.n, self.rng, self.offset = n, rng, offset
        self.d = np.datetime64(d.isoformat(), "D")
        self.cols: dict[str, Any] = {}
        self.masks: dict[str, np.ndarray] = {}

    def put(self, name: str, values: np.ndarray, missing: np.ndarray | None = None) -> None:
        self.cols[name] = values
        if missing is not None:
            self.masks[name] = missing

    def days_ago(self, low: int, high: int) -> np.ndarray:
        return self.d - self.rng.integers(low, high + 1, self.n).astype("timedelta64[D]")

    def to_arrow(self) -> Any:
        import pyarrow as pa

        arrays = {}
        for name, values in self.cols.items():
            mask = self.masks.get(name)
            arrays[name] = pa.array(values, mask=mask) if mask is not None else pa.array(values)
        return pa.table(arrays)


def _make_batch(n: int, rng: np.random.Generator, d: date, offset: int) -> Any:
    b = _Batch(n, rng, d, offset)
    r = rng
    b.put("patient_id", np.arange(n, dtype=np.int64) + offset)
    etiology = r.choice(5, n, p=[0.35, 0.15, 0.30, 0.05, 0.15])  # HBV HCV alcohol AIH other
    male_p = np.select([etiology == 2, etiology == 3], [0.85, 0.2], 0.65)
    male = r.random(n) < male_p
    b.put("sex", np.where(male, "male", "female"))
    age_days = np.clip(r.normal(56, 11, n), 16, 92) * 365.25
    boundary = r.random(n)
    # a few patients exactly 18 or 75 (or a day short) on the screening date
    d0 = date.fromisoformat(str(b.d))
    for share, years, extra in ((0.003, 18, 0), (0.003, 18, -1), (0.003, 75, 0), (0.003, 76, 0)):
        pick = boundary < share
        boundary = np.where(pick, 2.0, boundary - share)
        bd = np.datetime64(date(d0.year - years, d0.month, min(d0.day, 28)).isoformat(), "D")
        age_days = np.where(pick, (b.d - bd).astype(int) - extra, age_days)
    birth = b.d - age_days.astype(int).astype("timedelta64[D]")
    b.put("birth_date", birth)
    z = r.normal(0, 1, n)  # latent liver dysfunction
    complete = r.random(n) < 0.7
    b.put("history_complete", complete)

    def lab(
        name: str,
        values: np.ndarray,
        decimals: int,
        missing_rate: float = 0.08,
        stale_rate: float = 0.07,
    ) -> None:
        values = np.round(values, decimals)
        missing = r.random(n) < missing_rate
        b.put(name, values, missing)
        stale = r.random(n) < stale_rate
        when = np.where(stale, b.days_ago(29, 200), b.days_ago(0, 27))
        b.put(f"{name}_date", when, missing)

    bili = np.exp(np.log(22) + 0.75 * z + r.normal(0, 0.35, n))
    pick = r.random(n)
    bili = np.where(pick < 0.01, 170.0, np.where(pick < 0.02, 169.0, bili))
    lab("bilirubin", np.clip(bili, 3, 900), 1)
    lab("albumin", np.clip(36 - 4.5 * z + r.normal(0, 3, n), 12, 52), 1)
    lab("inr", np.clip(np.exp(np.log(1.35) + 0.16 * z + r.normal(0, 0.07, n)), 0.8, 6), 2)
    lab("sodium", np.clip(137 - 3.0 * z + r.normal(0, 3, n), 112, 150), 0)
    sodium = b.cols["sodium"]
    b.cols["sodium"] = np.where(r.random(n) < 0.01, 125.0, sodium)
    uln = np.where(male, 106.0, 90.0)
    creat = np.clip(np.exp(np.log(75) + 0.25 * np.maximum(z, 0) + r.normal(0, 0.3, n)), 25, 900)
    creat = np.where(r.random(n) < 0.01, np.round(uln * 1.2, 1), creat)
    lab("creatinine", creat, 1)
    b.put("creatinine_uln", uln, r.random(n) < 0.4)  # others: the protocol's default
    lab("wbc", np.clip(np.exp(np.log(4.8) - 0.1 * z + r.normal(0, 0.4, n)), 0.3, 40), 2)
    lab("platelets", np.clip(np.exp(np.log(110) - 0.3 * z + r.normal(0, 0.4, n)), 5, 900), 0)
    # HBV DNA: below the limit (< 20 IU/mL) for most; detected for some untreated HBV
    hbv = etiology == 0
    treated_hbv = hbv & (r.random(n) < 0.85)
    detected = hbv & ((~treated_hbv) | (r.random(n) < 0.05))
    dna = np.where(detected, np.round(np.exp(r.normal(8, 3, n)).clip(20, 1e9), 0), 20.0)
    tested = hbv | (r.random(n) < 0.6)
    lab("hbv_dna", dna, 0, missing_rate=0.0)
    b.masks["hbv_dna"] = ~tested
    b.masks["hbv_dna_date"] = ~tested
    b.put("hbv_dna_cmp", np.where(detected, "", "<"), (~tested) | detected)

    def episode(
        name: str,
        present: np.ndarray,
        start: np.ndarray,
        end: np.ndarray | None,
        ended: np.ndarray | None,
        severity: np.ndarray | None = None,
    ) -> None:
        # present: True; absent: False when the history is complete, else not documented
        b.put(name, present, (~present) & (~complete))
        b.put(f"{name}_start", start, ~present)
        if end is not None:
            assert ended is not None
            b.put(f"{name}_end", end, (~present) | (~ended))
        if severity is not None:
            b.put(f"{name}_severity", severity, ~present)

    episode(
        "cirrhosis", r.random(n) < 0.97, b.days_ago(200, 5000), b.days_ago(0, 0), np.zeros(n, bool)
    )
    for concept, hf in (("ascites", 0.9), ("hepatic_encephalopathy", 0.0)):
        p = _sigmoid(1.4 * z - (0.2 if concept == "ascites" else 1.3))
        present = r.random(n) < p
        level = 1.2 * z + r.normal(0, 0.8, n) - hf
        sev = np.where(level < 0.2, "mild", np.where(level < 1.2, "moderate", "severe"))
        start = b.days_ago(1, 900)
        ended = r.random(n) < 0.3
        end = start + r.integers(3, 60, n).astype("timedelta64[D]")
        episode(concept, present, start, np.minimum(end, b.d), ended, sev)
    for concept, (rate, by_severity, (lo, hi), resolved) in _CONDITION_RATES.items():
        p = rate * (np.exp(0.8 * z) / np.exp(0.32)) if by_severity else np.full(n, rate)
        present = r.random(n) < np.clip(p, 0, 0.9)
        start = b.days_ago(lo, hi)
        end = start + r.integers(1, 30, n).astype("timedelta64[D]")
        ended = r.random(n) < resolved
        episode(concept, present, start, np.minimum(end, b.d), ended)
    for concept, (rate, (lo, hi)) in _PROCEDURE_RATES.items():
        present = r.random(n) < rate
        episode(concept, present, b.days_ago(lo, hi), None, None)
    female = ~male
    young = age_days < 45 * 365.25
    for concept, rate in (("pregnancy", 0.02), ("lactation", 0.01)):
        present = female & young & (r.random(n) < rate)
        start = b.days_ago(10, 200)
        episode(concept, present, start, b.days_ago(0, 0), np.zeros(n, bool))
    episode("hepatitis_b", hbv, b.days_ago(1000, 9000), b.days_ago(0, 0), np.zeros(n, bool))
    episode(
        "hepatitis_c", etiology == 1, b.days_ago(1000, 9000), b.days_ago(0, 0), np.zeros(n, bool)
    )
    episode(
        "autoimmune_hepatitis",
        etiology == 3,
        b.days_ago(300, 6000),
        b.days_ago(0, 0),
        np.zeros(n, bool),
    )
    trial = r.random(n) < 0.03
    ts = b.days_ago(20, 700)
    episode(
        "clinical_trial_participation",
        trial,
        ts,
        np.minimum(ts + r.integers(30, 365, n).astype("timedelta64[D]"), b.d),
        r.random(n) < 0.7,
    )

    def course(
        name: str, taking: np.ndarray, start: np.ndarray, end: np.ndarray, ended: np.ndarray
    ) -> None:
        b.put(name, taking, (~taking) & (~complete))
        b.put(f"{name}_start", start, ~taking)
        b.put(f"{name}_end", end, (~taking) | (~ended))

    course("hbv_antiviral", treated_hbv, b.days_ago(20, 4000), b.days_ago(0, 0), np.zeros(n, bool))
    hcv_treated = (etiology == 1) & (r.random(n) < 0.6)
    hs = b.days_ago(90, 3000)
    course(
        "hcv_antiviral",
        hcv_treated,
        hs,
        np.minimum(hs + np.timedelta64(84, "D"), b.d),
        np.ones(n, bool),
    )
    steroids = (etiology == 3) & (r.random(n) < 0.8)
    course("corticosteroid", steroids, b.days_ago(20, 2000), b.days_ago(0, 0), r.random(n) < 0.2)
    course(
        "methadone", r.random(n) < 0.01, b.days_ago(30, 3000), b.days_ago(0, 0), r.random(n) < 0.3
    )
    answered = r.random(n) < 0.5
    for column, yes_rate in (
        ("attest_inc_1", 0.95),
        ("attest_inc_3", 0.95),
        ("attest_exc_4_1", 0.05),
        ("attest_exc_5_1", 0.05),
        ("attest_exc_8", 0.05),
        ("attest_exc_13_2", 0.05),
        ("attest_exc_17_2", 0.02),
        ("attest_exc_20", 0.03),
        ("attest_exc_3_2", 0.05),
    ):
        b.put(column, r.random(n) < yes_rate, ~answered)
    return b.to_arrow()


def synthetic_batches(
    n: int, seed: int = 0, screening_date: date | None = None, batch_rows: int = 1_000_000
) -> Iterator[Any]:
    """Arrow tables of at most ``batch_rows`` rows, ``n`` rows in all."""
    d = screening_date or date.today()
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        size = min(batch_rows, n - done)
        yield _make_batch(size, rng, d, done)
        done += size


def synthetic_cohort(n: int, seed: int = 0, screening_date: date | None = None) -> Any:
    """A Polars DataFrame of ``n`` synthetic patients."""
    import polars as pl
    import pyarrow as pa

    tables = list(synthetic_batches(n, seed, screening_date))
    return pl.from_arrow(pa.concat_tables(tables)) if tables else pl.DataFrame()


def write_synthetic_cohort(
    path: str | Path,
    n: int,
    seed: int = 0,
    screening_date: date | None = None,
    batch_rows: int = 1_000_000,
    progress: Any = None,
) -> Path:
    """Write ``n`` synthetic patients to Parquet (``.parquet``, one row group per
    ``batch_rows``, encoded as :func:`~trialdesk.eligibility.cohort.cohort_parquet_options`
    says) or CSV (``.csv``)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from trialdesk.eligibility.cohort import cohort_parquet_options

    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    writer = None
    done = 0
    try:
        for table in synthetic_batches(n, seed, screening_date, batch_rows):
            if path.suffix.lower() == ".csv":
                if writer is None:
                    writer = pacsv.CSVWriter(tmp, table.schema)
            elif writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, **cohort_parquet_options(table.schema))
            writer.write_table(table)
            done += table.num_rows
            if progress is not None:
                progress(done, n)
        if writer is not None:
            writer.close()
            writer = None
            tmp.replace(path)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    return path
