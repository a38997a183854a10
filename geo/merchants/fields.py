"""Validation of the fields only merchants have, for writes and imports (the shared ones are
checked in ``geo.places.fields``); raises InvalidField naming the field."""

from __future__ import annotations

from typing import Final

from geo.merchants.models import MerchantStatus
from geo.places.errors import InvalidField

_TRUE: Final = frozenset({"true", "t", "yes", "y", "1", "是", "已核实", "已认证"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0", "否", "未核实", "未认证", ""})


def clean_status(value: str) -> MerchantStatus:
    try:
        return MerchantStatus(value.strip().upper())
    except ValueError:
        allowed = ", ".join(s.value for s in MerchantStatus)
        raise InvalidField("status", f"must be one of {allowed}, got {value!r}") from None


def clean_verified(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidField("verified", f"expected true or false, got {value!r}")
