"""Protocol as code: ``protocols/<NCT id>/protocol.yaml`` and the eligibility rule language.

Pure core: no Django. See docs/protocol-format.md.
"""

from trialdesk.protocol.loader import (
    Criterion,
    Protocol,
    ProtocolError,
    find_protocol,
    load_protocol,
    protocols_dir,
)
from trialdesk.protocol.rules import RuleError, parse_rule

__all__ = [
    "Criterion",
    "Protocol",
    "ProtocolError",
    "RuleError",
    "find_protocol",
    "load_protocol",
    "parse_rule",
    "protocols_dir",
]
