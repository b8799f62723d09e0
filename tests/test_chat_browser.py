"""The chat in a real browser: Debian's headless Chromium driven by Playwright.

One app server for the module (the sample index, the loopback fake LLM, a login),
one browser. In CI (``CI`` set; ``.ci/run`` sets it and installs chromium) a
missing browser fails the test; on a developer's machine without chromium it is
skipped, since installing it needs root (``apt-get install chromium``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from legalrag.app.chat.backend import ChatBackend
from legalrag.app.chat.reasoning_view import FLAGGED_TITLE
from legalrag.app.chat.server import build_app
from legalrag.app.chat.turns import STOPPED
from tests.conftest import chat_settings, free_port
from tests.fake_llm import FakeLLM, Script, start_fake_llm

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USER, PASSWORD = "lawyer", "open-sesame"
QUESTION = "How many days does a Texas landlord have to refund a security deposit?"
# The same answer with its "must" flipped: the claim checks find it contradicted.
FLIPPED = (
    "A Texas landlord must not refund the security deposit within 30 days after the tenant "
    "surrenders the premises [1].\n"
    "This is not legal advice."
)
AXE = Path(
    os.environ.get("LEGALRAG_AXE_JS")
    or Path(__file__).resolve().parents[1] / ".data/axe/node_modules/axe-core/axe.min.js"
)
REASONING = (
    "The lawyer asks about Texas. Source 1 is the Texas post, and it says 30 days. " * 2
    + "\n\nSource 2 is about another state, so it does not apply."
)
ANSWER = (
    "A Texas landlord must refund the security deposit within 30 days after the tenant "
    "surrenders the premises [1][42].\n"
    "Tenants should always sue in federal court immediately.\n"
    "This is not legal advice."
)

# Read at import: the suite's autouse fixture clears LEGALRAG_* before each test.
SCREENSHOT_DIR = os.environ.get("LEGALRAG_SCREENSHOT_DIR")

pytestmark = pytest.mark.slow


def _browser_or_skip():
    """Playwright's sync API, or a skip (locally) / failure (CI) saying what is missing."""
    missing = None
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright for Python is not installed (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {missing}")
        pytest.skip(missing)
    return sync_playwright


@dataclass
class Served:
    url: str
    fake: FakeLLM
    backend: ChatBackend


@pytest.fixture(scope="module")
def served(sample_index, embedder, tmp_path_factory) -> Iterator[Served]:
    import uvicorn

    fake, llm_server = start_fake_llm()
    settings, _ = sample_index
    # A copy: a document is added from the page (the session's index stays read only).
    data_dir = tmp_path_factory.mktemp("browser-index") / "data"
    shutil.copytree(settings.data_dir, data_dir)
    settings = chat_settings(
        settings.model_copy(update={"data_dir": data_dir}),
        llm_url=fake.url,
        auth=f"{USER}:{PASSWORD}",
        secret="browser-test-secret-" + "b" * 32,
        audit_log=tmp_path_factory.mktemp("browser-audit") / "audit.jsonl",
        chat_port=free_port(),
    )
    backend = ChatBackend(settings, embedder=embedder)
    config = uvicorn.Config(
        build_app(settings, backend).app,
        host="127.0.0.1",
        port=settings.chat_port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the chat server did not start"
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{settings.chat_port}/", fake, backend)
    server.should_exit = True
    thread.join(timeout=10)
    llm_server.shutdown()


@pytest.fixture(scope="module")
def browser(served):
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _screenshot_path(tmp_path_factory) -> Path:
    base = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path_factory.mktemp("screenshots")
    base.mkdir(parents=True, exist_ok=True)
    return base / "chat.png"


def test_without_login_the_chat_is_refused(served: Served, browser) -> None:
    page = browser.new_page()
    page.goto(served.url)
    assert page.url.endswith("/login")
    assert page.locator("#chat").count() == 0
    # Gradio's API refuses too: no configuration, no queue, without the signed cookie.
    assert page.request.get(served.url + "config").status == 401
    assert page.request.post(served.url + "gradio_api/queue/join", data={}).status == 401
    page.fill("#username", USER)
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    page.get_by_text("Wrong user name or password.").wait_for()
    assert page.locator("#chat").count() == 0
    page.close()


# What the chat log shows at each change, recorded in the page as it streams.
RECORD_CHANGES = """
() => {
  window.__states = [];
  const log = document.querySelector('#chat [role=log]') || document.querySelector('#chat');
  new MutationObserver(() => {
    const text = log.innerText;
    if (window.__states[window.__states.length - 1] !== text) window.__states.push(text);
  }).observe(log, {subtree: true, childList: true, characterData: true});
}
"""


def test_a_question_streams_cites_and_shows_the_cited_span(
    served: Served, browser, tmp_path_factory
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(served.url)
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.locator("#question textarea").wait_for()
    expect(page.locator("#sample-banner")).to_contain_text("Illustrative sample corpus")
    expect(page.locator("#not-advice")).to_contain_text("not legal advice")
    expect(page.locator("#footer")).to_contain_text("fake-r1-distill")
    expect(page.locator("#footer")).to_contain_text("answer-v2")

    served.fake.script = Script(answer=ANSWER, reasoning=REASONING, chunk_size=6, delay_s=0.03)
    page.evaluate(RECORD_CHANGES)
    page.fill("#question textarea", QUESTION)
    page.keyboard.press("Enter")
    page.locator("#chat .checks").wait_for(timeout=60_000)

    states: list[str] = page.evaluate("window.__states")
    first_words = "A Texas landlord must refund"
    thinking = [s for s in states if "Texas post" in s and first_words not in s]
    assert len(thinking) > 2, "the reasoning should stream in before the answer"
    partial = [s for s in states if first_words in s and "supported ·" not in s]
    assert len(partial) > 2, "the answer should stream in piece by piece"
    # Once the answer began, the reasoning folded away under its title.
    # Its title says it leans on a source the answer leaves uncited (source 2).
    reasoning_title = page.locator("#chat").get_by_text(FLAGGED_TITLE, exact=True)
    expect(reasoning_title).to_be_visible()
    expect(page.locator("#chat").get_by_text("Source 1 is the Texas post")).to_have_count(0)
    # Opened, it is a path: steps whose sources link to their cards, and the flag.
    reasoning_title.click()
    expect(page.locator("#chat .reasoning-steps li")).to_have_count(2)
    expect(page.locator("#chat .reasoning-flag")).to_contain_text("draws on source [2]")
    page.locator("#chat a.source-link", has_text="[2]").click()
    expect(page.locator("#src-1-2")).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("#src-1-2")).to_be_in_viewport()
    expect(page.locator("#chat")).to_contain_text(f"Searching for: {QUESTION}")

    # The invalid citation and the uncited sentence are marked, with the legend.
    invalid = page.locator("#chat s.cite-invalid")
    expect(invalid).to_contain_text("[42]")
    expect(invalid).to_have_attribute("data-verdict", "invalid")
    expect(page.locator("#chat .checks")).not_to_contain_text("✓")
    expect(page.locator("#chat .unsupported")).to_contain_text("Tenants should always sue")
    expect(page.locator("#legend")).to_contain_text("invalid citation")

    # Clicking [1] shows source 1 with the span the citation check chose.
    served.fake.script = Script(answer=ANSWER, reasoning=REASONING)
    expected = served.backend.engine().answer(QUESTION).as_dict()
    citation = expected["citations"][0]
    source = expected["sources"][0]
    start, end = (offset - source["start"] for offset in citation["span"])
    page.locator("#chat a.cite", has_text="[1]").first.click()
    active = page.locator("#sources mark.span.active")
    expect(active).to_have_text(source["text"][start:end])
    expect(active).to_be_in_viewport()
    expect(page.locator("#src-1-1")).to_contain_text(source["title"])
    expect(page.locator("#src-1-1")).to_contain_text("cited for: \u201cA Texas landlord")
    assert page.locator("#sources .source").count() == len(expected["sources"])

    shot = _screenshot_path(tmp_path_factory)
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    # The export downloads from the page itself (a blob), with every source.
    page.get_by_text("Export this answer (Markdown)").click()
    with page.expect_download() as download:
        page.locator("#export a[download]").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.startswith(f"# {QUESTION}")
    assert "- Invalid citations (removed): [42]" in exported
    assert all(f"] {s['title']}**" in exported for s in expected["sources"])

    audit = served.backend.settings.audit_log_path.read_text().splitlines()
    entry = json.loads(audit[-1])
    assert entry["user"] == USER and entry["question"] == QUESTION
    assert [c["verdict"] for c in entry["citations"]] == ["supported", "invalid"]

    # Signing out ends this login: the page and Gradio's API refuse the old cookie.
    cookie = next(c for c in page.context.cookies() if c["name"] == "legalrag_session")
    page.locator("#footer a", has_text="Sign out").click()
    page.locator("#username").wait_for()
    assert page.url.endswith("/login")
    stale = browser.new_context()
    stale.add_cookies([cookie])
    assert stale.request.get(served.url + "config").status == 401
    stale.close()
    page.close()


def _signed_in(browser, served: Served):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(served.url)
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.locator("#question textarea").wait_for()
    return page


def _ask(page, question: str) -> None:
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")


def test_a_contradicted_citation_says_so_everywhere_and_clear_starts_afresh(
    served: Served, browser
) -> None:
    from playwright.sync_api import expect

    page = _signed_in(browser, served)
    served.fake.script = Script(answer=FLIPPED, reasoning="Texas.")
    _ask(page, QUESTION)
    page.locator("#chat .checks").wait_for(timeout=60_000)
    # The marker says contradicted: attribute, icon, word and reason, not colour alone.
    marker = page.locator('#chat a.cite[data-verdict="contradicted"]')
    expect(marker).to_have_count(1)
    expect(marker).to_contain_text("contradicted")
    expect(marker).to_have_attribute("aria-label", re.compile(r"Citation 1, contradicted: "))
    verdicts = page.locator("#chat [data-verdict]").evaluate_all(
        "els => els.map(e => e.dataset.verdict)"
    )
    assert set(verdicts) <= {"supported", "contradicted", "not_found", "invalid", "unclear"}
    checks = page.locator("#chat .checks")
    expect(checks).to_contain_text("0 supported · 1 problem")
    expect(checks).not_to_contain_text("✓")
    # Its span in the source card is flagged, not shown as evidence.
    marker.click()
    active = page.locator("#sources mark.span.active")
    expect(active).to_have_attribute("data-verdict", "contradicted")
    expect(page.locator("#src-1-1 .span-flag")).to_contain_text("cited, but does not support")
    expect(page.locator("#src-1-1 .badge")).to_have_text("forum answer")
    expect(page.locator("#src-1-1")).to_contain_text("Texas")
    # "Hide flagged sentences" hides the misgrounded sentence.
    flagged = page.locator("#chat .flagged").first
    expect(flagged).to_be_visible()
    page.locator("#hide-flagged input").check()
    expect(flagged).to_be_hidden()
    page.locator("#hide-flagged input").uncheck()
    expect(page.locator("#stop")).to_be_visible()

    # Clear: no answers, sources or export left; the next question is Question 1 again.
    page.locator("#clear").click()
    expect(page.locator("#sources .source")).to_have_count(0)
    expect(page.locator("#chat .checks")).to_have_count(0)
    served.fake.script = Script(answer=ANSWER, reasoning="Texas.")
    _ask(page, QUESTION)
    page.locator("#chat .checks").wait_for(timeout=60_000)
    expect(page.locator("#sources summary").first).to_contain_text("Question 1")
    ids = page.locator("#sources [id]").evaluate_all("els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)), "element ids must stay unique"
    page.close()


def test_the_lawyer_edits_what_is_searched_for_and_searches_again(served: Served, browser) -> None:
    from playwright.sync_api import expect

    edited = "How long does a California landlord have to return a security deposit?"
    page = _signed_in(browser, served)
    box, again = page.locator("#search-text textarea"), page.locator("#search-again")
    expect(box).to_be_disabled()  # nothing searched for yet
    expect(box).to_have_value("")
    expect(page.get_by_label("Searching for")).to_have_count(1)
    served.fake.script = Script(answer=ANSWER, reasoning="Texas.")
    _ask(page, QUESTION)
    page.locator("#chat .checks").wait_for(timeout=60_000)
    expect(box).to_have_value(QUESTION)  # what this turn searched for, editable
    expect(box).to_be_enabled()
    # An empty edit (Enter in the box searches too) is refused beside it; nothing changes.
    box.fill("   ")
    box.press("Enter")
    expect(page.locator("#search-status")).to_contain_text("The search text is empty")
    expect(page.locator("#chat .checks")).to_have_count(1)
    box.fill(edited)
    again.click()
    expect(page.locator("#chat .checks")).to_have_count(2, timeout=60_000)
    expect(page.locator("#search-status")).to_have_text("")
    expect(page.locator("#chat")).to_contain_text(f"Searching for: {edited}")
    page.locator("#chat").get_by_text(f"Searching for: {edited}").click()  # open the note
    expect(page.locator("#chat")).to_contain_text("edited by you")
    # The sources on top are the edited search's: question 2, California's.
    top = page.locator("#sources details.turn > summary").first
    expect(top).to_contain_text("Question 2")
    expect(top).to_contain_text(f"searched for: {edited}")
    expect(page.locator("#src-2-1")).to_contain_text("California")
    entry = json.loads(served.backend.settings.audit_log_path.read_text().splitlines()[-1])
    assert (entry["question"], entry["standalone_question"]) == (QUESTION, edited)
    assert entry["rewrite"] == "user"
    expect(box).to_have_value(edited)
    # Clear empties the box: there is nothing to search again.
    page.locator("#clear").click()
    expect(box).to_have_value("")
    expect(box).to_be_disabled()
    expect(again).to_be_disabled()
    page.close()


def test_a_saved_conversation_comes_back_from_the_list(served: Served, browser) -> None:
    from playwright.sync_api import expect

    question = "How long may a Texas landlord keep a deposit after the tenant moves out?"
    page = _signed_in(browser, served)
    page.locator("#saved-matter textarea, #saved-matter input").first.fill("Smith v. Jones")
    served.fake.script = Script(answer=ANSWER, reasoning="Texas.")
    _ask(page, question)
    page.locator("#chat .checks").wait_for(timeout=60_000)
    expect(page.locator("#saved-status")).to_contain_text("Saved in", timeout=30_000)
    page.locator("#clear").click()
    expect(page.locator("#chat .checks")).to_have_count(0)
    # Picked from the list, the conversation is back: its answer, verdicts and sources.
    page.locator("#saved-list input").click()
    page.get_by_role("option", name=re.compile(re.escape(question))).first.click()
    expect(page.locator("#chat .checks")).to_have_count(1, timeout=30_000)
    expect(page.locator('#chat a.cite[data-verdict="supported"]')).to_have_count(1)
    expect(page.locator("#sources .source").first).to_be_visible()
    expect(page.locator("#saved-status")).to_contain_text("Resumed")
    # Exported whole, named after its matter; renamed.
    page.locator("#saved-word").click()
    expect(page.locator("#saved-file")).to_contain_text("legalrag-smith-v-jones-", timeout=30_000)
    page.locator("#saved-title textarea, #saved-title input").first.fill("Deposit deadline")
    page.locator("#saved-rename").click()
    expect(page.locator("#saved-status")).to_contain_text("Renamed to \u201cDeposit deadline")
    page.close()


def test_a_source_card_copies_its_citation_and_opens_the_whole_document(
    served: Served, browser
) -> None:
    from playwright.sync_api import expect

    from legalrag.ingest.sources import read_sample

    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        permissions=["clipboard-read", "clipboard-write"],
        bypass_csp=True,  # for axe below: the whole document's page allows no script
    )
    page = context.new_page()
    page.goto(served.url)
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    served.fake.script = Script(answer=ANSWER, reasoning="Texas.")
    _ask(page, QUESTION)
    page.locator("#chat .checks").wait_for(timeout=60_000)
    card = page.locator("#src-1-1")
    button = card.get_by_role("button", name="Copy citation of source 1")
    box = button.bounding_box()
    assert box is not None and box["width"] >= 24 and box["height"] >= 24
    button.click()
    expect(card.locator(".copy-status")).to_have_text("Citation copied")
    citation = button.get_attribute("data-citation") or ""
    assert page.evaluate("navigator.clipboard.readText()") == citation
    title = card.locator(".source-head a").inner_text()
    cited = card.locator("mark.span").first.inner_text()
    lines = citation.split("\n")
    assert lines[0] == f"{title} [forum answer]" and lines[1].startswith("Texas, ")
    assert lines[-1].startswith('"') and " ".join(cited.split())[:40] in lines[-1]

    # The whole document opens in a new tab, at the cited span, marked.
    with context.expect_page() as opened:
        card.get_by_role("link", name=re.compile("^Open the whole document")).click()
    whole = opened.value
    whole.wait_for_load_state()
    expect(whole.locator("h1")).to_have_text(title)
    mark = whole.locator("mark#cited")
    expect(mark).to_have_text(cited)
    expect(mark).to_be_in_viewport()
    document_id = whole.locator(".facts dd").last.inner_text()
    original = next(d for d in read_sample(max_chars=10**7) if d.document_id == document_id)
    shown = whole.locator("#document-text").inner_text()
    assert shown.split() == original.text.split()
    if AXE.exists():
        serious = _serious_violations(whole)
        assert serious == [], "\n".join(map(str, serious))
    context.close()


def test_the_answered_page_has_no_serious_accessibility_violations(served: Served, browser) -> None:
    """axe-core (WCAG 2.2 AA rules) over the empty page, the page with an answer
    streaming, the answered page with its sources, and the reasoning's path open."""
    if not AXE.exists():
        message = f"axe-core is not installed at {AXE} (.ci/run installs it with npm)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    page = _signed_in(browser, served)
    serious = _serious_violations(page)  # the empty page
    assert serious == [], "\n".join(map(str, serious))
    reasoning = "Source 1 is the Texas post.\n\nSource 2 is about another state."
    served.fake.script = Script(answer=FLIPPED, reasoning=reasoning, chunk_size=4, delay_s=0.05)
    _ask(page, QUESTION)
    page.locator("#chat").get_by_text("A Texas landlord").first.wait_for(timeout=60_000)
    assert page.locator("#chat .checks").count() == 0, "axe is meant to run mid-stream"
    serious = _serious_violations(page)  # the answer streaming
    assert serious == [], "\n".join(map(str, serious))
    page.locator("#chat .checks").wait_for(timeout=60_000)
    serious = _serious_violations(page)
    assert serious == [], "\n".join(map(str, serious))
    page.locator("#chat").get_by_text(FLAGGED_TITLE, exact=True).click()  # the path, open
    page.locator("#chat .reasoning-steps").wait_for()
    serious = _serious_violations(page)
    assert serious == [], "\n".join(map(str, serious))
    assert page.locator("h1").count() == 1
    names = page.locator("#chat [aria-label]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert not [n for n in names if "<" in n], "no raw HTML in an accessible name"
    page.close()


def _serious_violations(page) -> list:
    """axe-core's serious and critical findings (WCAG 2.2 AA rules) on the page now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
    )
    return [
        (v["id"], v["impact"], [(n["target"], n.get("failureSummary")) for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_a_tapped_citation_on_a_phone_opens_its_source_in_place(served: Served, browser) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True)
    page.goto(served.url)
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.locator("#question textarea").wait_for()
    served.fake.script = Script(answer=ANSWER, reasoning="Texas.")
    _ask(page, QUESTION)
    page.locator("#chat .checks").wait_for(timeout=60_000)
    marker = page.locator("#chat a.cite", has_text="[1]").first
    marker.scroll_into_view_if_needed()
    sources_top = page.locator("#sources").evaluate("el => el.getBoundingClientRect().top")
    before = page.evaluate("window.scrollY")
    marker.tap()
    sheet = page.locator("#cite-sheet")
    expect(sheet).to_be_visible()
    expect(sheet.locator("mark.span.active")).to_be_in_viewport()
    assert sources_top > 844  # the sources column is below the screen: the sheet is needed
    assert abs(page.evaluate("window.scrollY") - before) < 50  # the page did not jump
    # The sheet's copy of the card adds no id the page already has.
    assert sheet.locator(".sheet-body [id]").count() == 0
    if AXE.exists():
        serious = _serious_violations(page)
        assert serious == [], "\n".join(map(str, serious))
    sheet.get_by_role("button", name="Close").tap()
    expect(sheet).to_be_hidden()
    page.close()


LEASE_QUESTION = (
    "How much notice must the tenant give before vacating the Zephyrine Wharf premises?"
)
LEASE_NOTICE = (
    "The tenant must give the landlord ninety days of written notice before vacating "
    "the Zephyrine Wharf premises."
)


def test_a_document_added_from_the_page_is_cited_with_its_page(
    served: Served, browser, tmp_path
) -> None:
    """Last in the file: the document it adds stays in this module's index."""
    from playwright.sync_api import expect

    from tests.document_files import text_pdf

    pdf = text_pdf(
        tmp_path / "Zephyrine lease.pdf",
        [
            ["1. Premises", "This lease covers the Zephyrine Wharf warehouse, unit 4."],
            ["2. Notice", LEASE_NOTICE],
        ],
    )
    page = _signed_in(browser, served)
    # A file of a type the chat does not take, dropped on the zone: refused at once.
    page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File(['MZ'], 'tool.exe'));
          const zone = document.getElementById('upload-zone');
          zone.dispatchEvent(new DragEvent('dragover', {bubbles: true, dataTransfer: data}));
          zone.dispatchEvent(new DragEvent('drop', {bubbles: true, dataTransfer: data}));
        }"""
    )
    expect(page.locator("#upload-message")).to_contain_text("not a type the chat takes")
    # The progress bar's values, recorded as they change.
    page.evaluate(
        """() => { window.__bar = []; const bar = document.getElementById('upload-progress');
          new MutationObserver(() => window.__bar.push([bar.hidden, bar.value])).observe(
            bar, {attributes: true}); }"""
    )
    page.locator("#upload-input").set_input_files(str(pdf))
    expect(page.locator("#upload-message")).to_contain_text(
        "Added “Zephyrine lease.pdf” (2 pages", timeout=120_000
    )
    bar = page.evaluate("window.__bar")
    assert any(not hidden and 0 < value < 100 for hidden, value in bar), bar
    expect(page.locator("#upload-progress")).to_be_hidden()

    found = served.backend.retriever.retrieve(LEASE_QUESTION, k=5).passages
    marker = next(i for i, p in enumerate(found, 1) if p.document_id.startswith("upload/"))
    upload_id = found[marker - 1].document_id.split("/")[1]
    served.fake.script = Script(answer=f"{LEASE_NOTICE} [{marker}]", reasoning="The lease.")
    _ask(page, LEASE_QUESTION)
    page.locator("#chat .checks").wait_for(timeout=60_000)
    page.locator("#chat a.cite", has_text=f"[{marker}]").first.click()
    card = page.locator(f"#src-1-{marker}")
    figure = card.locator('.page-view[data-page="2"]')
    expect(figure).to_be_visible()
    image = figure.locator("img")
    expect(image).to_have_attribute("src", f"pages/{upload_id}/2.png")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    expect(figure.locator(".page-mark").first).to_be_visible()
    link = figure.get_by_role("link", name="Open the original at p. 2")
    expect(link).to_have_attribute("href", f"files/{upload_id}#page=2")
    page.mouse.move(0, 0)  # the clicked marker's hover style is not what axe should judge
    if AXE.exists():
        serious = _serious_violations(page)
        assert serious == [], "\n".join(map(str, serious))
    page.close()


def test_a_question_sent_while_answering_waits_and_a_stopped_one_is_audited(
    served: Served, browser
) -> None:
    from playwright.sync_api import expect

    page = _signed_in(browser, served)
    # (Each answer streams for about 2 s, well inside the fixture's 5 s model deadline.)
    served.fake.script = Script(answer=ANSWER, reasoning=REASONING, chunk_size=8, delay_s=0.03)
    _ask(page, QUESTION)
    page.locator("#question .generating").first.wait_for()
    # Enter while the answer streams: the page says the question waits, then asks it.
    page.fill("#question textarea", "What about California?")
    page.keyboard.press("Enter")
    expect(page.locator("#queued-note")).to_contain_text("Still answering")
    expect(page.locator("#chat .checks")).to_have_count(2, timeout=90_000)
    users = page.locator("#chat [data-testid=user]").all_text_contents()
    assert [u.strip() for u in users] == [QUESTION, "What about California?"]
    expect(page.locator("#queued-note")).to_have_text("")

    assert page.locator("#chat .incomplete").count() == 0  # both answered in full
    page.close()

    # Stop mid-answer (on a fresh page: only this answer's text is on it): the text so
    # far stays, labelled, and the audit log says stopped.
    page = _signed_in(browser, served)
    served.fake.script = Script(answer=ANSWER, reasoning="Texas.", chunk_size=4, delay_s=0.06)
    _ask(page, "Can a Texas landlord keep the deposit for unpaid rent?")
    expect(page.locator("#chat")).to_contain_text("A Texas landlord", timeout=60_000)
    page.locator("#stop").click()
    expect(page.locator("#chat .incomplete")).to_contain_text("you stopped the answer")
    audit = served.backend.settings.audit_log_path

    def last_line() -> dict:
        return json.loads(audit.read_text().splitlines()[-1])

    deadline = time.monotonic() + 10
    while last_line().get("error") != STOPPED and time.monotonic() < deadline:
        time.sleep(0.1)
    entry = last_line()
    assert entry["error"] == STOPPED and entry["user"] == USER
    assert entry["question"] == "Can a Texas landlord keep the deposit for unpaid rent?"
    page.close()


def test_sources_come_first_and_a_cut_answer_is_labelled_with_the_extractive_one_offered(
    served: Served, browser
) -> None:
    from playwright.sync_api import expect

    page = _signed_in(browser, served)
    # Sources as soon as retrieval ends: the cards are there while the model still thinks.
    served.fake.script = Script(answer=ANSWER, reasoning=REASONING, chunk_size=2, delay_s=0.03)
    _ask(page, QUESTION)
    page.locator("#sources .source").first.wait_for(timeout=60_000)
    assert page.locator("#chat .checks").count() == 0, "the sources came only with the check"
    page.locator("#chat .checks").wait_for(timeout=60_000)
    # A card a lawyer can weigh: its age, and the scores kept behind a toggle.
    card = page.locator("#src-1-1")
    expect(card.locator(".source-warning").first).to_contain_text("older than 5 years")
    score = card.locator("details.scores")
    figures = score.locator(".score-figures")
    expect(figures).to_be_hidden()  # folded: no figure in the lawyer's way
    score.locator("summary").click()
    expect(figures).to_be_visible()
    expect(figures).to_contain_text("retrieval score")

    # The model's stream cut mid-answer: the text so far is labelled, not checked, and
    # the extractive answer over this question's own sources is offered beneath it.
    served.fake.script = Script(
        answer=ANSWER, reasoning="Texas.", stream_error="engine died", error_after=3, chunk_size=8
    )
    _ask(page, "Can a Texas landlord keep a deposit without an itemized list?")
    cut = page.locator("#chat .incomplete").last
    expect(cut).to_contain_text("Incomplete, not checked", timeout=60_000)
    offered = page.locator("#chat").get_by_text("here instead is the extractive answer")
    expect(offered).to_be_visible()
    expect(page.locator("#sources summary").first).to_contain_text("Question 2")
    expect(page.locator("#sources summary").first).to_contain_text("itemized list")
    page.close()
