"""The kinds of search filter (``filters`` declares each filter with one of them).

Each kind holds one meaning, written once, and compiles it to every engine: SQL on the
trial alias ``t`` (``sql``), a numpy mask over the in-memory filter index (``mask``, with
``load`` and ``empty_arrays`` for building it), Tantivy queries (``tantivy``, with
``document`` for the text index's fields), and a random value for the engine-agreement
tests (``sample``). The distance kind is in ``filterdistance``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Stored in the text index for an empty code (status, study type, sex).
EMPTY = "_"
#: Stored in the text index for an open range limit (NULL in the database).
AGE_OPEN = 10**12
_INT_MIN = np.iinfo(np.int64).min
_INT_MAX = np.iinfo(np.int64).max


def _codes(values: tuple, table: dict[str, int]) -> np.ndarray:
    return np.fromiter(
        (table.setdefault(v or "", len(table)) for v in values), dtype=np.int16, count=len(values)
    )


def _ints(values: tuple, null: int) -> np.ndarray:
    return np.fromiter((null if v is None else v for v in values), np.int64, len(values))


def _any_term(ti, field_name: str, values) -> Any:
    q, occur = ti.tantivy.Query, ti.tantivy.Occur
    return q.boolean_query([(occur.Should, q.term_query(ti.schema, field_name, v)) for v in values])


@dataclass(frozen=True)
class Filter:
    """What every kind declares; see the module docstring."""

    #: The ``SearchQuery`` attribute.
    name: str
    #: The form field's label (the search page) and the API parameter's description.
    label: str
    help: str = ""
    #: The form and API parameter, when not ``name`` (``status`` for ``statuses``).
    param: str = ""
    #: Held by the in-memory filter index and the Tantivy text index.
    indexed: bool = True
    #: The ``registry_trial`` columns the in-memory index and the text index read.
    row_columns: tuple[str, ...] = ()
    #: The text index's fields: (name, "raw" or "int").
    index_fields: tuple[tuple[str, str], ...] = ()
    #: The query holds a tuple of values (``status`` and ``phase`` take several).
    multiple: bool = False
    #: The type of one value (the CLI's option type; forms and API declare their own).
    value_type: type = str

    @property
    def parameter(self) -> str:
        """The form and API parameter's name."""
        return self.param or self.name

    @property
    def query_parameters(self) -> tuple[tuple[str, str], ...]:
        """(``SearchQuery`` attribute, form/API/CLI parameter) of each value it reads."""
        return ((self.name, self.parameter),)

    @property
    def codes(self) -> tuple[str, ...]:
        """The values a user may choose (none: a free value)."""
        return ()

    def active(self, query) -> bool:
        value = getattr(query, self.name)
        return value is not None and value != () and value != ""

    def sql(self, query, vendor: str) -> tuple[list[str], list[Any]]:
        raise NotImplementedError(f"{type(self).__name__} has no SQL condition")

    def mask(self, index, query, origin) -> np.ndarray:
        """A new boolean array (NCT order) of the trials passing (the index combines the
        masks in place)."""
        raise NotImplementedError(f"{type(self).__name__} is not in the filter index")

    def tantivy(self, ti, query, origin, index) -> list:
        raise NotImplementedError(f"{type(self).__name__} is not in the text index")

    def load(self, columns: Mapping[str, tuple], codes: dict) -> dict[str, np.ndarray]:
        """This filter's index arrays from a chunk of rows (column name -> values)."""
        return {}

    def empty_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def document(self, row) -> dict[str, Any]:
        """This filter's text-index fields for one trial (``textrow.TextRow``)."""
        return {}

    def sample(self, rng, points) -> dict[str, Any]:
        """A random ``SearchQuery`` keyword (or none) for the engine-agreement tests;
        ``points`` are (lat, lon) of stored sites."""
        return {}


@dataclass(frozen=True)
class EnumIn(Filter):
    """``column`` is one of the chosen codes; ``multiple``: the query holds a tuple."""

    column: str = ""
    values: tuple[str, ...] = ()
    multiple: bool = True
    #: How often ``sample`` sets this filter.
    rate: float = 0.3

    def __post_init__(self) -> None:
        field_name = self.index_fields[0][0] if self.index_fields else self.name
        object.__setattr__(self, "row_columns", (self.column,))
        object.__setattr__(self, "index_fields", ((field_name, "raw"),))
        object.__setattr__(self, "field", field_name)  # the text index's field

    @property
    def codes(self) -> tuple[str, ...]:
        return self.values

    def allowed(self, query) -> tuple[str, ...]:
        """The stored codes that pass (``""``: no value recorded)."""
        value = getattr(query, self.name)
        return tuple(value) if self.multiple else (value,)

    def sql(self, query, vendor):
        allowed = self.allowed(query)
        return [f"t.{self.column} IN ({', '.join(['%s'] * len(allowed))})"], list(allowed)

    def mask(self, index, query, origin):
        table = index.codes.get(self.column, {})
        lookup = np.zeros(len(table) + 1, dtype=bool)
        lookup[[table[v] for v in self.allowed(query) if v in table]] = True
        return lookup[index.columns[self.column]]

    def tantivy(self, ti, query, origin, index):
        return [_any_term(ti, self.field, [v or EMPTY for v in self.allowed(query)])]

    def load(self, columns, codes):
        return {self.column: _codes(columns[self.column], codes.setdefault(self.column, {}))}

    def empty_arrays(self):
        return {self.column: np.zeros(0, np.int16)}

    def document(self, row):
        return {self.field: getattr(row, self.column) or EMPTY}

    def sample(self, rng, points):
        if rng.random() >= self.rate:
            return {}
        if self.multiple:
            return {self.name: tuple(rng.sample(self.values, rng.randint(1, 2)))}
        return {self.name: rng.choice(self.values)}


