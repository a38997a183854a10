"""Chinese phone numbers of merchants and service points: validation, canonical form, tel: links.

Accepted, and their canonical form
----------------------------------
* **Mobile** ``1[3-9]`` + 9 digits, canonical ``13800138000`` (11 digits, no separators).
* **Landline with area code**, canonical ``0371-67891234``. The split between area code and
  local number follows the numbering plan, not the writer's spaces: ``010`` and ``02x`` are
  the only 3-digit codes and take 8-digit local numbers; every other code is ``0`` + 3 digits
  (Zhengzhou ``0371``) with a 7- or 8-digit local number. Local numbers start with 2-9
  (0 is the trunk prefix and 1 starts special services), so ``0371-12345678`` is rejected.
  An extension (1-6 digits) may follow ``-``, ``转``, ``ext``, ``x`` or ``#``; canonical
  ``0371-67891234-123``. ``0371-6789-1234`` is read as a grouped number, not as an extension
  ``1234``: the extension reading is tried only when the whole does not form a number.
* **400/800 service numbers**, canonical ``400-810-8888``.

Prefixes ``+86``, ``0086`` and ``86`` are accepted (a landline then drops or keeps its
trunk ``0``: ``+86 371 6789 1234``). Spaces, dashes, dots and parentheses separate digit
groups. Input is NFKC-normalised first, so full-width digits and punctuation typed with a
Chinese keyboard (``１３８－００１３－８０００``) are fine; after that only ASCII digits count.
Only landlines take extensions.

Rejected
--------
* A landline without area code (``67891234``): a visitor's mobile from another city cannot
  dial it, and the global ``tel:`` form needs the area code.
* Short public numbers (110, 120, 12345, 95588): they reach a city-wide service, not this
  merchant or service point, so they are not a place's contact number. Hotlines belong in
  static content, not in a place's record.
* Foreign numbers (any other country code).

``tel:`` links (RFC 3966)
-------------------------
Mobiles and landlines use the global form, which every dialer handles from anywhere:
``tel:+8613800138000``, ``tel:+86-371-67891234`` (visual separators as RFC 3966 allows),
extensions as ``;ext=123``. 400/800 numbers cannot be dialled from abroad, so they get the
RFC's local form with its mandatory context: ``tel:400-810-8888;phone-context=+86``.
"""

from __future__ import annotations

import re
import unicodedata

from geo.errors import DomainError

__all__ = ["InvalidPhone", "normalize_phone", "tel_uri"]

_SHAPE = re.compile(r"\+?[\d\s\-.()]+", re.ASCII)
_SEPARATORS = re.compile(r"[\s\-.()]", re.ASCII)
_EXPLICIT_EXTENSION = re.compile(
    r"(?P<number>.+?)\s*(?:转|ext\.?|x|#)\s*(?P<ext>\d{1,6})", re.I | re.ASCII
)
_DASH_EXTENSION = re.compile(r"(?P<number>.+?)\s*-\s*(?P<ext>\d{1,6})", re.ASCII)
_COUNTRY_PREFIX = re.compile(r"\+86|0086|86", re.ASCII)

_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_SERVICE = re.compile(r"[48]00\d{7}", re.ASCII)
_LANDLINE_3 = re.compile(r"(?P<area>010|02\d)(?P<local>[2-9]\d{7})", re.ASCII)
_LANDLINE_4 = re.compile(r"(?P<area>0[3-9]\d{2})(?P<local>[2-9]\d{6,7})", re.ASCII)

_EXPECTED = (
    "expected a mobile number (13800138000), a landline with area code (0371-67891234) "
    "or a 400/800 number (400-810-8888)"
)


class InvalidPhone(DomainError):
    """Text that is not a Chinese phone number this service can store and dial."""

    def __init__(self, text: str, reason: str = _EXPECTED) -> None:
        super().__init__(f"{text!r} is not a valid phone number: {reason}")
        self.text = text
        self.reason = reason


def normalize_phone(text: str) -> str:
    """Returns the canonical form of a Chinese phone number; raises InvalidPhone otherwise."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if explicit := _EXPLICIT_EXTENSION.fullmatch(cleaned):
        return _with_extension(text, explicit["number"], explicit["ext"])
    number = _number_or_none(cleaned)
    if number is not None:
        return number
    if dashed := _DASH_EXTENSION.fullmatch(cleaned):
        return _with_extension(text, dashed["number"], dashed["ext"])
    raise InvalidPhone(text, _reason(cleaned))


def tel_uri(phone: str) -> str:
    """Returns the RFC 3966 ``tel:`` URI of a phone number (normalised first)."""
    canonical = normalize_phone(phone)
    if _MOBILE.fullmatch(canonical):
        return f"tel:+86{canonical}"
    if canonical.startswith(("400", "800")):
        return f"tel:{canonical};phone-context=+86"
    area, local, *ext = canonical.split("-")
    uri = f"tel:+86-{area[1:]}-{local}"
    return f"{uri};ext={ext[0]}" if ext else uri


def _with_extension(text: str, number: str, ext: str) -> str:
    canonical = _number_or_none(number)
    if canonical is None:
        raise InvalidPhone(text, _reason(number))
    if not canonical.startswith("0"):
        raise InvalidPhone(text, "only landlines have extensions")
    return f"{canonical}-{ext}"


def _number_or_none(text: str) -> str | None:
    if not _SHAPE.fullmatch(text):
        return None
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+") and not digits.startswith("+86"):
        return None
    if prefix := _COUNTRY_PREFIX.match(digits):
        return _national(_after_country_code(digits[prefix.end() :]))
    return _national(digits)


def _after_country_code(rest: str) -> str:
    # After +86 a landline normally drops its trunk 0 (+86 371 ...); some writers keep it.
    if rest.startswith(("0", "1")) or _SERVICE.fullmatch(rest):
        return rest
    return f"0{rest}"


def _national(digits: str) -> str | None:
    if _MOBILE.fullmatch(digits):
        return digits
    if _SERVICE.fullmatch(digits):
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    landline = _LANDLINE_3.fullmatch(digits) or _LANDLINE_4.fullmatch(digits)
    return f"{landline['area']}-{landline['local']}" if landline else None


def _reason(text: str) -> str:
    digits = _SEPARATORS.sub("", text)
    if not digits:
        return f"it is empty; {_EXPECTED}"
    if digits.startswith("+") and not digits.startswith("+86"):
        return "only Chinese numbers (+86) are accepted"
    if not (digits.removeprefix("+").isdigit() and digits.isascii()):
        return f"it may hold only digits, spaces, - . ( ) and a leading +; {_EXPECTED}"
    if len(digits) <= 5 and digits[0] in "19":
        return (
            "short service numbers such as 110 or 12345 reach a city-wide service, "
            "not this place; give the place's own number"
        )
    if len(digits) in (7, 8):
        return "a landline needs its area code, e.g. 0371-67891234 in Zhengzhou"
    area_length = 3 if digits.startswith(("010", "02")) else 4
    if digits.startswith("0") and digits[area_length : area_length + 1] in ("0", "1"):
        return "a local number after the area code starts with 2-9"
    return _EXPECTED
