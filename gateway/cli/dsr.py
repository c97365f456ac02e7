"""`wardgate dsr …`: data subjects' requests from the command line.

The same use cases as `/v1/dsr`, with the rights the policy gives a role (`--role`,
default `dpo`) under the `data_subject_request` purpose; each command leaves exactly one
audit entry by `cli:<os user>`. Results are printed as JSON on stdout.

Exit status: 0 done; 1 the request's state does not allow it (wrong status, legal hold,
package expired or used up, customer erased); 2 unusable input (unknown id, invalid
field, a right the role lacks, no store); 3 the store is unavailable.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from audit import Outcome
from gateway.cli.errors import ExitCode, OperatorError, exit_codes
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.store import open_store
from gateway.compliance.cli_entries import cli_door, failure_reason, refuse
from gateway.http.errors import GatewayError
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.governance.call import GovernedCall
    from gateway.http.json_body import RequestBody

dsr_app = typer.Typer(
    help="Data subjects' requests (PIPL Art. 44-50): file, verify, fulfil, refuse, ...",
    no_args_is_help=True,
)

RoleOption = Annotated[
    str,
    typer.Option("--role", help="Act with this policy role's rights (data_subject_request)."),
]
EPILOG = exit_codes(
    "the request's state does not allow it (wrong status, legal hold, package expired "
    "or used up, customer erased)",
    unusable="unknown id, invalid field, a right the role lacks, or no store",
    unavailable="the store is unreachable or failed",
)
# 409 and 410: the command ran and the request's state refused it.
_PROBLEM_STATUSES = frozenset({409, 410})


def _code(error: GatewayError) -> ExitCode:
    if error.status >= 500:
        return ExitCode.UNAVAILABLE
    return ExitCode.PROBLEMS if error.status in _PROBLEM_STATUSES else ExitCode.UNUSABLE


def _run(
    settings: Settings, action: str, role: str, work: Callable[[GovernedCall], Awaitable[Any]]
) -> Any:
    # Imported here, as in each command: the use cases and the gateway need the PII
    # detector and the HTTP stack, seconds to load that `--help` would pay for.
    from gateway.dsr.cli_call import DSR_PURPOSE, cli_call, outcome_of
    from gateway.state import PlanWarmUp, open_gateway

    async def main() -> Any:
        await (await open_store(settings)).dispose()  # one line, not a traceback, if absent
        state = await open_gateway(settings, warm=PlanWarmUp.NONE)  # one plan: on demand
        state.appender.start()
        try:
            async with cli_door(state.db, action) as audit:
                try:
                    return await work(cli_call(state, audit, role, DSR_PURPOSE))
                except GatewayError as exc:
                    if not audit.written:
                        refuse(audit, exc.reason, outcome_of(exc))
                    raise
                except Exception as exc:
                    if not audit.written:
                        refuse(audit, failure_reason(exc), Outcome.FAILED)
                    raise
        finally:
            await state.appender.close()
            await state.db.dispose()

    try:
        return asyncio.run(main())
    except GatewayError as exc:
        msg = f"{exc.detail} ({exc.reason})"
        raise OperatorError(msg, _code(exc)) from None


def _print(result: Any) -> None:
    typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))


def _body(document: dict[str, Any]) -> RequestBody:
    from gateway.http.json_body import JSON_MEDIA_TYPE, RequestBody

    return RequestBody(json.dumps(document).encode(), JSON_MEDIA_TYPE)


@dsr_app.command("file", epilog=EPILOG)
def file_command(
    customer_id: Annotated[str, typer.Argument(help="The customer (data subject).")],
    type_: Annotated[
        str,
        typer.Argument(
            metavar="TYPE", help="access, portability, correction, deletion or explanation."
        ),
    ],
    changes: Annotated[
        str | None,
        typer.Option("--changes", help='correction only: JSON, e.g. \'{"phone": "139..."}\''),
    ] = None,
    role: RoleOption = "dpo",
    data_dir: DataDirOption = None,
) -> None:
    """File a request: received today, due in working days."""
    document: dict[str, Any] = {"customer_id": customer_id, "type": type_}
    if changes is not None:
        try:
            document["changes"] = json.loads(changes)
        except json.JSONDecodeError:
            msg = "--changes must be a JSON object of field names to new values"
            raise OperatorError(msg) from None
    from gateway.dsr import service

    settings = cli_settings(data_dir)
    _print(
        _run(settings, "dsr.file", role, lambda call: service.file_request(call, _body(document)))
    )


@dsr_app.command("list", epilog=EPILOG)
def list_command(
    status: Annotated[str | None, typer.Option("--status")] = None,
    type_: Annotated[str | None, typer.Option("--type")] = None,
    customer_id: Annotated[str | None, typer.Option("--customer-id")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue open requests.")] = False,
    role: RoleOption = "dpo",
    data_dir: DataDirOption = None,
) -> None:
    """Requests, overdue first, with working days left."""
    params = {
        "status": status,
        "type": type_,
        "customer_id": customer_id,
        "overdue": "true" if overdue else None,
        "limit": None,
    }
    from gateway.dsr import service

    settings = cli_settings(data_dir)
    _print(_run(settings, "dsr.list", role, lambda call: service.list_requests(call, params)))


@dsr_app.command("show", epilog=EPILOG)
def show_command(
    dsr_id: Annotated[str, typer.Argument(help="The request id (dsr_...).")],
    role: RoleOption = "dpo",
    data_dir: DataDirOption = None,
) -> None:
    """One request with its history."""
    from gateway.dsr import service

    settings = cli_settings(data_dir)
    _print(_run(settings, "dsr.read", role, lambda call: service.show_request(call, dsr_id)))


@dsr_app.command("verify", epilog=EPILOG)
def verify_command(
    dsr_id: Annotated[str, typer.Argument(help="The request id (dsr_...).")],
    method: Annotated[
        str, typer.Option("--method", help="id_document, phone_otp, account_login or in_person.")
    ],
    evidence: Annotated[
        str, typer.Option("--evidence", help="What proved the identity; only its hash is kept.")
    ],
    role: RoleOption = "dpo",
    data_dir: DataDirOption = None,
) -> None:
    """Record how the person's identity was verified."""
    from gateway.dsr import service

    body = _body({"method": method, "evidence": evidence})
    settings = cli_settings(data_dir)
    _print(_run(settings, "dsr.verify", role, lambda call: service.verify(call, dsr_id, body)))


