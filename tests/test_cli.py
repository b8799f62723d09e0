"""The `legalrag` command as a user runs it: clear one-line errors, useful summaries."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from legalrag.cli import app
from legalrag.cli.options import LOGS, SettingFlag, SharedOptions, setting_flag, shared_options
from tests.conftest import run_cli, write_jsonl


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}


def test_ingest_summary_then_if_empty_skips(env: dict[str, str], tmp_path: Path) -> None:
    first = run_cli("ingest", "--limit", "6", env=env)
    assert first.returncode == 0, first.stderr
    assert "documents 6 (read 6, skipped 0)" in first.stdout
    assert "chunks/s" in first.stdout
    for stage in ("read", "chunk", "embed", "write"):
        assert stage in first.stderr  # the progress bars' final state

    again = run_cli("ingest", "--if-empty", env=env)
    assert again.returncode == 0
    assert "nothing to do" in again.stderr

    as_json = run_cli("ingest", "--limit", "6", "--json", env=env)
    report = json.loads(as_json.stdout)
    assert report["chunks_embedded"] == 0 and report["documents_ingested"] == 6

    info = json.loads(run_cli("index", "info", "--json", env=env).stdout)
    assert info["documents"] == 6 and info["dimension"] == 384


def test_retrieve_json_and_bad_questions(env: dict[str, str]) -> None:
    assert run_cli("ingest", "--limit", "20", "-q", env=env).returncode == 0
    result = run_cli(
        "retrieve", "Can my employer withhold my final paycheck?", "--k", "3", "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    sources = json.loads(result.stdout)["sources"]
    assert len(sources) == 3
    assert {"id", "document_id", "text", "score", "start", "end", "title", "url"} <= set(sources[0])
    # The first retrieve builds the BM25 index; no library's debug lines reach the user.
    assert "DEBUG" not in result.stderr, result.stderr

    empty = run_cli("retrieve", "   ", env=env)
    assert empty.returncode == 2 and "empty" in empty.stderr
    huge = run_cli("retrieve", "why " * 1000, env=env)
    assert huge.returncode == 2 and "limit" in huge.stderr
    for failed in (empty, huge):
        assert "Traceback" not in failed.stderr


def test_retrieve_without_an_index(env: dict[str, str]) -> None:
    result = run_cli("retrieve", "anything", env=env)
    assert result.returncode == 2
    assert "no index" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "/no/such/corpus.jsonl"), "no such file"),
        (("ingest", "--source", "westlaw"), "unknown --source"),
        (("ingest", "--partition", "4/3"), "partition"),
        (("ingest", "--limit", "0"), "--limit"),
        (("ingest", "--chunk-size", "20", "--chunk-overlap", "30"), "chunk_overlap"),
    ],
)
def test_bad_ingest_arguments_exit_2_and_write_nothing(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "chroma").exists()


def test_ingest_a_folder_of_text_files(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    (folder / "ndas").mkdir(parents=True)
    (folder / "ndas" / "acme.txt").write_text(
        "Mutual NDA.\n\nThe receiving party shall keep the information confidential for five years."
    )
    (folder / "lease.md").write_text("# Lease\n\nRent is due on the first day of each month.")
    write_jsonl(
        folder / "extra.jsonl",
        [{"text": "Title: Extra\nQuestion: q\nAnswer #1: a", "id": "x1"}, "oops"],
    )
    result = run_cli("ingest", str(folder), "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents_ingested"] == 3 and report["rejected_count"] == 1
    hits = json.loads(
        run_cli("retrieve", "how long is information kept confidential", "--json", env=env).stdout
    )
    assert hits["sources"][0]["document_id"] == "ndas/acme.txt"


MARKUP_TITLE = "Rent [/i] and [bold]deposits"


def test_markup_in_questions_and_documents_is_printed_as_written(
    env: dict[str, str], tmp_path: Path
) -> None:
    corpus = write_jsonl(
        tmp_path / "markup.jsonl",
        [
            {
                "id": "m1",
                "text": f"Title: {MARKUP_TITLE}\nQuestion: When is rent due?\n"
                "Answer #1: Rent is due on the first [/] day of each month, [link=x]always.",
                "topic": "[red]housing",
            },
            {"id": "m2", "text": "Title: Pets\nQuestion: Cats?\nAnswer #1: Ask the landlord."},
        ],
    )
    assert run_cli("ingest", str(corpus), "-q", env=env).returncode == 0
    question = "When is [/i] rent [bold]due?"
    shown = run_cli("retrieve", question, "--topic", "[red]housing", env=env)
    assert shown.returncode == 0, shown.stderr
    for literal in (question, "topic=[red]housing", MARKUP_TITLE, "first [/] day", "[link=x]"):
        assert literal in shown.stdout
    answered = run_cli("ask", question, "--k", "1", env=env)
    assert answered.returncode == 0, answered.stderr
    assert MARKUP_TITLE in answered.stdout and "first [/] day" in answered.stdout
    for failed in (shown, answered):
        assert "MarkupError" not in failed.stderr and "internal error" not in failed.stderr


def test_audit_tail_prints_markup_as_written(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "audit.jsonl",
        [{"time": "[bold]now", "user": "[/i]bob", "question": "Is [/] ok?", "error": "[red]x"}],
    )
    shown = run_cli("audit", "tail", env={"LEGALRAG_AUDIT_LOG": str(log)})
    assert shown.returncode == 0, shown.stderr
    assert "[bold]now [/i]bob · error" in shown.stdout
    assert "Q: Is [/] ok?" in shown.stdout and "error: [red]x" in shown.stdout


# Every flag that overrides a setting, by command: flag -> setting (its LEGALRAG_* name).
_STORE_FLAGS = {
    "--data-dir": "data_dir",
    "--chroma-url": "chroma_url",
    "--collection": "collection",
}
_INDEX_FLAGS = {**_STORE_FLAGS, "--embedding-model": "embedding_model"}
SETTING_FLAGS: dict[str, dict[str, str]] = {
    "config show": {},
    "ingest": {
        "--chunk-size": "chunk_size",
        "--chunk-overlap": "chunk_overlap",
        "--ocr": "ocr",
        **_INDEX_FLAGS,
    },
    "index info": _STORE_FLAGS,
    "retrieve": {"--k": "retrieve_k", **_INDEX_FLAGS},
    "ask": {"--k": "retrieve_k", **_INDEX_FLAGS},
    "sky ingest": {"--yaml": "sky_ingest_yaml", "--name-prefix": "sky_ingest_job_prefix"},
    "chat": {
        "--host": "chat_host",
        "--port": "chat_port",
        "--concurrency": "chat_concurrency",
        **_INDEX_FLAGS,
    },
    "audit tail": {"--data-dir": "data_dir"},
    "audit export": {"--data-dir": "data_dir"},
    "auth hash": {},
    "matter create": {"--data-dir": "data_dir"},
    "matter list": {"--data-dir": "data_dir"},
    "matter grant": {"--data-dir": "data_dir"},
    "matter revoke": {"--data-dir": "data_dir"},
    "auth token": {"--data-dir": "data_dir"},
    "serve": {"--host": "api_host", "--port": "api_port", **_INDEX_FLAGS},
    "eval": {
        "--k": "eval_k",
        "--judge-url": "judge_base_url",
        "--judge-model": "judge_model",
        "--out": "eval_out_dir",
        "--answers": "eval_answers",
        "--verifier": "eval_verifier",
        **_INDEX_FLAGS,
    },
    "eval corpus": {},
    "eval adversarial": {"--out": "eval_out_dir", **_INDEX_FLAGS},
}


def _commands() -> dict[str, Any]:
    """Every command of `legalrag`, by the words that run it (a group with a callback too)."""
    found: dict[str, Any] = {}

    def walk(command: Any, words: str) -> None:
        is_group = hasattr(command, "commands")
        if words and (not is_group or command.invoke_without_command):
            found[words] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{words} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


def test_every_setting_flag_is_the_setting_with_its_description_and_env_name() -> None:
    from legalrag.settings import Settings

    commands = _commands()
    assert set(commands) == set(SETTING_FLAGS)
    for words, command in commands.items():
        overriding = {
            param.opts[0]: param
            for param in command.params
            if param.param_type_name == "option" and "[LEGALRAG_" in (param.help or "")
        }
        assert set(overriding) == set(SETTING_FLAGS[words]), words
        for flag, option in overriding.items():
            setting = SETTING_FLAGS[words][flag]
            field = Settings.model_fields[setting]
            assert option.help.endswith(f" [LEGALRAG_{setting.upper()}]"), (words, flag)
            if field.description:
                assert option.help.startswith(field.description), (words, flag)
            # Not given means "as the settings say": the flag has no default of its own.
            assert option.default is None, (words, flag)
    # A setting's own switch keeps its off form.
    answers = next(p for p in commands["eval"].params if p.name == "eval_answers")
    assert answers.secondary_opts == ["--no-answers"]


def _probe(*flags: SettingFlag) -> typer.Typer:
    """A one-command CLI offering ``flags``, printing the settings they build as JSON."""
    probe = typer.Typer()

    @probe.command()
    @shared_options(LOGS, *flags)
    def show(*, shared: SharedOptions) -> None:
        settings = shared.settings()
        typer.echo(json.dumps(settings.public_dict()))

    return probe


def test_a_setting_flag_beats_its_env_var_and_else_leaves_it(tmp_path: Path) -> None:
    probe = _probe(
        setting_flag("--port", "chat_port", help="Port."),
        setting_flag("--answers/--no-answers", "eval_answers"),
        setting_flag("--out", "eval_out_dir"),
    )
    env = {"LEGALRAG_CHAT_PORT": "9000", "LEGALRAG_EVAL_ANSWERS": "true"}
    runner = CliRunner()
    given = runner.invoke(
        probe, ["--port", "7000", "--no-answers", "--data-dir", str(tmp_path)], env=env
    )
    assert given.exit_code == 0, given.output
    shown = json.loads(given.stdout)
    assert (shown["chat_port"], shown["eval_answers"]) == (7000, False)
    assert shown["data_dir"] == str(tmp_path) and shown["eval_out_dir"] == "eval-report"
    unset = json.loads(runner.invoke(probe, [], env=env).stdout)
    assert (unset["chat_port"], unset["eval_answers"]) == (9000, True)
    # The flag has the setting's type, and the setting's bounds: both are usage errors.
    mistyped = runner.invoke(probe, ["--port", "seven"], env=env)
    assert mistyped.exit_code == 2 and "Invalid value for '--port'" in mistyped.output
    out_of_bounds = runner.invoke(app, ["chat", "--port", "0"])
    assert out_of_bounds.exit_code == 2 and "chat_port" in out_of_bounds.output


def test_a_flag_for_a_setting_that_does_not_exist_fails_when_declared() -> None:
    with pytest.raises(ValueError, match="chat_hots"):
        setting_flag("--host", "chat_hots")


class _ChromaThatStopsAtTheCollection(BaseHTTPRequestHandler):
    """Answers a Chroma client's handshake, then drops the connection on the collection."""

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self) -> None:
        path = self.path.split("?")[0]
        if "/collections" in path:
            self.close_connection = True
            self.connection.close()  # as a server that dies between two calls
            return
        body: dict = {"nanosecond heartbeat": 1}
        if path.endswith("/auth/identity"):
            body = {"user_id": "", "tenant": "default_tenant", "databases": ["default_database"]}
        elif path.endswith("/pre-flight-checks"):
            body = {"max_batch_size": 100}
        elif "/databases/" in path:
            body = {"id": str(uuid.UUID(int=0)), "name": "default_database", "tenant": "t"}
        elif "/tenants/" in path:
            body = {"name": "default_tenant"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _reply


@pytest.fixture
def chroma_that_stops() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChromaThatStopsAtTheCollection)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_chroma_server_that_stops_answering_as_the_index_opens(
    tmp_path: Path, chroma_that_stops: str
) -> None:
    from legalrag.errors import StoreUnavailableError
    from legalrag.factory import open_store, open_store_for_writing
    from legalrag.settings import load_settings
    from legalrag.store.schema import ModelStamp

    settings = load_settings(data_dir=tmp_path / "data", chroma_url=chroma_that_stops)
    # The store's own error, with what to do, for reading and for writing alike.
    for opening in (
        lambda: open_store(settings),
        lambda: open_store_for_writing(settings, ModelStamp("some-model", 3)),
    ):
        with pytest.raises(StoreUnavailableError, match=r"stopped answering.*again resumes"):
            opening()
    shown = run_cli("index", "info", env={"LEGALRAG_CHROMA_URL": chroma_that_stops})
    assert shown.returncode == 3, shown.stderr
    assert chroma_that_stops in shown.stderr and "Traceback" not in shown.stderr
