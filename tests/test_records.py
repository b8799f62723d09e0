"""Record parsing and source readers: bad data is rejected with a reason, never raised."""

from __future__ import annotations

import json
import lzma
from datetime import date
from pathlib import Path

import pytest

from legalrag.ingest.records import Rejected, SourceDocument, parse_record, title_of
from legalrag.ingest.sources import SourceError, read_path, read_pile_of_law
from tests.conftest import write_jsonl

GOOD = {
    "text": "Title: Can my boss keep my tips?\nQuestion: ...\nAnswer #1: No.",
    "created_timestamp": "07-04-2019",
    "downloaded_timestamp": "11-20-2026",
    "url": "https://legalrag.example/sample/ny-tips",
    "jurisdiction": "ny",
    "topic": "employment-wages",
}


def test_good_record_keeps_its_metadata() -> None:
    doc = parse_record(GOOD, location="f:1", source="s", max_chars=10_000)
    assert isinstance(doc, SourceDocument)
    assert doc.document_id == GOOD["url"]
    assert doc.title == "Can my boss keep my tips?"
    assert doc.created == date(2019, 7, 4)
    assert doc.jurisdiction == "NY"
    meta = doc.metadata().to_store()
    assert meta["created"] == "2019-07-04" and meta["created_day"] == 20190704
    assert meta["topic"] == "employment-wages" and meta["source"] == "s"
    assert None not in meta.values()


def test_id_falls_back_to_url_then_text_hash() -> None:
    with_id = parse_record({**GOOD, "id": 17}, location="f:1", source="s", max_chars=10_000)
    no_url = parse_record({"text": "Some text"}, location="f:1", source="s", max_chars=10_000)
    assert with_id.document_id == "17"
    assert no_url.document_id.startswith("sha256:")
    assert (
        no_url.document_id
        == parse_record({"text": "Some text"}, location="g:9", source="t", max_chars=99).document_id
    )


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([1, 2], "JSON object"),
        ({"url": "u"}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 42}, "text"),
        ({**GOOD, "created_timestamp": "2019/07/04"}, "created_timestamp"),
        ({**GOOD, "url": ["a"]}, "url"),
        ({**GOOD, "text": "x" * 101}, "limit"),
    ],
)
def test_bad_records_are_rejected_with_a_reason(record, reason: str) -> None:
    result = parse_record(record, location="file.jsonl:7", source="s", max_chars=100)
    assert isinstance(result, Rejected)
    assert result.location == "file.jsonl:7"
    assert reason in result.reason


def test_title_of_plain_text_uses_first_line() -> None:
    assert title_of("\n\n# Lease terms\nbody") == "Lease terms"


def test_jsonl_reader_reports_line_numbers(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "c.jsonl", [GOOD, "{broken", "", {"text": ""}, {**GOOD, "url": "u2"}]
    )
    with path.open("ab") as out:
        out.write(b'{"text": "\xff\xfe bad bytes"}\n')
    items = list(read_path(path, max_chars=10_000))
    rejected = {item.location: item.reason for item in items if isinstance(item, Rejected)}
    assert [type(i).__name__ for i in items].count("SourceDocument") == 2
    assert set(rejected) == {f"{path}:2", f"{path}:4", f"{path}:6"}
    assert "invalid JSON" in rejected[f"{path}:2"]
    assert "UTF-8" in rejected[f"{path}:6"]


def test_folder_reader_ids_are_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "corpus" / "nda").mkdir(parents=True)
    (tmp_path / "corpus" / "nda" / "a.txt").write_text("Confidentiality lasts five years.")
    (tmp_path / "corpus" / "b.md").write_text("# Notice\nThirty days notice is required.")
    (tmp_path / "corpus" / "empty.txt").write_text("  \n")
    (tmp_path / "corpus" / "sheet.xlsx").write_bytes(b"PK")
    (tmp_path / "corpus" / ".hidden.txt").write_text("ignored")
    items = list(read_path(tmp_path / "corpus", max_chars=10_000))
    docs = {i.document_id: i for i in items if isinstance(i, SourceDocument)}
    assert set(docs) == {"b.md", "nda/a.txt"}
    assert docs["b.md"].title == "Notice"
    assert sorted(r.reason.split()[0] for r in items if isinstance(r, Rejected)) == [
        "empty",
        "unsupported",
    ]


def test_missing_path_and_unknown_file_type_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        read_path(tmp_path / "nope.jsonl", max_chars=10)
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(SourceError, match="unsupported"):
        read_path(tmp_path / "x.xlsx", max_chars=10)


