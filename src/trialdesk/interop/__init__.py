"""Interoperability: reading and writing records in other systems' formats.

- :mod:`trialdesk.interop.ctgov` -- typed ClinicalTrials.gov API v2 study records
  (parse, validate, export, split the eligibility text).
- :mod:`trialdesk.interop.synthetic` -- a deterministic generator of realistic synthetic
  registry records for tests and benchmarks.

Pure core: no Django, no network.
"""
