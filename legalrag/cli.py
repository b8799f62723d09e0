"""The `legalrag` command.

Heavy libraries (torch, sentence-transformers, chromadb) are imported inside the
commands, after the privacy switches are set, so they never phone home and
`legalrag --help` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from legalrag.privacy import keep_local
from legalrag.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    name="legalrag",
    help="Legal question answering over your own corpus, with verified citations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)
index_app = typer.Typer(help="Inspect the index.", no_args_is_help=True)
audit_app = typer.Typer(help="Read the chat's audit log.", no_args_is_help=True)
auth_app = typer.Typer(help="Users of the chat's login.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(index_app, name="index")
sky_app = typer.Typer(
    help="Run on GPU clusters through SkyPilot (pip install 'legalrag[sky]').",
    no_args_is_help=True,
)
app.add_typer(sky_app, name="sky")
app.add_typer(audit_app, name="audit")
app.add_typer(auth_app, name="auth")

out = Console()
err = Console(stderr=True)

EXIT_USAGE = 2  # bad input, missing index, bad settings
EXIT_BACKEND = 3  # a server the user configured is down or misbehaves
EXIT_INTERNAL = 1  # a bug

# Flags that override settings, shared by the commands.
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (default ./legalrag.toml).")
]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Index and logs folder [LEGALRAG_DATA_DIR].")
]
ChromaUrlOpt = Annotated[
    str | None, typer.Option("--chroma-url", help="Chroma server URL [LEGALRAG_CHROMA_URL].")
]
CollectionOpt = Annotated[str | None, typer.Option("--collection", help="Chroma collection.")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--embedding-model", help="Embedding model [LEGALRAG_EMBEDDING_MODEL]."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> typer.Exit:
    from rich.markup import escape

    # Escaped: a message may hold brackets (pip extras, list reprs) that are not markup.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def user_errors(func: F) -> F:
    """Turn the errors a user can act on into one line and an exit code, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import httpx

        from legalrag.app.generation import GenerationError
        from legalrag.app.questions import QuestionError
        from legalrag.embedding import EmbeddingModelError
        from legalrag.index import IndexAccessError, IndexUnavailableError
        from legalrag.ingest.sources import SourceError
        from legalrag.sky_ingest_launcher import (
            LaunchSpecError,
            SkyLaunchError,
            SkyUnavailableError,
        )

        try:
            return func(*args, **kwargs)
        except (IndexUnavailableError, GenerationError, SkyLaunchError) as exc:
            raise _fail(str(exc), EXIT_BACKEND) from None
        except httpx.TransportError as exc:
            # Only the Chroma server is spoken to over HTTP here; writes are
            # idempotent, so a re-run picks up where this one stopped.
            raise _fail(
                f"the Chroma server stopped answering ({type(exc).__name__}: {exc}); what was "
                "written is kept, and running the same command again resumes",
                EXIT_BACKEND,
            ) from None
        except (
            SettingsError,
            IndexAccessError,
            SourceError,
            EmbeddingModelError,
            QuestionError,
            LaunchSpecError,
            SkyUnavailableError,
        ) as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        except KeyboardInterrupt:
            raise _fail("interrupted; what was written so far is kept", 130) from None
        except typer.Exit:
            raise
        except Exception as exc:
            # A bug, not bad input: say what happened; the traceback is one setting away.
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            raise _fail(
                f"internal error: {type(exc).__name__}: {exc} "
                "(run with LEGALRAG_LOG_LEVEL=DEBUG for the traceback)",
                EXIT_INTERNAL,
            ) from None

    return wrapper  # type: ignore[return-value]


def _settings(
    config: Path | None,
    *,
    hub_needed: Callable[[Settings], bool] | None = None,
    **flags: Any,
) -> Settings:
    """Effective settings; then the privacy switches, before any heavy import.

    ``hub_needed`` says whether the command itself needs the Hugging Face hub
    (beyond an embedding model that is not on disk).
    """
    from legalrag.embedding import model_is_local

    settings = load_settings(config, **flags)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    needs_hub = not model_is_local(settings.embedding_model) or bool(
        hub_needed and hub_needed(settings)
    )
    keep_local(hub_needed=needs_hub)
    return settings


