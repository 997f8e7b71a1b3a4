"""The trial's analysis (pure core: no Django): the trial dataset as plain immutable values
(:mod:`trialdesk.analysis.dataset`), endpoints and safety tables computed from it.
Methods and sources: docs/analysis.md."""
