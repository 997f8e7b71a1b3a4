"""The dose unit's label: read back from the PDF (text with pypdf; the barcodes rendered with
PDFium and decoded with ZXing, independent of the libraries that drew them)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pypdf
import pypdfium2
import pytest
import zxingcpp

from trialdesk.product.identifiers import ChainOfIdentityId, DonationId, DoseUnitId
from trialdesk.product.labels import LabelData, LabelError, render_label_pdf
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
PLAN = load_protocol(ROOT / "protocols" / "NCT05331872" / "protocol.yaml").cell_product
UNIT = DoseUnitId(DonationId("G1234", "26", "000042"), PLAN.product_code, "A0")
COI = ChainOfIdentityId("7K3M9QX2H4TB")


def _data(**changes) -> LabelData:
    fields = dict(
        unit_id=UNIT,
        description=PLAN.description,
        lot="LOT-2026-007",
        participant_id="NCT05331872-003",
        chain_of_identity=COI,
        cells=72_500_000,
        volume_ml=Decimal(15),
        expiry=datetime(2026, 3, 2, 15, 15, tzinfo=UTC),
        storage_temperature=PLAN.storage_temperature,
        releasing_establishment=PLAN.releasing_establishment,
        warnings=PLAN.warnings,
    )
    fields.update(changes)
    return LabelData(**fields)


def _text(pdf: bytes) -> str:
    return " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def _barcodes(pdf: bytes) -> list[tuple[str, str]]:
    """(format, text) of every barcode on the page rendered at 300 dpi."""
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=300 / 72).to_pil()
    return sorted((r.format.name, r.text) for r in zxingcpp.read_barcodes(image))


def test_label_carries_the_21_cfr_1271_370_elements():
    text = _text(render_label_pdf(_data()))
    for expected in (
        UNIT.display,  # distinct identification code
        "Donation (ISBT 128 DIN) G1234 26 000042 " + UNIT.donation.check_character,
        "Product code: VR001 (trial-configured)",
        "Human umbilical cord-derived mesenchymal stromal cells",  # description
        "Lot: LOT-2026-007",
        "Participant: NCT05331872-003",
        "Chain of identity: " + COI.display,
        "Dose: 72,500,000 viable cells in 15 mL",
        "Expires: 2026-03-02 15:15 UTC",
        "Storage: 2 °C to 8 °C",
        "Released by: Vinmec Research Institute",
        "Caution: New Drug - Limited by Federal (or United States) law to investigational use.",
    ):
        assert expected in text, expected


def test_barcodes_decode_to_the_identifiers():
    barcodes = _barcodes(render_label_pdf(_data()))
    matrix = f"TD1|{UNIT.keyed}|LOT-2026-007|NCT05331872-003|{COI.keyed}|20260302T1515Z"
    assert barcodes == sorted(
        [
            ("Code128", UNIT.keyed),
            ("Code128", UNIT.donation.barcode_data),  # ISBT 128 DS 001: =, 13 chars, flags
            ("DataMatrix", matrix),
        ]
    )
    # what is scanned at the bedside parses back to the unit
    assert DoseUnitId.parse(matrix.split("|")[1]) == UNIT
    assert DonationId.parse(UNIT.donation.barcode_data) == UNIT.donation


def test_identical_input_gives_identical_bytes_and_any_change_changes_them():
    a, b = render_label_pdf(_data()), render_label_pdf(_data())
    assert a == b
    assert render_label_pdf(_data(lot="LOT-2026-008")) != a


def test_expiry_in_a_local_zone_is_shown_with_its_offset_and_encoded_in_utc():
    hanoi = timezone(timedelta(hours=7), "ICT")
    data = _data(expiry=datetime(2026, 3, 2, 22, 15, tzinfo=hanoi))
    pdf = render_label_pdf(data)
    assert "Expires: 2026-03-02 22:15 ICT" in _text(pdf)
    assert data.data_matrix_text.endswith("|20260302T1515Z")


def test_markup_in_imported_text_is_printed_as_text():
    pdf = render_label_pdf(_data(lot="<b>LOT</b> &amp; 1"))
    assert "Lot: <b>LOT</b> &amp; 1" in _text(pdf)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lot": ""}, "label lot: required"),
        ({"participant_id": "A|B"}, "'|' separates"),
        ({"storage_temperature": "≤ 8 °C"}, "storage_temperature: character '≤' cannot be printed"),
        ({"warnings": ()}, "warnings: at least"),
        ({"cells": 0}, "cells: must be a positive whole number"),
        ({"volume_ml": 15}, "volume_ml: must be a positive Decimal"),
        ({"expiry": datetime(2026, 3, 2, 15, 15)}, "expiry: a date and time with its time zone"),
        ({"unit_id": "G123426000042VR001A0X"}, "unit_id: expected a DoseUnitId"),
        ({"warnings": ("Caution " * 400,)}, r"warnings\[0\]: the text does not fit"),
    ],
)
def test_bad_label_content_is_refused_naming_the_field(changes, message):
    with pytest.raises(LabelError, match=message):
        render_label_pdf(_data(**changes))
