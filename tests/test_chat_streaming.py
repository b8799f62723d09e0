"""The chat's token coalescing: which events go out together as one page update."""

from __future__ import annotations

import queue

from legalrag.app.chat.streaming import StreamedMessages, coalesced
from legalrag.app.generation import AnswerText, Finished, Reasoning


def _queued(*items: tuple[str, object]) -> queue.Queue:
    events: queue.Queue = queue.Queue()
    for item in items:
        events.put(item)
    return events


def test_the_first_event_goes_out_alone_then_the_rest_together() -> None:
    tokens = [("event", AnswerText(f"t{i} ")) for i in range(50)]
    batches = list(coalesced(_queued(*tokens, ("done", "answer")), interval_s=30.0))
    # The first token at once (the page shows the answer has begun), then everything
    # that arrived within the interval, up to the end of the stream.
    assert [len(b) for b in batches] == [1, 50]
    assert batches[-1][-1] == ("done", "answer")


def test_interval_zero_sends_every_event_and_an_error_ends_the_stream() -> None:
    boom = RuntimeError("stream cut")
    items = [("event", AnswerText("a")), ("event", AnswerText("b")), ("error", boom)]
    batches = list(coalesced(_queued(*items, ("event", AnswerText("never"))), interval_s=0.0))
    assert batches == [[item] for item in items]


def test_streamed_messages_fold_the_reasoning_when_the_answer_begins() -> None:
    chat: list[dict] = [{"role": "user", "content": "q"}]
    streamed = StreamedMessages(chat, show_reasoning=True)
    assert streamed.add(Reasoning("Thinking <about> it."))
    assert chat[-1]["metadata"]["status"] == "pending"
    assert streamed.add(AnswerText("A & "))
    assert streamed.add(AnswerText("B [1]."))
    assert chat[1]["metadata"]["status"] == "done"
    assert chat[-1] == {"role": "assistant", "content": "A &amp; B [1]."}
    assert streamed.raw == "A & B [1]." and not streamed.add(Finished(False))

    hidden: list[dict] = []
    assert not StreamedMessages(hidden, show_reasoning=False).add(Reasoning("x")) and not hidden
