"""The in-memory filter and distance index of the SQLite registry search (numpy).

Per process, the columns the search filters read, as numpy arrays
(``fastsearch`` explains why and runs the searches):

- per trial, in NCT id order: id and the columns of every indexed filter declaration
  (``filters.FILTERS``: status, study type and sex as small codes, phase bits, age limits
  in days), each loaded and tested by its declaration;
- per distinct site position (lat, lon): the positions (in NCT order) of the trials with a
  site there.

A distance filter costs one haversine per distinct point (the same expression as the SQL
plans, ``filters.haversine_sql``), a filter one vectorised comparison per trial; an age
uses ``query.age_days``; NULL age limits are open ends. The Tantivy text index
(``textindex``) takes its distance terms from ``FilterIndex.close_points``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trialdesk.registry import filters, geo
from trialdesk.registry.stamp import current_stamp


@dataclass(frozen=True)
class FilterIndex:
    """The filter columns of every trial (NCT id order) and its sites' distinct points."""

    ids: np.ndarray  # int64 trial ids, NCT id order
    sorted_ids: np.ndarray  # ids ascending
    sorted_pos: np.ndarray  # position (NCT order) of each of sorted_ids
    codes: dict[str, dict[str, int]]  # column -> value -> small code (``filters.EnumIn``)
    columns: dict[str, np.ndarray]  # registry_trial column -> values (NCT order)
    point_lat: np.ndarray  # distinct site points
    point_lon: np.ndarray
    point_sites: np.ndarray  # sites per point (for np.repeat)
    site_pos: np.ndarray  # trial position of each site, grouped by point
    #: The registry stamp read before the rows (``models.RegistryState``): if it is still
    #: the database's, the rows are that state's.
    stamp: str = ""

    @property
    def size(self) -> int:
        return len(self.ids)

    def positions(self, trial_ids: np.ndarray) -> np.ndarray:
        """NCT-order positions of ``trial_ids`` (ids not in the index are dropped)."""
        return self.locate(trial_ids)[1]

    def locate(self, trial_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of ``trial_ids`` the index holds, their NCT-order positions). Trials
        written after the index was read (an import committing meanwhile) are not held."""
        if not len(self.sorted_ids):
            return np.zeros(len(trial_ids), bool), np.zeros(0, np.int64)
        where = np.minimum(np.searchsorted(self.sorted_ids, trial_ids), len(self.sorted_ids) - 1)
        known = self.sorted_ids[where] == trial_ids
        return known, self.sorted_pos[where[known]]

    # ------------------------------------------------------------------ filters

    def mask(self, query, origin: tuple[float, float] | None) -> np.ndarray | None:
        """Boolean mask (NCT order) of the trials passing the query's declared filters
        (``filters.FILTERS``; text and condition are not filters); None when it uses none.
        Only for queries whose filters are all indexed (``filters.indexed``)."""
        out = None
        for f in filters.active(query):
            part = f.mask(self, query, origin)  # a new array: combined in place
            if out is None:
                out = part
            else:
                out &= part
        return out

    def close_points(self, origin: tuple[float, float], within_km: float) -> np.ndarray:
        """Mask of the distinct site positions within ``within_km`` of ``origin``."""
        return distances_km(origin, self.point_lat, self.point_lon) <= within_km

    def near(self, origin: tuple[float, float], within_km: float) -> np.ndarray:
        """Mask of the trials with a site within ``within_km`` of ``origin``."""
        close = self.close_points(origin, within_km)
        out = np.zeros(self.size, dtype=bool)
        if close.any():
            out[self.site_pos[np.repeat(close, self.point_sites)]] = True
        return out


def distances_km(origin: tuple[float, float], lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Haversine distance (km) from ``origin`` to each point, written as the SQL plans
    compute it (``filters.haversine_sql``: radians of the differences, the asin argument
    capped at 1). numpy's sin and cos may differ from the C library's SQLite uses in the
    last bit, so a site within about 1e-9 km of the radius can fall on either side."""
    lat0, lon0 = origin
    a = (
        np.sin(np.radians(lat - lat0) / 2) ** 2
        + np.cos(np.radians(lat0))
        * np.cos(np.radians(lat))
        * np.sin(np.radians(lon - lon0) / 2) ** 2
    )
    return 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


#: Rows read at a time while building (bounds the transient memory of the row tuples).
BUILD_CHUNK = 50_000


def build_index(cursor) -> FilterIndex:
    """Read the filter columns and site points from the registry.

    The two reads are separate statements: sites of trials written after the first one are
    left out (the registry's version moved, so the next search rebuilds anyway).
    """
    stamp = current_stamp(cursor)
    names = ("id", *filters.ROW_COLUMNS)
    cursor.execute(f"SELECT {', '.join(names)} FROM registry_trial ORDER BY nct_id")
    codes: dict[str, dict[str, int]] = {}
    parts: dict[str, list[np.ndarray]] = {}
    while rows := cursor.fetchmany(BUILD_CHUNK):
        columns = dict(zip(names, zip(*rows, strict=True), strict=True))
        chunk = {"id": np.fromiter(columns["id"], np.int64, len(rows))}
        for f in filters.FILTERS:
            if f.indexed:
                chunk.update(f.load(columns, codes))
        for name, array in chunk.items():
            parts.setdefault(name, []).append(array)
    arrays = {"id": np.zeros(0, np.int64)}
    for f in filters.FILTERS:
        if f.indexed:
            arrays.update(f.empty_arrays())
    arrays.update({k: np.concatenate(v) for k, v in parts.items()})
    ids = arrays.pop("id")
    order = np.argsort(ids, kind="stable")
    # One row per distinct site position: its trials' ids as one text (parsed by numpy).
    cursor.execute(
        "SELECT lat, lon, group_concat(trial_id) FROM registry_triallocation "
        "WHERE lat IS NOT NULL AND lon IS NOT NULL GROUP BY lat, lon"
    )
    lats, lons, chunks = [], [], []
    for lat, lon, trial_ids in cursor.fetchall():
        lats.append(lat)
        lons.append(lon)
        chunks.append(ids_from_text(trial_ids))
    sorted_ids = ids[order]
    site_pos, kept = [], []
    for found in chunks:  # per point: its trials' positions; unknown (newer) trials dropped
        where = np.minimum(np.searchsorted(sorted_ids, found), max(len(ids) - 1, 0))
        known = sorted_ids[where] == found if len(ids) else np.zeros(len(found), bool)
        site_pos.append(order[where[known]])
        kept.append(int(np.count_nonzero(known)))
    return FilterIndex(
        ids=ids,
        sorted_ids=sorted_ids,
        sorted_pos=order.astype(np.int64),
        codes=codes,
        columns=arrays,
        point_lat=np.array(lats, dtype=np.float64),
        point_lon=np.array(lons, dtype=np.float64),
        point_sites=np.array(kept, dtype=np.int64),
        site_pos=np.concatenate(site_pos).astype(np.int64) if site_pos else np.zeros(0, np.int64),
        stamp=stamp,
    )


def ids_from_text(text: str | None) -> np.ndarray:
    """Comma-separated integers (``group_concat``) as an array, parsed by numpy in C."""
    if not text:
        return np.zeros(0, np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")
