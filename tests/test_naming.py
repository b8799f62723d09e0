"""Which documents a question names, over a small hand-written set of names."""

from __future__ import annotations

import numpy as np

from legalrag.app.retrieval.bm25 import _bm25s, _tokenize
from legalrag.app.retrieval.naming import DocumentNames, NamingRules, name_text, naming_words

RULES = NamingRules(rare_share=0.01, max_documents=3)
OPENINGS = {
    "nda/copacc-top-mentors.txt": (
        "NON-DISCLOSURE AGREEMENT",
        "This Agreement is made between CopAcc Ltd and ToP Mentors Inc on 1 May 2020.",
    ),
    "nda/acme-beta.txt": (
        "NON-DISCLOSURE AGREEMENT",
        "This Agreement is made between Acme Corp and Beta LLC. The parties shall not "
        "reverse engineer any sample.",
    ),
    "policies/fiverr.txt": ("Privacy Policy", "Fiverr International Ltd. respects your privacy."),
    "policies/generic.txt": ("Privacy Policy", "We respect your privacy and your data."),
}


def _names() -> DocumentNames:
    names = {d: name_text(d, title, opening) for d, (title, opening) in OPENINGS.items()}
    chunk_documents = [d for d in OPENINGS for _ in range(2)]  # two chunks each
    return DocumentNames.build(chunk_documents, names, _bm25s(), _tokenize)


def test_a_question_names_a_document_by_its_parties_or_its_file_name() -> None:
    names = _names()
    parties = (
        "Consider the Non-Disclosure Agreement between CopAcc and ToP Mentors; may it be shared?"
    )
    assert names.named(parties, RULES) == ["nda/copacc-top-mentors.txt"]
    assert names.named("Consider Fiverr's privacy policy; who sees my tasks?", RULES) == [
        "policies/fiverr.txt"
    ]
    mask = names.chunk_mask(["policies/fiverr.txt"])
    assert mask.tolist() == [False] * 4 + [True, True] + [False] * 2


def test_words_every_name_shares_or_what_the_question_asks_name_nothing() -> None:
    names = _names()
    # "Agreement" and "Privacy" are in several names: they tell no document apart.
    assert names.named("Does the Non-Disclosure Agreement cover Privacy?", RULES) == []
    # "reverse engineer" is in one opening, but it is what is asked, not whom it names.
    assert names.named("may the recipient reverse engineer a sample?", RULES) == []
    assert naming_words("may the recipient ask Acme?") == "Acme"


def test_a_question_naming_too_many_documents_names_none() -> None:
    names = _names()
    both = "Do CopAcc and Acme and Fiverr agree?"
    assert names.named(both, RULES) == sorted(
        ["nda/copacc-top-mentors.txt", "nda/acme-beta.txt", "policies/fiverr.txt"],
        key=list(OPENINGS).index,
    )
    assert names.named(both, NamingRules(rare_share=0.01, max_documents=2)) == []
    empty = DocumentNames.build([], {}, _bm25s(), _tokenize)
    assert empty.named("Consider Fiverr", RULES) == [] and not np.any(empty.chunk_mask(["x"]))
