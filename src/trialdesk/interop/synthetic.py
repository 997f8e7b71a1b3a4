"""Deterministic generator of realistic synthetic ClinicalTrials.gov registry records.

``generate_studies(n, seed)`` streams ``n`` study dicts in API v2 form, each valid against
:class:`trialdesk.interop.ctgov.Study`; ``write_pages(n, out_dir, seed)`` writes them as API
list pages ``{"studies": [...], "totalCount": n}`` of ``page_size`` studies per file.

What varies, and how (approximate shares, chosen to look like the public registry; they are
not statistics of it):

- study type: 77% interventional, 22% observational, 1% expanded access;
- phases (interventional): NA 36%, EARLY_PHASE1 2%, PHASE1 14%, PHASE1+PHASE2 5%, PHASE2 18%,
  PHASE2+PHASE3 2%, PHASE3 13%, PHASE4 10%; observational studies carry ``["NA"]``;
- overall status: COMPLETED 52%, RECRUITING 14%, UNKNOWN 12%, TERMINATED 6%,
  ACTIVE_NOT_RECRUITING 5%, NOT_YET_RECRUITING 5%, WITHDRAWN 3%, ENROLLING_BY_INVITATION 2%,
  SUSPENDED 0.5%, WITHHELD 0.5%; expanded access uses AVAILABLE / NO_LONGER_AVAILABLE /
  TEMPORARILY_NOT_AVAILABLE / APPROVED_FOR_MARKETING;
- ~350 real condition names in 22 therapeutic areas (sex-specific areas set ``sex``,
  paediatric areas set child-only ages), with the areas' real intervention names;
- ages: adult ranges, child-only, older adults, child+adult, and no limits at all;
- eligibility text in CT.gov layout (``*``, ``-`` or numbered bullets, sometimes nested) from
  templates with lab thresholds (ANC, platelets, bilirubin, creatinine clearance, HbA1c, ...)
  and time windows (days/weeks/months before the first dose);
- 1 site (60%), 2-5 (25%), 6-20 (11%) or 21-60 (4%) sites, in ~300 real cities
  (``data/cities.csv``: GeoNames coordinates, the same points ClinicalTrials.gov uses).

Synthetic NCT ids are ``NCT9xxxxxxx`` -- above any real id -- so a synthetic record can never
be mistaken for a real one. Sponsors, facilities and people are invented; contact e-mails use
the reserved ``example.org`` domain.

Determinism: the same ``(seed, start)`` gives the same records, and ``generate_studies(n,
seed)`` is a prefix of ``generate_studies(m, seed)`` for ``n < m``. Records are fresh dicts
down to module level; deeper lists/dicts (arm groups, outcomes, sponsors) may be shared
between records of one stream, so deep-copy a record before mutating it below module level.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pydantic_core

from trialdesk.interop import synthetic_vocab as vocab

NCT_BASE = 90_000_000  # synthetic ids: NCT90000000 upwards


@dataclass(frozen=True)
class City:
    name: str
    state: str
    country: str
    country_code: str
    lat: float
    lon: float
    population: int
    weight: float


@cache
def load_cities() -> tuple[City, ...]:
    """The embedded table of ~300 real cities (GeoNames, CC BY 4.0)."""
    text = resources.files("trialdesk.interop").joinpath("data/cities.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        City(
            r["city"],
            r["state"],
            r["country"],
            r["country_code"],
            float(r["lat"]),
            float(r["lon"]),
            int(r["population"]),
            float(r["weight"]),
        )
        for r in rows
    )


def _cumulative(weights):
    return list(itertools.accumulate(weights))


def _expand(template: str, choices: dict[str, tuple[str, ...]]) -> list[str]:
    """Every rendering of a template's threshold placeholders (per-study ones kept)."""
    keys = list(choices)
    out = []
    for combo in itertools.product(*(choices[k] for k in keys)):
        text = template
        for key, value in zip(keys, combo, strict=True):
            text = text.replace("{" + key + "}", value)
        out.append(text)
    return out


