"""The CSV audit export opens in a spreadsheet with its Chinese intact.

A store of this module's own: the test changes a purpose's Chinese name, so the log
holds Chinese text (the diff of the change), which the shared store must not see.
"""

from __future__ import annotations

import csv
import io

from tests.helpers.api import Api
from tests.helpers.policy import admin_patch, restored_policy

COMPLIANCE = ("compliance-officer", "compliance_audit")


def test_given_chinese_in_an_entry_then_csv_export_is_utf8_with_bom_and_keeps_it(
    own_api: Api,
) -> None:
    with restored_policy(own_api):
        changed = admin_patch(own_api, "/v1/policy/purposes/marketing", {"name_zh": "营销活动"})
        assert changed.status_code == 200, changed.text

        response = own_api.get("/v1/audit/export", *COMPLIANCE, params={"format": "csv"})

    assert response.status_code == 200
    raw: bytes = response.content
    # A spreadsheet decides the encoding from the first bytes: UTF-8's byte order mark.
    assert raw[:3] == b"\xef\xbb\xbf"
    rows = list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
    (row,) = [row for row in rows if "name_zh" in row["fields"]]
    assert (row["principal_id"], row["outcome"]) == ("security-admin", "allowed")
    assert "purpose:marketing.name_zh=营销推广 -> 营销活动" in row["fields"].split(";")
