"""Print how to call the demo gateway: keys, a customer id, and curl lines to paste."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.engine import create_database
from gateway.db.schema import consents, customers_table
from gateway.settings import get_settings

_CALLERS = (
    ("support-desk", "customer_service"),
    ("marketing-app", "marketing"),
    ("analytics-job", "analytics"),
)


async def _customers(data_dir: Path) -> tuple[str, str]:
    """A customer who consented to all three callers' purposes, so every view shows; and
    another such adult, whose marketing consent the README's walkthrough withdraws and
    records again (so the first one's views stay as the README shows them)."""
    db = create_database(get_settings().with_overrides(data_dir=data_dir))
    purposes = [purpose for _, purpose in _CALLERS]
    try:
        async with db.reader.connect() as conn:
            first = await _first_customer(conn, purposes)
            # Consents of all three purposes (so minimization shows), and an adult: a
            # minor's consent needs a guardian (an adult's grants name none).
            second = (
                await conn.execute(
                    select(consents.c.customer_id)
                    .where(
                        consents.c.kind == "grant",
                        consents.c.purpose.in_(purposes),
                        consents.c.customer_id != first,
                    )
                    .group_by(consents.c.customer_id)
                    .having(
                        func.count(func.distinct(consents.c.purpose)) == len(purposes),
                        func.count(consents.c.guardian_ref) == 0,
                    )
                    .order_by(consents.c.customer_id)
                    .limit(1)
                )
            ).first()
    finally:
        await db.dispose()
    return first, str(second[0]) if second else "<customer id>"


async def _first_customer(conn: AsyncConnection, purposes: list[str]) -> str:
    granted = (
        select(consents.c.customer_id)
        .where(consents.c.kind == "grant", consents.c.purpose.in_(purposes))
        .group_by(consents.c.customer_id)
        .having(func.count(func.distinct(consents.c.purpose)) == len(purposes))
        .order_by(consents.c.customer_id)
        .limit(1)
    )
    row = (await conn.execute(granted)).first()
    if row is None:
        table = customers_table()
        row = (await conn.execute(select(table.c.id).order_by(table.c.id).limit(1))).first()
    return str(row[0]) if row else "<customer id>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    keys_file = args.data_dir / "demo-keys.json"
    keys = json.loads(keys_file.read_text(encoding="utf-8"))
    customer, consent_customer = asyncio.run(_customers(args.data_dir))
    base = f"http://127.0.0.1:{args.port}"
    print(f"\nWardgate demo: API keys are in {keys_file} (mode 0600).")
    print("The same customer through three callers (run in another terminal):\n")
    # Keys are read from the file by the shell, so they never appear in this output.
    for principal, purpose in _CALLERS:
        if principal not in keys:
            continue
        key = f'$(python3 -c \'import json;print(json.load(open("{keys_file}"))["{principal}"])\')'
        print(
            f'  curl -s -H "Authorization: Bearer {key}" '
            f"-H 'X-Purpose: {purpose}' {base}/v1/customers/{customer}\n"
        )
    print("Customer ids for the README's examples (paste these lines into your shell):\n")
    print(f"  ID={customer}")
    print(f"  CONSENT_ID={consent_customer}   # the consent walkthrough changes its consent\n")
    print(f"OpenAPI: {base}/schema   health: {base}/healthz\n")
    # The console's people: sign in with their key (printed by the command, not here).
    print(f"Web console (Chinese and English): {base}/console")
    for principal in ("compliance-officer", "security-admin"):
        if principal in keys:
            show = (
                f'python3 -c \'import json;print(json.load(open("{keys_file}"))["{principal}"])\''
            )
            print(f"  sign in as {principal} with the key this prints:  {show}")
    print()


if __name__ == "__main__":
    main()
