"""Haversine distance and bounding boxes (no database)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.registry import geo

R = geo.EARTH_RADIUS_KM  # IUGG mean radius R1 = 6371.0088 km (Moritz 1980)


def test_haversine_exact_arcs():
    # Arc lengths on a sphere are R x angle (radians): independently computable values.
    assert geo.haversine_km(0, 0, 1, 0) == pytest.approx(R * math.pi / 180, rel=1e-12)
    assert geo.haversine_km(0, 0, 90, 0) == pytest.approx(R * math.pi / 2, rel=1e-12)
    assert geo.haversine_km(0, 0, 0, 180) == pytest.approx(R * math.pi, rel=1e-12)
    assert geo.haversine_km(10, 170, 10, -170) == pytest.approx(geo.haversine_km(10, -10, 10, 10))
    assert geo.haversine_km(21.0245, 105.84117, 21.0245, 105.84117) == 0.0


def _law_of_cosines_km(lat1, lon1, lat2, lon2):
    # The spherical law of cosines: an independent formula for the same great-circle arc.
    p1, p2 = math.radians(lat1), math.radians(lat2)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(
        math.radians(lon2 - lon1)
    )
    return R * math.acos(max(-1.0, min(1.0, c)))


def test_haversine_city_pair():
    # Paris (48.8566 N, 2.3522 E) - London (51.5074 N, 0.1278 W): about 343.5 km.
    d = geo.haversine_km(48.8566, 2.3522, 51.5074, -0.1278)
    assert d == pytest.approx(_law_of_cosines_km(48.8566, 2.3522, 51.5074, -0.1278), rel=1e-9)
    assert d == pytest.approx(343.5, abs=0.5)


@settings(max_examples=200, deadline=None)
@given(
    lat1=st.floats(-90, 90),
    lon1=st.floats(-180, 180),
    lat2=st.floats(-90, 90),
    lon2=st.floats(-180, 180),
)
def test_haversine_agrees_with_the_law_of_cosines(lat1, lon1, lat2, lon2):
    expected = _law_of_cosines_km(lat1, lon1, lat2, lon2)
    # The law of cosines loses precision for very short arcs: compare in absolute km.
    assert geo.haversine_km(lat1, lon1, lat2, lon2) == pytest.approx(expected, abs=1e-3)


def test_bounding_box_across_the_antimeridian_and_pole():
    box = geo.bounding_box(0.0, 179.9, 50)
    assert len(box.lon_ranges) == 2
    assert box.lon_ranges[0][1] == 180.0 and box.lon_ranges[1][0] == -180.0
    polar = geo.bounding_box(89.9, 0.0, 50)
    assert polar.lon_ranges == ((-180.0, 180.0),) and polar.max_lat == 90.0
    with pytest.raises(ValueError, match="latitude"):
        geo.bounding_box(95, 0, 10)
    with pytest.raises(ValueError, match="within_km"):
        geo.bounding_box(0, 0, -1)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-85, 85),
    lon=st.floats(-180, 180),
    radius=st.floats(0.1, 3000),
    bearing=st.floats(0, 2 * math.pi),
    fraction=st.floats(0, 0.999),
)
def test_every_point_within_the_radius_is_inside_the_box(lat, lon, radius, bearing, fraction):
    # Destination point at distance d along a bearing (spherical trigonometry).
    d = radius * fraction / R
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    lat2 = math.degrees(p2)
    lon2 = (math.degrees(l2) + 540) % 360 - 180
    assert geo.haversine_km(lat, lon, lat2, lon2) <= radius + 1e-6
    box = geo.bounding_box(lat, lon, radius)
    eps = 1e-9
    assert box.min_lat - eps <= lat2 <= box.max_lat + eps
    assert any(w - eps <= lon2 <= e + eps for w, e in box.lon_ranges)
