"""`legalrag eval` (a question set through the whole pipeline) and `legalrag eval corpus`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from legalrag.cli import render
from legalrag.cli.options import INDEX, JsonOpt, SharedOptions, setting_flag, shared_options
from legalrag.errors import GateError, SettingsError, UsageError


def _progress(*, disable: bool) -> Progress:
    """The questions' progress bar, on stderr (a --json run keeps stdout for JSON)."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=render.err,
        disable=disable,
    )


@shared_options(
    INDEX,
    setting_flag("--k", "eval_k"),
    setting_flag("--judge-url", "judge_base_url"),
    setting_flag("--judge-model", "judge_model"),
    setting_flag("--out", "eval_out_dir"),
    setting_flag("--answers/--no-answers", "eval_answers"),
    setting_flag("--verifier/--no-verifier", "eval_verifier"),
)
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
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="METRIC=VALUE, repeatable: exit 4 when a figure misses (e.g. faithfulness=0.9).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep the rows already finished in --out.")
    ] = False,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Act as this user of LEGALRAG_AUTH: only the public corpus and the matters "
            "they may read are searched.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    *,
    shared: SharedOptions,
) -> None:
    """Run every question through retrieval, the answer engine and the judge; write the report."""
    if ctx.invoked_subcommand is not None:
        return
    from legalrag.eval.question_sets import load_question_set
    from legalrag.eval.report import build_report, parse_gates, write_report
    from legalrag.eval.run import open_context, run_header, run_meta, run_questions

    if dataset is None:
        raise SettingsError("give --dataset PATH (or a subcommand: legalrag eval corpus --help)")
    settings = shared.settings()
    gates = parse_gates(fail_under or [])
    question_set = load_question_set(dataset, fmt)
    questions = question_set.questions[:limit]
    scope = None
    if user is not None:
        from legalrag.access import open_access

        scope = open_access(settings).scope(user)  # an unknown user fails before the model
    context = open_context(settings)
    for retriever in (context.ranker, context.selector):
        retriever.wall = scope  # the engine and the verifier search through the selector
    header = run_header(question_set, settings)
    out_folder = settings.eval_out_dir
    with _progress(disable=quiet or as_json) as progress:
        task = progress.add_task("questions", total=len(questions))
        rows = run_questions(
            questions,
            context,
            out_folder,
            header,
            resume=resume,
            on_progress=lambda done, _total: progress.update(task, completed=done),
        )
    report = build_report(rows, run_meta(settings, question_set, context))
    json_path, md_path = write_report(report, out_folder)
    failures = [reason for gate in gates if (reason := gate.check(report.figures))]
    if as_json:
        render.print_json({"figures": report.figures, "failed": failures, "report": str(json_path)})
    else:
        render.eval_summary(report.figures, md_path)
    if failures:
        render.gate_failures(failures)
        # Through the one catch, like every other error: GateError carries exit 4.
        raise GateError(f"{len(failures)} of {len(gates)} --fail-under gates missed")


def eval_corpus(
    source: Annotated[Path, typer.Argument(help="The benchmark's folder (or file).")],
    target: Annotated[
        Path, typer.Argument(help="obliqa: the JSONL to write; contractnli: a folder.")
    ],
    fmt: Annotated[str, typer.Option("--format", help="obliqa or contractnli.")] = "obliqa",
) -> None:
    """Write a benchmark's corpus in a form `legalrag ingest PATH` reads."""
    from legalrag.eval.corpus import CONVERTERS

    if fmt not in CONVERTERS:
        raise UsageError(f"unknown --format {fmt!r}: use {' or '.join(CONVERTERS)}")
    written = CONVERTERS[fmt](source, target)
    if fmt == "obliqa":
        render.done(f"{written:,} passages -> {target}; next: legalrag ingest {target}")
    else:
        documents, queries = written
        render.done(
            f"{documents:,} documents -> {target / 'corpus'}, {queries:,} queries -> "
            f"{target / 'tests.json'}; next: legalrag ingest {target / 'corpus'}"
        )


@shared_options(INDEX, setting_flag("--out", "eval_out_dir"))
def eval_adversarial(
    dataset: Annotated[Path, typer.Option("--dataset", help="The question set (JSONL or JSON).")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="ours, legalbench-rag or obliqa (default: detected)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="N questions, drawn with --seed (default: all).", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds every choice of the set.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOpt = False,
    *,
    shared: SharedOptions,
) -> None:
    """Plant errors of known kinds into correct cited answers built from the retrieved
    sources, and report how many the citation verifier catches (docs/verification.md)."""
    from rich.table import Table
    from rich.text import Text

    from legalrag.eval.adversarial_report import (
        run_meta,
        summarise,
        table_rows,
        write_adversarial,
    )
    from legalrag.eval.adversarial_run import open_adversarial, run_adversarial, select_questions
    from legalrag.eval.question_sets import load_question_set

    settings = shared.settings()
    question_set = load_question_set(dataset, fmt)
    questions = select_questions(question_set.questions, limit, seed)
    context = open_adversarial(settings)
    with _progress(disable=quiet or as_json) as progress:
        task = progress.add_task("questions", total=len(questions))
        rows, without_sources = run_adversarial(
            questions, context, seed, lambda done: progress.update(task, completed=done)
        )
    summary = summarise(rows)
    meta = run_meta(
        settings,
        context,
        dataset=str(question_set.path),
        dataset_sha256=question_set.sha256,
        format=question_set.format,
        seed=seed,
        limit=limit,
        questions=len(questions),
        questions_without_sources=without_sources,
    )
    json_path, rows_path = write_adversarial(settings.eval_out_dir, summary, rows, meta)
    if as_json:
        render.print_json({"figures": summary, "report": str(json_path), "rows": str(rows_path)})
        return
    table = Table(title="legalrag eval adversarial")
    for column in ("sentences", "n", "caught / flagged", "%"):
        table.add_column(column, justify="left" if column == "sentences" else "right")
    for cells in table_rows(summary):
        table.add_row(*(Text(cell) for cell in cells))
    render.out.print(table)
    render.done(f"report: {json_path} (rows: {rows_path})")
