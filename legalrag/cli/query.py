"""`legalrag retrieve` and `legalrag ask`: the sources for a question, and its answer."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from legalrag.cli import render
from legalrag.cli.options import INDEX, JsonOpt, SharedOptions, setting_flag, shared_options
from legalrag.errors import QuestionError, SettingsError

if TYPE_CHECKING:
    from legalrag.app.retrieval import Filters, Retriever
    from legalrag.settings import Settings

RETRIEVE_K = setting_flag("--k", "retrieve_k")
JurisdictionOpt = Annotated[
    str | None, typer.Option(help="Only sources from this jurisdiction (e.g. CA).")
]
TopicOpt = Annotated[str | None, typer.Option(help="Only sources on this topic.")]
MatterOpt = Annotated[
    str | None, typer.Option(help="Only sources of this matter (one the --user may read).")
]
UserOpt = Annotated[
    str | None,
    typer.Option(
        "--user",
        help="Act as this user of LEGALRAG_AUTH: only the public corpus and the matters "
        "they may read are searched. Without: everything (the operator's own index).",
    ),
]


def scoped(settings: Settings, user: str | None, matter: str | None, **chosen: Any) -> Filters:
    """The filters chosen, behind ``user``'s wall (their readable matters)."""
    from legalrag.access import open_access
    from legalrag.app.retrieval import Filters

    scope = open_access(settings).choose(user, matter) if user or matter else None
    return Filters(matter=matter, **chosen).within(scope)


@shared_options(INDEX, RETRIEVE_K)
def retrieve(
    question: Annotated[
        str | None, typer.Argument(help="The question to search for (or use --batch).")
    ] = None,
    jurisdiction: JurisdictionOpt = None,
    topic: TopicOpt = None,
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
    matter: MatterOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
    *,
    shared: SharedOptions,
) -> None:
    """Show the sources retrieved for a question, with each stage's score."""
    settings = shared.settings()
    from legalrag.app.questions import clean_question
    from legalrag.factory import open_retriever

    filters = scoped(
        settings,
        user,
        matter,
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
        render.print_json(result.as_dict())
        return
    render.retrieval(question, filters.describe(), result)


def _retrieve_batch(retriever: Retriever, path: Path, filters: Filters, max_chars: int) -> None:
    """One result line per question line; a bad line (not UTF-8, not JSON, a question
    that is not text) gets an error line, and the lines after it are still answered."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            read = _batch_question(raw, number, max_chars)
            if isinstance(read, str):
                render.print_json({"line": number, "error": read})
                continue
            question_id, question = read
            result = retriever.retrieve(question, filters=filters).as_dict()
            render.print_json({"id": question_id, **result})


def _batch_question(raw: bytes, number: int, max_chars: int) -> tuple[object, str] | str:
    """A batch line's (id, cleaned question), or why the line cannot be answered."""
    from legalrag.app.questions import clean_question

    try:
        # Decoded line by line, so one line that is not UTF-8 costs only itself; a
        # BOM (a file saved by Windows tools) starts the first line.
        item = json.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8: {exc.reason} at byte {exc.start}"
    except (ValueError, RecursionError) as exc:
        return f"invalid JSON: {exc}"[:300]
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        return 'expected {"question": "..."}'
    question_id = item.get("id", number)
    try:
        # The id is printed back as it was given: it must be printable text too.
        json.dumps(question_id, ensure_ascii=False).encode("utf-8")
        return question_id, clean_question(item["question"], max_chars=max_chars)
    except UnicodeEncodeError:
        return "the id is not valid UTF-8 text (a lone surrogate)"
    except QuestionError as exc:
        return str(exc)


@shared_options(INDEX, RETRIEVE_K)
def ask(
    question: Annotated[str, typer.Argument(help="The legal question.")],
    jurisdiction: JurisdictionOpt = None,
    topic: TopicOpt = None,
    matter: MatterOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Print the answer once it is complete.")
    ] = False,
    hide_reasoning: Annotated[
        bool, typer.Option("--hide-reasoning", help="Do not show the model's reasoning.")
    ] = False,
    *,
    shared: SharedOptions,
) -> None:
    """Answer a question from the index, every claim cited and checked."""
    settings = shared.settings()
    from legalrag.app.questions import clean_question
    from legalrag.factory import make_engine

    filters = scoped(settings, user, matter, jurisdiction=jurisdiction, topic=topic)
    question = clean_question(question, max_chars=settings.max_question_chars)
    engine = make_engine(settings)
    streaming = not (as_json or no_stream)
    printer = render.AnswerPrinter(hide_reasoning=hide_reasoning)
    result = engine.answer(
        question,
        filters=filters,
        on_event=printer.show if streaming else None,
    )
    if as_json:
        render.print_json(result.as_dict())
        return
    if streaming:
        printer.finish_stream(result.answer)
    else:
        printer.whole(result.answer, result.reasoning)
    render.findings(result)
