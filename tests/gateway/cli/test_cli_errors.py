"""Operator errors on the command line: one line on stderr, a documented exit code, no
traceback, and nothing created — for a missing store, an unreachable or missing
PostgreSQL database, a missing or wrong master key, a busy port and unusable files.

Exit codes (`gateway.cli.errors`): 1 problems found, 2 unusable input or no store,
3 a service unavailable.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import Result
from typer.testing import CliRunner

from gateway.cli.main import app, listening_sockets
from gateway.db.init_store import init_store
from gateway.settings import Settings, get_settings
from policies.document import default_policy_document
from policies.files import write_policy_dir
from tests.helpers.postgres import PG_ADMIN_URL
from tests.helpers.servers import free_port

runner = CliRunner()
REPO = Path(__file__).resolve().parents[3]


# No WARDGATE_* setting from outside; logging restored after each command.
pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture(autouse=True)
def _no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` must fail before uvicorn starts; if it ever got that far, fail loudly."""

    def run(*_: Any, **__: Any) -> None:
        pytest.fail("uvicorn was started")

    monkeypatch.setattr(uvicorn.Server, "run", run)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    get_settings.cache_clear()
    try:
        return runner.invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def one_line(result: Result, code: int) -> str:
    """The single stderr line of a command that failed with `code`."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].strip()
    return lines[0]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised store for the cases that need one (left unchanged by them)."""
    path = tmp_path_factory.mktemp("cli-errors") / "data"
    asyncio.run(init_store(Settings(data_dir=path), demo=True, customers=2))
    return path


# --- no store: every command that needs one --------------------------------------------


NEEDS_STORE = [
    ["keys", "status"],
    ["keys", "rotate-kek"],
    ["keys", "retire-kek", "--version", "1"],
    ["keys", "rotate-dek"],
    ["keys", "purge"],
    ["keys", "issue", "support-desk"],
    ["keys", "revoke", "key_0123"],
    ["audit", "verify"],
    ["audit", "verifier-key"],
    ["audit", "checkpoint"],
    ["audit", "export", "-o", "{tmp}/audit.jsonl"],
    ["policy", "export", "{tmp}/exported"],
    ["policy", "apply", "{tmp}/policy"],
    ["policy", "test", str(REPO / "policies" / "expectations.yaml")],
    ["import", "{tmp}/customers.csv"],
    ["consents", "import", "{tmp}/consents.csv"],
    ["db", "upgrade"],
    ["serve"],
]


def _inputs(tmp: Path) -> None:
    """Files the commands are given: usable, so only the missing store stops them."""
    (tmp / "customers.csv").write_text("name\n张测试\n", encoding="utf-8")
    (tmp / "consents.csv").write_text("customer_id,purpose,at,channel\n", encoding="utf-8")
    write_policy_dir(default_policy_document(), tmp / "policy", "# test")


@pytest.mark.parametrize("args", NEEDS_STORE, ids=[" ".join(a[:2]) for a in NEEDS_STORE])
def test_given_no_store_then_command_names_the_directory_and_creates_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    """Each command that needs a store: one line naming where it looked and the init to
    run, exit 2, and no stray data directory, store file or master key."""
    _inputs(tmp_path)
    data_dir = tmp_path / "wardgate-data"
    before = tree(tmp_path)

    result = invoke(*(a.format(tmp=tmp_path) for a in args), "--data-dir", str(data_dir))

    line = one_line(result, 2)
    assert f"no Wardgate store in {data_dir} " in line
    assert f"run `wardgate init --data-dir {data_dir}`" in line
    assert line.startswith("cannot start: " if args == ["serve"] else "no Wardgate")
    assert tree(tmp_path) == before
    assert not data_dir.exists()


def test_given_no_store_and_no_option_then_default_directory_is_named_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    line = one_line(invoke("audit", "verifier-key"), 2)

    assert "no Wardgate store in wardgate-data " in line
    assert "run `wardgate init --data-dir wardgate-data`" in line
    assert list(tmp_path.iterdir()) == []


def test_given_env_data_dir_then_it_is_the_directory_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "from-env"

    line = one_line(invoke("keys", "status", env={"WARDGATE_DATA_DIR": str(data_dir)}), 2)

    assert f"no Wardgate store in {data_dir} " in line
    assert not data_dir.exists()


def test_given_data_dir_option_then_it_wins_over_the_environment(tmp_path: Path) -> None:
    line = one_line(
        invoke(
            "keys",
            "status",
            "--data-dir",
            str(tmp_path / "option"),
            env={"WARDGATE_DATA_DIR": str(tmp_path / "env")},
        ),
        2,
    )

    assert f"no Wardgate store in {tmp_path / 'option'} " in line
    assert list(tmp_path.iterdir()) == []


