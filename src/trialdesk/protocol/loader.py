"""Load ``protocols/<NCT id>/protocol.yaml``: schema-validate, then parse every rule.

:func:`load_protocol` takes an NCT id (looked up in :func:`protocols_dir`, cached until the
file changes), a path or a parsed mapping, and returns an immutable :class:`Protocol`; the
``conduct`` section becomes a :class:`~trialdesk.protocol.conduct.ConductPlan`
(``protocol.conduct``). Any problem raises
:class:`ProtocolError` naming the file, the field (as a path such as
``eligibility.exclusion[8].rule``) or the criterion and the position in its rule. Nothing is
half loaded: either every criterion is valid or the load fails.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from trialdesk.protocol.cellproduct import CellProductPlan
from trialdesk.protocol.cellproduct_loader import parse_cell_product
from trialdesk.protocol.conduct import ConductPlan
from trialdesk.protocol.conduct_loader import parse_conduct
from trialdesk.protocol.rules import Node, RuleError, parse_rule

__all__ = [
    "Criterion",
    "Protocol",
    "ProtocolError",
    "find_protocol",
    "load_protocol",
    "protocols_dir",
]

SCHEMA_FILE = Path(__file__).with_name("schema.json")
_NCT_ID = re.compile(r"^NCT[0-9]{8}$", re.IGNORECASE)
DEFAULT_LAB_WINDOW_DAYS = 28


class ProtocolError(ValueError):
    """A protocol file that is missing, malformed, or has a criterion that does not check."""


@dataclass(frozen=True)
class Criterion:
    """One inclusion or exclusion criterion (or one part of a criterion split in parts).

    ``rule`` is the checked rule tree, or None for an attestation (a judgement only the
    investigator can make). A rule is written as the condition the criterion describes: for
    an exclusion, MET means the exclusion applies.
    """

    id: str
    kind: str  # inclusion | exclusion
    number: int
    text: str
    rule_text: str | None = None
    rule: Node | None = None
    attestation: str | None = None
    part: str | None = None
    question: str | None = None
    interpretation: str | None = None

    @property
    def is_attestation(self) -> bool:
        return self.rule is None


@dataclass(frozen=True)
class Protocol:
    """What trialdesk executes for one trial (the eligibility section, for now)."""

    nct_id: str
    title: str
    revision: dict[str, str]
    criteria: tuple[Criterion, ...]
    lab_window_days: int = DEFAULT_LAB_WINDOW_DAYS
    reference_ranges: dict[str, Fraction] = field(default_factory=dict)  # canonical ULN
    child_pugh_variant: str | None = None
    path: Path | None = None
    version: int = 1
    conduct: ConductPlan | None = None  # None only for a file without the conduct section
    cell_product: CellProductPlan | None = None  # None for a file without cell_product

    @property
    def inclusion(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.kind == "inclusion")

    @property
    def exclusion(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.kind == "exclusion")

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(f"{self.nct_id} has no criterion {criterion_id!r}")


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _json_path(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def protocols_dir() -> Path:
    """The project's protocols folder: $TRIALDESK_PROTOCOLS, else ./protocols."""
    return Path(os.environ.get("TRIALDESK_PROTOCOLS", "protocols"))


def find_protocol(nct_id: str, base: Path | None = None) -> Path:
    """The protocol.yaml of ``nct_id`` in ``base`` (default :func:`protocols_dir`)."""
    base = base if base is not None else protocols_dir()
    path = base / nct_id.strip().upper() / "protocol.yaml"
    if not path.is_file():
        raise ProtocolError(
            f"{nct_id}: no protocol file {path} (set TRIALDESK_PROTOCOLS to the protocols folder)"
        )
    return path


def load_protocol(source: str | Path | dict[str, Any], *, name: str | None = None) -> Protocol:
    """Load and check a protocol: an NCT id, a path to protocol.yaml or a parsed mapping.

    An NCT id (``"NCT05227846"``) is found with :func:`find_protocol`; the result is cached
    per file and reloaded when the file's modification time or size changes.
    """
    if isinstance(source, str) and _NCT_ID.match(source.strip()) and not Path(source).exists():
        path = find_protocol(source).resolve()
        stat = path.stat()
        return _load_cached(path, stat.st_mtime_ns, stat.st_size)
    return _load(source, name=name)


