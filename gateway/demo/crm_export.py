"""A small synthetic CRM export, as a data source to classify with `wardgate scan`.

`examples/crm_export.csv` in the repository is this module's output (`python -m
gateway.demo.crm_export > examples/crm_export.csv`): demo customers under the column
names an old CRM might use (`contact` holds a phone or an e-mail, `remark` free text),
so the README's `wardgate scan` examples run on a file nobody's real data is in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys

from gateway.demo.synthetic import generate

COLUMNS = ("customer_no", "customer", "contact", "city", "level", "remark")
ROWS = 24
SEED = 1212
TODAY = dt.date(2026, 12, 1)  # fixed, so the shipped file is reproducible


def crm_export_csv(rows: int = ROWS) -> str:
    """The export as CSV text (UTF-8, LF line ends), the same on every run."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for number, customer in enumerate(generate(rows, seed=SEED, today=TODAY).customers, 1):
        contact = customer["phone"] if number % 3 else customer["email"]
        writer.writerow(
            (
                f"C{100000 + number}",
                customer["name"],
                contact,
                customer["region"],
                customer["tier"],
                customer["notes"],
            )
        )
    return buffer.getvalue()


if __name__ == "__main__":
    sys.stdout.write(crm_export_csv())