def _simple(name: str, module: str, doc: str) -> None:
    """A command `name` running `gateway.dsr.<module>.<name>` on one request."""

    def command(
        dsr_id: Annotated[str, typer.Argument(help="The request id (dsr_...).")],
        role: RoleOption = "dpo",
        data_dir: DataDirOption = None,
    ) -> None:
        use_case: Callable[[GovernedCall, str], Awaitable[Any]] = getattr(
            importlib.import_module(f"gateway.dsr.{module}"), name
        )
        settings = cli_settings(data_dir)
        _print(_run(settings, f"dsr.{name}", role, lambda call: use_case(call, dsr_id)))

    command.__doc__ = doc
    dsr_app.command(name, epilog=EPILOG)(command)


_simple("start", "service", "Start work on a verified request.")
_simple("fulfil", "fulfil", "Fulfil a request in progress.")
_simple("cancel", "service", "Cancel an open request.")


@dsr_app.command("refuse", epilog=EPILOG)
def refuse_command(
    dsr_id: Annotated[str, typer.Argument(help="The request id (dsr_...).")],
    reason: Annotated[str, typer.Option("--reason", help="A stable reason word.")],
    text: Annotated[str, typer.Option("--text", help="The explanation for the person.")],
    role: RoleOption = "dpo",
    data_dir: DataDirOption = None,
) -> None:
    """Refuse with a reason word and a text for the person (PIPL Art. 50)."""
    from gateway.dsr import service

    body = _body({"reason": reason, "text": text})
    settings = cli_settings(data_dir)
    _print(_run(settings, "dsr.refuse", role, lambda call: service.refuse(call, dsr_id, body)))


@dsr_app.command("extend", epilog=EPILOG)
def extend_command(
    dsr_id: Annotated[str, typer.Argument(help="The request id (dsr_...).")],
    days: Annotated[int, typer.Option("--days", help="Working days to add (1-30).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it needs longer.")],
    role: RoleOption = "dpo",
    data_dir: DataDirOption = None,
) -> None:
    """Move the due date by some working days."""
    from gateway.dsr import service

    body = _body({"days": days, "reason": reason})
    settings = cli_settings(data_dir)
    _print(_run(settings, "dsr.extend", role, lambda call: service.extend(call, dsr_id, body)))


@dsr_app.command("package", epilog=EPILOG)
def package_command(
    dsr_id: Annotated[str, typer.Argument(help="The request id (dsr_...).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (0600).")],
    fmt: Annotated[str, typer.Option("--format", help="json or html.")] = "json",
    role: RoleOption = "dpo",
    data_dir: DataDirOption = None,
) -> None:
    """Download the package to a file readable by its owner only (counted, audited)."""
    from gateway.dsr import fulfil

    settings = cli_settings(data_dir)
    content, _ = _run(
        settings, "dsr.download", role, lambda call: fulfil.download(call, dsr_id, fmt)
    )
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    typer.echo(f"wrote {output} ({len(content)} bytes)")
