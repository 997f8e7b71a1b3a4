"""Clinical scores of liver disease, in one import.

Each function takes lab values as :class:`~trialdesk.clinical.units.Quantity` objects or
strings such as ``"2.0 mg/dL"`` (any unit :mod:`trialdesk.clinical.units` knows; INR may be
a bare number) and returns a frozen :class:`ScoreResult` with ``.value``, ``.klass`` /
``.grade`` where defined, ``.inputs`` (after bounding), ``.raw``, ``.version``,
``.reference``, ``.reasons`` and ``.to_dict()``.

- :func:`meld` -- MELD, OPTN 2002-2016
- :func:`meld_na` -- MELD-Na, OPTN 2016
- :func:`meld3` -- MELD 3.0, Kim 2021 / OPTN 2023
- :func:`child_pugh` -- Child-Turcotte-Pugh, cut-offs as data (``CHILD_PUGH_TABLES``)
- :func:`albi` -- ALBI score and grade, Johnson 2015

Formulas, sources, bounds and rounding: docs/clinical-formulas.md.
"""

from trialdesk.clinical._scoring import ScoreInputError, ScoreResult, UsedInput
from trialdesk.clinical.albi import ALBI_GRADES, albi
from trialdesk.clinical.child_pugh import (
    CHILD_PUGH_TABLES,
    DEFAULT,
    ChildPughTable,
    child_pugh,
    load_child_pugh_tables,
)
from trialdesk.clinical.meld import meld, meld3, meld_na

__all__ = [
    "ALBI_GRADES",
    "CHILD_PUGH_TABLES",
    "DEFAULT",
    "ChildPughTable",
    "ScoreInputError",
    "ScoreResult",
    "UsedInput",
    "albi",
    "child_pugh",
    "load_child_pugh_tables",
    "meld",
    "meld3",
    "meld_na",
]
