"""`wardgate policy …`: policy as code — export, apply (as one new version), test.

Exit codes: 0 done (or nothing to do, or every case passed); 1 the policy or a case
is wrong (every problem printed); 2 the input or the store cannot be used; 3 the
database cannot be reached (`gateway.cli.errors`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from gateway.cli.errors import ExitCode, OperatorError, exit_codes
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.store import open_store
from gateway.compliance.cli_entries import cli_door, record_refusal, refuse
from gateway.compliance.entries import CLI_STATUS, cli_principal
from gateway.compliance.request_audit import RequestAudit
from gateway.consents.facts import customer_consent_facts
from gateway.db.engine import Database
from gateway.db.opening import open_protector
from gateway.http.errors import GatewayError
from gateway.policy.errors import (
    NoChange,
    PolicyChangeRejected,
    VersionConflict,
)
from gateway.policy.history import version_row
from gateway.policy.store import latest_version
from gateway.settings import Settings
from policies.catalog import default_catalog
from policies.document import (
    PolicyDocument,
    PolicyProblem,
    PrincipalSpec,
    parse_policy_document,
    principal_problems,
)
from policies.errors import PolicyError, PolicyFileError
from policies.expectations import Case, CaseResult, parse_expectations, run_cases
from policies.explain import ConsentFacts
from policies.files import PolicyFiles, load_policy_dir, write_policy_dir
from policies.plan import PolicyEngine
from policies.principals_file import load_principals_file, with_principals

policy_app = typer.Typer(
    help="Policy as code: export the policy as files, apply files, test expectations.",
    no_args_is_help=True,
)
# No wrapping (CI logs are read, not seen in a terminal), and `:mask:` is no emoji.
console = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)
out = Console(soft_wrap=True, emoji=False, highlight=False)
T = TypeVar("T")

FILES_VERSION = 0
"""Version number of a policy judged straight from files (never one the store serves)."""


def _unusable(message: str) -> OperatorError:
    """Input or store that cannot be used: exit 2."""
    return OperatorError(f"error: {message}")


def _run(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the existing store (errors: `gateway.cli.errors`)."""

    async def main() -> T:
        db = await open_store(settings)
        try:
            return await work(db)
        except PolicyFileError as exc:
            raise _unusable(str(exc)) from None
        finally:
            await db.dispose()

    return asyncio.run(main())


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- export --------------------------------------------------------------------------------