class _Vocabulary:
    """Pre-rendered pools, built once per process."""

    def __init__(self) -> None:
        self.cities = load_cities()
        self.city_cum = _cumulative(c.weight for c in self.cities)
        self.areas = list(vocab.AREAS)
        # area weights: roughly the registry's mix (oncology and cardiometabolic lead)
        area_weight = {
            "oncology": 14, "hematologic malignancy": 5, "female oncology": 2,
            "male oncology": 2, "cardiovascular": 9, "metabolic": 8,
            "infectious disease": 8, "neurology": 8, "psychiatry": 6, "respiratory": 5,
            "hepatology and gastroenterology": 5, "nephrology and urology": 4,
            "immunology and rheumatology": 5, "hematology": 2, "dermatology": 3,
            "ophthalmology": 2, "pediatrics and rare disease": 4, "women's health": 3,
            "men's health": 1, "pain and musculoskeletal": 5, "healthy volunteers": 3,
            "cell therapy": 2,
        }  # fmt: skip
        self.area_cum = _cumulative(area_weight[a] for a in self.areas)
        self.interventions = {
            area: vocab.INTERVENTIONS[area] + vocab.INTERVENTIONS["*"] for area in self.areas
        }
        self.inclusion = [_expand(tpl, ch) for tpl, ch in vocab.INCLUSION_TEMPLATES]
        self.exclusion = [_expand(tpl, ch) for tpl, ch in vocab.EXCLUSION_TEMPLATES]
        self.organ_children = [
            [tpl.replace("{v}", v) for v in values] for tpl, values in vocab.ORGAN_FUNCTION_CHILDREN
        ]
        industry = [f"{p} {s}" for p in vocab.SPONSOR_PREFIXES for s in vocab.SPONSOR_SUFFIXES]
        self.industry = [{"name": name, "class": "INDUSTRY"} for name in industry]
        academic = []
        for i, city in enumerate(self.cities):
            pattern = vocab.ACADEMIC_PATTERNS[i % len(vocab.ACADEMIC_PATTERNS)]
            academic.append(pattern.format(city=city.name, country=city.country))
        self.academic = [{"name": name, "class": "OTHER"} for name in academic]
        self.other_classes = [
            {"name": "National Institutes of Health Clinical Center", "class": "NIH"},
            {"name": "Department of Veterans Affairs Research Program", "class": "FED"},
            {"name": "Ministry of Health Research Programme", "class": "OTHER_GOV"},
            {"name": "Cooperative Oncology Trials Network", "class": "NETWORK"},
        ]
        by_country: dict[str, list[int]] = {}
        for i, c in enumerate(self.cities):
            by_country.setdefault(c.country_code, []).append(i)
        self.same_country = [by_country[c.country_code] for c in self.cities]
        self.facilities = [
            [pattern.format(city=c.name) for pattern in vocab.FACILITY_PATTERNS]
            for c in self.cities
        ]
        self.people = [
            f"{first} {last}, {deg}"
            for first in vocab.FIRST_NAMES
            for last in vocab.LAST_NAMES
            for deg in vocab.DEGREES[:3]
        ]


@cache
def _vocabulary() -> _Vocabulary:
    return _Vocabulary()


