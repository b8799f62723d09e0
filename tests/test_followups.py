"""Follow-ups: the history the browser sends, rewritten into a standalone question."""

from __future__ import annotations

import pytest

from legalrag.app.chat.turns import earlier_turns
from legalrag.app.followups import (
    EarlierTurn,
    ModelRewriter,
    OfflineRewriter,
    Rewrite,
    is_follow_up,
    offline_rewrite,
    parse_rewrite,
    usable_rewrite,
)
from legalrag.app.generation import OpenAICompatibleGenerator
from legalrag.factory import make_rewriter
from legalrag.settings import load_settings
from tests.fake_llm import FakeLLM, Script

CA = "How long does a California landlord have to return a security deposit?"
EARLIER = [EarlierTurn(CA, CA)]


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("What about Texas?", True),
        ("And in New York?", True),
        ("Does that apply to roommates?", True),
        ("Texas?", True),
        ("Can my employer keep my last paycheck?", False),
        ("Is it legal for an employer to withhold tips in Oregon?", False),
        ("How long does a Texas landlord have to return a security deposit?", False),
    ],
)
def test_follow_ups_are_recognised(question: str, follow_up: bool) -> None:
    assert is_follow_up(question) is follow_up


def test_offline_rewrite_swaps_the_state_or_joins_the_previous_question() -> None:
    assert offline_rewrite("What about Texas?", EARLIER) == CA.replace("California", "Texas")
    assert offline_rewrite("And in New York?", EARLIER) == CA.replace("California", "New York")
    assert offline_rewrite("Does that apply to roommates?", EARLIER) == (
        f"{CA} Does that apply to roommates?"
    )
    standalone = "Can my employer keep my last paycheck?"
    assert offline_rewrite(standalone, EARLIER) == standalone
    assert offline_rewrite("What about Texas?", []) == "What about Texas?"
    # The rewrite builds on what was searched for last, not on the bare follow-up.
    chain = [*EARLIER, EarlierTurn("What about Texas?", CA.replace("California", "Texas"))]
    assert offline_rewrite("And Ohio?", chain) == CA.replace("California", "Ohio")


def test_offline_rewriter_says_whether_it_rewrote() -> None:
    rewriter = OfflineRewriter()
    assert rewriter.rewrite("What about Texas?", EARLIER).method == "offline"
    assert rewriter.rewrite("Can my employer fire me?", EARLIER).method == "none"


def test_history_comes_from_the_chat_value_the_browser_sends() -> None:
    # Gradio hands the handler message contents as lists of parts.
    history = [
        {"role": "user", "content": [{"type": "text", "text": CA}], "metadata": None},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "no filters · k = 5"}],
            "metadata": {"title": f"Searching for: {CA}", "status": "done"},
        },
        {"role": "assistant", "content": [{"type": "text", "text": "21 days [1]."}]},
        {"role": "user", "content": "What about Texas?"},
        {
            "role": "assistant",
            "content": "",
            "metadata": {"title": "Searching for: Texas deposit deadline"},
        },
        {"role": "assistant", "content": "", "metadata": {"title": "Reasoning"}},
    ]
    assert earlier_turns(history) == [
        EarlierTurn(CA, CA),
        EarlierTurn("What about Texas?", "Texas deposit deadline"),
    ]
    assert earlier_turns([]) == []


def _model_rewriter(fake: FakeLLM) -> ModelRewriter:
    settings = load_settings(
        llm_base_url=fake.url, llm_retries=0, llm_timeout_s=2.0, llm_model="fake-r1-distill"
    )
    rewriter = make_rewriter(settings, OpenAICompatibleGenerator(settings.llm))
    assert isinstance(rewriter, ModelRewriter)
    return rewriter


def test_the_model_rewrites_from_the_versioned_prompt(fake: FakeLLM) -> None:
    fake.script = Script(
        answer="",
        judge_answer=(
            "The earlier question was about California deposits.\n"
            "Standalone question: How long does a Texas landlord have to return a deposit?"
        ),
        reasoning="They switched states.",
    )
    fake.requests.clear()
    result = _model_rewriter(fake).rewrite("What about Texas?", EARLIER)
    assert result.question == "How long does a Texas landlord have to return a deposit?"
    assert result.method == "llm"
    sent = fake.requests[-1]["messages"][0]["content"]
    assert f"1. {CA}" in sent and "Latest question: What about Texas?" in sent
    assert not fake.requests[-1].get("stream")


def test_a_failing_model_falls_back_to_the_offline_rewrite(fake: FakeLLM) -> None:
    fake.script = Script(status=500)
    result = _model_rewriter(fake).rewrite("What about Texas?", EARLIER)
    assert result.method == "offline-fallback"
    assert result.question == CA.replace("California", "Texas")
    fake.script = Script(judge_answer="")  # an empty reply is unusable too
    assert _model_rewriter(fake).rewrite("What about Texas?", EARLIER).method == (
        "offline-fallback"
    )


def test_no_endpoint_means_the_offline_rewriter() -> None:
    assert isinstance(make_rewriter(load_settings(), object()), OfflineRewriter)


def test_parse_rewrite_takes_the_last_answer_line() -> None:
    assert parse_rewrite('Thinking...\nStandalone question: "Is a 30-day notice valid?"') == (
        "Is a 30-day notice valid?"
    )
    # Without the line the reply is not a rewrite, whatever its last line says.
    assert parse_rewrite("Is a 30-day notice valid?") == ""
    assert parse_rewrite("") == ""


def test_a_rewrite_is_one_plain_question_of_sane_length() -> None:
    assert usable_rewrite("What does Tex. Prop. Code § 92.103 require?", max_chars=500)
    assert usable_rewrite("A landlord must refund within 30 days [1].", max_chars=500) is None
    assert usable_rewrite("Is it 30 days? Or 14?", max_chars=500) is None
    assert usable_rewrite("Is it 30 days? Yes, it is.", max_chars=500) is None
    assert usable_rewrite("word " * 61, max_chars=5000) is None
    assert usable_rewrite("Is a 30-day notice valid?", max_chars=10) is None
    assert usable_rewrite("", max_chars=500) is None


def test_a_question_that_stands_alone_is_never_sent_to_the_model(fake: FakeLLM) -> None:
    # The stand-in model: whatever it is asked, a deposit paragraph with a marker.
    fake.script = Script(judge_answer="A landlord must return the deposit within 14 days [1].")
    fake.requests.clear()
    rewriter = _model_rewriter(fake)
    for question in (
        "Can my employer withhold my final paycheck in Texas?",
        "What is the capital of France?",
    ):
        assert rewriter.rewrite(question, EARLIER) == Rewrite(question, "none")
    assert fake.requests == []


def test_a_reply_that_is_not_a_standalone_question_gives_the_offline_rewrite(
    fake: FakeLLM,
) -> None:
    offline = CA.replace("California", "Texas")
    for reply in (
        "A landlord must return the deposit within 14 days [1].",  # no Standalone line
        "Standalone question: How long does a Texas landlord have [1]?",  # a marker
        "Standalone question: Is it 30 days? Yes, 30 days under the code.",  # not one question
        "Standalone question: " + "deposit " * 80 + "?",  # a paragraph
    ):
        fake.script = Script(judge_answer=reply)
        result = _model_rewriter(fake).rewrite("What about Texas?", EARLIER)
        assert result == Rewrite(offline, "offline-fallback"), reply
