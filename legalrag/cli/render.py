"""Everything the commands print: summaries, tables, findings, JSON.

Text that comes from a user, a document, a model or the settings is printed as
:class:`~rich.text.Text`, never parsed as rich markup: a question or a title
holding ``[/i]`` is shown as written instead of crashing the command. Results go
to stdout (``out``); progress, warnings and findings to stderr (``err``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from legalrag.app.generation import Event

out = Console()
err = Console(stderr=True)

DIM = "dim"
WARN = "yellow"
BAD = "red"


def line(*parts: str | tuple[str, str]) -> Text:
    """One line from plain strings and ``(text, style)`` pairs; nothing in them is markup."""
    return Text.assemble(*parts)


def print_json(data: Any) -> None:
    """One JSON object on stdout, never wrapped or coloured: this output is for programs."""
    typer.echo(json.dumps(data, ensure_ascii=False))


def error(message: str) -> None:
    """The one line an error the user can act on gets."""
    err.print(line(("error:", "bold red"), " ", message), soft_wrap=True)


def note(message: str) -> None:
    """A plain line on stderr (what the command is doing, why it did nothing)."""
    err.print(Text(message))


def warning(message: str) -> None:
    """A warning line on stderr."""
    err.print(line(("warning:", WARN), " ", message))


def said(message: str) -> None:
    """A line another part (the chat server) wants shown, as it wrote it."""
    err.print(Text(message), soft_wrap=True)


def _table(title: str, first: str, rows: Iterable[tuple[str, str]], *, header: bool) -> Table:
    table = Table(title=title, show_header=header)
    table.add_column(first)
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(Text(name), Text(value))
    return table


# --- config and index ----------------------------------------------------------------


def settings_table(shown: Mapping[str, Any], config_file: Path | None) -> None:
    """The effective settings, then where they came from."""
    rows = ((name, "" if value is None else str(value)) for name, value in shown.items())
    out.print(_table("legalrag settings", "setting", rows, header=True))
    out.print(Text(f"config file: {config_file or 'none'}   env prefix: LEGALRAG_"))


def _counts(counts: Mapping[str, int], *, thousands: bool) -> str:
    return ", ".join(f"{k} ({v:,})" if thousands else f"{k} ({v})" for k, v in counts.items())


def index_table(info: Any) -> None:
    """Counts, embedding model, dimension and location of the index."""
    rows = [
        ("location", info.location),
        ("collection", info.collection),
        ("documents", f"{info.documents:,}"),
        ("chunks", f"{info.chunks:,}"),
        ("embedding model", str(info.embedding_model)),
        ("dimension", str(info.dimension)),
        ("sources", _counts(info.sources, thousands=True)),
        ("jurisdictions", _counts(info.jurisdictions, thousands=False)),
        ("topics", _counts(info.topics, thousands=False)),
    ]
    if info.matters:
        rows.append(("matters", _counts(info.matters, thousands=False)))
    out.print(_table("legalrag index", "what", rows, header=False))


def matters_table(matters: Sequence[Any]) -> None:
    """Each matter with its members and their roles."""
    if not matters:
        note("no matters yet: `legalrag matter create NAME`")
        return
    rows = [
        (m.name, ", ".join(f"{who} ({role})" for who, role in m.members.items()) or "(none)")
        for m in matters
    ]
    out.print(_table("legalrag matters", "matter", rows, header=False))


# --- ingest --------------------------------------------------------------------------


def ingest_summary(report: Any, *, quiet: bool) -> None:
    """What was skipped (stderr), then one line of counts and speed (stdout)."""
    for warned in report.warnings:
        warning(warned)
    for rejected in report.rejected:
        err.print(line(("skipped", WARN), f" {rejected.location}: {rejected.reason}"))
    if report.rejected_count > len(report.rejected):
        err.print(Text(f"… and {report.rejected_count - len(report.rejected):,} more"))
    for duplicate in report.duplicated:
        err.print(
            line(
                ("duplicate id", WARN),
                f" {duplicate.location}: {duplicate.document_id!r} was also at "
                f"{duplicate.replaced}; the later record replaced the earlier one",
            ),
            soft_wrap=True,
        )
    if report.duplicates > len(report.duplicated):
        err.print(Text(f"… and {report.duplicates - len(report.duplicated):,} more duplicates"))
    if report.rejects_log:
        what = "skipped and replaced" if report.duplicates else "skipped"
        err.print(Text(f"all {what} records: {report.rejects_log}"))
    counts = (
        f"documents {report.documents_ingested:,} (read {report.documents_read:,}, "
        f"skipped {report.rejected_count:,}"
        + (f", duplicates {report.duplicates:,}" if report.duplicates else "")
        + (
            f", other partitions {report.documents_outside_partition:,}"
            if report.documents_outside_partition
            else ""
        )
        + f") · chunks {report.chunks:,} (new {report.chunks_embedded:,}, "
        f"already indexed {report.chunks_already_indexed:,}, removed {report.chunks_removed:,}"
        + (f", metadata corrected {report.chunks_updated:,}" if report.chunks_updated else "")
        + ")"
        + (f" · pages {report.pages:,} (OCR {report.pages_ocr:,})" if report.pages else "")
        + f" · {report.seconds:.1f} s · {report.chunks_per_second:.1f} chunks/s"
    )
    shown = Text(counts) if quiet else line(("ingested", "bold green"), " ", counts)
    out.print(shown, soft_wrap=True)


# --- retrieve and ask ----------------------------------------------------------------


def retrieval(question: str, filters_described: str, result: Any) -> None:
    """The question, then each retrieved passage with its stages' scores and its text."""
    heading = line((question, "bold"))
    if filters_described:
        heading.append(f"  ({filters_described})", style=DIM)
    out.print(heading)
    if not result.passages:
        out.print(Text(result.reason or "No sources found."))
        return
    out.print()
    for rank, passage in enumerate(result.passages, start=1):
        stages = passage.stages
        scores = ""
        if stages is not None:
            dense = "—" if stages.dense is None else f"{stages.dense:.3f} (#{stages.dense_rank})"
            bm25 = "—" if stages.bm25 is None else f"{stages.bm25:.2f} (#{stages.bm25_rank})"
            scores = f" · dense {dense} · bm25 {bm25} · fused {stages.fused:.4f}"
        facts = f"{passage.jurisdiction or '—'} · {passage.topic or '—'} · {passage.created or '—'}"
        if passage.page:
            facts = f"{passage.page_label} · {facts}"
        out.print(
            line((f"[{rank}]", "bold cyan"), f" {passage.title}  ", (f"{facts}{scores}", DIM)),
            soft_wrap=True,
        )
        if passage.url:  # never wrapped, so that it stays one clickable link
            out.print(line("    ", (passage.url, Style(link=passage.url))), soft_wrap=True)
        out.print(Text(f"    {passage.text}\n"), soft_wrap=True)


