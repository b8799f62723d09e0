"""Saved conversations: stored per user, surviving a restart, invisible to other users,
and exported whole as Word and PDF documents that hold every question, answer,
citation verdict and source."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pypdfium2
import pytest

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.documents import file_name, render_document
from legalrag.app.chat.pdf_writer import find_font, latin1, write_pdf
from legalrag.app.citations import Citation
from legalrag.app.conversations import ConversationStore, SavedTurn, default_title
from legalrag.app.retrieval.passages import StageScores
from legalrag.errors import ConversationNotFound, UsageError
from tests.conftest import make_settings

SOURCE_TEXT = (
    "Sec. 92.103. OBLIGATION TO REFUND. (a) The landlord shall refund a security deposit "
    "to the tenant on or before the 30th day after the date the tenant surrenders the "
    "premises. Fees under \u00a7 92.104 \u2014 \u201cnormal wear\u201d excluded "
    "(\u0141\u00f3d\u017a)."
)


def _turn(question: str = "How long may a Texas landlord keep a deposit?") -> SavedTurn:
    """A turn as the chat saves one: a supported and a contradicted citation, a page."""
    code = AnswerSource(
        id="tx-1",
        document_id="tex-prop-code",
        title="Tex. Prop. Code \u00a7 92.103",
        jurisdiction="TX",
        created="2023-09-01",
        text=SOURCE_TEXT,
        start=1000,
        end=1000 + len(SOURCE_TEXT),
        page=4,
        pages="4-5",
        score=0.0312,
        stages=StageScores(fused=0.0312, dense=0.71, dense_rank=1),
        marker=1,
    )
    post = AnswerSource(
        id="post-7",
        document_id="forum-7",
        title="Deposit kept in Austin",
        text="I waited 60 days.",
        score=0.02,
        marker=2,
        url="https://example.org/7",
    )
    refund = SOURCE_TEXT.index("The landlord shall refund")
    raw = (
        "A Texas landlord must refund the deposit within 30 days [1]. "
        "Landlords may keep it for 60 days [2][9]."
    )
    answer = Answer(
        question=question,
        answer="A Texas landlord must refund the deposit within 30 days [1]. "
        "Landlords may keep it for 60 days [2].",
        citations=[
            Citation(
                marker=1,
                sentence=0,
                source_id="tx-1",
                valid=True,
                support=0.9,
                span=(1000 + refund, 1000 + refund + 120),
                verdict="supported",
                reason="the source states it",
            ),
            Citation(
                marker=2,
                sentence=1,
                source_id="post-7",
                valid=True,
                support=0.4,
                span=(0, 17),
                verdict="contradicted",
                reason="60 days is not 30 days",
            ),
            Citation(marker=9, sentence=1, source_id=None, valid=False),
        ],
        invalid_markers=[9],
        misgrounded_sentences=["Landlords may keep it for 60 days."],
        sources=[code, post],
        model="fake-r1-distill",
        prompt_version="answer-v2",
        filters="jurisdiction TX",
    )
    return SavedTurn(question, question, raw, answer, mode="model", k=4)


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore.open(make_settings(tmp_path / "data"))


def test_a_saved_conversation_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = ConversationStore.open(make_settings(data))
    first = store.save_turn("alice", None, _turn(), matter="Smith v. Jones")
    store.save_turn("alice", first, _turn("And in California?"))
    assert (data / "legalrag.db").is_file()
    # A new process, its own engine and sessions, on the same file.
    script = (
        "import json, sys\n"
        "from legalrag.app.conversations import ConversationStore\n"
        "from legalrag.settings import load_settings\n"
        "store = ConversationStore.open(load_settings(data_dir=sys.argv[1]))\n"
        "c = store.load('alice', sys.argv[2])\n"
        "t = c.turns[0]\n"
        "print(json.dumps({'title': c.title, 'matter': c.matter, 'turns': len(c.turns),\n"
        "  'questions': [x.question for x in c.turns], 'raw': t.raw_answer,\n"
        "  'verdicts': [(x.marker, x.verdict, x.span) for x in t.answer.citations],\n"
        "  'pages': [(s.title, s.page, s.pages, s.stages.dense if s.stages else None)\n"
        "            for s in t.answer.sources], 'mode': t.mode, 'k': t.k,\n"
        "  'listed': [s.turns for s in store.list('alice')], 'bob': len(store.list('bob'))}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(data), first],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["title"] == "How long may a Texas landlord keep a deposit?"
    assert loaded["matter"] == "Smith v. Jones" and loaded["turns"] == 2
    assert loaded["questions"][1] == "And in California?"
    assert loaded["raw"].endswith("[2][9].")
    start = 1000 + SOURCE_TEXT.index("The landlord shall refund")
    assert loaded["verdicts"] == [
        [1, "supported", [start, start + 120]],
        [2, "contradicted", [0, 17]],
        [9, None, None],
    ]
    assert loaded["pages"] == [
        ["Tex. Prop. Code \u00a7 92.103", 4, "4-5", 0.71],
        ["Deposit kept in Austin", 0, "", None],
    ]
    assert (loaded["mode"], loaded["k"], loaded["listed"], loaded["bob"]) == ("model", 4, [2], 0)


def test_a_turn_comes_back_as_the_answer_it_was(store: ConversationStore) -> None:
    turn = _turn()
    loaded = store.load("alice", store.save_turn("alice", None, turn)).turns[0]
    assert loaded.answer.citations == turn.answer.citations
    assert loaded.answer.sources == turn.answer.sources  # vectors are not compared
    assert loaded.answer.misgrounded_sentences == turn.answer.misgrounded_sentences
    assert loaded.answer.filters == "jurisdiction TX" and loaded.asked_at.tzinfo == UTC
    assert loaded.searching_note == "jurisdiction TX · k = 4"


def test_another_users_conversation_is_exactly_like_none(store: ConversationStore) -> None:
    mine = store.save_turn("alice", None, _turn())
    store.save_turn("bob", None, _turn("Bob's own question"))
    assert [s.title for s in store.list("bob")] == ["Bob's own question"]
    missing = "0" * 32
    for operation in (
        lambda cid: store.load("bob", cid),
        lambda cid: store.rename("bob", cid, "mine now"),
        lambda cid: store.delete("bob", cid),
        lambda cid: store.save_turn("bob", cid, _turn()),
        lambda cid: store.summary("bob", cid),
    ):
        with pytest.raises(ConversationNotFound) as theirs:
            operation(mine)
        with pytest.raises(ConversationNotFound) as nobodys:
            operation(missing)
        assert str(theirs.value).replace(mine, "ID") == str(nobodys.value).replace(missing, "ID")
    # Alice's conversation is untouched by all of it.
    assert store.load("alice", mine).title == "How long may a Texas landlord keep a deposit?"
    assert len(store.load("alice", mine).turns) == 1


def test_list_rename_delete(store: ConversationStore) -> None:
    first = store.save_turn("alice", None, _turn("First question"), matter="Acme lease")
    second = store.save_turn("alice", None, _turn("Second question"))
    assert [s.id for s in store.list("alice")] == [second, first]  # newest first
    store.save_turn("alice", first, _turn("A follow-up"))  # answered again: first on top
    listed = store.list("alice")
    assert [(s.id, s.turns) for s in listed] == [(first, 2), (second, 1)]
    assert listed[0].label().startswith("First question · Acme lease · ")
    assert store.rename("alice", first, "  Acme:\n break clause ").title == "Acme: break clause"
    with pytest.raises(UsageError, match="title must not be empty"):
        store.rename("alice", first, "   ")
    store.delete("alice", first)
    assert [s.id for s in store.list("alice")] == [second]
    with pytest.raises(ConversationNotFound):
        store.load("alice", first)


def test_a_title_is_the_first_question_trimmed() -> None:
    assert (
        default_title("  How long\nmay a landlord keep it? ") == "How long may a landlord keep it?"
    )
    long = "Whether " + "a landlord who keeps a deposit " * 10
    title = default_title(long)
    assert len(title) <= 80 and title.endswith("\u2026") and long.startswith(title[:-1])


def _conversation(store: ConversationStore, owner: str = "alice"):
    cid = store.save_turn(owner, None, _turn(), matter="Smith v. Jones")
    store.save_turn(owner, cid, _turn("And in California?"))
    return store.load(owner, cid)


def test_the_word_export_holds_questions_answers_verdicts_and_sources(
    store: ConversationStore,
) -> None:
    content = render_document(_conversation(store), "docx", exported_by="alice")
    document = docx.Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert "Question 1: How long may a Texas landlord keep a deposit?" in text
    assert "Question 2: And in California?" in text
    assert "Matter: Smith v. Jones" in text
    assert "A Texas landlord must refund the deposit within 30 days [1]." in text
    assert [
        "[1]",
        "A Texas landlord must refund the deposit within 30 days.",
        "supported",
        "the source states it",
        "Tex. Prop. Code \u00a7 92.103, pp. 4-5",
    ] in cells
    assert [
        "[2]",
        "Landlords may keep it for 60 days.",
        "contradicted",
        "60 days is not 30 days",
        "Deposit kept in Austin",
    ] in cells
    assert any(row[0] == "[9]" and row[2] == "invalid" for row in cells)
    assert "Tex. Prop. Code \u00a7 92.103" in text and "Texas · 2023-09-01 · pp. 4-5" in text
    # The cited span is bold, the rest of the source's text is not; nothing is lost.
    bold = [r.text for p in document.paragraphs for r in p.runs if r.bold]
    assert any(b.startswith("The landlord shall refund") for b in bold)
    assert "(\u0141\u00f3d\u017a)" in text and "\u201cnormal wear\u201d" in text
    assert "Misgrounded sentences" in text and "not legal advice" in text
    assert document.core_properties.title == "How long may a Texas landlord keep a deposit?"


def test_the_pdf_export_holds_the_same_with_an_embedded_unicode_font(
    store: ConversationStore,
) -> None:
    assert find_font() is not None, "DejaVu Sans is installed (fonts-dejavu-core, .ci/run)"
    content = render_document(_conversation(store), "pdf", exported_by="alice")
    pdf = pypdfium2.PdfDocument(content)
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    flat = " ".join(text.split())
    assert "Question 1: How long may a Texas landlord keep a deposit?" in flat
    assert "Question 2: And in California?" in flat
    assert "A Texas landlord must refund the deposit within 30 days [1]." in flat
    assert "supported" in flat and "contradicted" in flat and "invalid" in flat
    assert "60 days is not 30 days" in flat and "Deposit kept in Austin" in flat
    assert "Tex. Prop. Code \u00a7 92.103" in flat and "pp. 4-5" in flat
    assert "(\u0141\u00f3d\u017a)" in flat and "\u201cnormal wear\u201d" in flat
    assert "are shown as ?" not in flat  # every character was in the font


def test_a_pdf_says_which_characters_its_font_cannot_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from legalrag.app.chat import pdf_writer
    from legalrag.app.chat.documents import Block

    line = "Tokyo \u6771\u4eac, \u0141\u00f3d\u017a \u00a7 5 \u2014 ok"
    blocks = [Block("paragraph", runs=((line, False),))]
    dejavu = _pdf_text(write_pdf(blocks, title="t"))
    assert "2 characters of this conversation are not in this PDF's font (DejaVuSans.ttf)" in dejavu
    assert "Tokyo ??, \u0141\u00f3d\u017a \u00a7 5 \u2014 ok" in dejavu
    # No Unicode font on the machine: Helvetica (Latin-1), accents Latin-1 lacks dropped,
    # typographic marks made plain, the rest "?", and the first line says how many.
    assert latin1("\u00f3d\u017a \u2014 \u201cx\u201d \u6771") == ('\u00f3dz - "x" ?', 1)
    monkeypatch.setattr(pdf_writer, "FONT_DIRS", ())
    monkeypatch.setattr(pdf_writer.importlib.util, "find_spec", lambda name: None)
    assert find_font() is None
    helvetica = _pdf_text(write_pdf(blocks, title="t"))
    assert "3 characters of this conversation are not in this PDF's font (Helvetica)" in helvetica
    assert "installing fonts-dejavu-core" in helvetica
    assert "Tokyo ??, ?\u00f3dz \u00a7 5 - ok" in helvetica
    with pytest.raises(UsageError, match="is not a font file"):
        write_pdf(blocks, title="t", font=tmp_path / "missing.ttf")


def _pdf_text(content: bytes) -> str:
    pdf = pypdfium2.PdfDocument(content)
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    return " ".join(text.split())


def test_an_export_is_named_after_its_matter_and_day() -> None:
    day = date(2026, 12, 3)
    assert (
        file_name("Smith v. Jones (2026)", "docx", day)
        == "legalrag-smith-v-jones-2026-2026-12-03.docx"
    )
    assert file_name("", "pdf", day) == "legalrag-conversation-2026-12-03.pdf"
    assert file_name("../../etc/passwd", "pdf", day) == "legalrag-etc-passwd-2026-12-03.pdf"
    assert file_name("\u6771\u4eac", "pdf", day) == "legalrag-conversation-2026-12-03.pdf"
    assert datetime.now(UTC).date().isoformat() in file_name("x", "docx")
