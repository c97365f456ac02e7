"""Vehicle plates, ordinary and new-energy."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


@pytest.mark.parametrize(
    "plate",
    ["京A12345", "粤B8Z6C9", "沪A·12345", "粤BD12345", "粤B12345D", "京AF1234", "苏E1234学"],
)
def test_given_plate_then_found(detector: PiiDetector, plate: str) -> None:
    assert values_of(detector, f"车牌号{plate}的车辆已登记停车月卡。", "CN_VEHICLE_PLATE") == [
        plate
    ]


def test_given_plate_without_context_then_still_found(detector: PiiDetector) -> None:
    assert values_of(detector, "客户车辆浙A12345预约保养", "CN_VEHICLE_PLATE") == ["浙A12345"]


@pytest.mark.parametrize(
    "text", ["车牌京I12345", "车牌京ABCDE", "车牌京A1234", "车牌京A1234567", "京A12345X"]
)
def test_given_malformed_plate_then_not_reported(detector: PiiDetector, text: str) -> None:
    assert values_of(detector, text, "CN_VEHICLE_PLATE") == []


def test_given_plate_in_english_sentence_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, "Vehicle 粤B12345 parked.", "CN_VEHICLE_PLATE") == ["粤B12345"]
