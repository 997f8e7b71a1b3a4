"""The clinical core of trialdesk: units, scores and adverse-event grading.

Pure Python (no Django). Modules:

- :mod:`trialdesk.clinical.units`  -- every lab value is a :class:`~trialdesk.clinical.units.Quantity`
  with a UCUM unit; conversions, the analyte registry, plausibility checks.
- :mod:`trialdesk.clinical.scores` -- MELD, MELD-Na, MELD 3.0, Child-Turcotte-Pugh, ALBI.
- :mod:`trialdesk.clinical.ctcae`  -- CTCAE v5.0 grading of laboratory adverse events and the
  pick-list of clinical terms the seed trials need.
- :mod:`trialdesk.clinical.bands`  -- the band syntax of the tables and the overlap/gap check.
- :mod:`trialdesk.clinical.safety` -- ICH E2A seriousness and the SAE reporting clocks.
- :mod:`trialdesk.clinical.lab_events` -- abnormal labs -> proposed CTCAE-graded adverse events.
- :mod:`trialdesk.clinical.visit_scoring` -- MELD, MELD-Na, MELD 3.0 and Child-Pugh at a visit.

Formulas, sources, bounds and rounding: docs/clinical-formulas.md.
"""

# The conduct-facing names, importable from the package (loaded on first use, PEP 562, so
# that ``import trialdesk.clinical.units`` stays light).
_LAZY = {
    "SeriousnessAssessment": "safety",
    "SeriousnessCriterion": "safety",
    "assess_seriousness": "safety",
    "is_serious": "safety",
    "report_deadlines": "safety",
    "ProposedAdverseEvent": "lab_events",
    "lab_terms_for": "lab_events",
    "propose_lab_adverse_events": "lab_events",
    "ScoreOutcome": "visit_scoring",
    "VisitScores": "visit_scoring",
    "encephalopathy_category": "visit_scoring",
    "visit_scores": "visit_scoring",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trialdesk.clinical' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"trialdesk.clinical.{module}"), name)
