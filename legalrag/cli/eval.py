"""`legalrag eval` (a question set through the whole pipeline) and `legalrag eval corpus`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from legalrag.cli import render
from legalrag.cli.options import INDEX, JsonOpt, SharedOptions, shared_options
from legalrag.errors import EXIT_GATE, GateError, SettingsError, UsageError


@shared_options(INDEX)
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
    settings = shared.settings(
        eval_k=k,
        judge_base_url=judge_url,
        judge_model=judge_model,
        eval_out_dir=out_dir,
        eval_answers=answers,
    )
    try:
        gates = parse_gates(fail_under or [])
    except GateError as exc:
        # A malformed --fail-under is bad input (exit 2), not a missed figure (exit 4).
        raise UsageError(str(exc)) from None
    question_set = load_question_set(dataset, fmt)
    questions = question_set.questions[:limit]
    context = open_context(settings)
    header = run_header(question_set, settings)
    out_folder = settings.eval_out_dir
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=render.err,
        disable=quiet or as_json,
    ) as progress:
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
        raise typer.Exit(EXIT_GATE)


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
