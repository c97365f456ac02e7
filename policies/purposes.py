"""Purposes of processing and their PIPL legal basis (Art. 13)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from policies.errors import PolicyFileError


class LegalBasis(StrEnum):
    CONSENT = "consent"
    CONTRACT = "contract"
    HR_MANAGEMENT = "hr_management"
    LEGAL_OBLIGATION = "legal_obligation"
    EMERGENCY = "emergency"
    NEWS_PUBLIC_INTEREST = "news_public_interest"
    PUBLISHED_DATA = "published_data"
    OTHER_LAW = "other_law"


@dataclass(frozen=True, slots=True)
class Purpose:
    id: str
    name_zh: str
    name_en: str
    legal_basis: LegalBasis

    def to_document(self) -> dict[str, str]:
        return {
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "legal_basis": self.legal_basis.value,
        }


def parse_purposes(raw: Any) -> dict[str, Purpose]:
    """Parse the `purposes:` mapping; a malformed entry refuses the whole file."""
    if not isinstance(raw, dict) or not raw:
        msg = "purposes: expected a non-empty mapping of purpose id to its definition"
        raise PolicyFileError(msg)
    purposes: dict[str, Purpose] = {}
    for purpose_id, spec in raw.items():
        where = f"purposes.{purpose_id}"
        if not isinstance(spec, dict):
            msg = f"{where}: expected a mapping"
            raise PolicyFileError(msg)
        try:
            basis = LegalBasis(str(spec.get("legal_basis")))
        except ValueError:
            allowed = ", ".join(b.value for b in LegalBasis)
            msg = f"{where}: legal_basis must be one of {allowed}"
            raise PolicyFileError(msg) from None
        purposes[purpose_id] = Purpose(
            id=purpose_id,
            name_zh=str(spec.get("name_zh", purpose_id)),
            name_en=str(spec.get("name_en", purpose_id)),
            legal_basis=basis,
        )
    return purposes
