"""pile-of-law's subsets: where each one's files are, and which reader reads its rows.

Every subset's rows are ``{"text", "created_timestamp", "downloaded_timestamp",
"url"}`` (state codes add ``state_year``), but what the text looks like differs per
subset: :data:`SUBSETS` is the one table of them, each :class:`Subset` naming its
reader in ``ingest/pile_of_law_readers.py``.

Where the shapes come from: the data set card's list of subsets and the file names in
its loading script's ``_DATA_URL`` (huggingface.co/datasets/pile-of-law/pile-of-law),
and pile-of-law's own scrapers (github.com/Breakend/PileOfLaw, ``dataset_creation/``),
which show what each wrote into ``text``, ``url`` and the dates. Several subsets give
every row the same ``url`` (the collection's zip file or home page): their documents
are identified by a fingerprint of the text instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from legalrag.errors import SourceError
from legalrag.ingest.pile_of_law_readers import (
    Reader,
    read_casebook,
    read_cfr,
    read_contract,
    read_eurlex,
    read_federal_register,
    read_legal_advice,
    read_opinion,
    read_state_code,
    read_us_code,
)

if TYPE_CHECKING:  # records pulls in the store (numpy): the CLI's help reads SUBSETS
    from legalrag.ingest.records import Rejected, SourceDocument

Row = dict[str, Any]


@dataclass(frozen=True)
class Subset:
    """One pile-of-law subset: its files, its source label and its reader."""

    name: str
    """The data set card's name for it (``--subset``)."""
    files: str
    """What ``{subset}`` becomes in the files template: upstream's file stem, with
    ``*`` for the numbered shards (``courtlisteneropinions.*``)."""
    reader: Reader
    about: str
    source: str = ""
    """The ``source`` its chunks carry; ``pile-of-law/<name>`` unless given."""
    shared_url: bool = False
    """Upstream gave every row the collection's url: ids are text fingerprints."""
    rows: dict[str, int] = field(default_factory=dict)
    """Published row counts per split, to catch a partial read."""

    @property
    def label(self) -> str:
        """The source label of its documents."""
        return self.source or f"pile-of-law/{self.name}"


# --- the subsets ---------------------------------------------------------------------

SUBSETS: dict[str, Subset] = {
    s.name: s
    for s in (
        # Its chunks keep the label "pile-of-law" that indexes built before subsets have.
        Subset(
            "r_legaladvice", "r_legaldvice", read_legal_advice, "r/legaladvice posts",
            source="pile-of-law", rows={"train": 109_740},
        ),
        Subset(
            "courtlistener_opinions", "courtlisteneropinions.*", read_opinion,
            "U.S. court opinions (CourtListener)",
        ),
        Subset("uscode", "uscode", read_us_code, "the U.S. Code", shared_url=True),
        Subset("cfr", "cfr", read_cfr, "the Code of Federal Regulations", shared_url=True),
        Subset("state_codes", "state_code", read_state_code, "U.S. state codes"),
        Subset("federal_register", "federal_register", read_federal_register,
               "proposed rules in the Federal Register"),
        Subset("atticus_contracts", "atticus_contracts.*", read_contract,
               "contracts (the Atticus Project)", shared_url=True),
        Subset("eurlex", "eurlex", read_eurlex, "EU law (EUR-Lex)", shared_url=True),
        Subset("cc_casebooks", "cc_casebooks", read_casebook, "open casebooks",
               shared_url=True),
    )
}  # fmt: skip
DEFAULT_SUBSET = "r_legaladvice"
_ALIASES = {"r_legaldvice": "r_legaladvice"}  # upstream's file name, as the docs said before
SPLITS = ("train", "validation")


def subset_named(name: str | None) -> Subset:
    """The subset called ``name`` (None: r_legaladvice), or a :class:`SourceError`
    that lists the known ones."""
    key = DEFAULT_SUBSET if name is None else _ALIASES.get(name, name)
    try:
        return SUBSETS[key]
    except KeyError:
        raise SourceError(
            f"unknown pile-of-law --subset {name!r}: use one of {', '.join(SUBSETS)}"
        ) from None


def data_files(template: str, subset: Subset, split: str) -> str:
    """``template`` (``pile_of_law_data_files``) for one subset and split.

    A template without ``{subset}`` is the setting's old form, which names
    r_legaladvice's files: it cannot read another subset.
    """
    if split not in SPLITS:
        raise SourceError(f"pile-of-law split must be train or validation, got {split!r}")
    if "{subset}" not in template and subset.name != DEFAULT_SUBSET:
        raise SourceError(
            f"pile_of_law_data_files {template!r} has no {{subset}}: it names "
            f"{DEFAULT_SUBSET}'s files only, so it cannot read --subset {subset.name}"
        )
    try:
        return template.format(split=split, subset=subset.files)
    except (KeyError, IndexError, ValueError) as exc:
        raise SourceError(
            f"pile_of_law_data_files {template!r}: only {{split}} and {{subset}} may "
            f"appear in braces ({exc})"
        ) from None


def _lenient_dates(row: Row) -> Row:
    """``row`` without the dates that cannot be read as a day: several subsets give
    a year ("2021") or another format, and a whole statute is not rejected for it.
    A date the loader already typed (a ``datetime``) is kept."""
    from legalrag.ingest.records import parse_date

    out = dict(row)
    for name in ("created_timestamp", "downloaded_timestamp"):
        if isinstance(out.get(name), date):  # Arrow's JSON reader types "2011-10-14"
            out[name] = out[name].strftime("%Y-%m-%d")
        try:
            parse_date(out.get(name), name)
        except ValueError:
            out[name] = None
    return out


def read_row(
    row: Any, subset: Subset, *, location: str, max_chars: int
) -> SourceDocument | Rejected:
    """One upstream row of ``subset`` as a document, or why it is rejected."""
    from legalrag.ingest.records import Rejected, parse_record, text_fingerprint

    if isinstance(row, dict):
        row = _lenient_dates(row)
    doc = parse_record(row, location=location, source=subset.label, max_chars=max_chars)
    if isinstance(doc, Rejected):
        return doc
    if subset.shared_url and row.get("id") in (None, ""):
        doc = replace(doc, document_id=text_fingerprint(doc.text))
    return subset.reader(row, doc)
