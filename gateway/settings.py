"""Typed settings from the environment, read once behind `get_settings()`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("wardgate-data")
    """WARDGATE_DATA_DIR: the embedded store, master key and demo keys live here."""

    database_url: str | None = None
    """WARDGATE_DATABASE_URL: PostgreSQL URL; unset means the embedded SQLite store."""

    keystore_url: str | None = None
    """WARDGATE_KEYSTORE_URL: database of the key store (wrapped data keys). Unset means
    `<data dir>/keys.db`. Keep it out of the customer store's backups: erasure reaches
    backups only because their data keys live elsewhere."""

    crypto_suite: str = "aes256gcm"
    """WARDGATE_CRYPTO_SUITE: aes256gcm, or sm4gcm (SM4-GCM with HMAC-SM3), fixed at init."""

    host: str = "127.0.0.1"
    """WARDGATE_HOST: address `wardgate serve` binds."""

    port: int = 8080
    """WARDGATE_PORT: port `wardgate serve` binds."""

    max_body_bytes: int = 1_048_576
    """WARDGATE_MAX_BODY_BYTES: larger request bodies get 413."""

    scan_max_bytes: int = 65_536
    """WARDGATE_SCAN_MAX_BYTES: the largest text (UTF-8 bytes) POST /v1/scan takes;
    larger gets 413 `text_too_large`. Detection is CPU work on the request path."""

    scan_cache_entries: int = 100_000
    """WARDGATE_SCAN_CACHE_ENTRIES: free-text values whose detected PII spans (types and
    offsets, keyed by a digest of the ciphertext) reads remember; 0 turns it off."""

    log_level: str = "info"
    """WARDGATE_LOG_LEVEL: debug, info, warning or error."""

    log_json: bool = True
    """WARDGATE_LOG_JSON: JSON log lines (default) or human-readable console lines."""

    audit_max_batch: int = 256
    """WARDGATE_AUDIT_MAX_BATCH: audit entries committed together (group commit); 1 turns
    group commit off (one transaction per request)."""

    checkpoint_entries: int = 1000
    """WARDGATE_CHECKPOINT_ENTRIES: sign a checkpoint at least every this many audit entries."""

    checkpoint_seconds: float = 60.0
    """WARDGATE_CHECKPOINT_SECONDS: ... and at least this often (seconds) while it grows."""

    db_pool_size: int = 10
    """WARDGATE_DB_POOL_SIZE: connections per process for reads (PostgreSQL)."""

    policy_poll_seconds: float | None = None
    """WARDGATE_POLICY_POLL_SECONDS: how often each process checks the store for a newer
    policy version (or a changed API key) and reloads. Unset: 0.25 s on SQLite, where the
    check is the only way a process learns of a change made by another; 5 s on
    PostgreSQL, where LISTEN/NOTIFY brings changes at once and the check is a safety net
    for a notification missed while the listening connection was down."""

    http_max_header_bytes: int = 16_384
    """WARDGATE_HTTP_MAX_HEADER_BYTES: request line and headers together, in bytes; a
    request whose head is larger gets 431 and its connection is closed, before anything
    of it reaches the application (no authentication is spent on it)."""

    http_max_request_line_bytes: int = 8_192
    """WARDGATE_HTTP_MAX_REQUEST_LINE_BYTES: the request target (path and query); longer
    gets 414 and the connection is closed."""

    http_header_timeout_seconds: float = 10.0
    """WARDGATE_HTTP_HEADER_TIMEOUT_SECONDS: time a client has, from connecting (or from
    the first byte of its next request on a kept-alive connection), to send the whole
    request head; a slower client (slowloris) gets 408 and is disconnected."""

    http_body_timeout_seconds: float = 30.0
    """WARDGATE_HTTP_BODY_TIMEOUT_SECONDS: time a client has, from the end of a request's
    head, to send the whole body; a slower one gets 408 (or, once an answer has begun,
    is disconnected). Bodies are at most `WARDGATE_MAX_BODY_BYTES`, so a client that
    takes longer is trickling, not uploading."""

    http_keepalive_seconds: float = 5.0
    """WARDGATE_HTTP_KEEPALIVE_SECONDS: an idle kept-alive connection is closed after this."""

    http_max_connections: int = 1000
    """WARDGATE_HTTP_MAX_CONNECTIONS: open connections (and requests in progress) per
    worker process; beyond it new requests get 503 at once instead of queueing."""

    ready_min_free_bytes: int = 16 * 1024 * 1024
    """WARDGATE_READY_MIN_FREE_BYTES: with the embedded store, /readyz says `disk_full`
    when the data directory's file system has less free space than this."""

    sqlite_synchronous: str = "full"
    """WARDGATE_SQLITE_SYNCHRONOUS: `full` (default) or `normal` for the embedded store's
    writing connections. FULL syncs the write-ahead log at every commit, so a change and
    its audit entry acknowledged to a client survive a power loss; NORMAL syncs only at
    checkpoints: it survives a crash of the gateway, not of the machine (measured in
    `bench.audit`)."""

    metrics_enabled: bool = True
    """WARDGATE_METRICS: serve Prometheus metrics at /metrics (unauthenticated; labels
    never carry a value, a customer id or a key). Off: /metrics is 404."""

    retention_schedule: bool = False
    """WARDGATE_RETENTION_SCHEDULE: `wardgate serve` runs retention (erasure of lapsed
    customers, `wardgate retention run`) on its own, once per interval. Off by default.
    However many workers and hosts serve, one runs it (a lease row in the store)."""

    retention_interval_seconds: float = 86_400.0
    """WARDGATE_RETENTION_INTERVAL_SECONDS: time between scheduled retention runs (daily)."""

    retention_check_seconds: float = 300.0
    """WARDGATE_RETENTION_CHECK_SECONDS: how often each process looks whether a scheduled
    run is due (and whether the runner that holds the lease has gone)."""
    dsr_working_days: int = 15
    """WARDGATE_DSR_WORKING_DAYS: a data-subject request is due this many Chinese working
    days after it is received (public holidays and make-up working days counted)."""

    dsr_calendar_file: Path | None = None
    """WARDGATE_DSR_CALENDAR_FILE: official holidays and make-up working days (YAML) for
    years the `chinese-calendar` package does not cover yet. Unset:
    `<data dir>/official-holidays.yaml` when that file exists."""

    dsr_package_downloads: int = 3
    """WARDGATE_DSR_PACKAGE_DOWNLOADS: how many times an access package may be downloaded."""

    dsr_package_days: int = 14
    """WARDGATE_DSR_PACKAGE_DAYS: an access package can be downloaded for this many days."""

    workers: int = 0
    """WARDGATE_WORKERS: `wardgate serve` worker processes sharing the port and the store;
    0 (default) means one per CPU this process may run on."""

    bench_bare_endpoint: bool = False
    """WARDGATE_BENCH_BARE: mount /bench/bare, an UNGOVERNED read path for `make bench`.
    Never enable it in production: it bypasses policy, masking and audit."""

    @property
    def worker_count(self) -> int:
        if self.workers > 0:
            return self.workers
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)

    @property
    def policy_poll_interval(self) -> float:
        if self.policy_poll_seconds is not None:
            return self.policy_poll_seconds
        return 0.25 if self.is_sqlite else 5.0

    @property
    def calendar_file(self) -> Path | None:
        """The operator's official-dates file, if one is configured or present."""
        if self.dsr_calendar_file is not None:
            return self.dsr_calendar_file
        default = self.data_dir / "official-holidays.yaml"
        return default if default.exists() else None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "wardgate.db"

    @property
    def keystore_path(self) -> Path:
        return self.data_dir / "keys.db"

    @property
    def async_keystore_url(self) -> str:
        if self.keystore_url is None:
            return f"sqlite+aiosqlite:///{self.keystore_path}"
        return _async_url(self.keystore_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url is None

    @property
    def async_database_url(self) -> str:
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{self.sqlite_path}"
        return _async_url(self.database_url)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def _async_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


def _non_negative_int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    number = int(value)
    if number < 0:
        msg = f"expected 0 or more, got {value!r}"
        raise ValueError(msg)
    return number


def _positive_or_none(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    if not number > 0:
        msg = f"expected a positive number of seconds, got {value!r}"
        raise ValueError(msg)
    return number


SQLITE_SYNC_LEVELS = ("full", "normal")


def _positive_int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    number = int(value)
    if number <= 0:
        msg = f"expected a positive whole number, got {value!r}"
        raise ValueError(msg)
    return number


def _choice(value: str | None, default: str, choices: tuple[str, ...]) -> str:
    if value is None or value == "":
        return default
    chosen = value.strip().lower()
    if chosen not in choices:
        msg = f"expected one of {', '.join(choices)}, got {value!r}"
        raise ValueError(msg)
    return chosen


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    defaults = Settings()
    return Settings(
        data_dir=Path(env.get("WARDGATE_DATA_DIR") or defaults.data_dir),
        database_url=env.get("WARDGATE_DATABASE_URL") or None,
        keystore_url=env.get("WARDGATE_KEYSTORE_URL") or None,
        crypto_suite=(env.get("WARDGATE_CRYPTO_SUITE") or defaults.crypto_suite).lower(),
        host=env.get("WARDGATE_HOST") or defaults.host,
        port=int(env.get("WARDGATE_PORT") or defaults.port),
        max_body_bytes=int(env.get("WARDGATE_MAX_BODY_BYTES") or defaults.max_body_bytes),
        scan_max_bytes=int(env.get("WARDGATE_SCAN_MAX_BYTES") or defaults.scan_max_bytes),
        scan_cache_entries=int(
            env.get("WARDGATE_SCAN_CACHE_ENTRIES") or defaults.scan_cache_entries
        ),
        log_level=(env.get("WARDGATE_LOG_LEVEL") or defaults.log_level).lower(),
        log_json=_bool(env.get("WARDGATE_LOG_JSON"), defaults.log_json),
        db_pool_size=int(env.get("WARDGATE_DB_POOL_SIZE") or defaults.db_pool_size),
        audit_max_batch=int(env.get("WARDGATE_AUDIT_MAX_BATCH") or defaults.audit_max_batch),
        checkpoint_entries=int(
            env.get("WARDGATE_CHECKPOINT_ENTRIES") or defaults.checkpoint_entries
        ),
        checkpoint_seconds=float(
            env.get("WARDGATE_CHECKPOINT_SECONDS") or defaults.checkpoint_seconds
        ),
        policy_poll_seconds=_positive_or_none(env.get("WARDGATE_POLICY_POLL_SECONDS")),
        http_max_header_bytes=_positive_int(
            env.get("WARDGATE_HTTP_MAX_HEADER_BYTES"), defaults.http_max_header_bytes
        ),
        http_max_request_line_bytes=_positive_int(
            env.get("WARDGATE_HTTP_MAX_REQUEST_LINE_BYTES"), defaults.http_max_request_line_bytes
        ),
        http_header_timeout_seconds=_positive_or_none(
            env.get("WARDGATE_HTTP_HEADER_TIMEOUT_SECONDS")
        )
        or defaults.http_header_timeout_seconds,
        http_body_timeout_seconds=_positive_or_none(env.get("WARDGATE_HTTP_BODY_TIMEOUT_SECONDS"))
        or defaults.http_body_timeout_seconds,
        http_keepalive_seconds=_positive_or_none(env.get("WARDGATE_HTTP_KEEPALIVE_SECONDS"))
        or defaults.http_keepalive_seconds,
        http_max_connections=_positive_int(
            env.get("WARDGATE_HTTP_MAX_CONNECTIONS"), defaults.http_max_connections
        ),
        ready_min_free_bytes=int(
            env.get("WARDGATE_READY_MIN_FREE_BYTES") or defaults.ready_min_free_bytes
        ),
        sqlite_synchronous=_choice(
            env.get("WARDGATE_SQLITE_SYNCHRONOUS"), defaults.sqlite_synchronous, SQLITE_SYNC_LEVELS
        ),
        metrics_enabled=_bool(env.get("WARDGATE_METRICS"), defaults.metrics_enabled),
        retention_schedule=_bool(env.get("WARDGATE_RETENTION_SCHEDULE"), False),
        retention_interval_seconds=_positive_or_none(env.get("WARDGATE_RETENTION_INTERVAL_SECONDS"))
        or defaults.retention_interval_seconds,
        retention_check_seconds=_positive_or_none(env.get("WARDGATE_RETENTION_CHECK_SECONDS"))
        or defaults.retention_check_seconds,
        dsr_working_days=_positive_int(
            env.get("WARDGATE_DSR_WORKING_DAYS"), defaults.dsr_working_days
        ),
        dsr_calendar_file=Path(calendar)
        if (calendar := env.get("WARDGATE_DSR_CALENDAR_FILE"))
        else None,
        dsr_package_downloads=_positive_int(
            env.get("WARDGATE_DSR_PACKAGE_DOWNLOADS"), defaults.dsr_package_downloads
        ),
        dsr_package_days=_positive_int(
            env.get("WARDGATE_DSR_PACKAGE_DAYS"), defaults.dsr_package_days
        ),
        workers=_non_negative_int(env.get("WARDGATE_WORKERS"), defaults.workers),
        bench_bare_endpoint=_bool(env.get("WARDGATE_BENCH_BARE"), False),
    )


@cache
def get_settings() -> Settings:
    return settings_from_env()
