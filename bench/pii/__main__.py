"""Benchmark of `masking.detection`: per-entity precision/recall/F1 and throughput.

1. A labelled corpus from a fixed seed (Faker zh_CN/en_US, note templates, hard
   negatives), see `bench.pii._templates`.
2. Accuracy: exact span and exact type (see `bench.pii._score`).
3. Build time of the detector in a fresh interpreter (median of 3), import separately.
4. Throughput: `detect_many` over all Chinese texts, one thread, MB/s of UTF-8, median
   of several runs.

    .venv/bin/python -m bench.pii [--zh 6000 --en 1500 --seed 20240601 --runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rich.console import Console
from rich.table import Table

from bench.pii._corpus import Sample, Span, generate
from bench.pii._score import Scores, score
from masking.detection import PiiDetector, build_detector

ROOT = Path(__file__).resolve().parents[2]
RESULT = ROOT / ".bench" / "pii.json"
TARGETS = {
    "CN_RESIDENT_ID": "P,R ≥ 0.98",
    "CN_MOBILE": "P,R ≥ 0.98",
    "BANK_CARD": "P,R ≥ 0.98",
    "CN_USCC": "P,R ≥ 0.98",
    "EMAIL_ADDRESS": "P,R ≥ 0.98",
    "PERSON": "F1 ≥ 0.85",
}
_BUILD_PROBE = (
    "import time; t0 = time.perf_counter(); import masking.detection as d; "
    "t1 = time.perf_counter(); d.build_detector(); t2 = time.perf_counter(); "
    "print(t1 - t0, t2 - t1)"
)


def _build_times(runs: int) -> tuple[float, float]:
    imports, builds = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _BUILD_PROBE], check=True, capture_output=True, text=True
        ).stdout.split()
        imports.append(float(out[0]))
        builds.append(float(out[1]))
    return statistics.median(imports), statistics.median(builds)


def _predict(detector: PiiDetector, samples: list[Sample]) -> list[list[Span]]:
    found = detector.detect_many([s.text for s in samples])
    return [[Span(e.entity_type, e.start, e.end) for e in entities] for entities in found]


@dataclass(frozen=True, slots=True)
class Throughput:
    megabytes: float
    batched_wall: float
    """MB/s, detect_many over all texts, wall-clock time."""
    batched_cpu: float
    """MB/s, the same runs by process CPU time (what other processes on the machine
    do not inflate)."""
    single_wall: float
    """MB/s, detect() called once per text."""


def _throughput(detector: PiiDetector, texts: list[str], runs: int) -> Throughput:
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    walls, cpus, singles = [], [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        detector.detect_many(texts)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        wall = time.perf_counter()
        for text in texts:
            detector.detect(text)
        singles.append(time.perf_counter() - wall)
    return Throughput(
        megabytes,
        megabytes / statistics.median(walls),
        megabytes / statistics.median(cpus),
        megabytes / statistics.median(singles),
    )


def _met(s: Scores) -> str:
    target = TARGETS.get(s.entity_type)
    if target is None:
        return ""
    if target.startswith("F1"):
        return "yes" if s.f1 >= 0.85 else "NO"
    return "yes" if s.precision >= 0.98 and s.recall >= 0.98 else "NO"


def _show_errors(samples: list[Sample], predicted: list[list[Span]], limit: int) -> None:
    shown = 0
    for sample, found in zip(samples, predicted, strict=True):
        gold, got = set(sample.gold), set(found)
        if gold == got:
            continue
        text = sample.text
        missed = [(s.entity_type, text[s.start : s.end]) for s in gold - got]
        extra = [(s.entity_type, text[s.start : s.end]) for s in got - gold]
        print(f"{text}\n   missed {missed}\n   extra  {extra}")
        shown += 1
        if shown >= limit:
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pii", description=__doc__.split("\n")[0])
    parser.add_argument("--zh", type=int, default=6000, help="Chinese samples")
    parser.add_argument("--en", type=int, default=1500, help="English samples")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--runs", type=int, default=5, help="throughput runs (median)")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)

    samples = generate(args.zh, args.en, args.seed)
    import_s, build_s = _build_times(3)
    detector = build_detector()
    predicted = _predict(detector, samples)
    scores = score((s.gold, p) for s, p in zip(samples, predicted, strict=True))
    zh_texts = [s.text for s in samples if s.language == "zh"]
    speed = _throughput(detector, zh_texts, args.runs)

    if args.show_errors:
        _show_errors(samples, predicted, args.show_errors)

    table = Table(
        title=f"PII detection, {args.zh} zh + {args.en} en texts, seed {args.seed} "
        "(exact span, exact type)"
    )
    for column in ("entity", "support", "predicted", "precision", "recall", "F1", "overlap F1"):
        table.add_column(column, justify="left" if column == "entity" else "right")
    table.add_column("target")
    table.add_column("met")
    for s in scores.values():
        table.add_row(
            s.entity_type,
            str(s.support),
            str(s.predicted),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
            f"{s.overlap_f1:.3f}",
            TARGETS.get(s.entity_type, ""),
            _met(s),
        )
    console = Console(width=120)
    console.print(table)
    console.print(
        f"analyzer build: {build_s:.2f} s for build_detector() (target < 2 s), "
        f"after {import_s:.2f} s importing masking.detection (fresh interpreter, median of 3)"
    )
    console.print(
        f"throughput, one thread, {len(zh_texts)} Chinese texts = {speed.megabytes:.2f} MB of "
        f"UTF-8, median of {args.runs} runs (target ≥ 1 MB/s):\n"
        f"  detect_many: {speed.batched_wall:.2f} MB/s wall clock, "
        f"{speed.batched_cpu:.2f} MB/s by process CPU time\n"
        f"  detect() per text: {speed.single_wall:.2f} MB/s wall clock\n"
        f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
        "(other processes slow the wall-clock figures, less so the CPU-time one)"
    )
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(
        json.dumps(
            {
                "scores": {
                    t: {
                        "support": s.support,
                        "predicted": s.predicted,
                        "precision": s.precision,
                        "recall": s.recall,
                        "f1": s.f1,
                    }
                    for t, s in scores.items()
                },
                "build_seconds": build_s,
                "import_seconds": import_s,
                "mb_per_second": speed.batched_wall,
                "mb_per_cpu_second": speed.batched_cpu,
                "mb_per_second_single": speed.single_wall,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
