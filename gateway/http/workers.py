"""Several worker processes on one port: `wardgate serve --workers N`.

The supervisor binds the port once, then forks N workers that each run their own
uvicorn server (own event loop, own store connections, own audit group commit). Each
worker has a listening socket of its own on that port (SO_REUSEPORT, where the system
has it) and the kernel spreads new connections evenly over the sockets; on one shared
socket whichever worker was awake took every waiting connection. The supervisor keeps
every socket open, so a replacement worker takes over its predecessor's socket, and the
connections waiting in it, instead of the kernel resetting them. Everything that must
be one across workers already lives in the store, not in a process:

- the audit chain: every batch reads and updates the tree row inside its transaction
  (SQLite's write lock, PostgreSQL's FOR UPDATE), so sequence numbers stay 0..n-1 with
  no gap and no fork whichever worker appends;
- checkpoints: a worker signs under that same lock and skips a tree size that is
  already signed, so one worker at a time signs and no head is signed twice;
- policy and API keys: each worker's reloader watches the store's stamp (PostgreSQL
  NOTIFY, SQLite every 250 ms), so a change reaches every worker within a second;
- erasure: a worker that did not shred a key itself still holds it in its key cache,
  but refuses the record through the customer store's `erased_at` mark, read with the
  row on every request.

Forking (not spawning) after the parent's start-up checks means each worker begins
with the PII detector and the app already imported: start-up costs one import, and the
pages stay shared until written. The parent holds no store connection and runs no
thread when it forks.

SIGTERM or SIGINT to the supervisor is passed to every worker; each stops accepting,
lets its in-flight requests finish and flushes its audit batch (uvicorn's shutdown and
the app's lifespan), and the supervisor exits when the last one has. A worker that
dies while serving is replaced; one that cannot start stops the whole server (its exit
code, 3, is the server's). Workers die with the supervisor (PR_SET_PDEATHSIG), so a
`kill -9` of the supervisor leaves no orphan serving the store.

`/metrics` sums every worker's counters: unless the operator names a directory in
`PROMETHEUS_MULTIPROC_DIR`, the supervisor makes a private one (mode 0700, under
TMPDIR) before the app is built, so every worker writes its figures into that
directory and any of them reports the total; the directory goes when the supervisor
exits, and one left by a supervisor that was killed goes at the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

import structlog

log = structlog.get_logger("wardgate.workers")

_PR_SET_PDEATHSIG = 1
RESPAWN_PAUSE_SECONDS = 0.5
"""Between a worker's death and its replacement: a crash loop does not spin a core."""
NOT_STARTED = 3
"""A worker's exit code when its server never started (the CLI's UNAVAILABLE)."""

WorkerMain = Callable[[], int]
"""Runs one worker's server to its end; returns the worker's exit code."""

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_METRICS_DIR_PREFIX = "wardgate-metrics-"
_METRICS_DIR_NAME = re.compile(rf"{_METRICS_DIR_PREFIX}(\d+)-")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    return True


def _remove_orphaned_metrics_dirs(parent: Path) -> None:
    """Directories left by supervisors that died without cleaning up (`kill -9`): each is
    named after its supervisor's pid, and only this user's, of a pid no longer running,
    are removed. A reused pid keeps its directory one more run; it holds only counts."""
    for entry in parent.glob(f"{_METRICS_DIR_PREFIX}*"):
        named = _METRICS_DIR_NAME.match(entry.name)
        if named is None or not entry.is_dir() or entry.is_symlink():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == os.getuid() and not _process_alive(int(named[1])):
                shutil.rmtree(entry)


@contextlib.contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """The directory where every worker's counters live, set in the environment for the
    life of the block (so for the workers forked inside it).

    An operator's `PROMETHEUS_MULTIPROC_DIR` is used as given and left as found (what
    else it holds is theirs); otherwise a private directory is made, and removed at the
    end. Either way it must be set before the app builds its metrics: prometheus-client
    picks file-backed values from the environment (see `gateway.ops.metrics`)."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        yield Path(given)
        return
    parent = Path(tempfile.gettempdir())
    _remove_orphaned_metrics_dirs(parent)
    made = Path(tempfile.mkdtemp(prefix=f"{_METRICS_DIR_PREFIX}{os.getpid()}-", dir=parent))
    os.environ[MULTIPROC_ENV] = str(made)
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)


def forget_worker_metrics(pid: int) -> None:
    """A worker has exited: its live gauges no longer count (its counters still do, as
    everything it served was served). Nothing to do without a shared directory."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess  # the supervisor built the app: loaded

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when the supervisor dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor's SIGTERM still reaches us
        pass
    if os.getppid() != parent:  # the supervisor died before the prctl took effect
        os._exit(1)


def _fork(worker_main: WorkerMain, others: Sequence[socket.socket] = ()) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid != 0:
        return pid
    code = 1
    try:
        _die_with_parent(parent)
        for sock in others:  # the other workers' listening sockets: not ours to hold
            sock.close()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        code = worker_main()
    finally:
        os._exit(code)  # never return into the supervisor's code in the child


class Supervisor:
    """Forks `workers` processes running `worker_main`, replaces the ones that die, and
    passes SIGTERM/SIGINT on to all of them.

    Each worker has a slot, 0..workers-1, passed to `worker_main`; a replacement takes
    the slot of the worker it replaces. With `sockets` (one per slot), each worker closes
    its copies of the other slots' sockets."""

    def __init__(
        self,
        worker_main: Callable[[int], int],
        workers: int,
        sockets: Sequence[socket.socket] = (),
    ) -> None:
        self._worker_main = worker_main
        self._workers = workers
        self._sockets = list(sockets)
        self._slots: dict[int, int] = {}
        """Worker pid → its slot (the index of its socket)."""
        self._stopping = False

    def _start(self, slot: int) -> None:
        others = [s for i, s in enumerate(self._sockets) if i != slot]
        self._slots[_fork(lambda: self._worker_main(slot), others)] = slot

    def __repr__(self) -> str:
        return f"Supervisor(workers={self._workers}, running={len(self._slots)})"

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True
        for pid in list(self._slots):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                del self._slots[pid]

    def run(self) -> int:
        """Serve until stopped; the exit code is 0, or NOT_STARTED if a worker could not
        start (the others are stopped then)."""
        previous = {
            signum: signal.signal(signum, self._stop) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        result = 0
        try:
            for slot in range(self._workers):
                self._start(slot)
            while self._slots:
                try:
                    pid, status = os.wait()
                except ChildProcessError:
                    break
                freed = self._slots.pop(pid, None)
                forget_worker_metrics(pid)
                code = os.waitstatus_to_exitcode(status)
                if self._stopping:
                    continue
                if code == NOT_STARTED:
                    log.error("a worker could not start; stopping the server", worker_pid=pid)
                    result = NOT_STARTED
                    self._stop(signal.SIGTERM, None)
                    continue
                log.warning("worker exited; starting another", worker_pid=pid, exit_code=code)
                time.sleep(RESPAWN_PAUSE_SECONDS)
                if not self._stopping and freed is not None:
                    self._start(freed)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return result


def serve_in_workers(
    worker_main: Callable[[list[socket.socket]], int],
    listening: Sequence[socket.socket],
    workers: int,
) -> int:
    """Run `worker_main(sockets)` in `workers` forked processes: each on a socket of its
    own if `listening` holds one per worker, else all sharing `listening`."""
    if len(listening) == workers:
        return Supervisor(lambda slot: worker_main([listening[slot]]), workers, listening).run()
    return Supervisor(lambda _: worker_main(list(listening)), workers).run()
