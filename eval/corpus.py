"""Turn external benchmarks' corpora into something `legalrag ingest PATH` reads.

ingest must not import eval (data flows one way), so the converters live here and
write plain files: a JSONL of records for ObliQA's regulation passages, and a
folder of ``.txt`` files plus a LegalBench-RAG test file for ContractNLI. The
document ids they write are exactly the ids the matching dataset reader expects
as gold, so retrieval can be scored without any mapping table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from legalrag.errors import CorpusError


def obliqa_document_id(document_id: Any, passage_id: Any) -> str:
    """The id of one ObliQA passage in our index: ``<DocumentID>:<PassageID>``."""
    return f"{document_id}:{passage_id}"


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"no such file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path} is not valid JSON: {exc}") from None


def obliqa_records(source: Path) -> Iterator[dict[str, str]]:
    """ObliQA's regulation passages as ingest records, one per (DocumentID, PassageID).

    ``source`` is the ``StructuredRegulatoryDocuments`` folder (or the folder above
    it). Empty passages (bare section numbers) are left out: there is nothing to
    retrieve. A (DocumentID, PassageID) pair that occurs twice upstream (27 do) is
    one document whose text joins both, so either text counts as the gold passage.
    """
    folder = source / "StructuredRegulatoryDocuments" if source.is_dir() else source
    if not folder.is_dir():
        raise CorpusError(f"no ObliQA StructuredRegulatoryDocuments folder at {source}")
    files = sorted(folder.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
    if not files:
        raise CorpusError(f"no .json files in {folder}")
    texts: dict[str, list[str]] = {}
    for file in files:
        passages = _load_json(file)
        if not isinstance(passages, list):
            raise CorpusError(f"{file}: expected a list of passages")
        for passage in passages:
            if not isinstance(passage, dict) or "PassageID" not in passage:
                raise CorpusError(f"{file}: a passage lacks DocumentID/PassageID")
            text = str(passage.get("Passage") or "").strip()
            if not text:
                continue
            key = obliqa_document_id(passage.get("DocumentID"), passage["PassageID"])
            parts = texts.setdefault(key, [])
            if text not in parts:
                parts.append(text)
    for key, parts in texts.items():
        yield {"id": key, "text": "\n\n".join(parts)}


def write_obliqa_corpus(source: Path, target: Path) -> int:
    """Write ObliQA's passages as a JSONL corpus for `legalrag ingest`; returns the count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with target.open("w", encoding="utf-8") as out:
        for record in obliqa_records(source):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())
    return ""


def contractnli_as_legalbench_rag(source: Path, target: Path) -> tuple[int, int]:
    """ContractNLI as a LegalBench-RAG-format set: ``target/corpus`` and ``target/tests.json``.

    LegalBench-RAG itself includes ContractNLI: each (document, hypothesis) pair
    whose label is Entailment or Contradiction becomes a query whose gold snippets
    are the pair's evidence spans (NotMentioned pairs have no evidence to find).
    LegalBench-RAG names the document by its parties; ContractNLI gives no parties,
    so a query names the agreement by its title line, which several agreements share
    ("NON-DISCLOSURE AGREEMENT"): the figures are a lower bound for that reason.
    Each document is written as ``corpus/contractnli/<file name>.txt``; ingest
    ``target/corpus`` so that the document ids are the tests' ``file_path``.
    Returns (documents, queries).
    """
    path = source / "dev.json" if source.is_dir() else source
    data = _load_json(path)
    if not isinstance(data, dict) or "documents" not in data or "labels" not in data:
        raise CorpusError(f"{path}: expected ContractNLI's {{'documents', 'labels'}}")
    corpus = target / "corpus" / "contractnli"
    corpus.mkdir(parents=True, exist_ok=True)
    tests = []
    for document in data["documents"]:
        text, spans = document["text"], document["spans"]
        file_path = f"contractnli/{Path(document['file_name']).stem}.txt"
        # newline="" keeps the text byte for byte, so the spans' offsets still hold.
        (target / "corpus" / file_path).write_text(text, encoding="utf-8", newline="")
        title = _first_line(text)
        annotations = document["annotation_sets"][0]["annotations"]
        for label, annotation in sorted(annotations.items()):
            if annotation["choice"] == "NotMentioned" or not annotation["spans"]:
                continue
            hypothesis = data["labels"][label]["hypothesis"]
            snippets = [
                {
                    "file_path": file_path,
                    "span": list(spans[i]),
                    "answer": text[spans[i][0] : spans[i][1]],
                }
                for i in annotation["spans"]
            ]
            tests.append(
                {
                    "id": f"{document['id']}-{label}",
                    "query": f'Consider the agreement "{title}"; does it say that {hypothesis}',
                    "snippets": snippets,
                    "label": annotation["choice"],
                }
            )
    tests_file = target / "tests.json"
    tests_file.write_text(json.dumps({"tests": tests}, indent=1), encoding="utf-8")
    return len(data["documents"]), len(tests)


CONVERTERS = {"obliqa": write_obliqa_corpus, "contractnli": contractnli_as_legalbench_rag}
