"""Our recognizers, one module per family; `RECOGNIZER_CLASSES` is the registry."""

from masking.detection.recognizers._address import AddressRecognizer
from masking.detection.recognizers._bank_card import BankCardRecognizer
from masking.detection.recognizers._base import Finding, RegexRecognizer, WardgateRecognizer
from masking.detection.recognizers._email import EmailRecognizer
from masking.detection.recognizers._ip import IpAddressRecognizer
from masking.detection.recognizers._person_en import EnglishPersonRecognizer
from masking.detection.recognizers._person_zh import ChinesePersonRecognizer
from masking.detection.recognizers._phone import LandlineRecognizer, MobileRecognizer
from masking.detection.recognizers._resident_id import ResidentIdRecognizer
from masking.detection.recognizers._travel_documents import (
    ExitEntryPermitRecognizer,
    HkMacauPermitRecognizer,
    PassportRecognizer,
)
from masking.detection.recognizers._uscc import UsccRecognizer, is_valid_uscc
from masking.detection.recognizers._vehicle_plate import VehiclePlateRecognizer

__all__ = [
    "RECOGNIZER_CLASSES",
    "AddressRecognizer",
    "BankCardRecognizer",
    "ChinesePersonRecognizer",
    "EmailRecognizer",
    "EnglishPersonRecognizer",
    "ExitEntryPermitRecognizer",
    "Finding",
    "HkMacauPermitRecognizer",
    "IpAddressRecognizer",
    "LandlineRecognizer",
    "MobileRecognizer",
    "PassportRecognizer",
    "RegexRecognizer",
    "ResidentIdRecognizer",
    "UsccRecognizer",
    "VehiclePlateRecognizer",
    "WardgateRecognizer",
    "is_valid_uscc",
]

# Every class is registered for every language: notes mix scripts ("客户 John Smith",
# "Mr. Wang, 手机13912345678"), and a recognizer with nothing to match costs one scan.
RECOGNIZER_CLASSES: tuple[type[WardgateRecognizer], ...] = (
    ResidentIdRecognizer,
    MobileRecognizer,
    LandlineRecognizer,
    BankCardRecognizer,
    UsccRecognizer,
    PassportRecognizer,
    HkMacauPermitRecognizer,
    ExitEntryPermitRecognizer,
    VehiclePlateRecognizer,
    EmailRecognizer,
    IpAddressRecognizer,
    ChinesePersonRecognizer,
    EnglishPersonRecognizer,
    AddressRecognizer,
)
