"""The entailment support check (``support_check = "nli"``): an NLI cross-encoder reads
each cited source as the premise and the answer's sentence as the hypothesis; the
support is P(entailment), and P(contradiction) is there for a caller that wants a
verdict (:meth:`NLISupport.contradiction`).

Built by :func:`legalrag.factory.make_support_checker` from ``support_nli_model`` (a
hub name or a folder: ``cross-encoder/nli-deberta-v3-base``, or any sequence
classifier with an entailment label), ``support_nli_labels`` (the order of its
logits; unset: its config's ``id2label``) and ``support_nli_device``.

- **Long sources.** An NLI model reads a few hundred tokens; a source that does not
  fit beside the sentence is cut into windows of whole sentences
  (:func:`~legalrag.app.citations.split_passage`), each overlapping the next by one
  sentence so a fact told across a boundary is read whole, and the source supports
  the sentence as well as its best window does (contradicts it as much as its most
  contradicting one).
- **Speed.** The checker scores every (sentence, cited source) pair of one answer
  in one ``predict`` call, before verification asks; a pair it did not foresee is
  scored when asked.
- **Numbers.** As in the other checks, a sentence whose numbers are not in the
  source is unsupported whatever the model says (NLI models are weak at numbers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from legalrag.app.citations import (
    numbers_in,
    split_passage,
    split_sentences,
    strip_markers,
    without_instructions,
)
from legalrag.errors import SupportModelError

if TYPE_CHECKING:
    from legalrag.app.retrieval import RetrievedPassage
    from legalrag.app.support_check import SupportChecker

ENTAILMENT = "entailment"
CONTRADICTION = "contradiction"
# Cross-encoders read 512 tokens at most; a model that declares no limit gets this.
_DEFAULT_MAX_TOKENS = 512


@dataclass(frozen=True)
class NLIVerdict:
    """What the model reads in one (source, sentence) pair: P(entailment), and
    P(contradiction) when the model has that label (None for a two-way or one-logit
    model, which cannot tell a contradiction from silence)."""

    entailment: float
    contradiction: float | None


def label_roles(labels: Sequence[str]) -> tuple[int, int | None]:
    """(entailment's index, contradiction's index or None) in ``labels``, the model's
    labels in the order of its logits, matched case-insensitively."""
    names = [label.strip().lower() for label in labels]
    if ENTAILMENT not in names:
        raise SupportModelError(
            f"the support model's labels {list(labels)} name no {ENTAILMENT!r}: "
            "set support_nli_labels to its labels in the order of its logits"
        )
    return names.index(ENTAILMENT), names.index(CONTRADICTION) if CONTRADICTION in names else None


class NLIModel:
    """A loaded NLI cross-encoder and the meaning of its outputs.

    ``labels``: one name per logit, in order; None reads them from the model's config
    (``id2label``). A one-logit model (HHEM-style: the logit of "consistent") is read
    through a sigmoid as P(entailment).
    """

    def __init__(
        self,
        model: str,
        *,
        labels: Sequence[str] | None = None,
        device: str = "cpu",
        batch_size: int = 32,
    ) -> None:
        import torch
        from sentence_transformers import CrossEncoder

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._model = CrossEncoder(model, device=device)
        except (OSError, ValueError, RuntimeError, ImportError) as exc:
            # Never a silent fallback to another check: the user asked for this one.
            # ImportError: a tokenizer that needs a missing library (sentencepiece).
            raise SupportModelError(
                f"cannot load the support model {model!r} (offline and not in the "
                f"Hugging Face cache? not on disk? not a sequence classifier?): {exc}"
            ) from None
        self.name = f"nli:{model}"
        self.batch_size = batch_size
        self._one_logit = int(self._model.num_labels) == 1
        if self._one_logit:
            self._entailment, self._contradiction = 0, None
        else:
            if labels is None:
                id2label = self._model.config.id2label
                labels = [str(id2label[i]) for i in range(len(id2label))]
            if len(labels) != self._model.num_labels:
                raise SupportModelError(
                    f"support_nli_labels names {len(labels)} labels, the model "
                    f"{model!r} has {self._model.num_labels} outputs"
                )
            self._entailment, self._contradiction = label_roles(labels)
        tokenizer = self._model.tokenizer
        pair = len(tokenizer("x", "x", add_special_tokens=True)["input_ids"])
        self._special_tokens = pair - 2 * self._count("x")
        self.max_tokens = int(self._model.max_seq_length or _DEFAULT_MAX_TOKENS)

    def _count(self, text: str) -> int:
        tokens = self._model.tokenizer(text, add_special_tokens=False, verbose=False)
        return len(tokens["input_ids"])

    def windows(self, passage: str, hypothesis: str) -> list[str]:
        """``passage`` whole when it fits beside ``hypothesis``, else windows of its
        sentences that do, each starting on the last sentence of the one before."""
        budget = self.max_tokens - self._special_tokens - self._count(hypothesis)
        if self._count(passage) <= budget:
            return [passage]
        sentences = [s for s in split_passage(passage) if s.strip()]
        sizes = [self._count(s) for s in sentences]
        found: list[str] = []
        start = 0
        while start < len(sentences):
            end, used = start + 1, sizes[start]  # a sentence too long alone is cut by the model
            while end < len(sentences) and used + sizes[end] <= budget:
                used += sizes[end]
                end += 1
            found.append(" ".join(sentences[start:end]))
            if end == len(sentences):
                break
            start = end - 1 if end - 1 > start else end
        return found

    def verdicts(self, pairs: Sequence[tuple[str, str]]) -> list[NLIVerdict]:
        """The model's verdict on each (premise, hypothesis) pair, in one ``predict``."""
        if not pairs:
            return []
        import torch

        # Logits, whatever activation the model was saved with: the probabilities are ours.
        logits = self._model.predict(
            list(pairs),
            batch_size=self.batch_size,
            activation_fn=torch.nn.Identity(),
            convert_to_tensor=True,
            show_progress_bar=False,
        )
        logits = logits.float().reshape(len(pairs), -1)
        if self._one_logit:
            return [NLIVerdict(float(p), None) for p in torch.sigmoid(logits[:, 0])]
        probabilities = torch.softmax(logits, dim=-1).tolist()
        contradiction = self._contradiction
        return [
            NLIVerdict(row[self._entailment], None if contradiction is None else row[contradiction])
            for row in probabilities
        ]


