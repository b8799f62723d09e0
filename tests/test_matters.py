"""Matters and their ethical walls (issue 19): a user never sees another matter's documents.

One small index is built once for the module: part of the sample corpus (public) and
two matters' client documents. Hundreds of questions (the other matter's exact titles,
party names and quoted sentences among them) go through the retriever and the engine
in-process; the CLI, the API and the chat's backend get a few each. Then the same after
a document is moved between matters, a member is revoked, and a restart on the warm
BM25 cache.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from legalrag.access import open_access
from legalrag.errors import AccessDeniedError, MatterError, SettingsError
from legalrag.matters import open_registry
from legalrag.store import Filters, describe_store
from legalrag.users import load_users
from tests.conftest import make_retriever, make_settings, run_cli

# Each matter's documents: a title line, the parties, clauses. Every party name is a
# word no other document holds, so finding one anywhere is a leak.
MATTERS = {
    "acme-v-zephyrine": {
        "zephyrine-nda.txt": (
            "Mutual Nondisclosure Agreement between Zephyrine Holdings and Brightwater Vance",
            'Zephyrine Holdings LLC (the "Discloser") and Brightwater Vance Inc. agree to '
            "keep the Orchidale formulas confidential for seven years. "
            "The Recipient shall not reverse engineer the Orchidale samples. "
            "Any dispute over the Orchidale formulas goes to arbitration in Wilmington. "
            "Zephyrine may end this agreement on thirty days written notice.",
        ),
        "zephyrine-settlement.txt": (
            "Settlement memorandum Zephyrine v. Kestrelmoor Logistics",
            "Kestrelmoor Logistics will pay Zephyrine Holdings 2,400,000 dollars in four "
            "instalments. The parties release every claim over the Marigold warehouse fire. "
            "Kestrelmoor admits no liability. The settlement amount is confidential and "
            "a breach of confidentiality costs Kestrelmoor 250,000 dollars.",
        ),
        "zephyrine-lease.txt": (
            "Security deposit addendum to the Zephyrine office lease at Pellucid Tower",
            "The tenant Zephyrine Holdings paid a security deposit of 85,000 dollars for "
            "Pellucid Tower suite 1400. The landlord Quillfeather Estates must return the "
            "security deposit within twenty one days after the tenant surrenders the "
            "premises, less unpaid rent.",
        ),
    },
    "globex-merger": {
        "globex-merger.txt": (
            "Agreement and Plan of Merger of Globex Varnholt and Ostrander Pike",
            "Globex Varnholt Corporation will acquire Ostrander Pike Limited for 31 dollars "
            "per share. The Ostrander Pike board recommends the merger to its stockholders. "
            "A termination fee of 42,000,000 dollars is payable by Ostrander Pike if it "
            "accepts a superior proposal from Halvorsen Crane.",
        ),
        "globex-employment.txt": (
            "Employment agreement of Thessaly Marchetti with Globex Varnholt",
            "Thessaly Marchetti will serve as chief financial officer of Globex Varnholt. "
            "Her base salary is 610,000 dollars a year. Marchetti shall not compete with "
            "Globex Varnholt in the Duskfield region for eighteen months after her "
            "employment ends.",
        ),
        "globex-deposit.txt": (
            "Escrow and security deposit terms of the Globex Varnholt Ravenmere warehouse",
            "Globex Varnholt deposits 1,200,000 dollars with Ravenmere Escrow Services. "
            "The escrow agent releases the security deposit to the landlord only on a "
            "joint written instruction from Globex Varnholt and Ravenmere Holdings.",
        ),
    },
}
ACME, GLOBEX = "acme-v-zephyrine", "globex-merger"
USERS = "alice:alice-pw,bob:bob-pw,carol:carol-pw,dave:dave-pw,@deal-team:carol"
OWN = {"alice": ACME, "bob": GLOBEX, "carol": GLOBEX}  # carol through @deal-team
MARKERS = {
    ACME: ("zephyrine", "brightwater", "orchidale", "kestrelmoor", "pellucid", "quillfeather"),
    GLOBEX: ("globex", "varnholt", "ostrander", "thessaly", "marchetti", "duskfield", "ravenmere"),
}


def _other(matter: str) -> str:
    return GLOBEX if matter == ACME else ACME


@pytest.fixture(scope="module")
def walled(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator:
    """The index (60 public sample records, and both matters), the users and the grants."""
    from legalrag.ingest.run import ingest

    root = tmp_path_factory.mktemp("walled")
    settings = make_settings(root / "data", auth=USERS)
    ingest(settings, limit=60, quiet=True)
    registry = open_registry(settings)
    for matter, documents in MATTERS.items():
        registry.create(matter)
        folder = root / matter
        folder.mkdir()
        for name, (title, text) in documents.items():
            (folder / name).write_text(f"{title}\n\n{text}\n", encoding="utf-8")
        ingest(settings, path=folder, matter=matter, quiet=True)
    registry.grant(ACME, "alice", "owner")
    registry.grant(GLOBEX, "bob", "member")
    registry.grant(GLOBEX, "@deal-team", "read-only")
    yield settings, root


@pytest.fixture(scope="module")
def retriever(walled, embedder):
    return make_retriever(walled[0], embedder)


def _scope(settings, user: str) -> Filters:
    return Filters().within(open_access(settings).scope(user))


def _leaks(text: str, matter: str) -> list[str]:
    """The other matter's marker words in ``text`` (lower-cased)."""
    lowered = text.lower()
    return [word for word in MARKERS[_other(matter)] if word in lowered]