_STATUS = (
    ("COMPLETED", 52), ("RECRUITING", 14), ("UNKNOWN", 12), ("TERMINATED", 6),
    ("ACTIVE_NOT_RECRUITING", 5), ("NOT_YET_RECRUITING", 5), ("WITHDRAWN", 3),
    ("ENROLLING_BY_INVITATION", 2), ("SUSPENDED", 0.5), ("WITHHELD", 0.5),
)  # fmt: skip
_STATUS_NAMES = [s for s, _ in _STATUS]
_STATUS_CUM = _cumulative(w for _, w in _STATUS)
_STATUS_TOTAL = _STATUS_CUM[-1]
_TYPE_LABEL = {
    "BEHAVIORAL": "Behavioral", "BIOLOGICAL": "Biological", "COMBINATION_PRODUCT": "Combination Product",
    "DEVICE": "Device", "DIAGNOSTIC_TEST": "Diagnostic Test", "DIETARY_SUPPLEMENT": "Dietary Supplement",
    "DRUG": "Drug", "GENETIC": "Genetic", "PROCEDURE": "Procedure", "RADIATION": "Radiation",
    "OTHER": "Other",
}  # fmt: skip
_OPEN = {"masking": "NONE"}
_MASKED = {
    "masking": "QUADRUPLE",
    "whoMasked": ["PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"],
}
_EA_STATUS = (
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
)
_PHASES = (
    (["NA"], 36), (["EARLY_PHASE1"], 2), (["PHASE1"], 14), (["PHASE1", "PHASE2"], 5),
    (["PHASE2"], 18), (["PHASE2", "PHASE3"], 2), (["PHASE3"], 13), (["PHASE4"], 10),
)  # fmt: skip
_PHASE_CUM = _cumulative(w for _, w in _PHASES)
_ACTIVE = {"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING"}
_SITE_STATUS = {
    "RECRUITING": ("RECRUITING", "RECRUITING", "RECRUITING", "NOT_YET_RECRUITING"),
    "ACTIVE_NOT_RECRUITING": ("ACTIVE_NOT_RECRUITING",),
    "NOT_YET_RECRUITING": ("NOT_YET_RECRUITING",),
    "ENROLLING_BY_INVITATION": ("ENROLLING_BY_INVITATION",),
    "COMPLETED": ("COMPLETED",),
    "TERMINATED": ("TERMINATED",),
    "WITHDRAWN": ("WITHDRAWN",),
    "SUSPENDED": ("SUSPENDED",),
}
# (minimumAge, maximumAge, stdAges, weight); None = no limit
_ADULT_AGES = (
    ("18 Years", None, ["ADULT", "OLDER_ADULT"], 30), ("18 Years", "65 Years", ["ADULT", "OLDER_ADULT"], 12),
    ("18 Years", "75 Years", ["ADULT", "OLDER_ADULT"], 10), ("18 Years", "80 Years", ["ADULT", "OLDER_ADULT"], 6),
    ("18 Years", "64 Years", ["ADULT"], 4), ("21 Years", "55 Years", ["ADULT"], 4),
    ("40 Years", "85 Years", ["ADULT", "OLDER_ADULT"], 5), ("50 Years", None, ["ADULT", "OLDER_ADULT"], 4),
    ("65 Years", None, ["OLDER_ADULT"], 4), ("60 Years", "90 Years", ["ADULT", "OLDER_ADULT"], 2),
    ("12 Years", None, ["CHILD", "ADULT", "OLDER_ADULT"], 5), ("16 Years", "70 Years", ["CHILD", "ADULT", "OLDER_ADULT"], 3),
    (None, None, ["CHILD", "ADULT", "OLDER_ADULT"], 5), ("18 Years", "45 Years", ["ADULT"], 6),
)  # fmt: skip
_CHILD_AGES = (
    ("2 Years", "17 Years", ["CHILD"], 25), ("6 Months", "12 Years", ["CHILD"], 12),
    (None, "28 Days", ["CHILD"], 8), ("6 Years", "17 Years", ["CHILD"], 15),
    ("12 Years", "17 Years", ["CHILD"], 10), ("1 Month", "6 Years", ["CHILD"], 8),
    ("4 Years", "21 Years", ["CHILD", "ADULT"], 10), (None, "18 Years", ["CHILD", "ADULT"], 8),
    ("32 Weeks", "40 Weeks", ["CHILD"], 4),
)  # fmt: skip
_ADULT_CUM = _cumulative(a[3] for a in _ADULT_AGES)
_CHILD_CUM = _cumulative(a[3] for a in _CHILD_AGES)
_SITE_COUNTS = ((1, 1, 60), (2, 5, 25), (6, 20, 11), (21, 60, 4))
_SITE_CUM = _cumulative(w for *_, w in _SITE_COUNTS)
_TITLE_PATTERNS = (
    "A Study of {i} in Participants With {c}",
    "{i} for the Treatment of {c}",
    "Safety and Efficacy of {i} in {c}",
    "{i} Versus Standard of Care in {c}",
    "Evaluation of {i} in Adults With {c}",
    "Dose-escalation Study of {i} in {c}",
)
_OBS_TITLES = (
    "Registry of Patients With {c}",
    "Natural History of {c}",
    "Biomarkers in {c}: a Prospective Cohort",
    "Real-world Outcomes of {c}",
)
_OUTCOMES = {
    "safety": {
        "measure": "Incidence of treatment-emergent adverse events",
        "description": "Adverse events graded by CTCAE v5.0",
        "timeFrame": "Up to 28 days after the last dose",
    },
    "dlt": {
        "measure": "Number of participants with dose-limiting toxicities",
        "timeFrame": "28 days after the first infusion",
    },
    "orr": {"measure": "Objective response rate per RECIST 1.1", "timeFrame": "Up to 24 months"},
    "pfs": {"measure": "Progression-free survival", "timeFrame": "Up to 5 years"},
    "os": {"measure": "Overall survival", "timeFrame": "Up to 5 years"},
    "change": {"measure": "Change from baseline in disease activity score", "timeFrame": "Week 24"},
    "meld": {"measure": "Change in MELD score from baseline", "timeFrame": "Month 3, 6 and 12"},
    "hba1c": {"measure": "Change from baseline in HbA1c", "timeFrame": "Week 26"},
    "event": {"measure": "Time to first occurrence of the composite endpoint", "timeFrame": "Up to 36 months"},
    "pk": {"measure": "Maximum plasma concentration (Cmax)", "timeFrame": "Pre-dose to 72 hours post-dose"},
    "cohort": {"measure": "Disease progression", "timeFrame": "Up to 10 years"},
}  # fmt: skip
_AREA_OUTCOMES = {
    "oncology": ("orr", "pfs", "os"), "hematologic malignancy": ("orr", "pfs", "dlt"),
    "female oncology": ("pfs", "os"), "male oncology": ("pfs", "os"),
    "cardiovascular": ("event",), "metabolic": ("hba1c", "change"),
    "hepatology and gastroenterology": ("meld", "change"), "healthy volunteers": ("pk", "safety"),
    "cell therapy": ("dlt", "safety", "meld"),
}  # fmt: skip
_FORMATS = (("* ", 70), ("- ", 12), ("1. ", 18))
_FORMAT_CUM = _cumulative(w for _, w in _FORMATS)


