"""The conduct logic is pure core: importing and using it never imports Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from datetime import date
from trialdesk.protocol import load_protocol, visit_calendar, evaluate_dlt, AdverseEventFacts
from trialdesk.clinical import visit_scores, is_serious, propose_lab_adverse_events
plan = load_protocol("NCT05227846").conduct
visit_calendar(plan, date(2026, 1, 1))
evaluate_dlt(plan.escalation, AdverseEventFacts("Fever", 3, None, "related", False, None))
plan.build_design().next_dose("1NNN")
visit_scores({"bilirubin": "2 mg/dL", "inr": 1.2, "creatinine": "1 mg/dL"}, "none", 0)
propose_lab_adverse_events({"inr": 2.0}, {})
bad = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print("DJANGO:" + ",".join(bad))
"""


def test_conduct_core_does_not_import_django():
    env = {"TRIALDESK_PROTOCOLS": str(ROOT / "protocols"), "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "DJANGO:", out.stdout + out.stderr
