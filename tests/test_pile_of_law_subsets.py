"""pile-of-law's subsets: each one's rows, in upstream's shape and file layout, read
through the real `datasets` loader by its own reader, and one ingested by the CLI.

The rows are written here in the shape pile-of-law's scrapers produced (see
``ingest/pile_of_law.py``); their text is made up.
"""

from __future__ import annotations

import json
import lzma
from datetime import date
from pathlib import Path

import pytest

from legalrag.factory import open_store
from legalrag.ingest.pile_of_law import SUBSETS, subset_named
from legalrag.ingest.pile_of_law_readers import case_name, court_jurisdiction, unrepr_bytes
from legalrag.ingest.records import SourceDocument, text_fingerprint
from legalrag.ingest.sources import SourceError, read_pile_of_law
from legalrag.store import describe_store
from tests.conftest import make_settings, run_cli

TEMPLATE = "{split}.{subset}.jsonl.xz"
DOWNLOADED = "04-20-2022"

OPINION = (
    "\n\n\nFILED\nNOT FOR PUBLICATION\n\nIN THE COURT OF APPEALS OF THE STATE OF OREGON\n\n"
    "MARGARET ELLISON,\nPlaintiff-Appellant,\n\nv.\n\nHARBORVIEW PROPERTY GROUP, LLC,\n"
    "Defendant-Respondent.\n\nNo. A170234\n\nArgued and submitted March 3, 2021.\n\n"
    "The tenant appeals a judgment for the landlord on her claim that the notice of "
    "termination was served without cause. We reverse."
)
FEDERAL_OPINION = (
    "UNITED STATES COURT OF APPEALS\nFOR THE TENTH CIRCUIT\n\nUnited States v. Delgado-Ruiz, "
    "No. 20-1187\n\nBefore the panel. The defendant challenges the denial of his motion "
    "to suppress evidence found in a search of his truck."
)
US_CODE = (
    "Title 9\nUSCTitle\n9\n\n\nTitle 9\u2014ARBITRATIONCHAPTER 1\u2014GENERAL PROVISIONS\n"
    "\u00a7 1. \u201cMaritime transactions\u201d and \u201ccommerce\u201d defined\n"
    "Maritime transactions, as herein defined, means charter parties and agreements."
)
CFR = (
    "\n  Jan. 1, 2020\n    \n      Title 24\n      Housing and Urban Development\n"
    "      Parts 0 to 199\n      Revised as of April 1, 2020\n      Containing a codification "
    "of documents of general applicability and future effect\n\nPART 5\u2014GENERAL HUD "
    "PROGRAM REQUIREMENTS\n\u00a7 5.100 Definitions.\nThe following terms apply."
)
STATE_CODE = (
    " Section 46:8-19. Security deposits; investment; notice to tenant. Any landlord who "
    "receives money as a security deposit shall hold it in trust. Section 46:8-21.1. "
    "Return of deposit within thirty days."
)
FEDERAL_REGISTER = (
    "\nBUREAU OF CONSUMER FINANCIAL PROTECTION\n12 CFR Part 1026\n[Docket No. CFPB-2020-0017]"
    "\nRIN 3170-AA98\nQualified Mortgage Definition Under the Truth in Lending Act\nAGENCY:"
    "\nBureau of Consumer Financial Protection.\nACTION:\nProposed rule.\nSUMMARY:\n"
    "The Bureau proposes to amend the general qualified mortgage definition."
)
CONTRACT = (
    "EXHIBIT 10.4\n\n\nCONSULTING SERVICES AGREEMENT\n\nThis Consulting Services Agreement "
    "is entered into as of June 1, 2018 between Northwind Analytics, Inc. and Blue Fern "
    "Labs LLC.\n\n1. Services. The Consultant shall provide the services in Schedule A."
)
EURLEX = (
    "Name: Commission Regulation (EU) No 1032/2011 on the labelling of textile samples\n "
    "Type: Regulation\n Subject Matter: approximation of laws; consumer protection\n "
    "Date Published: 2011-10-14\n\n Article 1. This Regulation lays down rules for labels."
)
CASEBOOK = (
    "b'Contracts: Cases and Materials\\nAn Open Casebook\\n\\nChapter 1. Offer and "
    "Acceptance\\nAn offer is a manifestation of willingness to enter a bargain.\\n'"
)
ADVICE = "Title: Can my landlord keep my deposit?\nQuestion: I moved out in May.\nAnswer #1: No."