def _pick(r, seq, cum):
    return seq[bisect.bisect_right(cum, r() * cum[-1])]


def _bullets(items: list[str], style: str) -> str:
    if style == "1. ":
        return "\n".join(f"{i}. {text}" for i, text in enumerate(items, 1))
    return "\n".join(style + text for text in items)


ARCHETYPES = 16_384  # distinct study designs per seed (titles, arms, criteria, sponsor)
SITE_SETS = 8_192  # distinct site lists per seed
STATUS_VARIANTS = 512  # distinct status/date modules per overall status and seed


def _archetype(rng: random.Random, v: _Vocabulary) -> dict:
    """The status-independent part of a study: what it studies, in whom, how, by whom."""
    r = rng.random
    area = _pick(r, v.areas, v.area_cum)
    conditions_pool, sex_rule, age_group = vocab.AREAS[area]
    cond = conditions_pool[int(r() * len(conditions_pool))]
    conditions = [cond]
    if r() < 0.25:
        second = conditions_pool[int(r() * len(conditions_pool))]
        if second != cond:
            conditions.append(second)
    pool = v.interventions[area]
    x = r()
    study_type = (
        "INTERVENTIONAL" if x < 0.77 else "OBSERVATIONAL" if x < 0.99 else "EXPANDED_ACCESS"
    )
    if study_type == "INTERVENTIONAL":
        phases = _PHASES[bisect.bisect_right(_PHASE_CUM, r() * _PHASE_CUM[-1])][0]
    elif study_type == "OBSERVATIONAL":
        phases = ["NA"]
    else:
        phases = None
    main_type, main_name = pool[int(r() * (len(pool) - 5))]  # an area-specific intervention
    interventions = [{"type": main_type, "name": main_name}]
    n_arms = 1
    if study_type == "INTERVENTIONAL" and r() < 0.45:
        comp_type, comp_name = pool[len(pool) - 5 + int(r() * 2)]  # placebo or standard of care
        interventions.append({"type": comp_type, "name": comp_name})
        n_arms = 2
    if phases is None:
        count = 1 + int(r() * 20)
    elif study_type == "OBSERVATIONAL":
        count = int(50 * 100 ** r())
    else:
        low, span = {"EARLY_PHASE1": (6, 4), "PHASE1": (9, 8), "PHASE2": (30, 8), "PHASE3": (200, 15),
                     "PHASE4": (60, 20)}.get(phases[-1], (20, 15))  # fmt: skip
        count = int(low * span ** r())
    if sex_rule:
        sex = sex_rule
    else:
        x = r()
        sex = "ALL" if x < 0.93 else "FEMALE" if x < 0.97 else "MALE"
    if age_group == "child" or (age_group == "any" and r() < 0.25):
        min_age, max_age, std_ages, _ = _pick(r, _CHILD_AGES, _CHILD_CUM)
    else:
        min_age, max_age, std_ages, _ = _pick(r, _ADULT_AGES, _ADULT_CUM)
    eligibility = {
        "eligibilityCriteria": _criteria(rng, v, cond, main_name, min_age, max_age),
        "healthyVolunteers": area == "healthy volunteers",
        "sex": sex,
    }
    if min_age:
        eligibility["minimumAge"] = min_age
    if max_age:
        eligibility["maximumAge"] = max_age
    eligibility["stdAges"] = std_ages
    x = r()
    if x < 0.35:
        lead = v.industry[int(r() * len(v.industry))]
    elif x < 0.97:
        lead = v.academic[int(r() * len(v.academic))]
    else:
        lead = v.other_classes[int(r() * len(v.other_classes))]
    sponsor = {"leadSponsor": lead}
    if r() < 0.2:
        sponsor["collaborators"] = [v.industry[int(r() * len(v.industry))]]
    if study_type == "OBSERVATIONAL":
        title = _OBS_TITLES[int(r() * len(_OBS_TITLES))].replace("{c}", cond)
    else:
        pattern = _TITLE_PATTERNS[int(r() * len(_TITLE_PATTERNS))]
        title = pattern.replace("{i}", main_name).replace("{c}", cond)
    phase_text = "/".join(
        p.replace("EARLY_PHASE", "Early Phase ").replace("PHASE", "Phase ") for p in phases or ()
    )
    kind = study_type.lower().replace("_", " ")
    summary = (
        f"This {phase_text + ' ' if phase_text not in ('', 'NA') else ''}{kind} study evaluates "
        f"{main_name} in people with {cond}. It plans to enrol about {count} participants."
    )
    arm_label = main_name if n_arms == 1 else f"{main_name} arm"
    arms = [
        {
            "label": arm_label,
            "type": "EXPERIMENTAL",
            "description": f"Participants receive {main_name}.",
            "interventionNames": [f"{_TYPE_LABEL[main_type]}: {main_name}"],
        }
    ]
    interventions[0]["armGroupLabels"] = [arm_label]
    if n_arms == 2:
        comp = interventions[1]
        comp_label = f"{comp['name']} arm"
        arms.append(
            {
                "label": comp_label,
                "type": "PLACEBO_COMPARATOR" if comp["name"] == "Placebo" else "ACTIVE_COMPARATOR",
                "interventionNames": [f"{_TYPE_LABEL[comp['type']]}: {comp['name']}"],
            }
        )
        comp["armGroupLabels"] = [comp_label]
    keys = _AREA_OUTCOMES.get(area, ("change", "safety"))
    primary = [_OUTCOMES["cohort" if study_type == "OBSERVATIONAL" else keys[int(r() * len(keys))]]]
    design: dict = {"studyType": study_type}
    if phases is not None:
        design["phases"] = phases
    if study_type == "INTERVENTIONAL":
        masked = n_arms == 2 and r() < 0.6
        design["designInfo"] = {
            "allocation": "RANDOMIZED" if n_arms == 2 else "NA",
            "interventionModel": "PARALLEL" if n_arms == 2 else "SINGLE_GROUP",
            "primaryPurpose": "TREATMENT" if r() < 0.8 else "PREVENTION",
            "maskingInfo": _MASKED if masked else _OPEN,
        }
    official = {
        "name": v.people[int(r() * len(v.people))],
        "affiliation": lead["name"],
        "role": "PRINCIPAL_INVESTIGATOR",
    }
    return {
        "study_type": study_type,
        "count": count,
        "identification": {
            "organization": {"fullName": lead["name"], "class": lead["class"]},
            "briefTitle": title,
            "officialTitle": f"{title}: a {phase_text or 'Expanded Access'} Study",
        },
        "sponsor": sponsor,
        "description": {"briefSummary": summary},
        "conditions": {"conditions": conditions, "keywords": [area]},
        "design": design,
        "arms": {"armGroups": arms, "interventions": interventions},
        "outcomes": {"primaryOutcomes": primary},
        "eligibility": eligibility,
        "officials": [official],
    }