def _print_json(data: Any) -> None:
    # Plain stdout, never wrapped or coloured: this output is for programs.
    typer.echo(json.dumps(data, ensure_ascii=False))


@config_app.command("show")
@user_errors
def config_show(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Print the effective settings (secrets masked) and where the config file is."""
    from legalrag.settings import find_config_file

    settings = _settings(config)
    shown = settings.public_dict()
    if as_json:
        _print_json(shown)
        return
    table = Table(title="legalrag settings", show_header=True)
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    for name, value in shown.items():
        table.add_row(name, "" if value is None else str(value))
    out.print(table)
    source = find_config_file(config)
    out.print(f"config file: {source or 'none'}   env prefix: LEGALRAG_")


@app.command()
@user_errors
def ingest(
    path: Annotated[
        Path | None,
        typer.Argument(help="A JSONL file, a .txt/.md file, or a folder of them."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="sample (default) or pile-of-law; ignored with PATH."),
    ] = None,
    split: Annotated[str, typer.Option(help="pile-of-law split: train or validation.")] = "train",
    limit: Annotated[int | None, typer.Option(help="Read at most N records.")] = None,
    partition: Annotated[
        str, typer.Option(help="Ingest the deterministic share i/N of the records.")
    ] = "0/1",
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the index already has chunks.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    chunk_size: Annotated[int | None, typer.Option(help="Chunk size in model tokens.")] = None,
    chunk_overlap: Annotated[int | None, typer.Option(help="Overlap in model tokens.")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    chroma_url: ChromaUrlOpt = None,
    collection: CollectionOpt = None,
    embedding_model: ModelOpt = None,
) -> None:
    """Chunk, embed and index a corpus (resumable: re-running adds only what is missing)."""
    from legalrag.ingest.partition import Partition
    from legalrag.ingest.sources import SourceError

    if source not in (None, "sample", "pile-of-law"):
        raise SourceError(f"unknown --source {source!r}: use sample or pile-of-law")
    try:
        share = Partition.parse(partition)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    settings = _settings(
        config,
        hub_needed=lambda s: source == "pile-of-law" and "://" in s.pile_of_law_data_files,
        data_dir=data_dir,
        chroma_url=chroma_url,
        collection=collection,
        embedding_model=embedding_model,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
    )
    already = _chunks_indexed(settings) if if_empty else 0
    if already:
        if not quiet:
            err.print(f"index already holds {already:,} chunks; nothing to do")
        return
    from legalrag.ingest.run import Source
    from legalrag.ingest.run import ingest as run_ingest

    report = run_ingest(
        settings,
        source=None if source is None else Source(source),
        path=path,
        split=split,
        limit=limit,
        partition=share,
        quiet=quiet or as_json,
        console=err,
    )
    if as_json:
        _print_json(report.as_dict())
        return
    _print_ingest_summary(report, quiet=quiet)


def _chunks_indexed(settings: Settings) -> int:
    from legalrag.index import IndexNotFoundError, open_for_reading

    try:
        return open_for_reading(settings).count()
    except IndexNotFoundError:
        return 0


def _print_ingest_summary(report: Any, *, quiet: bool) -> None:
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for rejected in report.rejected:
        err.print(f"[yellow]skipped[/] {rejected.location}: {rejected.reason}", highlight=False)
    if report.rejected_count > len(report.rejected):
        err.print(f"… and {report.rejected_count - len(report.rejected):,} more", highlight=False)
    if report.rejects_log:
        err.print(f"all skipped records: {report.rejects_log}", highlight=False)
    line = (
        f"documents {report.documents_ingested:,} (read {report.documents_read:,}, "
        f"skipped {report.rejected_count:,}"
        + (
            f", other partitions {report.documents_outside_partition:,}"
            if report.documents_outside_partition
            else ""
        )
        + f") · chunks {report.chunks:,} (new {report.chunks_embedded:,}, "
        f"already indexed {report.chunks_already_indexed:,}, removed {report.chunks_removed:,})"
        f" · {report.seconds:.1f} s · {report.chunks_per_second:.1f} chunks/s"
    )
    if quiet:
        out.print(line, highlight=False, soft_wrap=True)
    else:
        out.print(f"[bold green]ingested[/] {line}", highlight=False, soft_wrap=True)


@index_app.command("info")
@user_errors
def index_info(
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    chroma_url: ChromaUrlOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Counts, embedding model, dimension and location of the index."""
    from legalrag.index import index_info as read_info

    settings = _settings(config, data_dir=data_dir, chroma_url=chroma_url, collection=collection)
    info = read_info(settings)
    if as_json:
        _print_json(info.as_dict())
        return
    table = Table(title="legalrag index", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("location", info.location)
    table.add_row("collection", info.collection)
    table.add_row("documents", f"{info.documents:,}")
    table.add_row("chunks", f"{info.chunks:,}")
    table.add_row("embedding model", str(info.embedding_model))
    table.add_row("dimension", str(info.dimension))
    table.add_row("sources", ", ".join(f"{k} ({v:,})" for k, v in info.sources.items()))
    table.add_row("jurisdictions", ", ".join(f"{k} ({v})" for k, v in info.jurisdictions.items()))
    table.add_row("topics", ", ".join(f"{k} ({v})" for k, v in info.topics.items()))
    out.print(table)


DateOpt = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")]


@app.command()
@user_errors
def retrieve(
    question: Annotated[
        str | None, typer.Argument(help="The question to search for (or use --batch).")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="Number of sources.")] = None,
    jurisdiction: Annotated[
        str | None, typer.Option(help="Only sources from this jurisdiction (e.g. CA).")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Only sources on this topic.")] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            help='JSONL of {"question": ..., "id"?: ...}; prints one JSON result per line.'
        ),
    ] = None,
    date_from: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="Posted on or after (YYYY-MM-DD)."),
    ] = None,
    date_to: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Posted on or before (YYYY-MM-DD)."),
    ] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    chroma_url: ChromaUrlOpt = None,
    collection: CollectionOpt = None,
    embedding_model: ModelOpt = None,
) -> None:
    """Show the sources retrieved for a question, with each stage's score."""
    settings = _settings(
        config,
        data_dir=data_dir,
        chroma_url=chroma_url,
        collection=collection,
        embedding_model=embedding_model,
        retrieve_k=k,
    )
    from legalrag.app.questions import clean_question
    from legalrag.app.retrieval import Filters, open_retriever

    filters = Filters(
        jurisdiction=jurisdiction,
        topic=topic,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )
    if (question is None) == (batch is None):
        raise SettingsError("give either a QUESTION or --batch FILE")
    if batch is not None:
        if not batch.is_file():
            raise SettingsError(f"no such file: {batch}")
        _retrieve_batch(open_retriever(settings), batch, filters, settings.max_question_chars)
        return
    assert question is not None
    question = clean_question(question, max_chars=settings.max_question_chars)
    result = open_retriever(settings).retrieve(question, filters=filters)
    if as_json:
        _print_json(result.as_dict())
        return
    out.print(
        f"[bold]{question}[/]" + (f"  [dim]({filters.describe()})[/]" if filters.where() else "")
    )
    if not result.passages:
        out.print(result.reason or "No sources found.", highlight=False)
        return
    out.print()
    for rank, passage in enumerate(result.passages, start=1):
        stages = passage.stages
        scores = ""
        if stages is not None:
            dense = "—" if stages.dense is None else f"{stages.dense:.3f} (#{stages.dense_rank})"
            bm25 = "—" if stages.bm25 is None else f"{stages.bm25:.2f} (#{stages.bm25_rank})"
            scores = f" · dense {dense} · bm25 {bm25} · fused {stages.fused:.4f}"
        out.print(
            f"[bold cyan][{rank}][/] {passage.title}  "
            f"[dim]{passage.jurisdiction or '—'} · {passage.topic or '—'} · "
            f"{passage.created or '—'}{scores}[/]",
            highlight=False,
            soft_wrap=True,
        )
        if passage.url:  # never wrapped, so that it stays one clickable link
            out.print(
                f"    [link={passage.url}]{passage.url}[/link]", highlight=False, soft_wrap=True
            )
        out.print(f"    {passage.text}\n", highlight=False, soft_wrap=True)