# subset -> (its rows, what its reader should extract from the first row)
CASES = {
    "r_legaladvice": (
        [{"text": ADVICE, "created_timestamp": "05-02-2019", "url": "https://reddit.example/1"}],
        {
            "title": "Can my landlord keep my deposit?",
            "jurisdiction": "",
            "source": "pile-of-law",
            "document_id": "https://reddit.example/1",
            "created": date(2019, 5, 2),
        },
    ),
    "courtlistener_opinions": (
        [
            {
                "text": OPINION,
                "created_timestamp": "03-17-2021",
                "url": "https://www.courtlistener.com/api/rest/v3/opinions/4812/",
            },
            {
                "text": FEDERAL_OPINION,
                "created_timestamp": "08-02-2021",
                "url": "https://www.courtlistener.com/api/rest/v3/opinions/4813/",
            },
        ],
        {
            "title": "MARGARET ELLISON v. HARBORVIEW PROPERTY GROUP, LLC",
            "jurisdiction": "OR",
            "document_id": "https://www.courtlistener.com/api/rest/v3/opinions/4812/",
            "created": date(2021, 3, 17),
        },
    ),
    "uscode": (
        [
            {"text": US_CODE, "created_timestamp": "2021", "url": "https://uscode.example/all.zip"},
            {
                "text": US_CODE + " Other.",
                "created_timestamp": "2021",
                "url": "https://uscode.example/all.zip",
            },
        ],
        {
            "title": "U.S. Code Title 9: ARBITRATION",
            "jurisdiction": "US",
            "created": None,
            "document_id": text_fingerprint(US_CODE),
        },
    ),
    "cfr": (
        [{"text": CFR, "url": "https://govinfo.example/CFR-2020.zip", "timestamp": "08-17-2021"}],
        {
            "title": "CFR Title 24: Housing and Urban Development (Parts 0 to 199)",
            "jurisdiction": "US",
            "created": date(2020, 4, 1),
            "document_id": text_fingerprint(CFR),
        },
    ),
    "state_codes": (
        [
            {
                "text": STATE_CODE,
                "created_timestamp": "2015",
                "downloaded_timestamp": DOWNLOADED,
                "url": "https://law.justia.com/codes/new-jersey/2015/title-46/",
                "state_year": "new-jersey_2015",
            },
            {
                "text": STATE_CODE,
                "created_timestamp": "",
                "url": "https://law.justia.com/codes/west-virginia/2019",
            },
        ],
        {
            "title": "New Jersey Code (2015)",
            "jurisdiction": "NJ",
            "created": None,
            "document_id": "pile-of-law/state_codes/new-jersey_2015",
        },
    ),
    "federal_register": (
        [
            {
                "text": FEDERAL_REGISTER,
                "created_timestamp": "02-24-2020",
                "url": "https://www.govinfo.gov/bulkdata/xml/FR/2020/02/FR-2020-02-24.xml",
            }
        ],
        {
            "title": "Qualified Mortgage Definition Under the Truth in Lending Act",
            "jurisdiction": "US",
            "created": date(2020, 2, 24),
        },
    ),
    "atticus_contracts": (
        [
            {
                "text": CONTRACT,
                "created_timestamp": "",
                "timestamp": DOWNLOADED,
                "url": "https://github.com/TheAtticusProject/cuad",
            }
        ],
        {
            "title": "CONSULTING SERVICES AGREEMENT",
            "jurisdiction": "",
            "document_id": text_fingerprint(CONTRACT),
        },
    ),
    "eurlex": (
        [
            {
                "text": EURLEX,
                "created_timestamp": "2011-10-14",
                "url": "https://dataverse.example/eurlex",
            }
        ],
        {
            "title": "Commission Regulation (EU) No 1032/2011 on the labelling of textile samples",
            "jurisdiction": "EU",
            "created": date(2011, 10, 14),
        },
    ),
    "cc_casebooks": (
        [{"text": CASEBOOK, "created_timestamp": "", "url": "https://open.umn.edu/opentextbooks/"}],
        {"title": "Contracts: Cases and Materials", "jurisdiction": ""},
    ),
}


def write_subset(folder: Path, subset: str, rows: list[dict], split: str = "train") -> None:
    """Rows as upstream lays them out: xz JSONL, sharded subsets in numbered files."""
    stem = SUBSETS[subset].files
    lines = "".join(json.dumps(row) + "\n" for row in rows).encode()
    if "*" not in stem:
        (folder / f"{split}.{stem}.jsonl.xz").write_bytes(lzma.compress(lines))
        return
    for shard, row in enumerate(rows):  # one row per shard: the glob must find them all
        name = f"{split}.{stem.replace('*', str(shard))}.jsonl.xz"
        (folder / name).write_bytes(lzma.compress((json.dumps(row) + "\n").encode()))