def _status_module(rng: random.Random, status: str) -> dict:
    r = rng.random
    active = status in _ACTIVE
    date_type = "ESTIMATED" if active else "ACTUAL"
    if status == "NOT_YET_RECRUITING":
        start_year = 2026 + int(r() * 2)
    elif active:
        start_year = 2018 + int(r() * 8)
    else:
        start_year = 2000 + int(r() * 25)
    month = 1 + int(r() * 12)
    done_year = start_year + 1 + int(r() * 5)
    if not active:
        done_year = min(done_year, 2025)
    module = {
        "overallStatus": status,
        "startDateStruct": {
            "date": f"{start_year}-{month:02d}",
            "type": "ESTIMATED" if status == "NOT_YET_RECRUITING" else "ACTUAL",
        },
        "primaryCompletionDateStruct": {"date": f"{done_year}-{month:02d}", "type": date_type},
        "completionDateStruct": {"date": f"{done_year}-{month:02d}-28", "type": date_type},
        "studyFirstSubmitDate": f"{start_year - int(r() * 2)}-{month:02d}-{1 + int(r() * 28):02d}",
        "lastUpdatePostDateStruct": {
            "date": f"{min(done_year, 2026)}-{month:02d}-15",
            "type": "ACTUAL",
        },
    }
    if status in ("TERMINATED", "WITHDRAWN", "SUSPENDED"):
        module["whyStopped"] = ("Sponsor decision", "Slow accrual", "Funding ended")[int(r() * 3)]
    return module


