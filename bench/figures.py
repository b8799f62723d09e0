"""What every benchmark does with its measurements: summarise, print, save.

Each benchmark prints a table and writes the same figures as JSON, stamped with
the machine they were taken on, so a figure in docs/benchmarks.md can be traced
to a run and rerun.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
console = Console()


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``samples``, linearly interpolated."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds from samples in seconds."""
    ms = [1000 * s for s in samples_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


def timed(call: Callable[[], Any], repeats: int) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``call``."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def rss_mib() -> float:
    """Resident memory of this process now, in MiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mib() -> float:
    """The most resident memory this process has held so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def rss_sampler(every_s: float = 0.5) -> Iterator[dict[str, float]]:
    """Samples resident memory while the block runs: ``{"start", "peak"}`` in MiB.

    ru_maxrss cannot be reset, so a phase's own peak is sampled instead.
    """
    found = {"start": rss_mib(), "peak": rss_mib()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every_s):
            found["peak"] = max(found["peak"], rss_mib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join()
        found["peak"] = max(found["peak"], rss_mib())


def directory_mib(path: Path) -> float:
    """Bytes on disk under ``path``, in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def machine() -> dict[str, Any]:
    """The machine and library versions the figures were taken with."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kib = 0
    versions = {}
    for package in ("legalrag", "chromadb", "bm25s", "sentence-transformers", "torch", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "versions": versions,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def show(title: str, rows: list[dict[str, Any]]) -> None:
    """Print ``rows`` (dicts with the same keys) as one table."""
    table = Table(title=title, title_justify="left")
    for position, column in enumerate(rows[0] if rows else []):
        table.add_column(str(column), justify="left" if position == 0 else "right")
    for row in rows:
        table.add_row(*(_cell(value) for value in row.values()))
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def target(
    what: str, value: float, limit: float, *, at_most: bool, unit: str = ""
) -> dict[str, Any]:
    """One of the issue's targets, judged: ``value`` must be <= (``at_most``) or >= ``limit``."""
    met = value <= limit if at_most else value >= limit
    return {
        "target": what,
        "measured": f"{value:,.2f}{unit}",
        "wanted": f"{'<=' if at_most else '>='} {limit:,.2f}{unit}",
        "met": bool(met),
    }


def show_targets(targets: list[dict[str, Any]], mode: str) -> None:
    """Print the targets, saying in --quick mode that speed is not judged there."""
    if not targets:
        return
    rows = [{**t, "met": "yes" if t["met"] else "NO"} for t in targets]
    title = "targets" + (" (quick mode: tiny data, indicative only)" if mode == "quick" else "")
    show(title, rows)


def arguments(doc: str, quick: str) -> argparse.ArgumentParser:
    """A benchmark's command line: ``--quick`` (``quick`` says what it does) and ``--out``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"seconds, for CI: {quick}")
    parser.add_argument("--out", type=Path, help="JSON figures file (default bench/results/)")
    return parser


def parse(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, str]:
    """The parsed command line and the mode it asks for ("quick" or "full")."""
    args = parser.parse_args()
    return args, "quick" if args.quick else "full"


def save(name: str, mode: str, figures: dict[str, Any], out: Path | None = None) -> Path:
    """Write ``figures`` with the machine to ``bench/results/<name>-<mode>.json``."""
    path = out or RESULTS_DIR / f"{name}-{mode}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "mode": mode, "machine": machine(), **figures}
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    console.print(f"[dim]figures written to {path}[/dim]")
    return path


def sample_questions(k: int) -> list[dict[str, Any]]:
    """The shipped sample eval set's answerable questions (those with gold sources),
    saying how many of how many, at ``k``."""
    from importlib import resources

    questions_file = resources.files("legalrag.eval") / "datasets" / "sample.jsonl"
    questions = [
        json.loads(line)
        for line in questions_file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    answerable = [q for q in questions if q["gold_source_ids"]]
    print(f"{len(answerable)} answerable questions (of {len(questions)}), k={k}")
    return answerable
