"""CDISC ODM 1.3.2 XML of a trial's clinical data (CDISC, "Operational Data Model 1.3.2",
2013), built with odmlib's ODM 1.3.2 model and checked against the ODM 1.3.2 XML schema
that odmlib ships (``odmlib/schemas/odm/1.3.2/ODM1-3-2.xsd``) before it is written.

The file holds the study metadata (``Study`` with ``GlobalVariables`` and one
``MetaDataVersion``) and the clinical data (``ClinicalData``), both laid out like the SDTM
domains of :mod:`trialdesk.interop.sdtm` so each value appears with the same name in every
export:

- one ``ItemGroupDef`` per domain (``IG.AE``), repeating, with an ``ItemDef`` per variable
  (``IT.AE.AETERM``: ODM DataType ``text``/``integer``/``float``, the SDTM label as its
  description, a ``CodeListRef`` where CDISC terminology applies);
- a ``CodeList`` per CDISC codelist (``CL.NY``) listing the submission values used;
- study events: ``SE.SUBJECT`` (DM, EX, AE, DS, MH, IE) and one per scheduled visit
  (``SE.D7``; LB and VS), in the protocol's order;
- per subject (``SubjectKey`` = USUBJID) the rows as ``ItemGroupData`` keyed by --SEQ, a
  null value omitted (ODM 1.3.2 section 3.1.4).

``CreationDateTime`` is the data cut (identical data gives identical bytes).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm import Domain

ODM_VERSION = "1.3.2"
SUBJECT_EVENT = "SE.SUBJECT"
UNSCHEDULED_EVENT = "SE.UNSCHEDULED"
VISIT_DOMAINS = ("LB", "VS")
DATA_TYPES = {"text": "text", "integer": "integer", "float": "float"}
IDENTIFIERS = ("STUDYID", "DOMAIN", "USUBJID")


@lru_cache(maxsize=1)
def _schema():
    import xmlschema

    return xmlschema.XMLSchema(str(schema_path()))


def schema_path() -> Path:
    """The ODM 1.3.2 XSD shipped with odmlib."""
    import odmlib

    return Path(odmlib.__file__).parent / "schemas" / "odm" / "1.3.2" / "ODM1-3-2.xsd"


def validate(xml: str | bytes | Path, source: str = "ODM") -> None:
    """Validate against the ODM 1.3.2 schema; raise :class:`ExportError` naming the first
    problem (with its XPath) otherwise."""
    schema = _schema()
    text = xml.read_bytes() if isinstance(xml, Path) else xml
    error = next(schema.iter_errors(text if isinstance(text, str) else text.decode("utf-8")), None)
    if error is not None:
        raise ExportError(source, f"not valid ODM 1.3.2 at {error.path}: {error.reason}")


def _value(kind: str, value: object) -> str:
    if kind == "float":
        return repr(float(value))
    return str(value)


def _text(odm, text: str):
    return odm.Description(TranslatedText=[odm.TranslatedText(_content=text, lang="en")])


def build_odm(dataset: TrialDataset, domains: dict[str, Domain]) -> str:
    """The ODM 1.3.2 document (a string) of ``dataset``'s SDTM ``domains``; validated."""
    import odmlib.odm_1_3_2.model as odm

    created = dataset.data_cut.isoformat()
    study_oid = f"ST.{dataset.nct_id}"
    visit_codes = [plan.code for plan in dataset.schedule]
    event_of_visitnum = {i: f"SE.{code}" for i, code in enumerate(visit_codes, start=1)}

    # -- metadata ------------------------------------------------------------------------
    subject_forms = [name for name in domains if name not in VISIT_DOMAINS]
    visit_forms = [name for name in domains if name in VISIT_DOMAINS]
    events = [
        odm.StudyEventDef(
            OID=SUBJECT_EVENT,
            Name="Subject",
            Repeating="No",
            Type="Common",
            FormRef=[
                odm.FormRef(FormOID=f"F.{n}", Mandatory="No", OrderNumber=i)
                for i, n in enumerate(subject_forms, start=1)
            ],
        )
    ]
    labels = [(f"SE.{p.code}", p.label) for p in dataset.schedule] + [
        (UNSCHEDULED_EVENT, "Unscheduled")
    ]
    for oid, label in labels:
        events.append(
            odm.StudyEventDef(
                OID=oid,
                Name=label,
                Repeating="Yes" if oid == UNSCHEDULED_EVENT else "No",
                Type="Unscheduled" if oid == UNSCHEDULED_EVENT else "Scheduled",
                FormRef=[
                    odm.FormRef(FormOID=f"F.{n}", Mandatory="No", OrderNumber=i)
                    for i, n in enumerate(visit_forms, start=1)
                ],
            )
        )
    forms, groups, items = [], [], []
    codelists: dict[str, set[str]] = {}
    for domain in domains.values():
        for v in domain.variables:
            used = {str(x) for x in domain.column(v.name) if x is not None} if v.codelist else ()
            if used:  # an ODM CodeList needs at least one item
                codelists.setdefault(v.codelist, set()).update(used)
    for name, domain in domains.items():
        forms.append(
            odm.FormDef(
                OID=f"F.{name}",
                Name=domain.label,
                Repeating="No",
                ItemGroupRef=[odm.ItemGroupRef(ItemGroupOID=f"IG.{name}", Mandatory="Yes")],
            )
        )
        refs = []
        for order, v in enumerate(domain.variables, start=1):
            oid = f"IT.{name}.{v.name}"
            refs.append(
                odm.ItemRef(
                    ItemOID=oid,
                    Mandatory="Yes" if v.name in IDENTIFIERS else "No",
                    OrderNumber=order,
                )
            )
            item = odm.ItemDef(
                OID=oid,
                Name=v.name,
                DataType=DATA_TYPES[v.kind],
                SASFieldName=v.name,
                Description=_text(odm, v.label),
            )
            if v.kind == "text":
                item.Length = domain.length(v)
            if v.codelist in codelists:
                item.CodeListRef = odm.CodeListRef(CodeListOID=f"CL.{v.codelist}")
            items.append(item)
        groups.append(
            odm.ItemGroupDef(
                OID=f"IG.{name}",
                Name=name,
                Repeating="Yes",
                SASDatasetName=name,
                Domain=name,
                Description=_text(odm, domain.label),
                ItemRef=refs,
            )
        )
    code_lists = [
        odm.CodeList(
            OID=f"CL.{cl}",
            Name=cl,
            DataType="text",
            EnumeratedItem=[odm.EnumeratedItem(CodedValue=value) for value in sorted(values)],
        )
        for cl, values in sorted(codelists.items())
    ]
    mdv = odm.MetaDataVersion(
        OID="MDV.SDTM",
        Name="SDTMIG 3.3 tabulation of the clinical data",
        Protocol=odm.Protocol(
            StudyEventRef=[
                odm.StudyEventRef(StudyEventOID=e.OID, Mandatory="No", OrderNumber=i)
                for i, e in enumerate(events, start=1)
            ]
        ),
        StudyEventDef=events,
        FormDef=forms,
        ItemGroupDef=groups,
        ItemDef=items,
        CodeList=code_lists,
    )
    study = odm.Study(
        OID=study_oid,
        GlobalVariables=odm.GlobalVariables(
            StudyName=odm.StudyName(_content=dataset.nct_id),
            StudyDescription=odm.StudyDescription(_content=dataset.title or dataset.nct_id),
            ProtocolName=odm.ProtocolName(_content=dataset.nct_id),
        ),
        MetaDataVersion=[mdv],
    )

    # -- clinical data -------------------------------------------------------------------
    subjects: dict[str, dict[str, dict[str, list]]] = {}
    for name, domain in domains.items():
        seq = next((v.name for v in domain.variables if v.name.endswith("SEQ")), None)
        for record in domain.records():
            if name in VISIT_DOMAINS:
                event = event_of_visitnum.get(record.get("VISITNUM"), UNSCHEDULED_EVENT)
            else:
                event = SUBJECT_EVENT
            data = [
                odm.ItemData(ItemOID=f"IT.{name}.{v.name}", Value=_value(v.kind, record[v.name]))
                for v in domain.variables
                if record[v.name] is not None
            ]
            key = str(record[seq]) if seq else "1"
            group = odm.ItemGroupData(
                ItemGroupOID=f"IG.{name}", ItemGroupRepeatKey=key, ItemData=data
            )
            forms_of = subjects.setdefault(record["USUBJID"], {}).setdefault(event, {})
            forms_of.setdefault(name, []).append(group)
    order = [SUBJECT_EVENT, *(f"SE.{c}" for c in visit_codes), UNSCHEDULED_EVENT]
    subject_data = []
    for usubjid in sorted(subjects):
        events_data = []
        for event in order:
            if event not in subjects[usubjid]:
                continue
            per_form = subjects[usubjid][event]
            events_data.append(
                odm.StudyEventData(
                    StudyEventOID=event,
                    **({"StudyEventRepeatKey": "1"} if event == UNSCHEDULED_EVENT else {}),
                    FormData=[
                        odm.FormData(FormOID=f"F.{n}", ItemGroupData=per_form[n])
                        for n in domains
                        if n in per_form
                    ],
                )
            )
        subject_data.append(odm.SubjectData(SubjectKey=usubjid, StudyEventData=events_data))
    root = odm.ODM(
        FileOID=f"ODM.{dataset.nct_id}.{dataset.data_cut:%Y%m%dT%H%M%S}",
        FileType="Snapshot",
        Granularity="All",
        CreationDateTime=created,
        AsOfDateTime=created,
        ODMVersion=ODM_VERSION,
        Originator="trialdesk",
        SourceSystem="trialdesk",
        Study=[study],
        ClinicalData=[
            odm.ClinicalData(
                StudyOID=study_oid, MetaDataVersionOID="MDV.SDTM", SubjectData=subject_data
            )
        ],
    )
    xml = root.to_xml_string(xml_declaration=True)
    validate(xml, f"ODM of {dataset.nct_id}")
    return xml


def write_odm(dataset: TrialDataset, domains: dict[str, Domain], path: Path) -> None:
    path.write_text(build_odm(dataset, domains), encoding="utf-8")


__all__ = ["ODM_VERSION", "build_odm", "schema_path", "validate", "write_odm"]
