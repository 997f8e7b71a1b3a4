"""The dose unit's label as a PDF: the 21 CFR 1271.370 elements, two Code 128 barcodes and a
Data Matrix.

Content (21 CFR 1271.370(b) on the label itself, (c) on the label or with it):

- distinct identification code -- the dose unit id (:class:`DoseUnitId`: the ISBT 128 DIN,
  the trial's configured product code and the division) eye-readable and as Code 128, and
  the DIN alone as Code 128 with ISBT 128 Data Structure 001 content (``=`` + 13 characters
  + flags; ST-001);
- description of the product, the lot, the expiry date and time (with its time zone);
- the participant's trial id and chain-of-identity id -- never a name or a record number;
- the dose (viable cells, volume), storage temperature, the establishment that released it
  and the warnings of the protocol (the 21 CFR 312.6(a) investigational caution; "FOR
  AUTOLOGOUS USE ONLY" under 21 CFR 1271.90(c) when autologous);
- a Data Matrix (ISO/IEC 16022, drawn from pyStrich's symbol) holding
  :attr:`LabelData.data_matrix_text`:
  ``TD1|<unit keyed>|<lot>|<participant>|<chain of identity>|<expiry UTC yyyymmddThhmmZ>``.

The page is 100 mm x 150 mm (a common thermal label). Text is drawn with the canvas's
``drawString`` -- no markup is interpreted, so imported text cannot inject any -- in
Helvetica (characters outside Windows-1252 are refused, naming the field). Text that does not
fit is refused, never cut. ``invariant=1`` makes the bytes identical for identical input.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from trialdesk.product.identifiers import ChainOfIdentityId, DoseUnitId

__all__ = ["LabelData", "LabelError", "render_label_pdf"]

PAGE = (100 * mm, 150 * mm)
MARGIN = 5 * mm
FONT, BOLD = "Helvetica", "Helvetica-Bold"


class LabelError(ValueError):
    """Label content that cannot be printed; the message names the field."""


@dataclass(frozen=True)
class LabelData:
    """Everything a dose unit's label carries (no names, no record numbers)."""

    unit_id: DoseUnitId
    description: str
    lot: str
    participant_id: str
    chain_of_identity: ChainOfIdentityId | None
    cells: int
    volume_ml: Decimal
    expiry: datetime
    storage_temperature: str
    releasing_establishment: str
    warnings: tuple[str, ...]
    product_code_assigned_by: str = "trial"

    def __post_init__(self) -> None:
        if not isinstance(self.unit_id, DoseUnitId):
            raise LabelError("label unit_id: expected a DoseUnitId")
        if self.chain_of_identity is not None and not isinstance(
            self.chain_of_identity, ChainOfIdentityId
        ):
            raise LabelError("label chain_of_identity: expected a ChainOfIdentityId or None")
        for name in (
            "description", "lot", "participant_id", "storage_temperature",
            "releasing_establishment",
        ):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise LabelError(f"label {name}: required")
            _printable(name, value)
        if "|" in self.lot or "|" in self.participant_id:
            raise LabelError("label lot / participant_id: '|' separates the Data Matrix fields")
        if not self.warnings:
            raise LabelError("label warnings: at least the investigational caution is required")
        for i, w in enumerate(self.warnings):
            _printable(f"warnings[{i}]", w)
        if not isinstance(self.cells, int) or self.cells <= 0:
            raise LabelError(f"label cells: must be a positive whole number, got {self.cells!r}")
        if not isinstance(self.volume_ml, Decimal) or self.volume_ml <= 0:
            raise LabelError(f"label volume_ml: must be a positive Decimal, got {self.volume_ml!r}")
        if not isinstance(self.expiry, datetime) or self.expiry.utcoffset() is None:
            raise LabelError("label expiry: a date and time with its time zone is required")

    @property
    def expiry_text(self) -> str:
        return self.expiry.strftime("%Y-%m-%d %H:%M ") + (self.expiry.tzname() or "")

    @property
    def dose_text(self) -> str:
        return f"{self.cells:,} viable cells in {self.volume_ml:f} mL"

    @property
    def data_matrix_text(self) -> str:
        coi = self.chain_of_identity.keyed if self.chain_of_identity else ""
        when = self.expiry.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
        return f"TD1|{self.unit_id.keyed}|{self.lot}|{self.participant_id}|{coi}|{when}"


def _printable(name: str, text: str) -> None:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise LabelError(
            f"label {name}: character {bad!r} cannot be printed with the label font"
        ) from None