class AnswerPrinter:
    """Prints an answer as it streams (reasoning dim, apart), then what was checked."""

    def __init__(self, *, hide_reasoning: bool) -> None:
        self.hide_reasoning = hide_reasoning
        self.streamed: list[str] = []

    def show(self, event: Event) -> None:
        """One streamed event: reasoning (unless hidden) or a piece of the answer."""
        from legalrag.app.generation import AnswerText, Reasoning

        if isinstance(event, Reasoning) and not self.hide_reasoning:
            out.print(Text(event.text, style=DIM), end="", soft_wrap=True)
        elif isinstance(event, AnswerText):
            if not self.streamed:
                out.print()
            self.streamed.append(event.text)
            out.print(Text(event.text), end="", soft_wrap=True)

    def finish_stream(self, answer: str) -> None:
        """After streaming: the checked answer again when it differs from what streamed."""
        out.print()
        if "".join(self.streamed).strip() != answer:
            # Not generated (a refusal before the model), or corrected by the verifier.
            if self.streamed:
                out.print(
                    line(("Checked answer", "bold"), " (invalid citations removed):\n"), end=""
                )
            out.print(Text(answer), soft_wrap=True)

    def whole(self, answer: str, reasoning: str) -> None:
        """The answer printed once it is complete (``--no-stream``)."""
        if reasoning and not self.hide_reasoning:
            out.print(Text(reasoning, style=DIM), soft_wrap=True)
        out.print(Text(answer), soft_wrap=True)


