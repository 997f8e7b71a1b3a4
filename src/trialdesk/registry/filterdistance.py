"""The distance filter kind: a site within ``within_km`` of the query's point.

Compiled to the SQL pieces the SQL plans choose among (``SiteSearch``: grid cells, the
bounding box and the haversine distance, ``haversine_sql``), to a numpy mask
(``filterindex.FilterIndex.near``) and to a Tantivy term set of the site positions in range
(stored as ``point_key`` text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trialdesk.registry import geo
from trialdesk.registry.filterkinds import Filter


@dataclass(frozen=True)
class SiteSearch:
    """The SQL pieces of a distance filter, on site alias ``l``: ``check_sql`` per trial
    (sites found by ``trial_id``), ``seek_sql`` sites found by position (grid cells, box),
    ``site_sql`` the seek and the distance; ``by_cell`` an SQLite index hint."""

    check_sql: str
    check_params: list
    seek_sql: str
    seek_params: list
    site_sql: str
    site_params: list
    by_cell: str = ""


@dataclass(frozen=True)
class Distance(Filter):
    """A site within ``within_km`` of the query's point (``near`` or ``near_city``)."""

    rate: float = 0.5
    #: Distances ``sample`` draws from, km.
    examples: tuple[float, ...] = ()
    value_type: type = float

    def __post_init__(self) -> None:
        if not self.index_fields:
            object.__setattr__(self, "index_fields", (("point", "raw"),))

    def site_search(self, origin, within_km: float, vendor: str) -> SiteSearch:
        """The SQL pieces (``SiteSearch``); ``sqlplan.SearchPlan`` chooses how to use them."""
        box = geo.bounding_box(origin[0], origin[1], within_km)
        box_sql = (
            "l.lat BETWEEN %s AND %s AND ("
            + " OR ".join("l.lon BETWEEN %s AND %s" for _ in box.lon_ranges)
            + ")"
        )
        box_params: list[Any] = [box.min_lat, box.max_lat]
        for west, east in box.lon_ranges:
            box_params.extend([west, east])
        distance_sql = f"{haversine_sql(vendor)} <= %s"
        distance_params = [*_distance_params(vendor, origin), within_km]
        by_cell = ""
        ranges = geo.cell_ranges(box)
        if ranges is not None:
            cells = "(" + " OR ".join("l.cell BETWEEN %s AND %s" for _ in ranges) + ")"
            seek_sql = f"{cells} AND {box_sql}"
            seek_params = [*(v for r in ranges for v in r), *box_params]
            # SQLite, without statistics, prefers the latitude band: make it seek by cell.
            if vendor == "sqlite":
                by_cell = " INDEXED BY registry_location_cell"
        else:
            seek_sql, seek_params = box_sql, box_params
        return SiteSearch(
            check_sql=f"{box_sql} AND {distance_sql}",
            check_params=[*box_params, *distance_params],
            seek_sql=seek_sql,
            seek_params=seek_params,
            site_sql=f"{seek_sql} AND {distance_sql}",
            site_params=[*seek_params, *distance_params],
            by_cell=by_cell,
        )

    def mask(self, index, query, origin):
        return index.near(origin, getattr(query, self.name))

    def tantivy(self, ti, query, origin, index):
        """The positions in range as a term set; ``None`` when there are none (nothing
        can match)."""
        close = index.close_points(origin, getattr(query, self.name))
        if not close.any():
            return None
        keys = [
            point_key(lat, lon)
            for lat, lon in zip(index.point_lat[close], index.point_lon[close], strict=True)
        ]
        return [ti.tantivy.Query.term_set_query(ti.schema, self.index_fields[0][0], keys)]

    def document(self, row):
        if not row.points:
            return {}
        return {self.index_fields[0][0]: sorted({point_key(lat, lon) for lat, lon in row.points})}

    def sample(self, rng, points):
        if not points or rng.random() >= self.rate:
            return {}
        lat, lon = rng.choice(points)
        out: dict[str, Any] = {"near": (lat + rng.uniform(-1, 1), lon + rng.uniform(-1, 1))}
        if rng.random() < 0.8:
            out[self.name] = rng.choice(self.examples)
        return out


def point_key(lat: float, lon: float) -> str:
    """A site position as the text index stores it: the exact doubles (``-0.0`` as ``0.0``)."""
    return f"{float(lat) + 0.0!r} {float(lon) + 0.0!r}"


def haversine_sql(vendor: str) -> str:
    """Haversine distance in km from the origin (params) to site ``l``; ``geo.haversine_km``."""
    if vendor == "sqlite" and not geo.SQLITE_MATH:
        return "registry_haversine_km(%s, %s, l.lat, l.lon)"
    least = "least" if vendor == "postgresql" else "min"
    cast = "::float8" if vendor == "postgresql" else ""
    return (
        f"(2 * {geo.EARTH_RADIUS_KM} * asin({least}(1.0, sqrt("
        f"power(sin(radians(l.lat - %s{cast}) / 2), 2) + "
        f"cos(radians(%s{cast})) * cos(radians(l.lat)) * "
        f"power(sin(radians(l.lon - %s{cast}) / 2), 2)))))"
    )


def _distance_params(vendor: str, origin: tuple[float, float]) -> list[float]:
    lat, lon = origin
    if vendor == "sqlite" and not geo.SQLITE_MATH:
        return [lat, lon]
    return [lat, lat, lon]
