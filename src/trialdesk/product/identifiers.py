"""Identifiers of the cell product: ISBT 128 donation numbers, dose units, chain of identity.

**Donation Identification Number (DIN).** ISBT 128 Standard Technical Specification
(ICCBBA ST-001), Data Structure 001, ``=αppppyynnnnnnff``:

- ``αpppp`` -- the Facility Identification Number (FIN): ``α`` is A-N, P-Z or 1-9 (the
  letter O and the digit 0 are not used there), ``pppp`` four digits. FINs are assigned by
  ICCBBA to a registered facility; trialdesk stores the trial's and never invents one.
- ``yy`` -- the last two digits of the year the number was assigned;
- ``nnnnnn`` -- the facility's sequence number for that year (six digits);
- ``ff`` -- two flag digits (ST-001 Table "Flag characters"): ``00`` when unused, ``01``-``59``
  process control, ``60``-``96`` the ISO 7064 checksum plus 60 (a data-transmission check).

The eye-readable and keyboard-entry check character is ISO/IEC 7064 MOD 37-2 over the 13
data characters (``=`` and the flags excluded), the checksum 0-36 written as 0-9, A-Z, ``*``
(ST-001 "Keyboard entry check character"; worked example in the UK Red Book, Guidelines for
the Blood Transfusion Services, Annex 2: G123 498 654 321 -> checksum 17 -> ``H``, barcode
flags 77). The algorithm is :mod:`stdnum.iso7064.mod_37_2`.

**Dose unit.** The DIN, the trial's configured product code (five characters: ISBT 128
Data Structure 003 puts the product description code here; trialdesk uses the code the trial
configures in ``cell_product.product_code`` and invents none) and a two-character division
code (ST-002 / Data Structure 003 ``ds``: ``00`` undivided, ``A0``, ``B0``... for the first
division level), with its own MOD 37-2 check character over all 20 characters.

**Chain of identity.** A random, non-identifying code (``COI-`` and twelve characters from an
alphabet without I and O) with a MOD 37-2 check character; one chain links one participant
to the donations whose cells they received. No identifier carries a name, a birth date or a
medical record number: each is a facility code, a year and a counter, or random.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from stdnum.iso7064 import mod_37_2

__all__ = [
    "ChainOfIdentityId",
    "DonationId",
    "DoseUnitId",
    "IdentifierError",
    "check_character",
]

#: ISO 7064 MOD 37-2 character values 0-36 (ISBT 128 ST-001; Red Book Annex 2 Table A2.1).
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"  # A-N, P-Z, 1-9
_SEPARATORS = re.compile(r"[\s\-/]+")
_COI_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O: not misread as 1 / 0
_COI_LENGTH = 12


class IdentifierError(ValueError):
    """An identifier that does not parse; the message names the part that is wrong."""


def check_character(data: str) -> str:
    """The ISO 7064 MOD 37-2 check character of ``data`` (0-9, A-Z, ``*``).

    >>> check_character("G123498654321")  # UK Red Book Annex 2, Table A2.2
    'H'
    """
    try:
        return mod_37_2.calc_check_digit(data, alphabet=ALPHABET)
    except (ValueError, KeyError):
        bad = next((c for c in data if c not in ALPHABET), data)
        raise IdentifierError(f"{data!r}: character {bad!r} is not in 0-9, A-Z") from None


def _clean(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise IdentifierError(f"{what}: expected text, got {type(text).__name__}")
    return _SEPARATORS.sub("", text).upper()


@dataclass(frozen=True)
class DonationId:
    """An ISBT 128 Donation Identification Number (ST-001 Data Structure 001).

    The three parts are stored separately; ``flags`` are the two flag digits when used
    (they do not take part in equality: the same donation scanned or keyed is one donation).

    >>> din = DonationId("G1234", "98", "654321")
    >>> din.check_character, din.keyed, din.display
    ('H', 'G123498654321H', 'G1234 98 654321 H')
    """

    facility: str
    year: str
    sequence: str
    flags: str | None = field(default=None, compare=False)  # not part of the identity

    def __post_init__(self) -> None:
        fin, year, seq = self.facility, self.year, self.sequence
        for name, value in (("facility", fin), ("year", year), ("sequence", seq)):
            if not isinstance(value, str):
                raise IdentifierError(f"donation id {name}: expected text, got {value!r}")
        if len(fin) != 5:
            raise IdentifierError(
                f"donation id facility (FIN) {fin!r}: must be 5 characters, not {len(fin)}"
            )
        if fin[0] not in _FIN_FIRST or not fin[1:].isdigit() or not fin[1:].isascii():
            raise IdentifierError(
                f"donation id facility (FIN) {fin!r}: must be one of A-N, P-Z, 1-9 followed "
                "by four digits (ISBT 128 ST-001, Data Structure 001)"
            )
        if len(year) != 2 or not (year.isdigit() and year.isascii()):
            raise IdentifierError(f"donation id year {year!r}: must be 2 digits")
        if len(seq) != 6 or not (seq.isdigit() and seq.isascii()):
            what = "letters in the sequence" if any(c.isalpha() for c in seq) else "6 digits"
            raise IdentifierError(f"donation id sequence {seq!r}: must be 6 digits ({what})")
        flags = self.flags
        if flags is not None:
            if len(flags) != 2 or not (flags.isdigit() and flags.isascii()):
                raise IdentifierError(f"donation id flags {flags!r}: must be 2 digits")
            if 60 <= int(flags) <= 96 and int(flags) - 60 != ALPHABET.index(self.check_character):
                raise IdentifierError(
                    f"donation id flags {flags!r}: a checksum flag (60-96) must be "
                    f"{60 + ALPHABET.index(self.check_character)} for {self.text}"
                )
            if int(flags) > 96:
                raise IdentifierError(f"donation id flags {flags!r}: must be 00-96")

    @property
    def text(self) -> str:
        """The 13 data characters (``G123498654321``)."""
        return f"{self.facility}{self.year}{self.sequence}"

    @property
    def check_character(self) -> str:
        return check_character(self.text)

    @property
    def keyed(self) -> str:
        """The keyboard-entry form: the 13 characters and the check character."""
        return self.text + self.check_character

    @property
    def display(self) -> str:
        """The eye-readable form: ``G1234 98 654321 H``."""
        return f"{self.facility} {self.year} {self.sequence} {self.check_character}"

    @property
    def barcode_data(self) -> str:
        """The Code 128 data content ``=`` + 13 characters + flags (checksum flags when unset)."""
        flags = (
            self.flags if self.flags is not None else f"{60 + ALPHABET.index(self.check_character)}"
        )
        return f"={self.text}{flags}"

    def __str__(self) -> str:
        return self.keyed

    @classmethod
    def parse(cls, text: str) -> DonationId:
        """Read a DIN as keyed (``G123498654321H``), displayed (``G1234 98 654321 H``) or
        scanned (``=G12349865432177``, optionally followed by the check character).

        The check character (or checksum flags 60-96) must match; an :class:`IdentifierError`
        names the part that is wrong.
        """
        raw = _clean(text, "donation id")
        scanned = raw.startswith("=")
        body = raw[1:] if scanned else raw
        if len(body) < 13:
            raise IdentifierError(
                f"donation id {text!r}: too short ({len(body)} characters; a DIN has 13 and "
                "a check character)"
            )
        din = cls._from_parts(body[:13])
        rest = body[13:]
        flags = None
        check = None
        if len(rest) == 1:
            check = rest
        elif len(rest) == 2 and rest.isdigit():
            flags = rest
        elif len(rest) == 3 and rest[:2].isdigit():
            flags, check = rest[:2], rest[2]
        elif not rest:
            raise IdentifierError(
                f"donation id {text!r}: the check character is missing (keyed as {din.text}?)"
            )
        else:
            raise IdentifierError(
                f"donation id {text!r}: {len(body)} characters; expected 13 and a check "
                "character (or 2 flag digits when scanned)"
            )
        if check is None and not (flags and 60 <= int(flags) <= 96):
            raise IdentifierError(f"donation id {text!r}: the check character is missing")
        if check is not None and check != din.check_character:
            raise IdentifierError(
                f"donation id {text!r}: bad check character {check!r} (mistyped or misread number)"
            )
        return cls(din.facility, din.year, din.sequence, flags)

    @classmethod
    def _from_parts(cls, body: str) -> DonationId:
        return cls(body[:5], body[5:7], body[7:13])


@dataclass(frozen=True)
class DoseUnitId:
    """One dose unit: DIN + the trial's configured product code + division code.

    >>> unit = DoseUnitId(DonationId("G1234", "98", "654321"), "TD001", "A0")
    >>> unit.text, len(unit.keyed)
    ('G123498654321TD001A0', 21)
    """

    donation: DonationId
    product_code: str
    division: str = "00"

    def __post_init__(self) -> None:
        if not isinstance(self.donation, DonationId):
            raise IdentifierError("dose unit id donation: expected a DonationId")
        code, div = self.product_code, self.division
        if not (isinstance(code, str) and len(code) == 5 and _alnum_upper(code)):
            raise IdentifierError(
                f"dose unit id product code {code!r}: must be 5 characters A-Z / 0-9 (the "
                "trial's configured cell_product.product_code)"
            )
        if not (isinstance(div, str) and len(div) == 2 and _alnum_upper(div)):
            raise IdentifierError(
                f"dose unit id division {div!r}: must be 2 characters A-Z / 0-9 (00 = undivided)"
            )

    @property
    def text(self) -> str:
        return f"{self.donation.text}{self.product_code}{self.division}"

    @property
    def check_character(self) -> str:
        return check_character(self.text)

    @property
    def keyed(self) -> str:
        return self.text + self.check_character

    @property
    def display(self) -> str:
        """``G1234 98 654321 H / TD001 A0 / K`` (the DIN with its own check, then the unit's)."""
        return f"{self.donation.display} / {self.product_code} {self.division} / {self.check_character}"

    def __str__(self) -> str:
        return self.keyed

    @classmethod
    def parse(cls, text: str) -> DoseUnitId:
        """Read a dose unit id as keyed (21 characters) or displayed (with its two check
        characters); an :class:`IdentifierError` names the part that is wrong."""
        raw = _clean(text, "dose unit id")
        if len(raw) == 22:  # displayed: DIN + DIN check + code + division + check
            din = DonationId.parse(raw[:14])
            body, check = raw[14:21], raw[21]
        elif len(raw) == 21:
            din = DonationId._from_parts(raw[:13])
            body, check = raw[13:20], raw[20]
        else:
            raise IdentifierError(
                f"dose unit id {text!r}: {len(raw)} characters; expected 21 (13 DIN, 5 product "
                "code, 2 division, 1 check character)"
            )
        unit = cls(din, body[:5], body[5:7])
        if check != unit.check_character:
            raise IdentifierError(
                f"dose unit id {text!r}: bad check character {check!r} (mistyped or misread)"
            )
        return unit


def _alnum_upper(text: str) -> bool:
    return text.isascii() and all(c in ALPHABET[:36] for c in text)


@dataclass(frozen=True)
class ChainOfIdentityId:
    """A random, non-identifying chain-of-identity code with a MOD 37-2 check character.

    >>> coi = ChainOfIdentityId("7K3M9QX2H4TB")
    >>> coi.keyed, ChainOfIdentityId.parse(coi.display) == coi
    ('COI7K3M9QX2H4TBG', True)
    """

    code: str

    def __post_init__(self) -> None:
        code = self.code
        if not isinstance(code, str) or len(code) != _COI_LENGTH:
            raise IdentifierError(
                f"chain-of-identity id {code!r}: must be {_COI_LENGTH} characters"
            )
        bad = [c for c in code if c not in _COI_ALPHABET]
        if bad:
            raise IdentifierError(
                f"chain-of-identity id {code!r}: character {bad[0]!r} is not used (0-9 and "
                "A-Z without I and O)"
            )

    @classmethod
    def new(cls) -> ChainOfIdentityId:
        """A fresh random code (``secrets``: not derived from anything about the person)."""
        return cls("".join(secrets.choice(_COI_ALPHABET) for _ in range(_COI_LENGTH)))

    @property
    def text(self) -> str:
        return f"COI{self.code}"

    @property
    def check_character(self) -> str:
        return check_character(self.text)

    @property
    def keyed(self) -> str:
        return self.text + self.check_character

    @property
    def display(self) -> str:
        c = self.code
        return f"COI-{c[:4]}-{c[4:8]}-{c[8:]}-{self.check_character}"

    def __str__(self) -> str:
        return self.keyed

    @classmethod
    def parse(cls, text: str) -> ChainOfIdentityId:
        raw = _clean(text, "chain-of-identity id")
        if not raw.startswith("COI"):
            raise IdentifierError(f"chain-of-identity id {text!r}: must start with COI")
        body = raw[3:]
        if len(body) != _COI_LENGTH + 1:
            raise IdentifierError(
                f"chain-of-identity id {text!r}: expected COI, {_COI_LENGTH} characters and "
                f"a check character ({len(body)} characters after COI)"
            )
        coi = cls(body[:-1])
        if body[-1] != coi.check_character:
            raise IdentifierError(
                f"chain-of-identity id {text!r}: bad check character {body[-1]!r}"
            )
        return coi