def test_pile_of_law_reader_streams_xz_json_through_datasets(tmp_path: Path) -> None:
    rows = [
        {
            "text": f"Title: Question {i}\nQuestion: Is it legal?\nAnswer #1: It depends.",
            "created_timestamp": "01-02-2016",
            "downloaded_timestamp": "04-20-2022",
            "url": f"https://www.reddit.com/r/legaladvice/comments/{i}/",
        }
        for i in range(4)
    ]
    data = "\n".join(__import__("json").dumps(r) for r in rows).encode()
    path = tmp_path / "train.r_legaldvice.jsonl.xz"
    path.write_bytes(lzma.compress(data))
    items = list(
        read_pile_of_law(
            str(tmp_path / "{split}.r_legaldvice.jsonl.xz"), split="train", max_chars=10_000
        )
    )
    assert [i.document_id for i in items] == [r["url"] for r in rows]
    assert all(i.source == "pile-of-law" and i.jurisdiction == "" for i in items)
    assert items[2].title == "Question 2"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({**GOOD, "id": True}, "got bool true"),
        ({**GOOD, "id": False}, "got bool false"),
        ({**GOOD, "id": 7.0}, "got float 7.0"),
        ({**GOOD, "id": {"n": 7}}, "got dict"),
        ({**GOOD, "text": "half an emoji \ud83d"}, "text holds a lone surrogate (\\ud83d"),
        ({**GOOD, "url": "https://x/\udcff"}, "url holds a lone surrogate"),
        ({**GOOD, "id": "\ud800"}, "id holds a lone surrogate"),
        ({**GOOD, "topic": "t\udfff"}, "topic holds a lone surrogate"),
        ({**GOOD, "jurisdiction": "\ud83dCA"}, "jurisdiction holds a lone surrogate"),
        ({**GOOD, "downloaded_timestamp": "\ud83d"}, "downloaded_timestamp holds"),
        (
            {**GOOD, "text": "Title: x\nbinary\x00junk"},
            "text holds a NUL character at character 16",
        ),
    ],
)
def test_ids_of_other_types_and_text_that_is_not_utf8_are_rejected(record, reason: str) -> None:
    result = parse_record(record, location="f.jsonl:3", source="s", max_chars=10_000)
    assert isinstance(result, Rejected)
    assert reason in result.reason
    result.reason.encode("utf-8")  # the reason itself is printable and loggable


def test_ids_are_kept_as_given() -> None:
    def document_id(value) -> str:
        return parse_record(
            {**GOOD, "id": value}, location="f:1", source="s", max_chars=999
        ).document_id

    assert [document_id(v) for v in ("7", 7, "07", " 7", -3, 10**20)] == [
        "7",
        "7",
        "07",
        " 7",
        "-3",
        "100000000000000000000",
    ]
    assert document_id("") == GOOD["url"]  # no id given: the url, as before
    whole_emoji = {**GOOD, "text": GOOD["text"] + " \U0001f600"}  # a pair, not a lone half
    assert isinstance(
        parse_record(whole_emoji, location="f:1", source="s", max_chars=999), SourceDocument
    )


def test_encodings_are_sniffed_from_the_first_bytes() -> None:
    from legalrag.ingest.sources import _Undecodable, decode_text, sniff_encoding

    text = "Title: Notice\nThirty days — § 1946."
    assert sniff_encoding(b'{"text": 1}') == "utf-8"
    for encoded in (
        b"\xef\xbb\xbf" + text.encode(),
        text.encode("utf-16"),
        b"\xfe\xff" + text.encode("utf-16-be"),
        text.encode("utf-32"),
    ):
        assert decode_text(encoded) == text
    with pytest.raises(_Undecodable, match="UTF-16 without a byte-order mark"):
        sniff_encoding(text.encode("utf-16-be"))
    with pytest.raises(_Undecodable, match="NUL bytes"):
        sniff_encoding(b"\x00" * 64)
    with pytest.raises(ValueError, match="NUL characters"):
        decode_text(text.encode() + b"x" * 5000 + b"\x00\x00")  # past the sniffed head
    with pytest.raises(ValueError, match="not UTF-16"):
        decode_text(b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8")


def test_jsonl_reader_handles_boms_utf16_and_records_json_cannot_hold(tmp_path: Path) -> None:
    line = json.dumps(GOOD) + "\n"
    concatenated = tmp_path / "cat.jsonl"  # two files with BOMs joined by `cat`
    concatenated.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\xef\xbb\xbf" + line.encode())
    assert [type(i) for i in read_path(concatenated, max_chars=10_000)] == [SourceDocument] * 2

    utf16 = tmp_path / "u.jsonl"
    good = json.dumps({**GOOD, "url": "u1"}) + "\n"
    unpaired = '{"text": "bad'.encode("utf-16-le") + b"\x00\xd8" + '"}\n'.encode("utf-16-le")
    utf16.write_bytes(good.encode("utf-16") + unpaired + good.encode("utf-16-le") + b"\x41")
    items = list(read_path(utf16, max_chars=10_000))
    assert [type(i).__name__ for i in items] == [
        "SourceDocument",
        "Rejected",
        "SourceDocument",
        "Rejected",
    ]
    assert "unpaired surrogate" in items[1].reason and items[1].location == f"{utf16}:2"
    assert "truncated" in items[3].reason

    hostile = tmp_path / "h.jsonl"
    hostile.write_bytes(
        b'{"text": "a", "id": ' + b"9" * 5000 + b"}\n" + b"[" * 100_000 + b"\n" + line.encode()
    )
    items = list(read_path(hostile, max_chars=10_000))
    assert [type(i).__name__ for i in items] == ["Rejected", "Rejected", "SourceDocument"]
    assert all("invalid JSON" in i.reason for i in items[:2])


def test_a_file_name_that_is_not_utf8_is_rejected_and_printable(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ok.txt").write_text("Notice is thirty days.")
    try:
        (Path(os.fsdecode(bytes(folder) + b"/caf\xe9.txt"))).write_text("Deposits.")
    except OSError:  # a file system that takes only UTF-8 names
        pytest.skip("file names must be UTF-8 here")
    items = list(read_path(folder, max_chars=10_000))
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [i.document_id for i in items if isinstance(i, SourceDocument)] == ["ok.txt"]
    assert rejected[0].location.endswith("caf\\xe9.txt")
    assert "the file name holds a lone surrogate" in rejected[0].reason
    rejected[0].location.encode("utf-8")
