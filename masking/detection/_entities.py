"""What the detector reports: entity types, their data categories, and one finding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["ENTITY_CATEGORY", "ENTITY_TYPES", "DetectedEntity"]

# Policies and field plans speak in data categories; a detected entity is masked as a
# field of its category would be, so every type maps to exactly one category.
ENTITY_CATEGORY: Mapping[str, str] = MappingProxyType(
    {
        "PERSON": "identity.name",
        "CN_RESIDENT_ID": "identity.national_id",
        "CN_MOBILE": "contact.phone",
        "CN_LANDLINE": "contact.phone",
        "BANK_CARD": "financial.account",
        "CN_USCC": "identity.credit_code",
        "CN_PASSPORT": "identity.travel_document",
        "CN_HK_MACAU_PERMIT": "identity.travel_document",
        "CN_EXIT_ENTRY_PERMIT": "identity.travel_document",
        "CN_VEHICLE_PLATE": "identity.vehicle_plate",
        "EMAIL_ADDRESS": "contact.email",
        "IP_ADDRESS": "network.ip_address",
        "CN_ADDRESS": "contact.address",
    }
)
ENTITY_TYPES: tuple[str, ...] = tuple(ENTITY_CATEGORY)


@dataclass(frozen=True, slots=True)
class DetectedEntity:
    """One entity found in a text: `text[start:end]` is the value (never stored here)."""

    entity_type: str
    start: int
    end: int
    score: float