class _Writer:
    """Top-down text on the canvas; refuses text that would run off the label."""

    def __init__(self, canvas: Canvas, top: float) -> None:
        self.c, self.y = canvas, top
        self.width = PAGE[0] - 2 * MARGIN

    def line(self, label: str, text: str, size: float = 7.5, field: str = "") -> None:
        head = f"{label}: " if label else ""
        lines = simpleSplit(head + text, FONT, size, self.width)
        for i, part in enumerate(lines):
            self.y -= size * 1.2
            if self.y < MARGIN:
                raise LabelError(f"label {field or label}: the text does not fit on the label")
            if i == 0 and head:
                self.c.setFont(BOLD, size)
                self.c.drawString(MARGIN, self.y, head)
                self.c.setFont(FONT, size)
                self.c.drawString(MARGIN + self.c.stringWidth(head, BOLD, size), self.y,
                                  part[len(head):])  # fmt: skip
            else:
                self.c.setFont(FONT, size)
                self.c.drawString(MARGIN, self.y, part)


def _code128(canvas: Canvas, data: str, y: float, bar_height: float) -> float:
    bar = Code128(data, barWidth=0.26 * mm, barHeight=bar_height, quiet=1, humanReadable=False)
    if bar.width > PAGE[0]:  # pragma: no cover - the ids have a fixed length
        raise LabelError(f"label barcode {data!r} is wider than the label")
    bar.drawOn(canvas, (PAGE[0] - bar.width) / 2, y - bar_height)
    return y - bar_height


def _data_matrix(canvas: Canvas, text: str, x: float, y_top: float, size: float) -> None:
    from pystrich.datamatrix import DataMatrixEncoder

    marks = DataMatrixEncoder(text).get_rect_marks()
    module = size / marks.width
    canvas.setFillColorRGB(0, 0, 0)
    for mx, my, w, h in marks.marks:
        canvas.rect(x + mx * module, y_top - (my + h) * module, w * module, h * module,
                    stroke=0, fill=1)  # fmt: skip


def render_label_pdf(data: LabelData) -> bytes:
    """The label as PDF bytes (identical bytes for identical ``data``)."""
    if not isinstance(data, LabelData):
        raise LabelError(f"label: expected LabelData, got {type(data).__name__}")
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=PAGE, invariant=1, pageCompression=0)
    c.setTitle(f"Dose unit {data.unit_id.keyed}")
    c.setAuthor("trialdesk")
    top = PAGE[1] - MARGIN
    y = _code128(c, data.unit_id.keyed, top, 12 * mm)
    c.setFont(BOLD, 8)
    c.drawCentredString(PAGE[0] / 2, y - 3.2 * mm, f"Dose unit {data.unit_id.display}")
    y = _code128(c, data.unit_id.donation.barcode_data, y - 5 * mm, 8 * mm)
    c.setFont(FONT, 7)
    c.drawCentredString(
        PAGE[0] / 2, y - 3 * mm, f"Donation (ISBT 128 DIN) {data.unit_id.donation.display}"
    )
    dm_size = 22 * mm
    dm_top = y - 5 * mm
    _data_matrix(c, data.data_matrix_text, PAGE[0] - MARGIN - dm_size, dm_top, dm_size)
    side = _Writer(c, dm_top)
    side.width = PAGE[0] - 3 * MARGIN - dm_size
    code_note = "trial-configured" if data.product_code_assigned_by == "trial" else "ICCBBA"
    side.line("Product code", f"{data.unit_id.product_code} ({code_note})", 8)
    side.line("Lot", data.lot, 8)
    side.line("Participant", data.participant_id, 8, "participant_id")
    if data.chain_of_identity is not None:
        side.line("Chain of identity", data.chain_of_identity.display, 7.5)
    side.line("Expires", data.expiry_text, 8, "expiry")
    w = _Writer(c, min(side.y, dm_top - dm_size) - 1 * mm)
    w.line("Product", data.description, 7.5, "description")
    w.line("Dose", data.dose_text, 8, "dose")
    w.line("Storage", data.storage_temperature, 7.5, "storage_temperature")
    w.line("Released by", data.releasing_establishment, 7.5, "releasing_establishment")
    for i, warning in enumerate(data.warnings):
        w.y -= 0.6 * mm
        c.setFont(BOLD, 7.5)
        for part in simpleSplit(warning, BOLD, 7.5, w.width):
            w.y -= 9
            if w.y < MARGIN:
                raise LabelError(f"label warnings[{i}]: the text does not fit on the label")
            c.drawString(MARGIN, w.y, part)
    c.showPage()
    c.save()
    return buf.getvalue()