class NLISupport:
    """The support scorer for one answer (a :class:`~legalrag.app.citations.SupportScorer`).

    ``scorer(sentence, passage)`` is P(entailment) of the sentence (markers stripped)
    by the passage, 0 when a number of the sentence is not in it;
    :meth:`contradiction` is P(contradiction), for per-citation verdicts. Both are
    read from one cached :meth:`verdict` per pair.
    """

    def __init__(self, model: NLIModel) -> None:
        self._model = model
        self._verdicts: dict[tuple[str, str], NLIVerdict] = {}

    def prime(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Score the (sentence, passage) pairs not yet known, in one model call."""
        wanted = [
            key
            for key in dict.fromkeys((strip_markers(s), p) for s, p in pairs)
            if key not in self._verdicts
        ]
        if not wanted:
            return
        windows = [self._model.windows(passage, claim) for claim, passage in wanted]
        flat = [(w, claim) for (claim, _), ws in zip(wanted, windows, strict=True) for w in ws]
        read = iter(self._model.verdicts(flat))
        for key, ws in zip(wanted, windows, strict=True):
            found = [next(read) for _ in ws]
            contradictions = [v.contradiction for v in found if v.contradiction is not None]
            self._verdicts[key] = NLIVerdict(
                max(v.entailment for v in found),
                max(contradictions) if contradictions else None,
            )

    def verdict(self, sentence: str, passage: str) -> NLIVerdict:
        """The model's verdict on ``passage`` for ``sentence`` (the number rule aside)."""
        key = (strip_markers(sentence), passage)
        if key not in self._verdicts:
            self.prime([(sentence, passage)])
        return self._verdicts[key]

    def __call__(self, sentence: str, passage: str) -> float:
        """P(``passage`` entails ``sentence``), 0 to 1; 0 if its numbers are not there."""
        if not numbers_in(strip_markers(sentence)) <= numbers_in(passage):
            return 0.0
        return self.verdict(sentence, passage).entailment

    def contradiction(self, sentence: str, passage: str) -> float | None:
        """P(``passage`` contradicts ``sentence``), 0 to 1, as the model reads it (the
        number rule does not apply); None when the model has no contradiction label."""
        return self.verdict(sentence, passage).contradiction


def nli_support_check(model: NLIModel) -> SupportChecker:
    """A checker giving each answer an :class:`NLISupport` primed with every pair
    verification will ask about: each sentence against each source it cites, the
    source's instructions to the model cut as verification cuts them."""

    def check(answer: str, passages: Sequence[RetrievedPassage]) -> NLISupport:
        scorer = NLISupport(model)
        scorer.prime(
            (sentence.text, without_instructions(passages[marker - 1].text))
            for sentence in split_sentences(answer)
            for marker in sentence.markers
            if 1 <= marker <= len(passages)
        )
        return scorer

    return check