@policy_app.command("export", epilog=exit_codes())
def export(
    directory: Annotated[Path, typer.Argument(help="Directory to write the policy files to.")],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Version to export (default: newest).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write a policy version as files: purposes.yaml, policy.yaml (+ catalog, model)."""
    settings = cli_settings(data_dir)

    async def work(db: Database) -> tuple[int, list[Path]]:
        async with cli_door(db, "policy.export") as audit:
            async with db.reader.connect() as conn:
                wanted = version if version is not None else await latest_version(conn)
                row = None if wanted is None else await version_row(conn, wanted)
            if row is None:
                refuse(audit, "unknown_version")
                msg = (
                    f"there is no policy version {wanted}" if wanted else "the store has no policy"
                )
                raise _unusable(msg)
            document = parse_policy_document(row["document"])
            header = (
                f"# Wardgate policy version {row['version']}, by {_one_line(str(row['author']))} "
                f"at {row['created_at']}: {_one_line(str(row['comment']))}\n"
                "# Written by `wardgate policy export`; change it and run `wardgate policy apply`."
            )
            audit.fields = {"policy:version": str(row["version"])}
            audit.policy_version = int(row["version"])
            written = write_policy_dir(document, directory, header)
        return int(row["version"]), written

    exported, written = _run(settings, work)
    console.print(
        f"policy version {exported} written to {escape(str(directory))}: "
        + ", ".join(path.name for path in written)
    )


# --- apply ---------------------------------------------------------------------------------


def _print_problems(problems: Sequence[PolicyProblem], files: PolicyFiles) -> None:
    console.print(f"[red]{len(problems)} problem(s); nothing was applied:[/red]")
    for problem in problems:
        text = f"  {files.locate(problem.where)}: {problem} [{problem.reason}]"
        console.print(escape(text), highlight=False)


@policy_app.command(
    "apply", epilog=exit_codes("the policy has problems or changed meanwhile; nothing applied")
)
def apply(
    directory: Annotated[Path, typer.Argument(help="Directory holding the policy files.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff and the problems; apply nothing.")
    ] = False,
    comment: Annotated[str | None, typer.Option(help="Why: stored with the version.")] = None,
    author: Annotated[
        str | None, typer.Option(help="Who: stored with the version (default: cli:<user>).")
    ] = None,
    acknowledge: Annotated[
        list[str] | None,
        typer.Option(
            "--acknowledge",
            help="Accept a named risk, e.g. sensitive_clear:<role>:<purpose>:<category>.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print the diff against the store's policy and apply the files as ONE new version."""
    # Imported here: the change service needs the store, audit and masking (about a
    # second to load), which the other commands and `--help` do not.
    from gateway.policy.change_service import apply_policy_change, preview_policy_change

    settings = cli_settings(data_dir)
    try:
        files = load_policy_dir(directory)
    except PolicyFileError as exc:
        asyncio.run(record_refusal(settings, "policy.apply", "unusable_policy_files"))
        raise _unusable(str(exc)) from None
    acknowledged = tuple(acknowledge or ())
    catalog = default_catalog()

    async def work(db: Database) -> int:
        async with cli_door(db, "policy.apply") as audit:
            return await _apply(db, audit)

    async def _apply(db: Database, audit: RequestAudit) -> int:
        prepared = await preview_policy_change(
            db, catalog, change=files.document, acknowledged=acknowledged
        )
        base = prepared.base_version
        audit.policy_version = base
        out.print(f"diff against policy version {base}:")
        out.print(escape(prepared.diff.text()))
        if prepared.problems:
            refuse(audit, "policy_rejected")
            audit.fields = {"policy:problems": str(len(prepared.problems))}
            _print_problems(prepared.problems, files)
            return 1
        if prepared.diff.empty:
            audit.reason = "no_change"
            console.print(f"no changes: policy version {base} already says this")
            return 0
        if dry_run:
            audit.reason = "dry_run"
            console.print("dry run: nothing applied")
            return 0
        try:
            applied = await apply_policy_change(
                db,
                catalog,
                change=files.document,
                base_version=base,
                author=author or cli_principal(),
                comment=comment if comment is not None else f"applied from {directory.name}",
                audit=audit,
                acknowledged=acknowledged,
                status=CLI_STATUS,
            )
        except PolicyChangeRejected as exc:
            refuse(audit, "policy_rejected")
            _print_problems(exc.problems, files)
            return 1
        except VersionConflict as exc:
            refuse(audit, "version_conflict")
            console.print(f"[red]not applied:[/red] {escape(str(exc))}")
            return 1
        except NoChange:
            audit.reason = "no_change"
            console.print("no changes")
            return 0
        console.print(
            f"[green]applied as policy version {applied.version}[/green] "
            f"(was {applied.base_version}); every gateway process reloads it within a second"
        )
        return 0

    raise typer.Exit(_run(settings, work))


# --- test ----------------------------------------------------------------------------------


def _print_results(results: Sequence[CaseResult], source: str) -> None:
    for result in results:
        case = result.case
        if result.passed:
            out.print(f"[green]PASS[/green] {escape(case.name)}")
            continue
        out.print(f"[red]FAIL[/red] {escape(case.name)}  ({escape(source)} line {case.line})")
        for miss in result.mismatches:
            out.print(f"     {escape(miss.key)}: expected {miss.expected!r}, got {miss.got!r}")
            if miss.detail:
                out.print(f"       {escape(miss.detail)}")
    failed = sum(not r.passed for r in results)
    summary = f"{len(results)} cases: {len(results) - failed} passed, {failed} failed"
    out.print(f"[red]{summary}[/red]" if failed else f"[green]{summary}[/green]")


async def _stored_facts(
    settings: Settings, db: Database, cases: Sequence[Case], audit: RequestAudit
) -> dict[str, ConsentFacts]:
    ids = sorted({case.customer_id for case in cases if case.customer_id is not None})
    if not ids:
        return {}
    protector = await open_protector(settings, db)
    facts: dict[str, ConsentFacts] = {}
    for customer_id in ids:
        try:
            facts[customer_id] = await customer_consent_facts(db, protector, customer_id)
        except GatewayError:
            continue  # unknown or erased: the case says "not in the store"
    # Consent facts are personal information: reading them is an access like any other.
    audit.fields = {"consents": f"read:{len(facts)}"}
    audit.subject_ids = tuple(sorted(facts))
    return facts


def _check_fixture(
    document: PolicyDocument, fixture: Mapping[str, PrincipalSpec], source: Path | None
) -> None:
    """A principals file must fit the policy it joins: known roles and purposes only."""
    problems = principal_problems(replace(document, principals=dict(fixture)))
    if problems:
        listed = "; ".join(str(problem) for problem in problems)
        raise _unusable(f"{source}: {listed}")


@policy_app.command("test", epilog=exit_codes("a case did not hold (each printed)"))
def check_expectations(
    file: Annotated[Path, typer.Argument(help="YAML file of expectation cases.")],
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Judge these policy files instead of the store's policy."),
    ] = None,
    principals: Annotated[
        Path | None,
        typer.Option(
            "--principals",
            help="A YAML file of principals (`principals:` as in policy.yaml) added to the "
            "judged policy, e.g. policies/demo_principals.yaml for the shipped cases.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run expectation cases; exit 1 on any mismatch, each printed with its deciding rule."""
    from masking import default_mask_for  # see `apply`

    settings = cli_settings(data_dir)
    catalog = default_catalog()
    try:
        cases = parse_expectations(file.read_text(encoding="utf-8"), str(file), catalog)
        files = load_policy_dir(policy) if policy is not None else None
        fixture = load_principals_file(principals) if principals is not None else {}
    except (OSError, UnicodeDecodeError) as exc:
        raise _unusable(f"{file}: cannot be read ({type(exc).__name__})") from None
    except PolicyError as exc:
        raise _unusable(str(exc)) from None
    if files is not None:
        _check_fixture(files.document, fixture, principals)
    now = dt.datetime.now(dt.UTC)
    needs_store = files is None or any(case.customer_id is not None for case in cases)

    def judge(engine: PolicyEngine, stored: dict[str, ConsentFacts]) -> list[CaseResult]:
        return run_cases(cases, engine, now=now, stored=stored, default_mask=default_mask_for)

    if not needs_store:
        assert files is not None  # noqa: S101 - needs_store is False only with files
        document = with_principals(files.document, fixture)
        results = judge(PolicyEngine(document, catalog, FILES_VERSION), {})
    else:

        async def work(db: Database) -> list[CaseResult]:
            async with cli_door(db, "policy.test") as audit:
                async with db.reader.connect() as conn:
                    newest = await latest_version(conn)
                    row = None if newest is None else await version_row(conn, newest)
                if files is not None:
                    document, version = files.document, FILES_VERSION
                elif row is None:
                    refuse(audit, "no_policy")
                    msg = "the store has no policy (run `wardgate init`)"
                    raise _unusable(msg)
                else:
                    document = parse_policy_document(row["document"])
                    version = int(row["version"])
                    audit.policy_version = version
                try:
                    _check_fixture(document, fixture, principals)
                except OperatorError:
                    refuse(audit, "unusable_file")
                    raise
                engine = PolicyEngine(with_principals(document, fixture), catalog, version)
                results = judge(engine, await _stored_facts(settings, db, cases, audit))
                failed = sum(not r.passed for r in results)
                audit.fields = dict(audit.fields) | {
                    "cases": f"passed:{len(results) - failed},failed:{failed}"
                }
                return results

        results = _run(settings, work)
    where = f"policy files {policy}" if files is not None else "the store's policy"
    out.print(f"judged against {escape(where)}")
    _print_results(results, str(file))
    raise typer.Exit(ExitCode.OK if all(r.passed for r in results) else ExitCode.PROBLEMS)