def _questions(matter: str, count: int, seed: int) -> list[str]:
    """Questions aimed at the *other* matter (titles, parties, quoted sentences, random
    runs of its words), mixed with ordinary public ones."""
    rng = random.Random(seed)
    other = MATTERS[_other(matter)]
    aimed: list[str] = []
    for title, text in other.values():
        aimed += [title, f"What does the {title} say about termination?", f'"{title}"']
        sentences = [s.strip() for s in re.split(r"(?<=\.)\s+", text) if s.strip()]
        aimed += [f'Where does it say "{sentence}"' for sentence in sentences]
        aimed += sentences
        words = text.split()
        for _ in range(6):
            start = rng.randrange(max(1, len(words) - 6))
            aimed.append(" ".join(words[start : start + rng.randint(2, 6)]))
    parties = [w.capitalize() for w in MARKERS[_other(matter)]]
    aimed += [f"Summarise the {p} agreement" for p in parties]
    aimed += [f"{a} {b} security deposit" for a in parties for b in ("Texas", "landlord")]
    public = [
        "How long does a landlord have to return a security deposit in California?",
        "Can my employer make me sign a non-compete agreement?",
        "What is a termination fee in a merger?",
        "My landlord kept my deposit, what can I do in Texas?",
    ]
    questions = aimed + public
    while len(questions) < count:
        questions.append(f"{rng.choice(aimed)} {rng.choice(public)}")
    rng.shuffle(questions)
    return questions[:count]


def _check_passages(passages, matter: str, question: str) -> None:
    for passage in passages:
        where = f"{question!r} -> {passage.document_id}"
        assert passage.matter in ("", matter), where
        assert not _leaks(f"{passage.title} {passage.text} {passage.document_id}", matter), where


# --- users, groups, the registry -------------------------------------------------------


def test_users_file_groups_are_optional_and_backward_compatible(tmp_path: Path) -> None:
    import bcrypt

    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
    old = tmp_path / "old"
    old.write_text(f"# users\nalice:{hashed}\n", encoding="utf-8")
    users = load_users(str(old))
    assert users is not None and "alice" in users and users.groups == {}
    grouped = tmp_path / "grouped"
    grouped.write_text(
        f"alice:{hashed}:partners,litigation\nbob:{hashed}\n@litigation: bob ghost\n",
        encoding="utf-8",
    )
    users = load_users(str(grouped))
    assert users is not None and users.verify("alice", "pw")
    assert users.groups_of("alice") == {"partners", "litigation"}
    assert users.groups_of("bob") == {"litigation"}
    assert "ghost" not in users.groups["litigation"]  # not a user: not a member
    inline = load_users("alice:a,bob:b,@team:alice bob")
    assert inline is not None and inline.groups_of("bob") == {"team"}
    bad = tmp_path / "bad"
    bad.write_text("@: alice\n", encoding="utf-8")
    with pytest.raises(SettingsError):
        load_users(str(bad))


def test_the_registry_refuses_bad_names_roles_and_duplicates(walled) -> None:
    settings, _ = walled
    registry = open_registry(settings)
    with pytest.raises(MatterError):
        registry.create(ACME)
    with pytest.raises(MatterError):
        registry.create("../etc")
    with pytest.raises(MatterError):
        registry.grant(ACME, "bob", role="admin")
    with pytest.raises(MatterError):
        registry.grant("no-such-matter", "bob")
    listed = {m.name: m.members for m in registry.list()}
    assert listed[ACME] == {"alice": "owner"}
    assert listed[GLOBEX] == {"@deal-team": "read-only", "bob": "member"}


