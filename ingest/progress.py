"""Progress bars for the ingestion stages, with rates; silent with --quiet."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

STAGES = {
    "read": "documents",
    "chunk": "chunks",
    "embed": "chunks",
    "write": "chunks",
}


class _CountColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        total = f"/{int(task.total):,}" if task.total is not None else ""
        return Text(f"{int(task.completed):,}{total} {task.fields.get('unit', '')}")


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.1f}/s", style="progress.data.speed")


class IngestProgress:
    """One bar per stage: read, chunk, embed, write."""

    def __init__(
        self, *, quiet: bool, console: Console | None = None, documents_total: int | None = None
    ):
        self._progress = Progress(
            TextColumn("{task.description:>6}"),
            BarColumn(),
            _CountColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            disable=quiet,
        )
        self._tasks: dict[str, TaskID] = {}
        self._documents_total = documents_total

    def __enter__(self) -> IngestProgress:
        self._progress.__enter__()
        for stage, unit in STAGES.items():
            total = self._documents_total if stage == "read" else None
            self._tasks[stage] = self._progress.add_task(stage, total=total, unit=unit)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def advance(self, stage: str, amount: int = 1) -> None:
        """Count ``amount`` more items done in ``stage``."""
        if amount:
            self._progress.advance(self._tasks[stage], amount)
