"""Places of the registry's trial sites: the location tree, geocoded cities, city lookup.

``locations_tree`` and ``cities`` are computed once per registry state (``cached_per_state``, keyed
on ``registry_version``; ``search`` keeps the ``fastsearch`` filter index in the same
cache). ``resolve_city`` turns a ``near_city`` name into the point distances are measured
from.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from trialdesk.registry.query import SearchError


@dataclass(frozen=True)
class City:
    name: str
    country: str
    lat: float
    lon: float
    trials: int

    @property
    def label(self) -> str:
        return f"{self.name}, {self.country}" if self.country else self.name


@dataclass(frozen=True)
class CityCount:
    name: str
    trials: int


@dataclass(frozen=True)
class CountryCount:
    name: str
    trials: int
    cities: tuple[CityCount, ...]


_cache: dict[str, tuple[Any, Any]] = {}


def registry_version(cursor) -> tuple:
    """Changes whenever the registry does through the importer or the models:
    ``RegistryState.version`` counts imported files and model saves and deletes and
    ``RegistryState.stamp`` names each state (it never recurs, so states whose counters
    coincide, e.g. after a rolled-back transaction, are told apart); the largest id and the
    last update time as well. Writes that send no model signals (``QuerySet.update``,
    ``bulk_create``, raw SQL) must call ``stamp.bump_version`` themselves."""
    cursor.execute(
        "SELECT (SELECT MAX(id) FROM registry_trial), (SELECT MAX(updated_at) FROM "
        "registry_trial), (SELECT version FROM registry_registrystate WHERE id = 1), "
        "(SELECT stamp FROM registry_registrystate WHERE id = 1)"
    )
    return tuple(cursor.fetchone())


def cached_per_state(name: str, compute):
    """``compute(cursor)`` once per registry version and process. One thread computes at a
    time (the others wait for its result rather than build the same thing again)."""
    from django.db import connection

    with connection.cursor() as cursor:
        version = (connection.alias, connection.settings_dict["NAME"], registry_version(cursor))
        hit = _cache.get(name)
        if hit is not None and hit[0] == version:
            return hit[1]
        with _cache_lock:
            hit = _cache.get(name)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = compute(cursor)
            _cache[name] = (version, value)
    return value


_cache_lock = threading.Lock()


def locations_tree() -> tuple[CountryCount, ...]:
    """Countries (by name) -> cities (by name) -> number of distinct trials with a site there."""

    def compute(cursor) -> tuple[CountryCount, ...]:
        cursor.execute(
            "SELECT country, COUNT(DISTINCT trial_id) FROM registry_triallocation "
            "GROUP BY country ORDER BY country"
        )
        countries = cursor.fetchall()
        cursor.execute(
            "SELECT country, city, COUNT(DISTINCT trial_id) FROM registry_triallocation "
            "GROUP BY country, city ORDER BY country, city"
        )
        by_country: dict[str, list[CityCount]] = {}
        for country, city, n in cursor.fetchall():
            by_country.setdefault(country, []).append(CityCount(city, n))
        return tuple(
            CountryCount(country, n, tuple(by_country.get(country, ()))) for country, n in countries
        )

    return cached_per_state("locations_tree", compute)


def cities() -> tuple[City, ...]:
    """Every (city, country) with geocoded sites: its point and number of trials, by label.

    A city's point is its most frequent site coordinate (the registry geocodes sites to the
    city, so sites of one city share a point; the mode ignores the odd mis-geocoded site).
    """

    def compute(cursor) -> tuple[City, ...]:
        cursor.execute(
            "SELECT city, country, lat, lon, COUNT(*) FROM registry_triallocation "
            "WHERE lat IS NOT NULL AND lon IS NOT NULL AND city <> '' "
            "GROUP BY city, country, lat, lon"
        )
        points: dict[tuple[str, str], tuple[int, float, float]] = {}
        for city, country, lat, lon, n in cursor.fetchall():
            best = points.get((city, country))
            if best is None or n > best[0]:
                points[(city, country)] = (n, lat, lon)
        cursor.execute(
            "SELECT city, country, COUNT(DISTINCT trial_id) FROM registry_triallocation "
            "WHERE lat IS NOT NULL AND lon IS NOT NULL AND city <> '' GROUP BY city, country"
        )
        counts = {(city, country): n for city, country, n in cursor.fetchall()}
        found = [
            City(city, country, lat, lon, counts.get((city, country), 0))
            for (city, country), (_, lat, lon) in points.items()
        ]
        return tuple(sorted(found, key=lambda c: (c.name.lower(), c.country.lower())))

    return cached_per_state("cities", compute)


def resolve_city(name: str) -> City:
    """The point of "City", "City, Country" or "City, State, Country" from the stored sites.

    Case-insensitive. Raises ``SearchError`` when no geocoded site is in that city, or the
    name is in several countries and no country was given.
    """
    from django.db import connection

    parts = [p.strip() for p in name.split(",") if p.strip()]
    if not parts:
        raise SearchError("near_city is empty")
    city = parts[0]
    state = parts[1] if len(parts) == 3 else None
    country = parts[-1] if len(parts) >= 2 else None
    sql = (
        "SELECT city, country, lat, lon, COUNT(*), COUNT(DISTINCT trial_id) "
        "FROM registry_triallocation WHERE LOWER(city) = LOWER(%s) "
        "AND lat IS NOT NULL AND lon IS NOT NULL"
    )
    params: list[Any] = [city]
    if country:
        sql += " AND LOWER(country) = LOWER(%s)"
        params.append(country)
    if state:
        sql += " AND LOWER(state) = LOWER(%s)"
        params.append(state)
    sql += " GROUP BY city, country, lat, lon"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    points: dict[str, tuple[int, str, float, float, int]] = {}
    for city_name, country_name, lat, lon, n, trials in rows:
        best = points.get(country_name)
        if best is None or n > best[0]:
            points[country_name] = (n, city_name, lat, lon, trials)
    if not points:
        raise SearchError(f"near_city {name!r}: no geocoded trial site in that city")
    if len(points) > 1:
        choices = "; ".join(f"{v[1]}, {c}" for c, v in sorted(points.items()))
        raise SearchError(f"near_city {name!r} is in several countries ({choices}): add one")
    country_name, (_, city_name, lat, lon, trials) = next(iter(points.items()))
    return City(city_name, country_name, lat, lon, trials)