@lru_cache(maxsize=32)
def _load_cached(path: Path, mtime_ns: int, size: int) -> Protocol:
    return _load(path)


def _load(source: str | Path | dict[str, Any], *, name: str | None = None) -> Protocol:
    if isinstance(source, dict):
        data, where, path = source, name or "<protocol>", None
    else:
        path = Path(source)
        where = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProtocolError(f"{where}: cannot read: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise ProtocolError(
                f"{where}:{at} is not valid YAML: {getattr(exc, 'problem', exc)}"
            ) from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{where}: expected a mapping at the top level")
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ProtocolError(
            f"{where}: {_json_path(first.absolute_path)}: {_schema_message(first)}{more}"
        )
    trial = data["trial"]
    elig = data["eligibility"]
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for kind, prefix in (("inclusion", "inc"), ("exclusion", "exc")):
        numbers: set[int] = set()
        for index, item in enumerate(elig.get(kind) or []):
            field_path = f"eligibility.{kind}[{index}]"
            cid = item["id"]
            if cid in seen:
                raise ProtocolError(f"{where}: {field_path}.id: duplicate criterion id {cid!r}")
            seen.add(cid)
            if not cid.startswith(prefix + "-"):
                raise ProtocolError(
                    f"{where}: {field_path}.id: {kind} criterion ids start with "
                    f"'{prefix}-', not {cid!r}"
                )
            rule_node = None
            if "rule" in item:
                try:
                    rule_node = parse_rule(item["rule"], cid)
                except RuleError as exc:
                    raise ProtocolError(
                        f"{where}: {field_path}.rule: {exc}\n    {item['rule']}"
                        f"\n    {' ' * (exc.column - 1)}^"
                    ) from None
            numbers.add(item["number"])
            criteria.append(
                Criterion(
                    id=cid,
                    kind=kind,
                    number=item["number"],
                    text=item["text"],
                    rule_text=item.get("rule"),
                    rule=rule_node,
                    attestation=item.get("attestation"),
                    part=item.get("part"),
                    question=item.get("question"),
                    interpretation=item.get("interpretation"),
                )
            )
        if numbers and numbers != set(range(1, max(numbers) + 1)):
            missing = sorted(set(range(1, max(numbers) + 1)) - numbers)
            raise ProtocolError(
                f"{where}: eligibility.{kind}: criterion numbers "
                f"{missing} are missing (every criterion of the registry text "
                "must be present)"
            )
    ranges: dict[str, Fraction] = {}
    for analyte, spec in (elig.get("reference_ranges") or {}).items():
        from trialdesk.protocol import clinical_adapter

        try:
            ranges[analyte] = clinical_adapter.canonical(
                clinical_adapter.parse_quantity(analyte, spec["uln"])
            )
        except ValueError as exc:
            raise ProtocolError(
                f"{where}: eligibility.reference_ranges.{analyte}.uln: {exc}"
            ) from None
    if (
        path is not None
        and path.parent.name.upper().startswith("NCT")
        and path.parent.name != trial["nct_id"]
    ):
        raise ProtocolError(
            f"{where}: trial.nct_id {trial['nct_id']} does not match the folder {path.parent.name}"
        )
    conduct = parse_conduct(data["conduct"], where) if "conduct" in data else None
    cell_product = None
    if "cell_product" in data:
        cell_product = parse_cell_product(data["cell_product"], where, conduct)
    return Protocol(
        nct_id=trial["nct_id"],
        title=trial["title"],
        revision=dict(trial["revision"]),
        criteria=tuple(criteria),
        lab_window_days=int(elig.get("lab_window_days", DEFAULT_LAB_WINDOW_DAYS)),
        reference_ranges=ranges,
        child_pugh_variant=elig.get("child_pugh_variant"),
        path=path,
        version=int(data["version"]),
        conduct=conduct,
        cell_product=cell_product,
    )


def _schema_message(error: Any) -> str:
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        has_rule, has_att = "rule" in error.instance, "attestation" in error.instance
        cid = error.instance.get("id", "?")
        if has_rule and has_att:
            return f"criterion {cid} has both a rule and an attestation (give one)"
        if not has_rule and not has_att:
            return f"criterion {cid} needs either a rule or an attestation"
    if error.validator == "additionalProperties":
        return error.message
    return error.message
