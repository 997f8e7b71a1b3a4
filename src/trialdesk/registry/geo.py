"""Great-circle distance and bounding boxes for site search.

Haversine formula on a sphere of mean Earth radius R = 6371.0088 km (the IUGG mean radius
R1; Moritz, "Geodetic Reference System 1980", Bulletin Geodesique 54:395-405, 1980).
Error against the WGS-84 ellipsoid is below 0.5 %, plenty for "sites within N km".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two (lat, lon) points in decimal degrees."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dphi = p2 - p1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class BoundingBox:
    """A lat/lon box that contains every point within a radius of a centre.

    When the circle crosses the antimeridian the box is split: ``lon_ranges`` holds one or
    two (west, east) ranges, each with west <= east.
    """

    min_lat: float
    max_lat: float
    lon_ranges: tuple[tuple[float, float], ...]


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """The smallest lat/lon box holding the circle of ``radius_km`` around (lat, lon).

    Latitude extent is radius / R (in radians). Longitude extent uses the standard
    bounding-circle construction (J. P. Matuschek, "Finding Points Within a Distance of a
    Latitude/Longitude Using Bounding Coordinates", 2010): dlon = asin(sin(r) / cos(lat));
    near a pole (the circle contains it) the box spans all longitudes.
    """
    validate_point(lat, lon)
    if radius_km < 0 or not math.isfinite(radius_km):
        raise ValueError(f"within_km must be a finite number >= 0, got {radius_km!r}")
    r = radius_km / EARTH_RADIUS_KM
    lat_r = math.radians(lat)
    min_lat = lat_r - r
    max_lat = lat_r + r
    if min_lat <= -math.pi / 2 or max_lat >= math.pi / 2 or r >= math.pi / 2:
        return BoundingBox(
            max(math.degrees(min_lat), -90.0), min(math.degrees(max_lat), 90.0), ((-180.0, 180.0),)
        )
    dlon = math.asin(min(1.0, math.sin(r) / math.cos(lat_r)))
    west = math.degrees(math.radians(lon) - dlon)
    east = math.degrees(math.radians(lon) + dlon)
    if west < -180.0:
        ranges: tuple[tuple[float, float], ...] = ((west + 360.0, 180.0), (-180.0, east))
    elif east > 180.0:
        ranges = ((west, 180.0), (-180.0, east - 360.0))
    else:
        ranges = ((west, east),)
    return BoundingBox(math.degrees(min_lat), math.degrees(max_lat), ranges)


def validate_point(lat: float, lon: float) -> None:
    """Reject coordinates outside [-90, 90] x [-180, 180] with a message naming the value."""
    if not (isinstance(lat, int | float) and -90.0 <= lat <= 90.0):
        raise ValueError(f"latitude must be between -90 and 90, got {lat!r}")
    if not (isinstance(lon, int | float) and -180.0 <= lon <= 180.0):
        raise ValueError(f"longitude must be between -180 and 180, got {lon!r}")


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """Give each SQLite connection ``registry_haversine_km(lat1, lon1, lat2, lon2)``.

    SQLite's built-in math functions are optional at compile time, so the distance filter
    uses this deterministic Python function instead (called only for bounding-box hits).
    """
    if connection.vendor != "sqlite":
        return

    def fn(lat1, lon1, lat2, lon2):
        if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
            return None
        return haversine_km(lat1, lon1, lat2, lon2)

    connection.connection.create_function("registry_haversine_km", 4, fn, deterministic=True)


# --------------------------------------------------------------------------- grid cells

#: Grid cells of 0.1 x 0.1 degrees (about 11 km north-south) index site positions: a
#: bounding box becomes one ``cell BETWEEN a AND b`` range per cell row, each an index seek.
CELLS_PER_DEGREE = 10
_COLUMNS = 360 * CELLS_PER_DEGREE
_ROWS = 180 * CELLS_PER_DEGREE
#: Above this many cell rows a box is searched by latitude range instead.
MAX_CELL_ROWS = 200


def _row(lat: float) -> int:
    return min(_ROWS - 1, max(0, math.floor((lat + 90.0) * CELLS_PER_DEGREE)))


def _column(lon: float) -> int:
    return min(_COLUMNS - 1, max(0, math.floor((lon + 180.0) * CELLS_PER_DEGREE)))


def cell_of(lat: float | None, lon: float | None) -> int | None:
    """The grid cell number of a point (row-major from the south-west corner), None if unknown."""
    if lat is None or lon is None:
        return None
    return _row(lat) * _COLUMNS + _column(lon)


def cell_ranges(box: BoundingBox) -> list[tuple[int, int]] | None:
    """Inclusive ``(first, last)`` cell-number ranges covering ``box``, one per cell row and
    longitude range; None when the box spans more than ``MAX_CELL_ROWS`` rows."""
    first_row, last_row = _row(box.min_lat), _row(box.max_lat)
    if last_row - first_row + 1 > MAX_CELL_ROWS:
        return None
    ranges = []
    for row in range(first_row, last_row + 1):
        for west, east in box.lon_ranges:
            ranges.append((row * _COLUMNS + _column(west), row * _COLUMNS + _column(east)))
    return ranges


def _has_math_functions() -> bool:
    import sqlite3

    try:
        sqlite3.connect(":memory:").execute("SELECT sin(0), asin(0), radians(0), sqrt(1)")
    except sqlite3.OperationalError:
        return False
    return True


#: Whether this SQLite library has the built-in math functions (SQLITE_ENABLE_MATH_FUNCTIONS);
#: if so, distances are computed in SQL, else by ``registry_haversine_km``.
SQLITE_MATH = _has_math_functions()
