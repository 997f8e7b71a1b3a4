"""The clinical core of trialdesk: units, scores and adverse-event grading.

Pure Python (no Django). Modules:

- :mod:`trialdesk.clinical.units`  -- every lab value is a :class:`~trialdesk.clinical.units.Quantity`
  with a UCUM unit; conversions, the analyte registry, plausibility checks.
- :mod:`trialdesk.clinical.scores` -- MELD, MELD-Na, MELD 3.0, Child-Turcotte-Pugh, ALBI.
- :mod:`trialdesk.clinical.ctcae`  -- CTCAE v5.0 grading of laboratory adverse events and the
  pick-list of clinical terms the seed trials need.
- :mod:`trialdesk.clinical.bands`  -- the band syntax of the tables and the overlap/gap check.

Formulas, sources, bounds and rounding: docs/clinical-formulas.md.
"""