def findings(result: Any) -> None:
    """What the verifier found (stderr), then the sources and the model (stdout)."""
    from legalrag.app.reasoning_path import answer_path

    if result.truncated:
        err.print(line(("truncated:", WARN), " the model stopped at its token limit"))
    for marker in result.invalid_markers:
        err.print(line(("invalid citation", BAD), f" [{marker}]: no such source; removed"))
    for sentence in result.unsupported_sentences:
        err.print(line(("unsupported", WARN), f" (no citation): {sentence}"))
    for sentence in result.misgrounded_sentences:
        err.print(line(("misgrounded", BAD), f" (cited source does not support it): {sentence}"))
    for quote in result.quotes_not_found:
        err.print(line(("quote not in any source", BAD), f': "{quote}"'))
    path = answer_path(result)
    for number in path.uncited:
        err.print(line(("reasoning leans on", WARN), f" [{number}]; the answer does not cite it"))
    for number in path.unknown:
        err.print(line(("reasoning mentions", WARN), f" source {number}, which it was not given"))
    if result.sources:
        out.print()
        out.print(line(("Sources", "bold")))
        for source in result.sources:
            # A paged document's source cites its page: "[2] (p. 4) Lease · …".
            pages = f" ({source.page_label})" if source.page else ""
            out.print(
                Text(
                    f"[{source.marker}]{pages} {source.title} · {source.jurisdiction or '—'} · "
                    f"{source.created or '—'} · {source.url}"
                ),
                soft_wrap=True,
            )
    out.print(Text(f"model {result.model} · prompt {result.prompt_version}", style=DIM))


# --- chat's audit log ----------------------------------------------------------------


def _verdicts(citations: Sequence[Mapping[str, Any]]) -> str:
    counted: dict[str, int] = {}
    for citation in citations:
        verdict = citation.get("verdict", "?")
        counted[verdict] = counted.get(verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in counted.items()) or "no citations"


def audit_entry(entry: Mapping[str, Any]) -> None:
    """One audit entry: when, who, the outcome, the question, and what was cited."""
    if "unreadable_line" in entry:
        out.print(line(("unreadable line", BAD), f" {entry['unreadable_line']}"))
        return
    status = "error" if entry.get("error") else ("refused" if entry.get("refused") else "answered")
    who = entry.get("user") or "(no login)"
    out.print(line((str(entry.get("time", "?")), "bold"), f" {who} · {status}"))
    out.print(Text(f"  Q: {entry.get('question', '')}"), soft_wrap=True)
    if entry.get("standalone_question") not in (None, entry.get("question")):
        out.print(Text(f"  searched for: {entry['standalone_question']}"), soft_wrap=True)
    if entry.get("error"):
        out.print(Text(f"  error: {entry['error']}"), soft_wrap=True)
    out.print(
        Text(
            f"  sources {len(entry.get('source_ids', []))} · "
            f"citations: {_verdicts(entry.get('citations', []))} · "
            f"model {entry.get('model') or '—'} · prompt {entry.get('prompt_version') or '—'} · "
            f"{entry.get('timings', {}).get('total_ms', '?')} ms"
        ),
        soft_wrap=True,
    )


# --- eval ----------------------------------------------------------------------------


def eval_summary(figures: Mapping[str, Any], md_path: Path) -> None:
    """The report's figures as a table, then where the report is."""
    from legalrag.eval.report import show_figure

    rows: list[tuple[str, str]] = []
    for name, figure in figures.items():
        if name == "latency_ms":
            for stage, cut in figure.items():
                if cut.get("p50") is not None:
                    rows.append((f"{stage} p50 / p95", f"{cut['p50']} / {cut['p95']}"))
        elif name == "verifier_by_kind":
            for kind, caught in figure.items():
                rows.append(
                    (f"verifier caught: {kind}", f"{caught['value']:.3f} (n={caught['planted']})")
                )
        else:
            rows.append((name, show_figure(figure)))
    out.print(_table("legalrag eval", "metric", rows, header=False))
    out.print(Text(f"report: {md_path} (and report.json beside it)"))


def gate_failures(reasons: Sequence[str]) -> None:
    """Each --fail-under that missed, one line each."""
    for reason in reasons:
        err.print(line(("fail-under:", "bold red"), f" {reason}"), soft_wrap=True)


def done(message: str, *, soft_wrap: bool = True) -> None:
    """What a command did and what to run next (stdout)."""
    out.print(Text(message), soft_wrap=soft_wrap)
