"""Write-side field validators: policies.formats."""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path

import pytest
import yaml
from stdnum import luhn
from stdnum.cn import ric
from ulid import ULID

from policies.formats import (
    CHANNELS,
    FORMATS,
    REASONS,
    REGIONS,
    TIERS,
    VALIDATORS,
    FieldInvalid,
    UnknownFormatError,
    birth_date_from_resident_id,
    check_consistency,
    today_in_china,
    validate,
)

CATALOG = Path(__file__).resolve().parents[2] / "policies" / "catalog.yaml"

# Synthetic values only: real area codes (110101 is Beijing Dongcheng) with made-up
# sequence numbers.
BEIJING_DONGCHENG = "110101"


def resident_id(birth: dt.date, sequence: str = "123", area: str = BEIJING_DONGCHENG) -> str:
    """A synthetic resident ID with a correct GB 11643 check character."""
    body = f"{area}{birth:%Y%m%d}{sequence}"
    # calc_check_digit ignores the last character of what it is given.
    return body + ric.calc_check_digit(body + "0")


def with_wrong_check_char(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def card(prefix: str) -> str:
    """A synthetic card number: `prefix` plus a correct Luhn digit."""
    return prefix + luhn.calc_check_digit(prefix)


BIRTH = dt.date(1990, 3, 7)
ID_1990 = resident_id(BIRTH)
ID_WITH_X = "11010119900307002X"
assert ric.calc_check_digit(ID_WITH_X) == "X"  # the fixture itself must be right
TODAY = today_in_china()
TOMORROW = TODAY + dt.timedelta(days=1)
CARD_16 = card("622588000000123")
CARD_12 = card("40000000001")
CARD_19 = card("621700000000000012")

ULID_TEXT = "01J9Z8X7Y6W5V4T3S2R1Q0P9N8"
CUSTOMER_ID = f"cus_{ULID_TEXT}"

EMAIL_254 = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61
assert len(EMAIL_254) == 254


VALID = [
    # customer_id / record_id: validation only, returned unchanged
    pytest.param("customer_id", CUSTOMER_ID, CUSTOMER_ID, id="customer_id"),
    pytest.param("customer_id", "cus_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", None, id="customer_id-max-ulid"),
    pytest.param("record_id", f"int_{ULID_TEXT}", None, id="record_id-interaction"),
    pytest.param("record_id", f"ord_{ULID_TEXT}", None, id="record_id-order"),
    # person_name
    pytest.param("person_name", "张三", None, id="name-han"),
    pytest.param("person_name", "  欧阳娜娜 \n", "欧阳娜娜", id="name-stripped"),
    pytest.param("person_name", "阿卜杜拉·买买提", None, id="name-middle-dot"),
    pytest.param("person_name", "Zhang San", None, id="name-latin"),
    pytest.param("person_name", "\ue000三", None, id="name-private-use-rare-char"),
    pytest.param("person_name", "A" * 64, None, id="name-64"),
    pytest.param("person_name", " " + "A" * 64 + " ", "A" * 64, id="name-64-after-strip"),
    # cn_resident_id
    pytest.param("cn_resident_id", ID_1990, None, id="resident-id"),
    pytest.param("cn_resident_id", ID_WITH_X, None, id="resident-id-x"),
    pytest.param("cn_resident_id", ID_WITH_X.lower(), ID_WITH_X, id="resident-id-lower-x"),
    pytest.param("cn_resident_id", f"  {ID_1990}\t", ID_1990, id="resident-id-stripped"),
    pytest.param(
        "cn_resident_id", resident_id(dt.date(1900, 1, 1)), None, id="resident-id-born-1900"
    ),
    pytest.param("cn_resident_id", resident_id(TODAY), None, id="resident-id-born-today"),
    pytest.param(
        "cn_resident_id", resident_id(dt.date(2000, 2, 29)), None, id="resident-id-leap-day"
    ),
    # The area code is where the holder was registered when the card was issued, so
    # it may be younger than the holder, or not a mainland area at all.
    pytest.param(
        "cn_resident_id",
        resident_id(dt.date(1960, 1, 1), area="310115"),
        None,
        id="resident-id-pudong-older-than-district",
    ),
    pytest.param(
        "cn_resident_id",
        resident_id(dt.date(1995, 1, 1), area="500112"),
        None,
        id="resident-id-chongqing-before-1997",
    ),
    pytest.param(
        "cn_resident_id",
        resident_id(dt.date(1985, 6, 1), area="810000"),
        None,
        id="residence-permit-hong-kong",
    ),
    # cn_mobile
    pytest.param("cn_mobile", "13812345678", None, id="mobile-plain"),
    pytest.param("cn_mobile", "+86 138 1234 5678", "13812345678", id="mobile-spaced"),
    pytest.param("cn_mobile", "+8613812345678", "13812345678", id="mobile-e164"),
    pytest.param("cn_mobile", "138-1234-5678", "13812345678", id="mobile-hyphens"),
    pytest.param("cn_mobile", "0086 138 1234 5678", "13812345678", id="mobile-00-prefix"),
    pytest.param("cn_mobile", " 19912345678 ", "19912345678", id="mobile-199-stripped"),
    # email
    pytest.param("email", "zhang.san@example.com", None, id="email"),
    pytest.param("email", "Zhang.San@Example.COM", "Zhang.San@example.com", id="email-case"),
    pytest.param("email", "  li+crm@mail.example.cn ", "li+crm@mail.example.cn", id="email-strip"),
    pytest.param("email", "用户@例子.中国", None, id="email-idn"),
    pytest.param("email", EMAIL_254, None, id="email-254"),
    # address
    pytest.param("address", "北京市朝阳区建国路88号", None, id="address"),
    pytest.param("address", "  上海市浦东新区 ", "上海市浦东新区", id="address-stripped"),
    pytest.param("address", "A" * 200, None, id="address-200"),
    # bank_card
    pytest.param("bank_card", CARD_16, None, id="card-16"),
    pytest.param("bank_card", CARD_12, None, id="card-12"),
    pytest.param("bank_card", CARD_19, None, id="card-19"),
    pytest.param(
        "bank_card",
        f"{CARD_16[:4]} {CARD_16[4:8]} {CARD_16[8:12]} {CARD_16[12:]}",
        CARD_16,
        id="card-spaces",
    ),
    pytest.param("bank_card", f"{CARD_16[:8]}-{CARD_16[8:]}", CARD_16, id="card-hyphen"),
    # date
    pytest.param("date", "1990-03-07", None, id="date"),
    pytest.param("date", "1900-01-01", None, id="date-earliest"),
    pytest.param("date", "2000-02-29", None, id="date-leap-day"),
    pytest.param("date", TODAY.isoformat(), None, id="date-today"),
    # datetime
    pytest.param(
        "datetime", "2024-05-01T10:30:00+08:00", "2024-05-01T02:30:00+00:00", id="datetime-cst"
    ),
    pytest.param("datetime", "2024-05-01T02:30:00Z", "2024-05-01T02:30:00+00:00", id="datetime-z"),
    pytest.param(
        "datetime",
        "2024-01-01T01:00:00.250000+08:00",
        "2023-12-31T17:00:00.250000+00:00",
        id="datetime-crosses-midnight",
    ),
    pytest.param(
        "datetime", "2024-05-01 02:30:00-05:00", "2024-05-01T07:30:00+00:00", id="datetime-space"
    ),
    # choices
    pytest.param("region", "北京市", None, id="region"),
    pytest.param("region", "新疆维吾尔自治区", None, id="region-autonomous"),
    pytest.param("tier", "gold", None, id="tier"),
    pytest.param("channel", "wechat", None, id="channel"),
    # text
    pytest.param("text", "", None, id="text-empty"),
    pytest.param("text", "  客户来电\n询问订单 ", None, id="text-not-stripped"),
    pytest.param("text", "A" * 4000, None, id="text-4000"),
    # amount
    pytest.param("amount", "128.50", None, id="amount-text"),
    pytest.param("amount", "128.5", "128.50", id="amount-one-decimal"),
    pytest.param("amount", "128", "128.00", id="amount-whole-text"),
    pytest.param("amount", 128, "128.00", id="amount-int"),
    pytest.param("amount", 128.5, "128.50", id="amount-float"),
    pytest.param("amount", 19.99, "19.99", id="amount-float-two-decimals"),
    pytest.param("amount", 0, "0.00", id="amount-zero"),
    pytest.param("amount", "0", "0.00", id="amount-zero-text"),
    pytest.param("amount", -0.0, "0.00", id="amount-negative-zero"),
    pytest.param("amount", 1_000_000_000, "1000000000.00", id="amount-max-int"),
    pytest.param("amount", "1000000000.00", None, id="amount-max-text"),
    pytest.param("amount", 1e9, "1000000000.00", id="amount-max-float"),
    # rating
    pytest.param("rating", 1, None, id="rating-1"),
    pytest.param("rating", 5, None, id="rating-5"),
]


@pytest.mark.parametrize(("format_name", "value", "expected"), VALID)
def test_given_a_valid_value_then_the_normalized_value_is_returned(
    format_name: str, value: object, expected: object
) -> None:
    want = value if expected is None else expected
    assert validate(format_name, value) == want


INVALID = [
    # customer_id / record_id
    pytest.param("customer_id", f"cus_{ULID_TEXT.lower()}", "invalid_id", id="cid-lower"),
    pytest.param("customer_id", f"CUS_{ULID_TEXT}", "invalid_id", id="cid-prefix-case"),
    pytest.param("customer_id", f"int_{ULID_TEXT}", "invalid_id", id="cid-other-prefix"),
    pytest.param("customer_id", ULID_TEXT, "invalid_id", id="cid-no-prefix"),
    pytest.param("customer_id", CUSTOMER_ID[:-1], "invalid_id", id="cid-25"),
    pytest.param("customer_id", CUSTOMER_ID + "0", "invalid_id", id="cid-27"),
    pytest.param("customer_id", "cus_8" + ULID_TEXT[1:], "invalid_id", id="cid-overflow"),
    pytest.param("customer_id", CUSTOMER_ID[:-1] + "U", "invalid_id", id="cid-not-crockford"),
    pytest.param("customer_id", CUSTOMER_ID + "\n", "invalid_id", id="cid-newline"),
    pytest.param("customer_id", " " + CUSTOMER_ID, "invalid_id", id="cid-space"),
    pytest.param("customer_id", "", "invalid_id", id="cid-empty"),
    pytest.param("record_id", CUSTOMER_ID, "invalid_id", id="rid-customer"),
    pytest.param("record_id", f"ord-{ULID_TEXT}", "invalid_id", id="rid-separator"),
    # person_name
    pytest.param("person_name", "", "required", id="name-empty"),
    pytest.param("person_name", " \t\n", "required", id="name-blank"),
    pytest.param("person_name", "A" * 65, "too_long", id="name-65"),
    pytest.param("person_name", "张\n三", "invalid_name", id="name-newline"),
    pytest.param("person_name", "张\x00三", "invalid_name", id="name-nul"),
    pytest.param("person_name", "张\u200b三", "invalid_name", id="name-zero-width"),
    pytest.param("person_name", "张\u202e三", "invalid_name", id="name-bidi-override"),
    pytest.param("person_name", "张\ud800三", "invalid_name", id="name-lone-surrogate"),
    pytest.param("person_name", "张\u2028三", "invalid_name", id="name-line-separator"),
    # cn_resident_id
    pytest.param(
        "cn_resident_id", with_wrong_check_char(ID_1990), "invalid_id_number", id="rid-check"
    ),
    pytest.param("cn_resident_id", ID_1990[:-1], "invalid_id_number", id="rid-17"),
    pytest.param("cn_resident_id", ID_1990 + "1", "invalid_id_number", id="rid-19"),
    pytest.param("cn_resident_id", "110101900307123", "invalid_id_number", id="rid-15-legacy"),
    pytest.param(
        "cn_resident_id", resident_id(TOMORROW), "invalid_id_number", id="rid-born-tomorrow"
    ),
    pytest.param(
        "cn_resident_id",
        resident_id(dt.date(1899, 12, 31)),
        "invalid_id_number",
        id="rid-born-1899",
    ),
    pytest.param(
        "cn_resident_id",
        "11010119900230123" + ric.calc_check_digit("110101199002301230"),
        "invalid_id_number",
        id="rid-no-such-date",
    ),
    pytest.param(
        "cn_resident_id",
        f"{ID_1990[:6]} {ID_1990[6:14]} {ID_1990[14:]}",
        "invalid_id_number",
        id="rid-inner-spaces",
    ),
    pytest.param(
        "cn_resident_id",
        ID_1990.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "invalid_id_number",
        id="rid-fullwidth",
    ),
    pytest.param("cn_resident_id", ID_1990[:-1] + "Y", "invalid_id_number", id="rid-letter"),
    pytest.param("cn_resident_id", "", "invalid_id_number", id="rid-empty"),
    # cn_mobile
    pytest.param("cn_mobile", "010-12345678", "invalid_phone", id="phone-landline"),
    pytest.param("cn_mobile", "+1 650 253 0000", "invalid_phone", id="phone-us"),
    pytest.param("cn_mobile", "+852 9123 4567", "invalid_phone", id="phone-hong-kong"),
    pytest.param("cn_mobile", "12345678901", "invalid_phone", id="phone-bad-prefix"),
    pytest.param("cn_mobile", "1381234567", "invalid_phone", id="phone-10-digits"),
    pytest.param("cn_mobile", "138123456789", "invalid_phone", id="phone-12-digits"),
    pytest.param("cn_mobile", "138-HELL-5678", "invalid_phone", id="phone-letters"),
    pytest.param("cn_mobile", "１３８１２３４５６７８", "invalid_phone", id="phone-fullwidth"),
    pytest.param("cn_mobile", "13812345678 ext 5", "invalid_phone", id="phone-extension"),
    pytest.param("cn_mobile", "+86 12", "invalid_phone", id="phone-short"),
    pytest.param("cn_mobile", "", "invalid_phone", id="phone-empty"),
    # email
    pytest.param("email", "zhang.example.com", "invalid_email", id="email-no-at"),
    pytest.param("email", "a@@example.com", "invalid_email", id="email-two-at"),
    pytest.param("email", "a@b@example.com", "invalid_email", id="email-two-at-apart"),
    pytest.param("email", "zhang san@example.com", "invalid_email", id="email-space"),
    pytest.param("email", "zhang\n@example.com", "invalid_email", id="email-newline"),
    pytest.param("email", "zhang@localhost", "invalid_email", id="email-no-dot"),
    pytest.param("email", "@example.com", "invalid_email", id="email-no-local"),
    pytest.param("email", "zhang@", "invalid_email", id="email-no-domain"),
    pytest.param("email", "zhang@.example.com", "invalid_email", id="email-empty-label"),
    pytest.param("email", "zhang@example..com", "invalid_email", id="email-double-dot"),
    pytest.param("email", "zhang@example.com.", "invalid_email", id="email-trailing-dot"),
    pytest.param("email", "zhang@-example.com", "invalid_email", id="email-hyphen-label"),
    pytest.param("email", "zhang.@example.com", "invalid_email", id="email-local-dot"),
    pytest.param("email", "zh..ang@example.com", "invalid_email", id="email-local-dots"),
    pytest.param("email", "zhang@1.2.3.4", "invalid_email", id="email-ip"),
    pytest.param("email", "<zhang@example.com>", "invalid_email", id="email-brackets"),
    pytest.param("email", "a" * 65 + "@example.com", "invalid_email", id="email-local-65"),
    pytest.param("email", "a" + EMAIL_254, "invalid_email", id="email-255"),
    pytest.param("email", "", "invalid_email", id="email-empty"),
    # address
    pytest.param("address", "", "required", id="address-empty"),
    pytest.param("address", "   ", "required", id="address-blank"),
    pytest.param("address", "A" * 201, "too_long", id="address-201"),
    # bank_card
    pytest.param("bank_card", with_wrong_check_char(CARD_16), "invalid_bank_card", id="card-luhn"),
    pytest.param("bank_card", card("4000000000"), "invalid_bank_card", id="card-11"),
    pytest.param("bank_card", card("6217000000000000123"), "invalid_bank_card", id="card-20"),
    pytest.param("bank_card", CARD_16[:-1] + "A", "invalid_bank_card", id="card-letter"),
    pytest.param(
        "bank_card",
        CARD_16.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "invalid_bank_card",
        id="card-fullwidth",
    ),
    pytest.param("bank_card", CARD_16 + "\n", "invalid_bank_card", id="card-newline"),
    pytest.param("bank_card", "", "invalid_bank_card", id="card-empty"),
    # date
    pytest.param("date", TOMORROW.isoformat(), "invalid_date", id="date-tomorrow"),
    pytest.param("date", "1899-12-31", "invalid_date", id="date-before-1900"),
    pytest.param("date", "1990-02-30", "invalid_date", id="date-no-such-day"),
    pytest.param("date", "19900307", "invalid_date", id="date-basic-format"),
    pytest.param("date", "1990-3-7", "invalid_date", id="date-short-parts"),
    pytest.param("date", "1990-W10-3", "invalid_date", id="date-week"),
    pytest.param("date", "1990-03-07T00:00:00", "invalid_date", id="date-with-time"),
    pytest.param("date", "1990-03-07\n", "invalid_date", id="date-newline"),
    pytest.param("date", "１９９０-03-07", "invalid_date", id="date-fullwidth"),
    pytest.param("date", "", "invalid_date", id="date-empty"),
    # datetime
    pytest.param("datetime", "2024-05-01T10:30:00", "invalid_datetime", id="datetime-naive"),
    pytest.param("datetime", "2024-05-01", "invalid_datetime", id="datetime-date-only"),
    pytest.param("datetime", "2024-13-01T00:00:00+08:00", "invalid_datetime", id="dt-month"),
    pytest.param("datetime", "yesterday", "invalid_datetime", id="datetime-words"),
    pytest.param(
        "datetime", "0001-01-01T00:00:00+01:00", "invalid_datetime", id="datetime-overflow"
    ),
    pytest.param(
        "datetime", "２０２４-05-01T10:30:00+08:00", "invalid_datetime", id="datetime-fullwidth"
    ),
    pytest.param("datetime", "", "invalid_datetime", id="datetime-empty"),
    # choices
    pytest.param("region", "北京", "invalid_choice", id="region-short"),
    pytest.param("region", "Beijing", "invalid_choice", id="region-latin"),
    pytest.param("region", " 北京市", "invalid_choice", id="region-space"),
    pytest.param("tier", "Gold", "invalid_choice", id="tier-case"),
    pytest.param("tier", "diamond", "invalid_choice", id="tier-unknown"),
    pytest.param("channel", "sms", "invalid_choice", id="channel-unknown"),
    pytest.param("channel", "", "invalid_choice", id="channel-empty"),
    # text
    pytest.param("text", "A" * 4001, "too_long", id="text-4001"),
    # amount
    pytest.param("amount", -1, "invalid_amount", id="amount-negative-int"),
    pytest.param("amount", "-1", "invalid_amount", id="amount-negative-text"),
    pytest.param("amount", -0.01, "invalid_amount", id="amount-negative-float"),
    pytest.param("amount", "1000000000.01", "invalid_amount", id="amount-over-max-text"),
    pytest.param("amount", 1_000_000_001, "invalid_amount", id="amount-over-max-int"),
    pytest.param("amount", 1_000_000_000.01, "invalid_amount", id="amount-over-max-float"),
    pytest.param("amount", 10**40, "invalid_amount", id="amount-huge-int"),
    pytest.param("amount", "1.234", "invalid_amount", id="amount-three-decimals"),
    pytest.param("amount", 0.1 + 0.2, "invalid_amount", id="amount-float-noise"),
    pytest.param("amount", 1e-7, "invalid_amount", id="amount-tiny-float"),
    pytest.param("amount", "1e3", "invalid_amount", id="amount-exponent"),
    pytest.param("amount", "NaN", "invalid_amount", id="amount-nan-text"),
    pytest.param("amount", float("nan"), "invalid_amount", id="amount-nan"),
    pytest.param("amount", float("inf"), "invalid_amount", id="amount-inf"),
    pytest.param("amount", "1,000", "invalid_amount", id="amount-grouping"),
    pytest.param("amount", ".5", "invalid_amount", id="amount-no-integer-part"),
    pytest.param("amount", "5.", "invalid_amount", id="amount-no-fraction"),
    pytest.param("amount", "+5", "invalid_amount", id="amount-plus"),
    pytest.param("amount", " 5", "invalid_amount", id="amount-space"),
    pytest.param("amount", "", "invalid_amount", id="amount-empty"),
    # rating
    pytest.param("rating", 0, "invalid_rating", id="rating-0"),
    pytest.param("rating", 6, "invalid_rating", id="rating-6"),
    pytest.param("rating", -1, "invalid_rating", id="rating-negative"),
    pytest.param("rating", 5.0, "invalid_rating", id="rating-float-whole"),
    pytest.param("rating", 3.5, "invalid_rating", id="rating-float"),
]


@pytest.mark.parametrize(("format_name", "value", "reason"), INVALID)
def test_given_an_invalid_value_then_field_invalid_names_the_reason(
    format_name: str, value: object, reason: str
) -> None:
    with pytest.raises(FieldInvalid) as caught:
        validate(format_name, value)
    assert caught.value.reason == reason


STRING_FORMATS = sorted(FORMATS - {"amount", "rating"})
NOT_A_STRING: list[object] = [True, False, 0, 13812345678, 1.5, [], ["张三"], {}, {"v": "x"}]
NOT_AN_AMOUNT: list[object] = [True, False, [], ["1.00"], {}, {"amount": 1}]
NOT_A_RATING: list[object] = [True, False, "3", [], [3], {}, {"rating": 3}]

WRONG_TYPES = (
    [(fmt, value) for fmt in STRING_FORMATS for value in NOT_A_STRING]
    + [("amount", value) for value in NOT_AN_AMOUNT]
    + [("rating", value) for value in NOT_A_RATING]
)


@pytest.mark.parametrize(("format_name", "value"), WRONG_TYPES)
def test_given_the_wrong_json_type_then_the_reason_is_invalid_type(
    format_name: str, value: object
) -> None:
    with pytest.raises(FieldInvalid) as caught:
        validate(format_name, value)
    assert caught.value.reason == "invalid_type"


@pytest.mark.parametrize(("format_name", "value"), [("amount", True), ("rating", True)])
def test_given_a_bool_where_a_number_is_expected_then_it_is_not_taken_as_one(
    format_name: str, value: bool
) -> None:
    """`True == 1` in Python; JSON `true` must still not pass as 1."""
    with pytest.raises(FieldInvalid, match=r"^invalid_type$"):
        validate(format_name, value)


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_given_null_on_an_optional_field_then_none_clears_it(format_name: str) -> None:
    assert validate(format_name, None) is None


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_given_null_on_a_required_field_then_the_reason_is_required(format_name: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        validate(format_name, None, required=True)
    assert caught.value.reason == "required"


def test_given_a_value_on_a_required_field_then_it_is_validated_as_usual() -> None:
    assert validate("person_name", " 张三 ", required=True) == "张三"


def test_given_an_unknown_format_then_unknown_format_error() -> None:
    with pytest.raises(UnknownFormatError) as caught:
        validate("passport_number", "E12345678")
    assert not isinstance(caught.value, FieldInvalid)
    assert "E12345678" not in str(caught.value)


def test_given_the_catalog_then_every_format_it_names_has_a_validator() -> None:
    catalog = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    named = {
        spec["format"]
        for entity in catalog["entities"].values()
        for spec in entity["fields"].values()
    }
    assert named <= FORMATS
    assert set(VALIDATORS) == FORMATS


def test_given_the_registry_then_it_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        VALIDATORS["email"] = lambda value: value  # type: ignore[index]


# Personal-looking values that fail, including ones a library rejects with a message
# of its own that quotes the input.
LEAKY = [
    pytest.param("person_name", "张三\x00李四王五", id="name"),
    pytest.param("person_name", "王" * 65, id="name-too-long"),
    pytest.param("cn_resident_id", with_wrong_check_char(ID_1990), id="resident-id-checksum"),
    pytest.param("cn_resident_id", resident_id(TOMORROW), id="resident-id-birth-date"),
    pytest.param("cn_mobile", "+86 139 0000", id="phone-parse"),
    pytest.param("cn_mobile", "010-87654321", id="phone-landline"),
    pytest.param("email", "zhang.san@@example.com", id="email"),
    pytest.param("address", "北京市朝阳区" * 40, id="address"),
    pytest.param("bank_card", with_wrong_check_char(CARD_16), id="card-luhn"),
    pytest.param("date", "1990-02-30", id="date-parse"),
    pytest.param("datetime", "2024-13-01T08:00:00+08:00", id="datetime-parse"),
    pytest.param("datetime", "0001-01-01T00:00:00+01:00", id="datetime-overflow"),
    pytest.param("amount", "1234567.891", id="amount"),
    pytest.param("customer_id", "cus_zhangsan13812345678", id="customer-id"),
]


@pytest.mark.parametrize(("format_name", "value"), LEAKY)
def test_given_an_invalid_value_then_no_part_of_the_error_contains_it(
    format_name: str, value: str
) -> None:
    with pytest.raises(FieldInvalid) as caught:
        validate(format_name, value)
    error = caught.value
    assert error.reason in REASONS
    assert value not in error.reason
    assert value not in str(error)
    assert value not in repr(error)
    assert all(value not in str(arg) for arg in error.args)
    # A chained library exception would print the value in any logged traceback.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert value not in "".join(traceback.format_exception(error))


def test_given_field_invalid_then_its_message_is_the_reason_alone() -> None:
    assert str(FieldInvalid("invalid_phone")) == "invalid_phone"


def test_given_the_choice_constants_then_they_match_the_contract() -> None:
    assert len(REGIONS) == len(set(REGIONS)) == 34
    assert {"北京市", "内蒙古自治区", "香港特别行政区", "澳门特别行政区", "台湾省"} <= set(REGIONS)
    assert TIERS == ("standard", "silver", "gold", "platinum")
    assert CHANNELS == ("phone", "web", "app", "store", "wechat", "email")


@pytest.mark.parametrize(
    ("format_name", "choices"), [("region", REGIONS), ("tier", TIERS), ("channel", CHANNELS)]
)
def test_given_every_listed_choice_then_it_is_accepted(
    format_name: str, choices: tuple[str, ...]
) -> None:
    assert [validate(format_name, choice) for choice in choices] == list(choices)


def test_given_a_ulid_from_python_ulid_then_it_is_a_valid_customer_id() -> None:
    customer_id = f"cus_{ULID()}"
    assert validate("customer_id", customer_id) == customer_id


@pytest.mark.parametrize(
    ("id_number", "expected"),
    [
        pytest.param(ID_1990, BIRTH, id="digit-check"),
        pytest.param(ID_WITH_X.lower(), BIRTH, id="x-check-lower-case"),
        pytest.param(resident_id(dt.date(2000, 2, 29)), dt.date(2000, 2, 29), id="leap-day"),
    ],
)
def test_given_a_resident_id_then_its_birth_date_is_extracted(
    id_number: str, expected: dt.date
) -> None:
    assert birth_date_from_resident_id(id_number) == expected


def test_given_an_invalid_resident_id_then_no_birth_date_is_extracted() -> None:
    with pytest.raises(FieldInvalid, match=r"^invalid_id_number$"):
        birth_date_from_resident_id(with_wrong_check_char(ID_1990))


MISMATCH = [("birth_date", "birth_date_mismatch")]

CONSISTENCY = [
    pytest.param({"id_number": ID_1990, "birth_date": "1990-03-07"}, [], id="agree"),
    pytest.param({"id_number": ID_1990, "birth_date": BIRTH}, [], id="agree-date-object"),
    pytest.param({"id_number": ID_WITH_X.lower(), "birth_date": "1990-03-07"}, [], id="agree-x"),
    pytest.param({"id_number": ID_1990, "birth_date": "1990-03-08"}, MISMATCH, id="differ"),
    pytest.param(
        {"id_number": ID_1990, "birth_date": dt.date(1991, 3, 7)}, MISMATCH, id="differ-date"
    ),
    pytest.param({"id_number": ID_1990}, [], id="no-birth-date"),
    pytest.param({"birth_date": "1990-03-08"}, [], id="no-id-number"),
    pytest.param({"id_number": ID_1990, "birth_date": None}, [], id="birth-date-cleared"),
    pytest.param({"id_number": None, "birth_date": "1990-03-08"}, [], id="id-number-cleared"),
    pytest.param(
        {"id_number": with_wrong_check_char(ID_1990), "birth_date": "1991-01-01"},
        [],
        id="invalid-id-number-reported-elsewhere",
    ),
    pytest.param(
        {"id_number": ID_1990, "birth_date": "07/03/1990"},
        [],
        id="invalid-birth-date-reported-elsewhere",
    ),
    pytest.param({}, [], id="empty"),
]


@pytest.mark.parametrize(("record", "expected"), CONSISTENCY)
def test_given_a_record_then_check_consistency_reports_birth_date_mismatch(
    record: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert check_consistency(record) == expected
