"""What an import prints when it ends: one summary line, the audit request id, and the
first problems by line and field (never a value from the file), on stdout.

Both imports (`wardgate import`, `wardgate consents import`) print through here, so the
summary reads the same and the problem list is cut at the same length.
"""

from __future__ import annotations

from rich.console import Console

from gateway.bulk.report import ImportReport

PROBLEMS_SHOWN = 50

# The summary and problems are the command's result: stdout. Markup is off so a field
# label is printed as it is.
out = Console(highlight=False, soft_wrap=True)


def print_import_report(report: ImportReport, read: str, unit: str) -> None:
    """`read` says what was read ("rows", "consents (2 grants, 0 withdrawals)"); `unit`
    names what the rate counts ("customers" → "customers/s")."""
    out.print(
        f"loaded {report.loaded} of {report.rows_read} {read}, rejected {report.rejected} "
        f"in {report.seconds:.2f} s ({report.rows_per_second:,.0f} {unit}/s)",
        markup=False,
    )
    if report.loaded:
        out.print(f"audit request id: {report.request_id}", markup=False)
    for problem in report.problems[:PROBLEMS_SHOWN]:
        out.print(str(problem), markup=False)
    hidden = report.problems_total - min(len(report.problems), PROBLEMS_SHOWN)
    if hidden > 0:
        out.print(f"... and {hidden} more problems", markup=False)