def _site_set(rng: random.Random, v: _Vocabulary) -> list[dict]:
    r = rng.random
    lo, hi, _ = _SITE_COUNTS[bisect.bisect_right(_SITE_CUM, r() * _SITE_CUM[-1])]
    cum = v.city_cum
    total = cum[-1]
    home = bisect.bisect_right(cum, r() * total)
    sites = []
    for k in range(lo + int(r() * (hi - lo + 1))):
        if k == 0:
            ci = home
        elif r() < 0.5:  # multi-site studies cluster in the first site's country
            same = v.same_country[home]
            ci = same[int(r() * len(same))]
        else:
            ci = bisect.bisect_right(cum, r() * total)
        city = v.cities[ci]
        site = {"facility": v.facilities[ci][int(r() * len(v.facilities[ci]))], "city": city.name}
        if city.state:
            site["state"] = city.state
        site["country"] = city.country
        site["geoPoint"] = {"lat": city.lat, "lon": city.lon}
        sites.append(site)
    return sites


class _Pools:
    """Lazily built, deterministic pools: entry ``i`` depends only on (seed, pool, i)."""

    def __init__(self, seed: int, v: _Vocabulary) -> None:
        self.seed = seed
        self.v = v
        self.archetypes: list[dict | None] = [None] * ARCHETYPES
        self.site_sets: list[list[dict] | None] = [None] * SITE_SETS
        self.status: dict[str, list[dict | None]] = {}
        self.stamped: dict[tuple[int, str], list[dict]] = {}

    def _rng(self, pool: str, i: int) -> random.Random:
        return random.Random(f"trialdesk-synthetic:{self.seed}:{pool}:{i}")

    def archetype(self, i: int) -> dict:
        got = self.archetypes[i]
        if got is None:
            got = self.archetypes[i] = _archetype(self._rng("archetype", i), self.v)
        return got

    def sites(self, i: int) -> list[dict]:
        got = self.site_sets[i]
        if got is None:
            got = self.site_sets[i] = _site_set(self._rng("sites", i), self.v)
        return got

    def sites_with_status(self, i: int, status: str) -> list[dict]:
        """Site list ``i`` with each site's own status, which follows the overall status
        (a recruiting study has some sites not yet recruiting)."""
        key = (i, status)
        got = self.stamped.get(key)
        if got is None:
            choices = _SITE_STATUS.get(status)
            sites = self.sites(i)
            if choices:
                rng = self._rng(f"site-status-{status}", i).random
                sites = [{**s, "status": choices[int(rng() * len(choices))]} for s in sites]
            got = self.stamped[key] = sites
        return got

    def status_module(self, status: str, i: int) -> dict:
        pool = self.status.get(status)
        if pool is None:
            pool = self.status[status] = [None] * STATUS_VARIANTS
        got = pool[i]
        if got is None:
            got = pool[i] = _status_module(self._rng(f"status-{status}", i), status)
        return got