@dataclass(frozen=True)
class SexRule(EnumIn):
    """The patient's sex: FEMALE finds trials for women, for all, or not saying; ALL (a
    patient of either sex) finds trials for all or not saying."""

    multiple: bool = False

    def allowed(self, query):
        sex = getattr(query, self.name)
        return ("ALL", "") if sex == "ALL" else (sex, "ALL", "")


@dataclass(frozen=True)
class BitmaskAny(Filter):
    """The ``column``'s bits include the bit of any chosen value (``bits``)."""

    column: str = ""
    bits: Mapping[str, int] = field(default_factory=dict)
    rate: float = 0.3
    multiple: bool = True

    def __post_init__(self) -> None:
        field_name = self.index_fields[0][0] if self.index_fields else self.name
        object.__setattr__(self, "row_columns", (self.column,))
        object.__setattr__(self, "index_fields", ((field_name, "raw"),))
        object.__setattr__(self, "field", field_name)  # the text index's field

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.bits)

    def chosen(self, query) -> int:
        mask = 0
        for value in getattr(query, self.name):
            mask |= self.bits[value]
        return mask

    def sql(self, query, vendor):
        return [f"(t.{self.column} & %s) <> 0"], [self.chosen(query)]

    def mask(self, index, query, origin):
        return (index.columns[self.column] & self.chosen(query)) != 0

    def tantivy(self, ti, query, origin, index):
        values = sorted({str(self.bits[v]) for v in getattr(query, self.name)})
        return [_any_term(ti, self.field, values)]

    def load(self, columns, codes):
        return {self.column: np.fromiter(columns[self.column], np.int64, len(columns["id"]))}

    def empty_arrays(self):
        return {self.column: np.zeros(0, np.int64)}

    def document(self, row):
        mask = getattr(row, self.column)
        if not mask:
            return {}
        return {self.field: [str(bit) for bit in self.bits.values() if mask & bit]}

    def sample(self, rng, points):
        if rng.random() >= self.rate:
            return {}
        return {self.name: tuple(rng.sample(tuple(self.bits), rng.randint(1, 2)))}


@dataclass(frozen=True)
class RangeContains(Filter):
    """``low <= to_unit(value) <= high`` (inclusive; a NULL limit is an open end)."""

    low: str = ""
    high: str = ""
    to_unit: Callable[[Any], int] = int
    value_type: type = float
    #: Values ``sample`` draws from (boundaries worth testing).
    examples: tuple[Any, ...] = ()
    rate: float = 0.4

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_columns", (self.low, self.high))
        if not self.index_fields:
            object.__setattr__(self, "index_fields", ((self.low, "int"), (self.high, "int")))

    def sql(self, query, vendor):
        unit = self.to_unit(getattr(query, self.name))
        return [
            f"(t.{self.low} IS NULL OR t.{self.low} <= %s)",
            f"(t.{self.high} IS NULL OR t.{self.high} >= %s)",
        ], [unit, unit]

    def mask(self, index, query, origin):
        unit = self.to_unit(getattr(query, self.name))
        return (index.columns[self.low] <= unit) & (index.columns[self.high] >= unit)

    def tantivy(self, ti, query, origin, index):
        unit = self.to_unit(getattr(query, self.name))
        integer = ti.tantivy.FieldType.Integer
        (low, _), (high, _) = self.index_fields
        return [
            ti.tantivy.Query.range_query(ti.schema, low, integer, -AGE_OPEN, unit),
            ti.tantivy.Query.range_query(ti.schema, high, integer, unit, AGE_OPEN),
        ]

    def load(self, columns, codes):
        return {
            self.low: _ints(columns[self.low], _INT_MIN),
            self.high: _ints(columns[self.high], _INT_MAX),
        }

    def empty_arrays(self):
        return {self.low: np.zeros(0, np.int64), self.high: np.zeros(0, np.int64)}

    def document(self, row):
        (low_field, _), (high_field, _) = self.index_fields
        low, high = getattr(row, self.low), getattr(row, self.high)
        return {
            low_field: -AGE_OPEN if low is None else low,
            high_field: AGE_OPEN if high is None else high,
        }

    def sample(self, rng, points):
        return {self.name: rng.choice(self.examples)} if rng.random() < self.rate else {}


@dataclass(frozen=True)
class SitePlace(Filter):
    """A site whose ``names`` (query attributes, site columns of the same name) all equal
    the query's, case-insensitively: one site must match them all."""

    names: tuple[str, ...] = ()
    indexed: bool = False

    @property
    def query_parameters(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, name) for name in self.names)

    def active(self, query) -> bool:
        return any(getattr(query, n) for n in self.names)

    def sql(self, query, vendor):
        conds, params = [], []
        for name in self.names:
            value = getattr(query, name)
            if value:
                conds.append(f"LOWER(p.{name}) = LOWER(%s)")
                params.append(value)
        return [
            "EXISTS (SELECT 1 FROM registry_triallocation p WHERE p.trial_id = t.id AND "
            + " AND ".join(conds)
            + ")"
        ], params

    # Not indexed: every engine runs the same SQL for it, so ``sample`` draws nothing.
