"""Benchmark: the cost of encryption at rest, per suite, in-process (no HTTP).

- decrypt cost of a 100-record page: `Protector.reveal` over the fields `support-desk`
  sees, median of many pages, keys cached as on a warm gateway;
- bulk import: customers/s through `wardgate import`'s code path (validate, encrypt,
  insert, audit) from a generated CSV;
- data-key rotation: customers/s re-encrypted by `rotate-dek` (all fields of the
  customer and their interactions and orders).

Each suite gets its own fresh store under `.bench/crypto-<suite>`.

    .venv/bin/python -m bench.crypto [--customers 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import shutil
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from gateway.customers.importer import import_customers
from gateway.customers.read import _page_statement, _selected
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.db.opening import open_protector
from gateway.demo import iter_generate
from gateway.encryption.key_ops import rotate_data_keys
from gateway.settings import Settings
from gateway.state import open_gateway

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".bench"
IMPORT_FIELDS = (
    "name",
    "id_number",
    "phone",
    "email",
    "address",
    "bank_card",
    "birth_date",
    "region",
    "tier",
)


async def _page_decrypt_ms(settings: Settings, pages: int) -> float:
    state = await open_gateway(settings)
    try:
        plan = state.binder.plan(
            state.snapshot.engine, frozenset({"customer_service"}), "customer_service"
        )
        view = plan.view("customers")
        statement = _page_statement(
            "customers", _selected(view, "customers"), after=False, scoped=False
        )
        async with state.db.reader.connect() as conn:
            rows = [row._mapping for row in (await conn.execute(statement, {"limit": 100})).all()]
        await state.protector.reveal("customers", rows, view.shown_columns)  # warm the key cache
        timings = []
        for _ in range(pages):
            started = time.perf_counter()
            await state.protector.reveal("customers", rows, view.shown_columns)
            timings.append((time.perf_counter() - started) * 1000)
        return statistics.median(timings)
    finally:
        await state.db.dispose()


async def _rotation_rate(settings: Settings) -> float:
    db = create_database(settings)
    try:
        protector = await open_protector(settings, db)
        report = await rotate_data_keys(db, protector)
        return report.customers_rotated / report.seconds
    finally:
        await db.dispose()


def _write_csv(path: Path, customers: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=IMPORT_FIELDS)
        writer.writeheader()
        for bundle in iter_generate(customers, seed=7):
            writer.writerow({name: bundle.customer[name] for name in IMPORT_FIELDS})


def measure(suite: str, customers: int) -> dict[str, float]:
    work = WORK / f"crypto-{suite}"
    shutil.rmtree(work, ignore_errors=True)
    settings = Settings(data_dir=work / "data", crypto_suite=suite, log_level="warning")
    asyncio.run(init_store(settings, demo=True, customers=customers))
    page_ms = asyncio.run(_page_decrypt_ms(settings, pages=200))
    rotation = asyncio.run(_rotation_rate(settings))
    import_settings = Settings(data_dir=work / "import", crypto_suite=suite, log_level="warning")
    asyncio.run(init_store(import_settings, demo=False))
    source = work / "customers.csv"
    _write_csv(source, customers)
    report = asyncio.run(import_customers(import_settings, source))
    return {
        "page_decrypt_ms": page_ms,
        "import_per_s": report.customers_per_second,
        "rotation_per_s": rotation,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crypto", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args(argv)
    table = Table(title=f"Encryption at rest, {args.customers} customers, in-process")
    table.add_column("suite")
    table.add_column("decrypt 100-record page (median ms)", justify="right")
    table.add_column("import customers/s", justify="right")
    table.add_column("rotate-dek customers/s", justify="right")
    for suite in ("aes256gcm", "sm4gcm"):
        figures = measure(suite, args.customers)
        table.add_row(
            suite,
            f"{figures['page_decrypt_ms']:.2f}",
            f"{figures['import_per_s']:,.0f}",
            f"{figures['rotation_per_s']:,.0f}",
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
