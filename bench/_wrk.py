"""Drive a scenario with wrk; a generated Lua script rotates the targets and reports JSON."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench._http import HOST
from bench._load import LoadResult
from bench._scenarios import Scenario

_MARK = "BENCH_RESULT "

# wrk counts statuses > 399 as errors by itself; the `response` hook makes that "not 2xx".
# Each wrk thread has its own Lua state and `done` runs in the main one: it reads the
# threads' counters through the handles `setup` kept.
_SCRIPT = """\
local paths = { %(paths)s }
local headers = { %(headers)s }
local prepared = {}
local next_index = 1
not_2xx = 0  -- global: `done` reads it from each thread
local threads = {}

function setup(thread)
  thread:set("start", #threads * 997)
  table.insert(threads, thread)
end

function init(args)
  for i, path in ipairs(paths) do
    prepared[i] = wrk.format("GET", path, headers)
  end
  next_index = start %% #prepared + 1
end

function request()
  local req = prepared[next_index]
  next_index = next_index %% #prepared + 1
  return req
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_2xx")
  end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "not_2xx": %%d, "socket_errors": %%d, '
      .. '"p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def write_script(scenario: Scenario, path: Path) -> None:
    headers = ", ".join(
        f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in scenario.headers.items()
    )
    paths = ", ".join(_lua_string(p) for p in scenario.paths)
    path.write_text(_SCRIPT % {"paths": paths, "headers": headers, "mark": _MARK})


def version(executable: str) -> str:
    banner = subprocess.run([executable, "-v"], capture_output=True, text=True, check=False)
    found = re.search(r"\d+\.\d+(\.\d+)?", banner.stdout + banner.stderr)
    return found[0] if found else "(unknown version)"


@dataclass(frozen=True, slots=True)
class Wrk:
    executable: str
    connections: int
    threads: int
    scripts: Path
    """A directory for the generated Lua scripts."""
    version: str

    @property
    def name(self) -> str:
        return f"wrk {self.version}, {self.threads} thread(s)"

    def run(self, port: int, scenario: Scenario, seconds: float) -> LoadResult:
        # Named by content: another store's run has other ids and another API key.
        digest = hashlib.sha256(repr((scenario.paths, sorted(scenario.headers.items()))).encode())
        script = self.scripts / f"{scenario.name.replace(' ', '_')}-{digest.hexdigest()[:12]}.lua"
        if not script.exists():
            write_script(scenario, script)
        command = [
            self.executable,
            f"--threads={self.threads}",
            f"--connections={self.connections}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=10s",
            f"--script={script}",
            f"http://{HOST}:{port}",
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        line = next((x for x in out.splitlines() if x.startswith(_MARK)), None)
        if line is None:
            msg = f"wrk printed no result:\n{out}"
            raise RuntimeError(msg)
        raw = json.loads(line.removeprefix(_MARK))
        return LoadResult(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1e3,
            p99_ms=raw["p99_us"] / 1e3,
            bad_status=raw["not_2xx"],
            socket_errors=raw["socket_errors"],
        )