def test_unknown_users_and_walled_matters_get_one_error_that_reveals_nothing(walled) -> None:
    settings, _ = walled
    access = open_access(settings)
    assert access.scope("alice") == {ACME}
    assert access.scope("carol") == {GLOBEX}  # through @deal-team
    assert access.scope("dave") == frozenset()  # the public corpus alone
    assert access.scope(None) is None
    with pytest.raises(AccessDeniedError, match="unknown user"):
        access.scope("mallory")
    messages = []
    for matter in (GLOBEX, "no-such-matter"):
        with pytest.raises(AccessDeniedError) as caught:
            access.choose("alice", matter)
        messages.append(str(caught.value).replace(matter, "M"))
    assert messages[0] == messages[1]


# --- the isolation: hundreds of questions in-process -----------------------------------


@pytest.mark.parametrize("user", ["alice", "bob", "dave"])
def test_hundreds_of_questions_never_reach_another_matter(walled, retriever, user) -> None:
    settings, _ = walled
    own = OWN.get(user, "")
    filters = _scope(settings, user)
    for question in _questions(own or ACME, 120, seed=len(user)):
        result = retriever.retrieve(question, filters=filters)
        _check_passages(result.passages, own, question)
        assert not _leaks(result.reason or "", own or ACME)
        ranked = retriever.rank_chunks(question, depth=40, filters=filters, gate=False)
        _check_passages(ranked.passages, own, question)
        if not own:  # dave: neither matter
            _check_passages(ranked.passages, GLOBEX, question)


def test_a_member_finds_their_own_matter_by_title_and_party(walled, retriever) -> None:
    settings, _ = walled
    for user, matter in (("alice", ACME), ("carol", GLOBEX)):
        filters = _scope(settings, user)
        for title, _ in MATTERS[matter].values():
            found = retriever.retrieve(title, filters=filters).passages
            assert found and found[0].matter == matter, (user, title)


def test_answers_never_quote_another_matter(walled, retriever) -> None:
    from legalrag.app.generation import ExtractiveGenerator
    from legalrag.factory import make_engine

    settings, _ = walled
    engine = make_engine(settings, retriever, ExtractiveGenerator())
    for user in ("alice", "bob"):
        filters = _scope(settings, user)
        for question in _questions(OWN[user], 25, seed=7):
            answer = engine.answer(question, filters=filters)
            _check_passages(answer.sources, OWN[user], question)
            assert not _leaks(answer.answer, OWN[user]), question


def test_facets_and_counts_show_only_what_the_user_reads(walled, retriever) -> None:
    settings, _ = walled
    everything = describe_store(retriever.store)
    alice = describe_store(retriever.store, _scope(settings, "alice"))
    dave = describe_store(retriever.store, _scope(settings, "dave"))
    assert alice.matters == {ACME: 3} and dave.matters == {}
    assert everything.documents == dave.documents + 6 == alice.documents + 3
    assert dave.chunks < alice.chunks < everything.chunks


# --- the edges: API, CLI, chat ----------------------------------------------------------


def test_the_api_acts_as_the_tokens_user(walled, retriever) -> None:
    from legalrag.app.api import build_api
    from legalrag.app.api.answering import AnswerService
    from legalrag.app.api.server import token_check
    from legalrag.app.api.tokens import issue_token, tokens_path

    settings, _ = walled
    settings = settings.model_copy(update={"chat_rewrite": "offline"})
    users = load_users(USERS)
    assert users is not None
    token = issue_token(tokens_path(settings), "alice", users)
    client = TestClient(
        build_api(settings, AnswerService(settings, retriever), token_check(settings))
    )
    headers = {"Authorization": f"Bearer {token}"}
    for title, _ in MATTERS[GLOBEX].values():
        reply = client.post("/v1/retrieve", json={"question": title}, headers=headers)
        assert reply.status_code == 200
        body = reply.json()
        assert not _leaks(json.dumps(body["sources"]) + body["reason"], ACME), title
    own = client.post(
        "/v1/retrieve", json={"question": "Orchidale formulas", "matter": ACME}, headers=headers
    )
    assert own.status_code == 200 and own.json()["sources"][0]["matter"] == ACME
    walled_off = [
        client.post("/v1/retrieve", json={"question": "x", "matter": m}, headers=headers)
        for m in (GLOBEX, "no-such-matter")
    ]
    assert [r.status_code for r in walled_off] == [400, 400]
    bodies = [r.json()["error"]["message"] for r in walled_off]
    assert bodies[0].replace(GLOBEX, "M") == bodies[1].replace("no-such-matter", "M")
    answer = client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "Globex Varnholt termination fee"}]},
        headers=headers,
    )
    assert answer.status_code == 200
    reply = answer.json()
    said = reply["choices"][0]["message"]["content"] + json.dumps(reply.get("references"))
    assert not _leaks(said.replace("Globex Varnholt", ""), ACME)


