"""msgspec structures generated from the pydantic record models, for bulk loads.

``interop.ctgov_models`` is the one definition of the CT.gov API v2 study shape (pydantic:
strict types, closed enumerations, patterns, ranges, a calendar check on full dates, errors
that name the JSON path). Validating a 1,000-study page with it costs about 110 us a study;
msgspec decodes and checks the same shape in a fraction of that. Nothing is written twice:
every ``CtgovModel`` subclass reachable from ``Study`` is turned into a ``msgspec.Struct``
here, at import, from its fields:

- names: the pydantic attribute names, decoded from the pydantic aliases (camelCase,
  ``class`` for ``agency_class``);
- types: ``str``, ``int``, ``float``, ``bool``, the same ``StrEnum`` classes (so the same
  closed value lists), ``list[...]``, ``X | None``, nested models -> nested structs;
  msgspec's decoding is strict like the models' (no ``"12"`` for an int, no ``1.0`` for an
  int, no ``true`` for a number);
- constraints: a string pattern becomes ``msgspec.Meta(pattern=...)`` with a final ``$``
  written ``\\Z`` (pydantic's Rust regex reads ``$`` as the end of the text; Python's ``re``
  would also accept a trailing newline there); ``ge`` / ``le`` ranges the same; an
  ``AfterValidator`` (the calendar check) runs in the struct's ``__post_init__``;
- required fields and defaults as in the model; unknown fields are ignored (the models keep
  them; the importer stores each study's own JSON text, not a re-serialisation).

A model using anything this module does not know how to translate is refused at import
(``TypeError`` naming the model and field), so a new kind of field cannot be silently
checked less strictly. The contract, pinned by tests/interop/test_ctgov_structs.py: whatever
these structures accept, the pydantic models accept too, with the same values; what they
refuse, the caller validates again with pydantic (``registry.parsing.prepare``), which
either names the JSON path of the error or, in the rare case it accepts (a number too large
for msgspec, say), is used instead.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Annotated, Any, get_args, get_origin

import annotated_types
import msgspec
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.functional_validators import AfterValidator

from trialdesk.interop.ctgov import Page as PageModel
from trialdesk.interop.ctgov import Study as StudyModel

_SCALARS = (str, int, float, bool)
_BOUNDS = {annotated_types.Ge: "ge", annotated_types.Le: "le", annotated_types.Gt: "gt",
           annotated_types.Lt: "lt"}  # fmt: skip


class _Built:
    """The structs generated so far, by model class (a model used in several places is one
    struct)."""

    def __init__(self) -> None:
        self.structs: dict[type[BaseModel], type[msgspec.Struct]] = {}


def _python_pattern(pattern: str) -> str:
    # The models' patterns are anchored ``^...$``; in Rust regex ``$`` is the end of the
    # text, in Python's ``re`` also the place before a final newline: ``\Z`` is the former.
    return (
        pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
    )


def _constraints(meta: list[Any], where: str) -> tuple[dict[str, Any], list]:
    """msgspec.Meta keyword arguments and after-validators from pydantic metadata."""
    kwargs: dict[str, Any] = {}
    validators: list = []
    for item in meta:
        if isinstance(item, FieldInfo):
            sub, more = _constraints(list(item.metadata), where)
            kwargs.update(sub)
            validators += more
        elif isinstance(item, AfterValidator):
            validators.append(item.func)
        elif type(item) in _BOUNDS:
            name = _BOUNDS[type(item)]
            kwargs[name] = getattr(item, name)
        elif getattr(item, "pattern", None) is not None:  # StringConstraints or its metadata
            unknown = [k for k in ("min_length", "max_length", "strip_whitespace", "to_lower",
                                   "to_upper") if getattr(item, k, None)]  # fmt: skip
            if unknown:
                raise TypeError(f"{where}: string constraint {unknown} has no msgspec form here")
            kwargs["pattern"] = _python_pattern(item.pattern)
        elif type(item).__name__ == "Strict":
            continue  # enumerations validate from their value either way
        else:
            raise TypeError(f"{where}: cannot translate the constraint {item!r} to msgspec")
    return kwargs, validators


def _convert(tp: Any, built: _Built, where: str) -> tuple[Any, list]:
    """(msgspec type, after-validators applying to the whole value) for a pydantic type."""
    origin = get_origin(tp)
    if origin is Annotated:
        base, *meta = get_args(tp)
        inner, validators = _convert(base, built, where)
        kwargs, more = _constraints(meta, where)
        if kwargs:
            inner = Annotated[inner, msgspec.Meta(**kwargs)]
        return inner, [*validators, *more]
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if len(args) != 2 or type(None) not in args:
            raise TypeError(f"{where}: only `X | None` unions are translated, not {tp!r}")
        (other,) = [a for a in args if a is not type(None)]
        inner, validators = _convert(other, built, where)
        return inner | None, validators
    if origin is list:
        (item,) = get_args(tp)
        inner, validators = _convert(item, built, where)
        if validators:
            raise TypeError(f"{where}: validators on list items are not translated")
        return list[inner], []
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return struct_for(tp, built), []
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp, []
    if tp in _SCALARS:
        return tp, []
    raise TypeError(f"{where}: cannot translate the type {tp!r} to msgspec")


def struct_for(model: type[BaseModel], built: _Built | None = None) -> type[msgspec.Struct]:
    """The msgspec struct of a pydantic record model (and of the models it nests)."""
    built = built or _Built()
    if model in built.structs:
        return built.structs[model]
    if model.model_config.get("strict") is not True:
        raise TypeError(f"{model.__name__}: only strict models are translated")
    fields: list[tuple] = []
    rename: dict[str, str] = {}
    checks: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        where = f"{model.__name__}.{name}"
        tp = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        converted, validators = _convert(tp, built, where)
        checks += [(name, v) for v in validators]
        rename[name] = info.alias or name
        if info.is_required():
            fields.append((name, converted))
        elif info.default is None:
            fields.append((name, converted, None))
        else:
            raise TypeError(f"{where}: only required fields and None defaults are translated")
    namespace: dict[str, Any] = {"__doc__": f"msgspec form of ``{model.__name__}`` (generated)."}
    if checks:

        def __post_init__(self, _checks=tuple(checks)) -> None:
            for attribute, check in _checks:
                value = getattr(self, attribute)
                if value is not None:
                    check(value)  # ValueError -> msgspec.ValidationError at this object

        namespace["__post_init__"] = __post_init__
    struct = msgspec.defstruct(
        model.__name__,
        fields,
        kw_only=True,
        frozen=True,
        rename=rename,
        namespace=namespace,
        module=__name__,
    )
    built.structs[model] = struct
    return struct


_BUILT = _Built()

#: ``ctgov.Study`` and everything under it, and ``ctgov.Page``, generated.
Study = struct_for(StudyModel, _BUILT)
Page = struct_for(PageModel, _BUILT)

#: Decoders for the three document shapes ``ctgov.load_studies`` reads.
LIST_DECODER = msgspec.json.Decoder(list[Study])  # type: ignore[valid-type]
PAGE_DECODER = msgspec.json.Decoder(Page)
STUDY_DECODER = msgspec.json.Decoder(Study)

#: Every generated struct, by the pydantic model it was generated from (for the tests).
GENERATED: dict[type[BaseModel], type[msgspec.Struct]] = _BUILT.structs


def decode_studies(data: bytes) -> list:
    """The studies of a JSON document (an array of studies, an API page or one study), as
    generated structs. Raises ``msgspec.ValidationError`` or ``msgspec.DecodeError`` when
    the structures refuse it: validate with pydantic then (module docstring)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    head = data.lstrip()[:1]
    if head == b"[":
        return LIST_DECODER.decode(data)
    try:
        return list(PAGE_DECODER.decode(data).studies)
    except msgspec.ValidationError as exc:
        if str(exc) != "Object missing required field `studies`":
            raise
    return [STUDY_DECODER.decode(data)]
