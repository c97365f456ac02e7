"""`make demo`'s how-to: the customer ids the README's examples paste (`ID=`, `CONSENT_ID=`)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from gateway.db.init_store import init_store
from gateway.demo import howto
from gateway.settings import Settings, get_settings
from tests.helpers.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    settings = Settings(data_dir=tmp_path_factory.mktemp("howto"))
    asyncio.run(init_store(settings, demo=True, customers=80))
    return Store(backend="sqlite", settings=settings)


def printed(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    argv = ["howto", "--data-dir", str(store.settings.data_dir), "--port", "18080"]
    monkeypatch.setattr(sys, "argv", argv)
    for name in ("WARDGATE_DATABASE_URL", "WARDGATE_KEYSTORE_URL", "WARDGATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    howto.main()
    return capsys.readouterr().out


def test_given_demo_store_then_two_different_ids_of_customers_who_consented_to_all_three(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = printed(store, capsys, monkeypatch)

    (customer,) = re.findall(r"(?m)^  ID=(cus_\w+)$", out)
    (consent_customer,) = re.findall(r"(?m)^  CONSENT_ID=(cus_\w+)\s", out)
    assert customer != consent_customer
    everyone = set(store.consented("customer_service", "marketing", "analytics"))
    assert {customer, consent_customer} <= everyone
    guardians = store.sql(
        "SELECT count(guardian_ref) FROM consents WHERE customer_id = :c", {"c": consent_customer}
    )
    assert guardians[0][0] == 0, "an adult: its consent can be recorded without a guardian"
    assert f"http://127.0.0.1:18080/v1/customers/{customer}" in out
    keys = Path(store.settings.data_dir / "demo-keys.json").read_text()
    assert not any(key in out for key in re.findall(r"wg_\w+", keys)), "keys never printed"


def test_given_demo_store_then_console_url_and_how_to_sign_in_without_the_keys(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = printed(store, capsys, monkeypatch)

    assert "http://127.0.0.1:18080/console" in out
    assert "sign in as compliance-officer" in out
    assert "sign in as security-admin" in out
    keys = Path(store.settings.data_dir / "demo-keys.json").read_text()
    assert not any(key in out for key in re.findall(r"wg_[\w-]+", keys))