def test_the_chat_backend_searches_as_the_signed_in_user(walled, embedder) -> None:
    from legalrag.app.chat.backend import ChatBackend
    from legalrag.app.chat.turns import ChatTurns
    from legalrag.app.generation import ExtractiveGenerator

    settings, root = walled
    audit = root / "audit.jsonl"
    settings = settings.model_copy(
        update={"audit_log": audit, "chat_rewrite": "offline", "auth": SecretStr(USERS)}
    )
    backend = ChatBackend(settings, embedder=embedder, generator=ExtractiveGenerator())
    # What every signed-in user's page shows: the public corpus alone.
    assert backend.index.matters == {} and backend.health()[1]["chunks"] == backend.index.chunks
    for question in ("Globex Varnholt termination fee", "Thessaly Marchetti salary"):
        steps = list(ChatTurns(backend).run(question, [], None, None, None, None, True, "alice"))
        shown = json.dumps([str(step) for step in steps], ensure_ascii=False)
        assert not _leaks(shown.replace(question, ""), ACME)  # the question is the user's
    line = json.loads(audit.read_text(encoding="utf-8").splitlines()[-1])
    assert line["user"] == "alice" and line["matters"] == ["public", ACME]
    from legalrag.app.audit import tail_audit

    assert len(tail_audit(audit, 10, user="alice")) == 2 and tail_audit(audit, 10, user="bob") == []


def test_the_cli_acts_as_the_user_and_refuses_without_revealing(walled) -> None:
    settings, _ = walled
    env = {"LEGALRAG_DATA_DIR": str(settings.data_dir), "LEGALRAG_AUTH": USERS}
    question = "Thessaly Marchetti base salary"
    found = run_cli("retrieve", question, "--user", "alice", "--json", env=env)
    assert found.returncode == 0, found.stderr
    assert not _leaks(json.dumps(json.loads(found.stdout)["sources"]), ACME)
    denied = [
        run_cli("retrieve", "salary", "--user", "alice", "--matter", m, env=env)
        for m in (GLOBEX, "no-such-matter")
    ]
    assert [d.returncode for d in denied] == [2, 2]
    assert denied[0].stderr.replace(GLOBEX, "M") == denied[1].stderr.replace("no-such-matter", "M")
    unknown = run_cli("ask", "salary", "--user", "mallory", env=env)
    assert unknown.returncode == 2 and "unknown user" in unknown.stderr
    info = run_cli("index", "info", "--user", "alice", "--json", env=env)
    assert info.returncode == 0 and json.loads(info.stdout)["matters"] == {ACME: 3}
    missing = run_cli("ingest", str(settings.data_dir), "--matter", "no-such-matter", env=env)
    assert missing.returncode == 2 and "matter create" in missing.stderr


# --- after a move, a revoke, a restart ----------------------------------------------------


def test_a_reingested_document_moves_and_the_walls_follow(walled, embedder) -> None:
    from legalrag.ingest.run import ingest

    settings, root = walled
    moved = root / GLOBEX / "globex-deposit.txt"
    report = ingest(settings, path=moved, matter=ACME, quiet=True)
    assert report.chunks_updated > 0 and report.chunks_embedded == 0  # moved, not copied
    fresh = make_retriever(settings, embedder)  # the store's revision changed: BM25 rebuilt
    title = MATTERS[GLOBEX]["globex-deposit.txt"][0]
    as_alice = fresh.retrieve(title, filters=_scope(settings, "alice")).passages
    assert as_alice and as_alice[0].document_id == "globex-deposit.txt"
    as_bob = fresh.retrieve(title, filters=_scope(settings, "bob")).passages
    assert all(p.document_id != "globex-deposit.txt" for p in as_bob)
    ingest(settings, path=moved, matter=GLOBEX, quiet=True)  # back where it was


def test_a_revoke_and_a_restart_on_the_warm_cache_keep_the_wall(walled, embedder) -> None:
    settings, _ = walled
    registry = open_registry(settings)
    first = make_retriever(settings, embedder)
    _ = first.bm25  # builds (or loads) the cache
    cache = sorted(p.name for p in (settings.bm25_dir / first.store.name).iterdir())
    registry.revoke(GLOBEX, "@deal-team")
    try:
        restarted = make_retriever(settings, embedder)  # a new process: the warm cache
        _ = restarted.bm25
        assert sorted(p.name for p in (settings.bm25_dir / first.store.name).iterdir()) == cache
        carol = _scope(settings, "carol")
        assert carol.scope == frozenset()
        for question in [*_questions(GLOBEX, 60, seed=3), "Thessaly Marchetti salary"]:
            passages = restarted.retrieve(question, filters=carol).passages
            _check_passages(passages, "", question)
            _check_passages(passages, GLOBEX, question)
    finally:
        registry.grant(GLOBEX, "@deal-team", "read-only")
