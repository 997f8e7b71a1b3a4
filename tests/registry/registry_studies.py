"""Hand-made CT.gov API v2 study records for the registry tests (shape per ctgov-v2.md).

``make_study`` builds one small valid study; ``synthetic_studies`` many varied ones (for
the import-rate and search-latency measurements in ``measure_registry.py``).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path


def make_study(
    nct_id: str,
    *,
    title: str = "Umbilical cord mesenchymal stem cells in decompensated cirrhosis",
    official_title: str | None = None,
    acronym: str | None = None,
    status: str = "RECRUITING",
    phases: tuple[str, ...] = ("PHASE1",),
    study_type: str = "INTERVENTIONAL",
    sex: str = "ALL",
    min_age: str | None = "18 Years",
    max_age: str | None = "75 Years",
    conditions: tuple[str, ...] = ("Decompensated Cirrhosis",),
    interventions: tuple[tuple[str, str], ...] = (("BIOLOGICAL", "UC-MSC"),),
    summary: str = "A dose escalation study of cell therapy.",
    criteria: str = "Inclusion Criteria:\n\n* Age 18 to 75\n\nExclusion Criteria:\n\n* Pregnancy",
    locations: tuple[dict, ...] = (
        {
            "facility": "Beijing 302 Hospital",
            "status": "RECRUITING",
            "city": "Beijing",
            "country": "China",
            "geoPoint": {"lat": 39.9075, "lon": 116.39723},
        },
    ),
) -> dict:
    ident = {"nctId": nct_id, "briefTitle": title}
    if official_title:
        ident["officialTitle"] = official_title
    if acronym:
        ident["acronym"] = acronym
    eligibility: dict = {"eligibilityCriteria": criteria, "healthyVolunteers": False, "sex": sex}
    if min_age:
        eligibility["minimumAge"] = min_age
    if max_age:
        eligibility["maximumAge"] = max_age
    return {
        "protocolSection": {
            "identificationModule": ident,
            "statusModule": {
                "overallStatus": status,
                "startDateStruct": {"date": "2024-03", "type": "ACTUAL"},
            },
            "sponsorCollaboratorsModule": {
                "leadSponsor": {"name": "Beijing 302 Hospital", "class": "OTHER"}
            },
            "descriptionModule": {"briefSummary": summary},
            "conditionsModule": {"conditions": list(conditions)},
            "designModule": {
                "studyType": study_type,
                "phases": list(phases),
                "enrollmentInfo": {"count": 12, "type": "ESTIMATED"},
            },
            "armsInterventionsModule": {
                "interventions": [{"type": t, "name": n} for t, n in interventions]
            },
            "eligibilityModule": eligibility,
            "contactsLocationsModule": {"locations": [copy.deepcopy(loc) for loc in locations]},
        },
        "hasResults": False,
    }


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- synthetic data

_CONDITIONS = [
    "Decompensated Cirrhosis",
    "Liver Failure",
    "Acute-on-chronic Liver Failure",
    "Type 1 Diabetes",
    "Knee Osteoarthritis",
    "Heart Failure",
    "Multiple Sclerosis",
    "Crohn Disease",
    "Spinal Cord Injury",
    "Stroke",
    "ARDS",
    "COVID-19",
    "Lupus Nephritis",
    "Graft Versus Host Disease",
    "Bronchopulmonary Dysplasia",
    "Premature Ovarian Failure",
    "Parkinson Disease",
    "Diabetic Foot Ulcer",
    "Psoriasis",
    "Rheumatoid Arthritis",
]
_INTERVENTIONS = [
    ("BIOLOGICAL", "Umbilical cord mesenchymal stem cells"),
    ("BIOLOGICAL", "CAR-T cells"),
    ("DRUG", "Placebo"),
    ("DRUG", "Tacrolimus"),
    ("BIOLOGICAL", "Bone marrow MSC"),
    ("PROCEDURE", "Intra-articular injection"),
    ("DRUG", "Standard medical therapy"),
    ("BIOLOGICAL", "Exosomes"),
    ("GENETIC", "Gene-modified T cells"),
    ("DEVICE", "Catheter"),
]
_WORDS = (
    "patient safety efficacy infusion dose escalation cohort liver renal hepatic serum "
    "bilirubin albumin creatinine platelet count randomized open label trial evaluate "
    "tolerability adverse events month week baseline follow visit primary secondary outcome "
    "measure treatment therapy cell transplantation regenerative immune response chronic acute "
    "severe moderate history prior consent pregnant lactating infection malignancy within days"
).split()
_CITIES = [
    ("Beijing", "China", 39.9075, 116.39723),
    ("Shanghai", "China", 31.22222, 121.45806),
    ("Hanoi", "Vietnam", 21.0245, 105.84117),
    ("Ho Chi Minh City", "Vietnam", 10.82302, 106.62965),
    ("Paris", "France", 48.85341, 2.3488),
    ("Lyon", "France", 45.74846, 4.84671),
    ("Boston", "United States", 42.35843, -71.05977),
    ("Houston", "United States", 29.76328, -95.36327),
    ("Madrid", "Spain", 40.4165, -3.70256),
    ("Berlin", "Germany", 52.52437, 13.41053),
    ("Tokyo", "Japan", 35.6895, 139.69171),
    ("Seoul", "Korea, Republic of", 37.566, 126.9784),
    ("Sydney", "Australia", -33.86785, 151.20732),
    ("Sao Paulo", "Brazil", -23.5475, -46.63611),
    ("Cairo", "Egypt", 30.06263, 31.24967),
    ("Tehran", "Iran", 35.69439, 51.42151),
    ("Istanbul", "Turkey", 41.01384, 28.94966),
    ("Mumbai", "India", 19.07283, 72.88261),
    ("Hai Phong", "Vietnam", 20.86481, 106.68345),
    ("Da Nang", "Vietnam", 16.06778, 108.22083),
]
_STATUSES = [
    "RECRUITING",
    "COMPLETED",
    "NOT_YET_RECRUITING",
    "ACTIVE_NOT_RECRUITING",
    "TERMINATED",
    "UNKNOWN",
    "WITHDRAWN",
    "ENROLLING_BY_INVITATION",
]
_PHASES = [["PHASE1"], ["PHASE1", "PHASE2"], ["PHASE2"], ["EARLY_PHASE1"], ["PHASE3"], ["NA"]]


def synthetic_studies(n: int, seed: int = 1, start: int = 10_000_000):
    """``n`` varied valid studies (NCT ids from ``start``), deterministic for a seed."""
    rng = random.Random(seed)
    for k in range(n):
        conds = rng.sample(_CONDITIONS, rng.randint(1, 3))
        ints = rng.sample(_INTERVENTIONS, rng.randint(1, 3))
        sites = []
        for pos in range(rng.choice([0, 1, 1, 2, 3, 5, 8])):
            city, country, lat, lon = rng.choice(_CITIES)
            sites.append(
                {
                    "facility": f"{city} Hospital {pos + 1}",
                    "status": rng.choice(_STATUSES[:4]),
                    "city": city,
                    "country": country,
                    "geoPoint": {
                        "lat": round(lat + rng.uniform(-0.2, 0.2), 5),
                        "lon": round(lon + rng.uniform(-0.2, 0.2), 5),
                    },
                }
            )
        words = lambda m: " ".join(rng.choices(_WORDS, k=m))  # noqa: E731
        criteria = (
            "Inclusion Criteria:\n\n"
            + "\n".join(f"* {words(rng.randint(6, 20))}" for _ in range(rng.randint(3, 8)))
            + "\n\nExclusion Criteria:\n\n"
            + "\n".join(
                f"* {words(rng.randint(6, 20))} {rng.choice(_CONDITIONS).lower()}"
                for _ in range(rng.randint(3, 10))
            )
        )
        yield make_study(
            f"NCT{start + k:08d}",
            title=f"{ints[0][1]} for {conds[0]}: {words(4)}",
            official_title=f"A study of {ints[0][1]} in {', '.join(conds)} ({words(6)})",
            status=rng.choice(_STATUSES),
            phases=tuple(rng.choice(_PHASES)),
            sex=rng.choice(["ALL", "ALL", "ALL", "FEMALE", "MALE"]),
            min_age=rng.choice(["18 Years", "16 Years", "6 Months", "40 Years", None]),
            max_age=rng.choice(["75 Years", "65 Years", "17 Years", "80 Years", None]),
            conditions=tuple(conds),
            interventions=tuple(ints),
            summary=words(rng.randint(30, 80)),
            criteria=criteria,
            locations=tuple(sites),
        )


def write_synthetic_pages(out_dir: Path, n: int, seed: int = 1, page_size: int = 1000) -> list:
    """Write ``n`` synthetic studies as API pages ``{"studies": [...]}`` of ``page_size``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, page = [], []
    for study in synthetic_studies(n, seed):
        page.append(study)
        if len(page) == page_size:
            paths.append(write_json(out_dir / f"page-{len(paths):05d}.json", {"studies": page}))
            page = []
    if page:
        paths.append(write_json(out_dir / f"page-{len(paths):05d}.json", {"studies": page}))
    return paths