def test_given_every_command_then_help_states_the_data_dir_default_and_exit_codes() -> None:
    for args in (
        ["init"],
        ["serve"],
        ["db", "upgrade"],
        ["import"],
        ["consents", "import"],
        ["keys", "status"],
        ["keys", "purge"],
        ["audit", "verify"],
        ["audit", "export"],
        ["policy", "apply"],
        ["policy", "test"],
    ):
        result = invoke(*args, "--help")
        text = " ".join(result.output.replace("│", " ").split())
        assert result.exit_code == 0, args
        assert "Default: $WARDGATE_DATA_DIR if set, else ./wardgate-data." in text, args
        assert "Exit codes: 0 done;" in text, args
        assert "2 unusable input, no store in the data directory or no master key" in text


# --- PostgreSQL unreachable or missing ---------------------------------------------------


@pytest.mark.parametrize("args", [["init"], ["init", "--demo"], ["keys", "status"], ["serve"]])
def test_given_unreachable_postgres_then_exit_3_and_nothing_left_behind(
    tmp_path: Path, args: list[str]
) -> None:
    data_dir = tmp_path / "data"
    env = {"WARDGATE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/wardgate"}

    line = one_line(invoke(*args, "--data-dir", str(data_dir), env=env), 3)

    assert "cannot reach the database" in line
    assert "127.0.0.1" in line
    assert not data_dir.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("existing_dir", [False, True], ids=["new-dir", "existing-dir"])
def test_given_missing_postgres_database_then_init_exits_2_and_leaves_no_master_key(
    tmp_path: Path, postgres_url_factory: Callable[[], str], existing_dir: bool
) -> None:
    postgres_url_factory()  # reachable, or skipped (failed in CI)
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    name = f"wardgate_missing_{uuid.uuid4().hex[:10]}"
    data_dir = tmp_path / "data"
    if existing_dir:
        data_dir.mkdir()

    line = one_line(
        invoke(
            "init",
            "--demo",
            "--data-dir",
            str(data_dir),
            env={"WARDGATE_DATABASE_URL": f"{base}/{name}"},
        ),
        2,
    )

    assert f'database "{name}" does not exist' in line
    assert "createdb" in line
    assert data_dir.exists() is existing_dir
    assert tree(tmp_path) == (["data"] if existing_dir else [])