def _study(index: int, r, pools: _Pools) -> dict:
    """One study: an archetype plus this record's id, status, dates, enrollment and sites."""
    a = pools.archetype(int(r() * ARCHETYPES))
    study_type = a["study_type"]
    if study_type == "EXPANDED_ACCESS":
        status = _EA_STATUS[int(r() * 4)]
    else:
        status = _STATUS_NAMES[bisect.bisect_right(_STATUS_CUM, r() * _STATUS_TOTAL)]
    active = status in _ACTIVE
    design = dict(a["design"])
    if study_type != "EXPANDED_ACCESS":
        count = 0 if status == "WITHDRAWN" else a["count"]
        design["enrollmentInfo"] = {"count": count, "type": "ESTIMATED" if active else "ACTUAL"}
    sites = pools.sites_with_status(int(r() * SITE_SETS), status)
    contacts = {"overallOfficials": a["officials"], "locations": list(sites)}
    if active:
        contacts["centralContacts"] = [
            {
                "name": pools.v.people[index % len(pools.v.people)],
                "role": "CONTACT",
                "phone": f"+1 555 01{index % 100:02d}",
                "email": f"trials.{index}@example.org",
            }
        ]
    identification = {
        "nctId": f"NCT{NCT_BASE + index:08d}",
        "orgStudyIdInfo": {"id": f"SYN-{index:07d}"},
        **a["identification"],
    }
    return {
        "protocolSection": {
            "identificationModule": identification,
            "statusModule": dict(pools.status_module(status, int(r() * STATUS_VARIANTS))),
            "sponsorCollaboratorsModule": dict(a["sponsor"]),
            "descriptionModule": dict(a["description"]),
            "conditionsModule": dict(a["conditions"]),
            "designModule": design,
            "armsInterventionsModule": dict(a["arms"]),
            "outcomesModule": dict(a["outcomes"]),
            "eligibilityModule": dict(a["eligibility"]),
            "contactsLocationsModule": contacts,
        },
        "hasResults": status == "COMPLETED" and r() < 0.3,
    }


