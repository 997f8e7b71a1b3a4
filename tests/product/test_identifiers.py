"""ISBT 128 identifiers: the check character against the published worked example and an
independent implementation of ISO 7064 MOD 37-2; every parse error names its part."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.product.identifiers import (
    ChainOfIdentityId,
    DonationId,
    DoseUnitId,
    IdentifierError,
    check_character,
)

# ISO/IEC 7064 character values for MOD 37-2 (UK Red Book, Guidelines for the Blood
# Transfusion Services, Annex 2, Table A2.1): 0-9 -> 0-9, A-Z -> 10-35, * -> 36.
VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*")}


def red_book_checksum(data: str) -> tuple[int, int, int]:
    """Red Book Annex 2 steps 1-6, written out independently of python-stdnum:
    weight each value by 2**n (n = position from the right, from 1), sum, mod 37,
    38 minus that, mod 37. Returns (sum, sum mod 37, checksum)."""
    total = sum(VALUES[c] * 2 ** (n + 1) for n, c in enumerate(reversed(data)))
    return total, total % 37, (38 - total % 37) % 37


def test_red_book_worked_example():
    # Red Book Annex 2, Table A2.2: donation number G123 498 654 321 -> weighted sum 148354,
    # mod 37 = 21, 38 - 21 = 17, checksum 17, barcode check 77, eye-readable 'H'.
    assert red_book_checksum("G123498654321") == (148354, 21, 17)
    assert check_character("G123498654321") == "H"
    din = DonationId("G1234", "98", "654321")
    assert din.check_character == "H"
    assert din.barcode_data == "=G12349865432177"
    assert din.display == "G1234 98 654321 H"


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=30))
def test_check_character_matches_independent_mod_37_2(data):
    checksum = red_book_checksum(data)[2]
    assert check_character(data) == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"[checksum]


def test_every_single_substitution_and_adjacent_transposition_is_caught():
    # ISO 7064 pure systems detect all single substitutions and adjacent transpositions.
    keyed = DonationId("W1234", "26", "000042").keyed
    for i, c in itertools.product(range(13), "0123456789"):
        typo = keyed[:i] + c + keyed[i + 1 :]
        if typo == keyed:
            continue
        with pytest.raises(IdentifierError):
            DonationId.parse(typo)
    for i in range(12):
        swapped = keyed[:i] + keyed[i + 1] + keyed[i] + keyed[i + 2 :]
        if swapped != keyed:
            with pytest.raises(IdentifierError):
                DonationId.parse(swapped)


@pytest.mark.parametrize(
    "text",
    [
        "G123498654321H",
        "g1234 98 654321 h",
        "G1234-98-654321-H",
        "=G12349865432177",
        "=G12349865432100H",
    ],
)
def test_parse_accepted_forms(text):
    din = DonationId.parse(text)
    assert (din.facility, din.year, din.sequence) == ("G1234", "98", "654321")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("G123498654321X", "bad check character"),
        ("G123498654321", "check character is missing"),
        ("G12349865432", "too short"),
        ("O123498654321H", r"facility \(FIN\)"),
        ("0123498654321H", r"facility \(FIN\)"),
        ("GA23498654321H", r"facility \(FIN\)"),
        ("G1234986543A1H", "letters in the sequence"),
        ("G12349A654321H", "year"),
        ("=G12349865432178", "checksum flag"),
        ("G123498654321HHH", "expected 13"),
    ],
)
def test_parse_errors_name_the_part(text, names):
    with pytest.raises(IdentifierError, match=names):
        DonationId.parse(text)


def test_constructor_validates_each_field():
    with pytest.raises(IdentifierError, match="facility .* 5 characters"):
        DonationId("G123", "98", "654321")
    with pytest.raises(IdentifierError, match="year"):
        DonationId("G1234", "2026", "654321")
    with pytest.raises(IdentifierError, match="sequence"):
        DonationId("G1234", "26", "12345")
    with pytest.raises(IdentifierError, match="flags"):
        DonationId("G1234", "26", "123456", flags="9")


def test_dose_unit_id_round_trip_and_errors():
    unit = DoseUnitId(DonationId("G1234", "98", "654321"), "TD001", "A0")
    assert unit.text == "G123498654321TD001A0"
    assert unit.check_character == check_character("G123498654321TD001A0")
    assert DoseUnitId.parse(unit.keyed) == unit
    assert DoseUnitId.parse(unit.display) == unit
    wrong = unit.keyed[:-1] + ("0" if unit.keyed[-1] != "0" else "1")
    with pytest.raises(IdentifierError, match="dose unit id .*bad check character"):
        DoseUnitId.parse(wrong)
    with pytest.raises(IdentifierError, match="product code"):
        DoseUnitId(unit.donation, "td01", "A0")
    with pytest.raises(IdentifierError, match="division"):
        DoseUnitId(unit.donation, "TD001", "A")
    with pytest.raises(IdentifierError, match="21"):
        DoseUnitId.parse("G123498654321")
    # the DIN's own check character is verified in the displayed form
    bad_din = unit.display.replace(" H /", " J /")
    with pytest.raises(IdentifierError, match="donation id"):
        DoseUnitId.parse(bad_din)


def test_chain_of_identity_is_random_checked_and_non_identifying():
    codes = {ChainOfIdentityId.new() for _ in range(200)}
    assert len(codes) == 200
    for coi in itertools.islice(codes, 20):
        assert ChainOfIdentityId.parse(coi.display) == coi
        assert ChainOfIdentityId.parse(coi.keyed) == coi
        assert "I" not in coi.code and "O" not in coi.code
    coi = ChainOfIdentityId("7K3M9QX2H4TB")
    assert (
        coi.check_character
        == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"[red_book_checksum("COI7K3M9QX2H4TB")[2]]
    )
    with pytest.raises(IdentifierError, match="bad check character"):
        ChainOfIdentityId.parse("COI7K3M9QX2H4TB" + ("0" if coi.check_character != "0" else "1"))
    with pytest.raises(IdentifierError, match="start with COI"):
        ChainOfIdentityId.parse("XYZ7K3M9QX2H4TBG")
    with pytest.raises(IdentifierError, match="'O' is not used"):
        ChainOfIdentityId("OK3M9QX2H4TB")


FIN = st.builds(
    lambda first, digits: first + digits,
    st.sampled_from("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
DIGITS2 = st.text(alphabet="0123456789", min_size=2, max_size=2)
DIGITS6 = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(FIN, DIGITS2, DIGITS6)
def test_every_form_parses_back_to_the_same_donation(fin, year, seq):
    din = DonationId(fin, year, seq)
    for form in (din.keyed, din.display, din.barcode_data, din.keyed.lower()):
        assert DonationId.parse(form) == din
    assert len(din.keyed) == 14 and din.keyed[-1] == check_character(din.text)


@given(FIN, DIGITS2, DIGITS6, st.sampled_from(["00", "A0", "B1", "Z9"]))
def test_dose_unit_ids_round_trip(fin, year, seq, division):
    unit = DoseUnitId(DonationId(fin, year, seq), "VR001", division)
    assert DoseUnitId.parse(unit.keyed) == unit == DoseUnitId.parse(unit.display)
