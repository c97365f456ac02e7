"""Masking and pseudonymization operators, one module per family.

Each operator has presidio-anonymizer's `Operator` methods and a typed, frozen config;
`masking.engine` adapts them to presidio itself.
"""

from typing import Any

from masking.operators._address import AddressConfig, AddressLevel, AddressMask
from masking.operators._bank_card import BankCardConfig, BankCardMask
from masking.operators._base import PRESIDIO_BOOKKEEPING_KEYS, MaskingOperator
from masking.operators._config import MaskConfig, build_config
from masking.operators._date_year import DateYearConfig, DateYearMask
from masking.operators._email import EmailConfig, EmailMask
from masking.operators._mobile import MobileConfig, MobileMask
from masking.operators._partial import PartialConfig, PartialMask, keep_ends
from masking.operators._person_name import PersonNameConfig, PersonNameMask
from masking.operators._pseudonym import MIN_KEY_BYTES, PseudonymConfig, Pseudonymizer
from masking.operators._redact import RedactConfig, RedactMask
from masking.operators._resident_id import ResidentIdConfig, ResidentIdMask
from masking.operators._surnames import COMPOUND_SURNAMES

__all__ = [
    "BUILTIN_OPERATORS",
    "COMPOUND_SURNAMES",
    "MIN_KEY_BYTES",
    "PRESIDIO_BOOKKEEPING_KEYS",
    "AddressConfig",
    "AddressLevel",
    "AddressMask",
    "BankCardConfig",
    "BankCardMask",
    "DateYearConfig",
    "DateYearMask",
    "EmailConfig",
    "EmailMask",
    "MaskConfig",
    "MaskingOperator",
    "MobileConfig",
    "MobileMask",
    "PartialConfig",
    "PartialMask",
    "PersonNameConfig",
    "PersonNameMask",
    "PseudonymConfig",
    "Pseudonymizer",
    "RedactConfig",
    "RedactMask",
    "ResidentIdConfig",
    "ResidentIdMask",
    "build_config",
    "keep_ends",
]

BUILTIN_OPERATORS: tuple[type[MaskingOperator[Any]], ...] = (
    PartialMask,
    MobileMask,
    ResidentIdMask,
    BankCardMask,
    PersonNameMask,
    EmailMask,
    AddressMask,
    DateYearMask,
    RedactMask,
    Pseudonymizer,
)
