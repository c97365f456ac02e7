"""`/metrics` of `serve --workers 2` reports the sum over both workers, from a private
directory the supervisor makes (and removes) itself; the operator sets nothing."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.http.workers import MULTIPROC_ENV, shared_metrics_dir
from gateway.settings import Settings
from tests.helpers.reload import customer_id, keys_of, postgres_store, sqlite_store
from tests.helpers.servers import serving
from tests.helpers.workers import clients_on_two_workers, serving_worker

READS_ON_A = 3
READS_ON_B = 5


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def _single_reads(text: str) -> float:
    return sum(
        value
        for labels, value in _samples(text, "wardgate_http_requests_total")
        if labels["route"] == "/v1/customers/{customer_id}" and labels["status"] == "200"
    )


def _scrape(client: httpx.Client, base: str) -> str:
    response = client.get(f"{base}/metrics")
    assert response.status_code == 200
    return response.text


def run_two_workers(settings: Settings, tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    customer = customer_id(settings)
    keys = keys_of(settings)
    support = {"Authorization": f"Bearer {keys['support-desk']}", "X-Purpose": "customer_service"}
    with (
        serving(settings, 1, tmp_path, env={"TMPDIR": str(temp)}, workers=2) as (base,),
        clients_on_two_workers(base) as (on_a, on_b),
    ):
        (made,) = temp.iterdir()
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, "the directory is private"
        url = f"{base}/v1/customers/{customer}"
        for client, reads in ((on_a, READS_ON_A), (on_b, READS_ON_B)):
            for _ in range(reads):
                assert client.get(url, headers=support).status_code == 200
        worker_a, worker_b = serving_worker(on_a, base)[0], serving_worker(on_b, base)[0]
        assert worker_a != worker_b, "the reads were spread over both workers"

        from_a, from_b = _scrape(on_a, base), _scrape(on_b, base)
        assert _single_reads(from_a) == _single_reads(from_b) == READS_ON_A + READS_ON_B
        # The figures computed at scrape time are reported once, by whoever answers: an
        # earlier scrape left no per-worker copy of them behind.
        again = _scrape(on_a, base)
        assert _samples(again, "wardgate_ready") == [({}, 1.0)]
        assert _samples(again, "wardgate_policy_version") == [({}, 1.0)]
        for secret in (customer, *keys.values()):
            assert secret not in again
    assert not any(temp.iterdir()), "the supervisor removed its directory at exit"


def test_given_two_workers_on_sqlite_then_one_scrape_counts_both(tmp_path: Path) -> None:
    run_two_workers(sqlite_store(tmp_path), tmp_path)


@pytest.mark.postgres
def test_given_two_workers_on_postgres_then_one_scrape_counts_both(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    run_two_workers(postgres_store(tmp_path, postgres_url_factory), tmp_path)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_given_a_directory_left_by_a_killed_supervisor_then_the_next_start_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    orphan = tmp_path / f"wardgate-metrics-{_dead_pid()}-x1"
    running = tmp_path / f"wardgate-metrics-{os.getppid()}-x2"  # a supervisor still alive
    unrelated = tmp_path / "wardgate-metrics-notes"
    for directory in (orphan, running, unrelated):
        directory.mkdir()
        (directory / "counter_1.db").write_bytes(b"")
    with shared_metrics_dir() as made:
        assert os.environ[MULTIPROC_ENV] == str(made)
        assert made.parent == tmp_path
        assert not orphan.exists()
        assert running.exists()
        assert unrelated.exists()
    assert not made.exists()
    assert MULTIPROC_ENV not in os.environ


def test_given_an_operator_directory_then_it_is_used_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = tmp_path / "prom"
    theirs.mkdir()
    (theirs / "counter_1.db").write_bytes(b"")
    monkeypatch.setenv(MULTIPROC_ENV, str(theirs))
    with shared_metrics_dir() as used:
        assert used == theirs
    assert (theirs / "counter_1.db").exists()
    assert os.environ[MULTIPROC_ENV] == str(theirs)
