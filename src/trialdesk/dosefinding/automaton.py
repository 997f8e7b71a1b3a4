"""A design compiled, lazily, into a finite automaton over trial states.

Every design here decides from the per-dose counts and the current dose, so a trial with a
fixed cohort size is a walk on a finite graph: node = trial state (with the design's
decision), edge = number of DLTs in the next cohort (0..cohort size). Nodes are created on
first visit (all of them for exact operating characteristics, only the visited ones in a
simulation) and kept, so a later simulation of the same design reuses them. Terminal
nodes (the design stopped) loop to themselves and carry the selected MTD.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from trialdesk.dosefinding.design import Design, check_int
from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.rules import StopAtN
from trialdesk.dosefinding.state import TrialState


class Automaton:
    """Nodes and transitions of ``design`` for cohorts of ``cohort_size`` up to ``max_n``."""

    def __init__(
        self, design: Design, cohort_size: int, max_n: int, start: TrialState | None = None
    ) -> None:
        check_int("cohort_size", cohort_size, 1, 100)
        check_int("max_n", max_n, 1, 100_000)
        if max_n % cohort_size:
            raise DoseFindingError(
                f"max_n: must be a multiple of the cohort size {cohort_size}, got {max_n}"
            )
        self.design = design | StopAtN(max_n)
        self.cohort_size = cohort_size
        self.max_n = max_n
        self.n_doses = design.n_doses
        self._index: dict[tuple, int] = {}
        self.states: list[TrialState] = []
        cap = 1024
        self.trans = np.full((cap, cohort_size + 1), -1, dtype=np.int32)
        self.dose = np.full(cap, -1, dtype=np.int32)  # 0-based dose to treat; -1 = stopped
        self.mtd = np.full(cap, -1, dtype=np.int32)  # 0-based MTD at stop; -1 = none
        self.n = np.zeros((cap, self.n_doses), dtype=np.int16)
        self.y = np.zeros((cap, self.n_doses), dtype=np.int16)
        self._lock = threading.Lock()  # threads (e.g. a Dask worker) may share this graph
        start = start or TrialState.empty(self.n_doses)
        self.design.prefetch([start])
        self.root = self._node(start)

    def __len__(self) -> int:
        return len(self.states)

    def _grow(self) -> None:
        cap = len(self.dose) * 2
        for name in ("trans", "dose", "mtd", "n", "y"):
            old = getattr(self, name)
            fill = -1 if name in ("trans", "dose", "mtd") else 0
            new = np.full((cap,) + old.shape[1:], fill, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _node(self, state: TrialState) -> int:
        key = state.key()
        i = self._index.get(key)
        if i is not None:
            return i
        decision = self.design.decide(state)
        i = len(self.states)
        if i >= len(self.dose):
            self._grow()
        self._index[key] = i
        self.states.append(state)
        self.n[i] = state.n
        self.y[i] = state.y
        if decision.next_dose is None:
            self.trans[i, :] = i
            self.mtd[i] = -1 if decision.mtd is None else decision.mtd - 1
        else:
            if not 1 <= decision.next_dose <= self.n_doses:
                raise DoseFindingError(
                    f"{self.design.describe()}: recommended dose {decision.next_dose} is out of "
                    f"range 1..{self.n_doses}"
                )
            self.dose[i] = decision.next_dose - 1
        return i

    def expand(self, nodes: np.ndarray, dlts: np.ndarray) -> None:
        """Create the children of (node, number of DLTs) pairs not yet known."""
        with self._lock:
            self._expand(nodes, dlts)

    def _expand(self, nodes: np.ndarray, dlts: np.ndarray) -> None:
        pairs = np.unique(nodes.astype(np.int64) * (self.cohort_size + 1) + dlts)
        todo = []
        for code in pairs.tolist():
            s, k = divmod(code, self.cohort_size + 1)
            if self.trans[s, k] >= 0:
                continue
            st = self.states[s]
            todo.append((s, k, st.after_cohort(int(self.dose[s]) + 1, self.cohort_size, k)))
        self.design.prefetch([t[2] for t in todo])
        for s, k, new in todo:
            self.trans[s, k] = self._node(new)

    def step(self, nodes: np.ndarray, dlts: np.ndarray) -> np.ndarray:
        """Next node of each (node, DLTs in the cohort) pair, creating unknown ones."""
        flat = nodes * (self.cohort_size + 1) + dlts
        nxt = self.trans.reshape(-1)[flat]
        miss = nxt < 0
        if miss.any():
            self.expand(nodes[miss], dlts[miss])
            nxt = self.trans.reshape(-1)[flat]
        return nxt

    @property
    def max_cohorts(self) -> int:
        return self.max_n // self.cohort_size


_CACHE: OrderedDict[tuple, Automaton] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def compiled(
    design: Design, cohort_size: int, max_n: int, start: TrialState | None = None
) -> Automaton:
    """The (cached) automaton of a design; a later call extends the same graph."""
    key = (design, cohort_size, max_n, None if start is None else start.key())
    with _CACHE_LOCK:
        return _compiled(key, design, cohort_size, max_n, start)


def _compiled(key, design, cohort_size, max_n, start) -> Automaton:
    try:
        auto = _CACHE.pop(key)
    except (KeyError, TypeError):
        auto = Automaton(design, cohort_size, max_n, start)
    try:
        _CACHE[key] = auto
    except TypeError:
        return auto
    while len(_CACHE) > 16:
        _CACHE.popitem(last=False)
    return auto