def test_every_known_subset_has_a_case_here() -> None:
    assert set(CASES) == set(SUBSETS)


@pytest.mark.parametrize("subset", sorted(CASES))
def test_each_subset_reads_through_datasets_with_its_own_reader(
    tmp_path: Path, subset: str
) -> None:
    rows, expected = CASES[subset]
    write_subset(tmp_path, subset, rows)
    items = list(
        read_pile_of_law(
            str(tmp_path / TEMPLATE), split="train", subset=SUBSETS[subset], max_chars=100_000
        )
    )
    assert len(items) == len(rows)
    assert all(isinstance(item, SourceDocument) for item in items), items
    first = items[0]
    assert first.source == expected.get("source", f"pile-of-law/{subset}")
    for name, value in expected.items():
        assert getattr(first, name) == value, name
    assert len({item.document_id for item in items}) == len(items)  # no id collides


def test_readers_details() -> None:
    assert court_jurisdiction(FEDERAL_OPINION) == "US"
    assert case_name(FEDERAL_OPINION) == "United States v. Delgado-Ruiz"
    assert court_jurisdiction("Supreme Court of Appeals of West Virginia\n") == "WV"
    assert court_jurisdiction("Arkansas Supreme Court\nSmith v. Jones") == "AR"
    assert court_jurisdiction("A letter about the weather.") == ""
    assert unrepr_bytes("b'caf\\xc3\\xa9\\nline'") == "caf\u00e9\nline"
    assert unrepr_bytes("bold text'") == "bold text'"


def test_the_casebook_text_is_decoded_and_the_second_state_code_read_from_its_url(
    tmp_path: Path,
) -> None:
    write_subset(tmp_path, "cc_casebooks", CASES["cc_casebooks"][0])
    (book,) = read_pile_of_law(
        str(tmp_path / TEMPLATE), split="train", subset=SUBSETS["cc_casebooks"], max_chars=10_000
    )
    assert book.text.startswith("Contracts: Cases and Materials\nAn Open Casebook\n\n")
    assert book.document_id == text_fingerprint(book.text)
    write_subset(tmp_path, "state_codes", CASES["state_codes"][0])
    _, west = read_pile_of_law(
        str(tmp_path / TEMPLATE), split="train", subset=SUBSETS["state_codes"], max_chars=10_000
    )
    assert (west.title, west.jurisdiction) == ("West Virginia Code (2019)", "WV")


def test_unknown_subsets_and_old_templates_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"unknown pile-of-law --subset 'nope'.*uscode"):
        subset_named("nope")
    assert subset_named("r_legaldvice").name == "r_legaladvice"  # upstream's file spelling
    old = str(tmp_path / "{split}.r_legaldvice.jsonl.xz")
    with pytest.raises(SourceError, match=r"no \{subset\}.*--subset uscode"):
        read_pile_of_law(old, split="train", subset=SUBSETS["uscode"], max_chars=10)
    with pytest.raises(SourceError, match="train or validation"):
        read_pile_of_law(str(tmp_path / TEMPLATE), split="test", max_chars=10)


def test_cli_ingests_a_subset_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    write_subset(tmp_path, "courtlistener_opinions", CASES["courtlistener_opinions"][0])
    env = {
        "LEGALRAG_DATA_DIR": str(tmp_path / "data"),
        "LEGALRAG_PILE_OF_LAW_DATA_FILES": str(tmp_path / TEMPLATE),
    }
    bad = run_cli("ingest", "--source", "pile-of-law", "--subset", "statutes", env=env)
    assert bad.returncode == 2, bad.stderr
    assert "unknown pile-of-law --subset 'statutes'" in bad.stderr and "state_codes" in bad.stderr
    assert not (tmp_path / "data").exists()
    stray = run_cli("ingest", "--subset", "uscode", env=env)
    assert stray.returncode == 2 and "--source pile-of-law" in stray.stderr

    done = run_cli(
        "ingest",
        "--source",
        "pile-of-law",
        "--subset",
        "courtlistener_opinions",
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents_ingested"] == 2
    info = describe_store(open_store(make_settings(tmp_path / "data")))
    assert info.sources == {"pile-of-law/courtlistener_opinions": 2}