@app.command()
@user_errors
def ask(
    question: Annotated[str, typer.Argument(help="The legal question.")],
    k: Annotated[int | None, typer.Option("--k", help="Number of sources.")] = None,
    jurisdiction: Annotated[
        str | None, typer.Option(help="Only sources from this jurisdiction (e.g. CA).")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Only sources on this topic.")] = None,
    as_json: JsonOpt = False,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Print the answer once it is complete.")
    ] = False,
    hide_reasoning: Annotated[
        bool, typer.Option("--hide-reasoning", help="Do not show the model's reasoning.")
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    chroma_url: ChromaUrlOpt = None,
    collection: CollectionOpt = None,
    embedding_model: ModelOpt = None,
) -> None:
    """Answer a question from the index, every claim cited and checked."""
    settings = _settings(
        config,
        data_dir=data_dir,
        chroma_url=chroma_url,
        collection=collection,
        embedding_model=embedding_model,
        retrieve_k=k,
    )
    from legalrag.app.generation import AnswerText, Event, Reasoning
    from legalrag.app.questions import clean_question
    from legalrag.app.retrieval import Filters
    from legalrag.factory import make_engine

    question = clean_question(question, max_chars=settings.max_question_chars)
    engine = make_engine(settings)
    streaming = not (as_json or no_stream)

    streamed: list[str] = []

    def show(event: Event) -> None:
        if isinstance(event, Reasoning) and not hide_reasoning:
            out.print(
                event.text, style="dim", end="", highlight=False, markup=False, soft_wrap=True
            )
        elif isinstance(event, AnswerText):
            if not streamed:
                out.print()
            streamed.append(event.text)
            out.print(event.text, end="", highlight=False, markup=False, soft_wrap=True)

    result = engine.answer(
        question,
        filters=Filters(jurisdiction=jurisdiction, topic=topic),
        on_event=show if streaming else None,
    )
    if as_json:
        _print_json(result.as_dict())
        return
    if streaming:
        out.print()
        if "".join(streamed).strip() != result.answer:
            # Not generated (a refusal before the model), or corrected by the verifier.
            label = "[bold]Checked answer[/] (invalid citations removed):\n" if streamed else ""
            out.print(label, end="", highlight=False)
            out.print(result.answer, highlight=False, markup=False, soft_wrap=True)
    else:
        if result.reasoning and not hide_reasoning:
            out.print(result.reasoning, style="dim", highlight=False, markup=False, soft_wrap=True)
        out.print(result.answer, highlight=False, markup=False, soft_wrap=True)
    _print_findings(result)


def _retrieve_batch(retriever: Any, path: Path, filters: Any, max_chars: int) -> None:
    """One result line per question line; a bad line gets an error line, not a stop."""
    from legalrag.app.questions import QuestionError, clean_question

    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                    raise ValueError('expected {"question": "..."}')
                question = clean_question(item["question"], max_chars=max_chars)
            except (ValueError, QuestionError) as exc:
                _print_json({"line": number, "error": str(exc)})
                continue
            result = retriever.retrieve(question, filters=filters).as_dict()
            _print_json({"id": item.get("id", number), **result})


def _print_findings(result: Any) -> None:
    if result.truncated:
        err.print("[yellow]truncated:[/] the model stopped at its token limit", highlight=False)
    for marker in result.invalid_markers:
        err.print(f"[red]invalid citation[/] [{marker}]: no such source; removed", highlight=False)
    for sentence in result.unsupported_sentences:
        err.print(f"[yellow]unsupported[/] (no citation): {sentence}", highlight=False)
    for sentence in result.misgrounded_sentences:
        err.print(
            f"[red]misgrounded[/] (cited source does not support it): {sentence}", highlight=False
        )
    for quote in result.quotes_not_found:
        err.print(f'[red]quote not in any source[/]: "{quote}"', highlight=False)
    if result.sources:
        out.print("\n[bold]Sources[/]")
        for source in result.sources:
            out.print(
                f"[{source['marker']}] {source['title']} · {source['jurisdiction'] or '—'} · "
                f"{source['created'] or '—'} · {source['url']}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    out.print(f"[dim]model {result.model} · prompt {result.prompt_version}[/]", highlight=False)


@sky_app.command("ingest")
@user_errors
def sky_ingest(
    partitions: Annotated[
        int, typer.Option("--partitions", help="Number of managed jobs (partitions i/N).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the jobs as JSON; launch nothing.")
    ] = False,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", help="NAME=VALUE for every job (e.g. LEGALRAG_CHROMA_URL=...)."),
    ] = None,
    yaml_path: Annotated[
        Path | None, typer.Option("--yaml", help="Task YAML [default sky/ingest.yaml].")
    ] = None,
    name_prefix: Annotated[
        str | None, typer.Option("--name-prefix", help="Jobs are named PREFIX-i-of-N.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Ingest pile-of-law in N parallel SkyPilot managed jobs (secrets from the environment)."""
    from legalrag.sky_ingest_launcher import build_ingest_jobs, launch_jobs, parse_assignments

    settings = _settings(config, sky_ingest_yaml=yaml_path, sky_ingest_job_prefix=name_prefix)
    jobs = build_ingest_jobs(
        settings.sky_ingest_yaml,
        partitions,
        name_prefix=settings.sky_ingest_job_prefix,
        envs=parse_assignments(env or [], "--env"),
    )
    if dry_run:
        _print_json({"dry_run": True, "jobs": [job.describe() for job in jobs]})
        return
    job_ids = launch_jobs(jobs)
    out.print(
        f"launched {len(jobs)} managed jobs ({', '.join(str(i) for i in job_ids)}); "
        "follow them with `sky jobs queue` and `sky jobs logs ID`",
        highlight=False,
    )


@app.command()
@user_errors
def chat(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on [LEGALRAG_CHAT_HOST].")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port to listen on [LEGALRAG_CHAT_PORT].")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", help="Questions answered at once [LEGALRAG_CHAT_CONCURRENCY]."
        ),
    ] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    chroma_url: ChromaUrlOpt = None,
    collection: CollectionOpt = None,
    embedding_model: ModelOpt = None,
) -> None:
    """Start the web chat (Gradio): streamed, cited, checked answers with their sources."""
    settings = _settings(
        config,
        data_dir=data_dir,
        chroma_url=chroma_url,
        collection=collection,
        embedding_model=embedding_model,
        chat_host=host,
        chat_port=port,
        chat_concurrency=concurrency,
    )
    from legalrag.app.chat.auth import load_users

    # Bad login settings fail now, before the model loads.
    load_users(settings.auth.get_secret_value() if settings.auth else None)
    from legalrag.app.chat.backend import ChatBackend
    from legalrag.app.chat.server import serve

    err.print("loading the index and the embedding model…", highlight=False)
    backend = ChatBackend(settings)
    if backend.generator_error:
        err.print(
            f"[yellow]warning:[/] {backend.generator_error}; questions will say so until it "
            "answers",
            highlight=False,
        )
    serve(
        settings,
        backend,
        say=lambda line: err.print(line, highlight=False, markup=False, soft_wrap=True),
    )


@audit_app.command("tail")
@user_errors
def audit_tail(
    count: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many entries.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Show the last entries of the chat's audit log (who asked what, what was cited)."""
    from legalrag.app.audit import tail_audit

    settings = _settings(config, data_dir=data_dir)
    path = settings.audit_log_path
    entries = tail_audit(path, count)
    if as_json:
        for entry in entries:
            _print_json(entry)
        return
    if not entries:
        err.print(f"no audit entries yet in {path}", highlight=False)
        return
    for entry in entries:
        if "unreadable_line" in entry:
            out.print(f"[red]unreadable line[/] {entry['unreadable_line']}", highlight=False)
            continue
        verdicts: dict[str, int] = {}
        for citation in entry.get("citations", []):
            verdicts[citation.get("verdict", "?")] = (
                verdicts.get(citation.get("verdict", "?"), 0) + 1
            )
        checks = ", ".join(f"{n} {v}" for v, n in verdicts.items()) or "no citations"
        status = (
            "error" if entry.get("error") else ("refused" if entry.get("refused") else "answered")
        )
        out.print(
            f"[bold]{entry.get('time', '?')}[/] {entry.get('user') or '(no login)'} · {status}",
            highlight=False,
        )
        out.print(
            f"  Q: {entry.get('question', '')}", highlight=False, markup=False, soft_wrap=True
        )
        if entry.get("standalone_question") not in (None, entry.get("question")):
            out.print(
                f"  searched for: {entry['standalone_question']}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        if entry.get("error"):
            out.print(f"  error: {entry['error']}", highlight=False, markup=False, soft_wrap=True)
        out.print(
            f"  sources {len(entry.get('source_ids', []))} · citations: {checks} · "
            f"model {entry.get('model') or '—'} · prompt {entry.get('prompt_version') or '—'} · "
            f"{entry.get('timings', {}).get('total_ms', '?')} ms",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@auth_app.command("hash")
@user_errors
def auth_hash(
    user: Annotated[str, typer.Argument(help="The user name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Asked for when not given (better: never on the command line).",
        ),
    ],
) -> None:
    """Print a users-file line (user:bcrypt-hash) for LEGALRAG_AUTH."""
    from legalrag.app.chat.auth import hash_password

    if ":" in user or not user.strip():
        raise SettingsError("a user name must be non-empty and contain no ':'")
    if not password:
        raise SettingsError("the password is empty")
    typer.echo(f"{user.strip()}:{hash_password(password)}")


# --- eval ---------------------------------------------------------------------------
eval_app = typer.Typer(
    help="Measure the whole pipeline on a question set and write a report.",
    invoke_without_command=True,
)
app.add_typer(eval_app, name="eval")
EXIT_GATE = 4  # a --fail-under figure missed its bound


@eval_app.callback()
@user_errors
def eval_run(
    ctx: typer.Context,
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="The question set (JSONL or JSON).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="ours, legalbench-rag or obliqa (default: detected)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.", min=1)] = None,
    k: Annotated[
        int | None,
        typer.Option("--k", help="Cut-off of recall/precision/nDCG@k [LEGALRAG_EVAL_K]."),
    ] = None,
    judge_url: Annotated[
        str | None,
        typer.Option("--judge-url", help="RAGAS judge endpoint [LEGALRAG_JUDGE_BASE_URL]."),
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option("--judge-model", help="Judge model [LEGALRAG_JUDGE_MODEL].")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Report folder [LEGALRAG_EVAL_OUT_DIR].")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="METRIC=VALUE, repeatable: exit 4 when a figure misses (e.g. faithfulness=0.9).",
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep the rows already finished in --out.")
    ] = False,
    answers: Annotated[
        bool | None,
        typer.Option(
            "--answers/--no-answers", help="Generate and verify answers [LEGALRAG_EVAL_ANSWERS]."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    chroma_url: ChromaUrlOpt = None,
    collection: CollectionOpt = None,
    embedding_model: ModelOpt = None,
) -> None:
    """Run every question through retrieval, the answer engine and the judge; write the report."""
    if ctx.invoked_subcommand is not None:
        return
    from legalrag.eval.judge import JudgeUnavailableError
    from legalrag.eval.question_sets import DatasetError, load_question_set
    from legalrag.eval.report import GateError, build_report, parse_gates, write_report
    from legalrag.eval.run import open_context, run_header, run_meta, run_questions

    if dataset is None:
        raise SettingsError("give --dataset PATH (or a subcommand: legalrag eval corpus --help)")
    settings = _settings(
        config,
        data_dir=data_dir,
        chroma_url=chroma_url,
        collection=collection,
        embedding_model=embedding_model,
        eval_k=k,
        judge_base_url=judge_url,
        judge_model=judge_model,
        eval_out_dir=out_dir,
        eval_answers=answers,
    )
    try:
        gates = parse_gates(fail_under or [])
        question_set = load_question_set(dataset, fmt)
    except (DatasetError, GateError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    questions = question_set.questions[:limit]
    try:
        context = open_context(settings)
    except JudgeUnavailableError as exc:
        raise _fail(str(exc), EXIT_BACKEND) from None
    header = run_header(question_set, settings)
    out_folder = settings.eval_out_dir
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or as_json,
    ) as progress:
        task = progress.add_task("questions", total=len(questions))
        try:
            rows = run_questions(
                questions,
                context,
                out_folder,
                header,
                resume=resume,
                on_progress=lambda done, _total: progress.update(task, completed=done),
            )
        except DatasetError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
    report = build_report(rows, run_meta(settings, question_set, context))
    json_path, md_path = write_report(report, out_folder)
    failures = [reason for gate in gates if (reason := gate.check(report.figures))]
    if as_json:
        _print_json({"figures": report.figures, "failed": failures, "report": str(json_path)})
    else:
        _print_eval_summary(report.figures, md_path)
    if failures:
        for reason in failures:
            err.print(f"[bold red]fail-under:[/] {reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_GATE)


def _print_eval_summary(figures: dict[str, Any], md_path: Path) -> None:
    from legalrag.eval.report import show_figure

    table = Table(title="legalrag eval", show_header=False)
    table.add_column("metric")
    table.add_column("value", overflow="fold")
    for name, figure in figures.items():
        if name == "latency_ms":
            for stage, cut in figure.items():
                if cut.get("p50") is not None:
                    table.add_row(f"{stage} p50 / p95", f"{cut['p50']} / {cut['p95']}")
        else:
            table.add_row(name, show_figure(figure))
    out.print(table)
    out.print(f"report: {md_path} (and report.json beside it)", highlight=False)


@eval_app.command("corpus")
@user_errors
def eval_corpus(
    source: Annotated[Path, typer.Argument(help="The benchmark's folder (or file).")],
    target: Annotated[
        Path, typer.Argument(help="obliqa: the JSONL to write; contractnli: a folder.")
    ],
    fmt: Annotated[str, typer.Option("--format", help="obliqa or contractnli.")] = "obliqa",
) -> None:
    """Write a benchmark's corpus in a form `legalrag ingest PATH` reads."""
    from legalrag.eval.corpus import CONVERTERS, CorpusError

    if fmt not in CONVERTERS:
        raise _fail(f"unknown --format {fmt!r}: use {' or '.join(CONVERTERS)}", EXIT_USAGE)
    try:
        written = CONVERTERS[fmt](source, target)
    except CorpusError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    if fmt == "obliqa":
        out.print(
            f"{written:,} passages -> {target}; next: legalrag ingest {target}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        documents, queries = written
        out.print(
            f"{documents:,} documents -> {target / 'corpus'}, {queries:,} queries -> "
            f"{target / 'tests.json'}; next: legalrag ingest {target / 'corpus'}",
            highlight=False,
            soft_wrap=True,
        )


def main() -> None:
    """Console entry point."""
    try:
        app()
    except BrokenPipeError:  # `legalrag … | head` is fine
        sys.exit(0)