def _criteria(rng: random.Random, v: _Vocabulary, condition, intervention, min_age, max_age):
    r = rng.random
    fill = {
        "{condition}": condition,
        "{intervention}": intervention,
        "{min_age}": min_age or "0 Days",
        "{max_age}": max_age or "no upper age limit",
    }
    items = []
    for templates, low, spread in ((v.inclusion, 3, 6), (v.exclusion, 3, 9)):
        chosen = rng.sample(range(len(templates)), min(low + int(r() * spread), len(templates)))
        texts = []
        for t in sorted(chosen) if r() < 0.5 else chosen:
            text = templates[t][int(r() * len(templates[t]))]
            if "{" in text:
                for key, value in fill.items():
                    text = text.replace(key, value)
            texts.append(text)
        items.append(texts)
    inclusion, exclusion = items
    style = _FORMATS[bisect.bisect_right(_FORMAT_CUM, r() * _FORMAT_CUM[-1])][0]
    inc_text = _bullets(inclusion, style)
    if r() < 0.2:  # a nested "adequate organ function" item
        children = [c[int(r() * len(c))] for c in v.organ_children]
        marker = "-" if style == "- " else "*"
        lead = f"{len(inclusion) + 1}. " if style == "1. " else style
        pad = "   " if style == "1. " else "  "
        nested = "\n".join(f"{pad}{marker} {c}" for c in children)
        inc_text += f"\n{lead}Adequate organ function, defined as:\n\n{nested}"
    exc_text = _bullets(exclusion, style)
    return f"Inclusion Criteria:\n\n{inc_text}\n\nExclusion Criteria:\n\n{exc_text}"


def generate_studies(n: int, seed: int = 0, start: int = 0) -> Iterator[dict]:
    """Stream ``n`` synthetic studies (API v2 dicts), deterministic for ``(seed, start)``.

    ``start`` offsets the synthetic NCT ids (``NCT9xxxxxxx``) so separate batches do not clash.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if start < 0 or start + n > 10_000_000:
        raise ValueError("start + n must be <= 10,000,000 (synthetic NCT id range)")
    pools = _Pools(seed, _vocabulary())
    r = random.Random(f"trialdesk-synthetic:{seed}:{start}").random
    for index in range(start, start + n):
        yield _study(index, r, pools)


def write_pages(
    n: int, out_dir: str | os.PathLike[str], seed: int = 0, page_size: int = 1000
) -> list[Path]:
    """Write ``n`` studies as API pages ``{"studies": [...], "totalCount": n}`` of
    ``page_size`` studies to ``out_dir/page-00001.json``, ... Returns the paths written.

    Each page is written to a temporary name and renamed, so a reader never sees half a page.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    studies = generate_studies(n, seed)
    pages = (n + page_size - 1) // page_size
    width = max(5, len(str(pages)))
    for number in range(1, pages + 1):
        batch = list(itertools.islice(studies, page_size))
        path = out / f"page-{number:0{width}d}.json"
        tmp = path.with_suffix(".json.part")
        # pydantic-core's serialiser: compact UTF-8 JSON, ~4x faster than json.dumps here
        tmp.write_bytes(pydantic_core.to_json({"studies": batch, "totalCount": n}))
        os.replace(tmp, path)
        paths.append(path)
    return paths