@pytest.mark.postgres
def test_given_postgres_database_without_store_then_commands_say_so(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    url = postgres_url_factory()
    data_dir = tmp_path / "data"

    line = one_line(
        invoke("audit", "verify", "--data-dir", str(data_dir), env={"WARDGATE_DATABASE_URL": url}),
        2,
    )

    assert "no Wardgate store in PostgreSQL database 'wardgate_test_" in line
    assert "its schema has never been created" in line
    assert "run `wardgate init` with the same WARDGATE_DATABASE_URL" in line
    assert not data_dir.exists()


# --- master key ------------------------------------------------------------------------


@pytest.fixture
def own_store(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    asyncio.run(init_store(Settings(data_dir=path), demo=False, customers=0))
    return path


def test_given_missing_master_key_then_commands_exit_2_naming_it(own_store: Path) -> None:
    (own_store / "master.key").unlink()
    before = tree(own_store)

    for args in (["keys", "status"], ["audit", "checkpoint"], ["keys", "rotate-dek"]):
        line = one_line(invoke(*args, "--data-dir", str(own_store)), 2)
        assert f"no master key: {own_store / 'master.key'} does not exist" in line
    assert tree(own_store) == before


def test_given_missing_master_key_then_init_refuses_to_make_a_new_one(own_store: Path) -> None:
    """A new key would never open the keys already in the key store."""
    (own_store / "master.key").unlink()
    before = tree(own_store)

    line = one_line(invoke("init", "--data-dir", str(own_store)), 2)

    assert "the key store already holds keys wrapped with one; restore the key file" in line
    assert tree(own_store) == before


def test_given_wrong_master_key_then_commands_exit_2(own_store: Path) -> None:
    key = own_store / "master.key"
    key.write_text('{"active": 1, "keys": {"1": "%s"}}\n' % ("A" * 43 + "="), encoding="ascii")

    for args in (["keys", "status"], ["audit", "verifier-key"], ["keys", "issue", "x"]):
        line = one_line(invoke(*args, "--data-dir", str(own_store)), 2)
        assert "the master key does not open this store's keys" in line


def test_given_malformed_master_key_then_serve_cannot_start(own_store: Path) -> None:
    (own_store / "master.key").write_text("not a key\n", encoding="ascii")

    line = one_line(invoke("serve", "--data-dir", str(own_store)), 2)

    assert line.startswith("cannot start: ")
    assert "master key" in line


# --- busy port ---------------------------------------------------------------------------


def test_given_busy_port_then_serve_exits_3_before_announcing_anything(store_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = invoke("serve", "--data-dir", str(store_dir), "--port", str(port))

    line = one_line(result, 3)
    assert line == f"cannot start: cannot listen on 127.0.0.1:{port}: the port is in use"
    assert "listening" not in result.output
    assert "gateway ready" not in result.output


def test_given_a_port_held_by_an_so_reuseport_listener_then_two_workers_exit_3_and_do_not_join(
    store_dir: Path,
) -> None:
    """Workers listen with SO_REUSEPORT; binding that way alone would silently share a
    port with another server that did the same, so the port is first bound without it."""
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = invoke(
            "serve", "--data-dir", str(store_dir), "--port", str(port), "--workers", "2"
        )

    line = one_line(result, 3)
    assert line == f"cannot start: cannot listen on 127.0.0.1:{port}: the port is in use"
    assert "listening" not in result.output


def test_given_several_workers_then_each_gets_a_listening_socket_of_its_own_on_one_port() -> None:
    """One socket per worker, SO_REUSEPORT: the kernel spreads connections over them (on
    one shared socket, whichever worker was awake took a whole burst)."""
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        assert len({id(s) for s in sockets}) == 3
        assert len({s.getsockname() for s in sockets}) == 1
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        with socket.create_connection(sockets[0].getsockname()[:2], timeout=5):
            pass  # listening: accepted into one of the three queues
    finally:
        for s in sockets:
            s.close()
    (single,) = listening_sockets("127.0.0.1", 0, 1)
    with single:
        assert not single.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)


# --- unusable files and settings -----------------------------------------------------------


def _bad_input_cases(tmp: Path, store: Path) -> list[tuple[list[str], str]]:
    notes = tmp / "notes.txt"
    notes.write_text("hello\n", encoding="utf-8")
    vkey = invoke("audit", "verifier-key", "--data-dir", str(store)).stdout.strip()
    return [
        (["import", str(tmp / "missing.csv")], "missing.csv: no such file"),
        (["import", str(notes)], "the file name must end in one of"),
        (["consents", "import", str(tmp / "missing.csv")], "missing.csv: no such file"),
        (
            [
                "audit",
                "verify",
                "--offline",
                str(tmp / "missing.jsonl"),
                str(tmp / "missing.txt"),
                "--public-key",
                vkey,
            ],
            "No such file or directory",
        ),
        (["policy", "test", str(tmp / "missing.yaml")], "missing.yaml: cannot be read"),
        (["policy", "apply", str(tmp / "no-such-dir")], "no-such-dir"),
    ]


@pytest.mark.parametrize("index", range(6))
def test_given_unusable_input_file_then_exit_2_in_one_line(
    tmp_path: Path, store_dir: Path, index: int
) -> None:
    args, expected = _bad_input_cases(tmp_path, store_dir)[index]
    before = tree(tmp_path)

    line = one_line(invoke(*args, "--data-dir", str(store_dir)), 2)

    assert expected in line
    assert tree(tmp_path) == before


def test_given_invalid_setting_in_environment_then_exit_2_naming_it(tmp_path: Path) -> None:
    line = one_line(
        invoke("keys", "status", "--data-dir", str(tmp_path), env={"WARDGATE_PORT": "eighty"}), 2
    )

    assert "a WARDGATE_* environment variable is invalid" in line
    assert list(tmp_path.iterdir()) == []


# --- the real entry point ----------------------------------------------------------------


def test_given_real_process_without_store_then_one_line_exit_2_and_empty_directory(
    tmp_path: Path,
) -> None:
    """The installed entry point, in a fresh process: no rich traceback, nothing created."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDGATE_")}

    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "keys", "status"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "no Wardgate store in wardgate-data (wardgate-data/wardgate.db does not exist): "
        "run `wardgate init --data-dir wardgate-data` to create one, or point --data-dir / "
        "WARDGATE_DATA_DIR at an existing one"
    ]
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_given_address_this_host_cannot_bind_then_serve_exits_2(store_dir: Path) -> None:
    """203.0.113.1 (TEST-NET-3) is no address of this host: the operator's to change."""
    result = invoke("serve", "--data-dir", str(store_dir), "--host", "203.0.113.1", "--port", "1")

    line = one_line(result, 2)
    assert line.startswith("cannot start: cannot listen on 203.0.113.1:1: ")
    assert "listening" not in result.output
