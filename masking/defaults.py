"""Default mask per data category, as in DESIGN.md "Masking defaults"."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["DEFAULT_MASK_BY_CATEGORY", "FALLBACK_MASK", "default_mask_for"]

DEFAULT_MASK_BY_CATEGORY: Mapping[str, str] = MappingProxyType(
    {
        "contact.phone": "mobile",
        "identity.national_id": "resident_id",
        "financial.account": "bank_card",
        "identity.name": "person_name",
        "contact.email": "email",
        "contact.address": "address",
        "demographic.birth_date": "date_year",
        # Found inside free text: the last four characters, as on a receipt.
        "identity.credit_code": "partial",
        "identity.travel_document": "partial",
        # A plate has too few characters for any of them to be shown; an IP address
        # keeps nothing useful to a reader when partly shown.
        "identity.vehicle_plate": "redact",
        "network.ip_address": "redact",
    }
)

# A category without a specific mask shows nothing of the value.
FALLBACK_MASK = "redact"


def default_mask_for(category: str) -> str:
    """The operator name that masks `category` when policy names no operator."""
    return DEFAULT_MASK_BY_CATEGORY.get(category, FALLBACK_MASK)
