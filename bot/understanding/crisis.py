"""The crisis detector, recall first: staff-reviewed rules, then the meaning of the sentence.

1. The regular expressions of ``data/safety.yml`` (reviewed by staff): a match is sure.
2. Otherwise the meaning of the message (its e5 vector, :mod:`bot.understanding.encoder`) goes to a
   logistic regression trained on the crisis example sentences of ``data/safety_examples.yml`` (by
   category), the safety intents' training examples, and ordinary sentences (that file's near misses and
   every other training example of ``data/nlu``). Sure (:attr:`Thresholds.sure`): the safety answer.
   Unsure (:attr:`Thresholds.unsure`, or one sentence of a longer message is surely a crisis): the
   crisis line of the likely category goes beside whatever else the reply answers.

``match(text)`` gives the safety intent (``emergency`` for 119 and 110 alike, ``self_harm``, ``dv``,
``abuse``) or None; :meth:`CrisisDetector.assess` says also the category and why.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import yaml

from bot import romaji
from bot.text import is_kana_only, kana_reading, normalize
from bot.text import sentences as split_sentences
from bot.understanding.assessments import classifier_id, default_memo, fingerprint
from bot.understanding.linear import LinearClassifier
from bot.understanding.neighbours import NeighbourBlend

#: The end of a message that asks where, when or whether something is.
SERVICE_QUESTION = re.compile(
    r"(ありますか|あります ?[?？]|ある ?[?？]|あるの ?[?？]|どこ|何時|なんじ|いつ|教えて|おしえて"
    r"|知りたい|しりたい|ですか|ますか|でしょうか|かな|っけ|[?？])\W*$"
)
#: ... unless it asks what to do (「どうすればいいですか」).
WHAT_TO_DO = re.compile(r"(どう|どうやって)(すれば|したら|しよう|しますか|する|したらいい)|どうしたら")


def says_farewell(farewell, text: str) -> bool:
    """Whether the whole message says a goodbye that sounds final: ``farewell`` (the ``farewell`` section
    of ``data/safety.yml``, :func:`bot.crisis.load_farewell`) matches the normalized message and none of
    its exceptions (an ordinary closing, a farewell for an ordinary reason) does. ``None``: never."""
    return farewell is not None and farewell.matches(normalize(text))


@dataclass(frozen=True)
class Thresholds:
    """The detector's thresholds, with their measured defaults (one home: the constructor takes one
    ``Thresholds``; a bench sweep or a test replaces it on a built detector with
    :func:`dataclasses.replace`). Part of what an assessment depends on (the memo's key).
    """

    #: A message is a crisis, surely, when the classifier gives "ordinary" less than this probability. Chosen
    #: on the tune half of the safety evaluation sets (``python -m bench.safety_bench --sweep``). With the
    #: regression alone (earlier rounds): 0.3: recall 0.799 / alarms 0.011, 0.4: 0.828 / 0.017. With the
    #: neighbour blend and the third round's examples (2026-12-02; k 10, temperature 0.01, weight 0.5): 0.3:
    #: 0.888 / 0.009, 0.4: 0.911 / 0.011, 0.5: 0.923 / 0.017, 0.6: 0.923 / 0.023 — 0.4 kept: check alarms have
    #: run above tune ones in every round, and 0.4 leaves that margin.
    sure: float = 0.4
    #: Below this (or when one sentence of a longer message is surely a crisis, or a rule's exception matches)
    #: the crisis line of the likely category goes beside the answer ("when unsure, the reply carries the
    #: crisis line"). Tune half, SURE 0.4: unsure 0.4 gave any-line recall 0.953 with lines beside 0.066 of
    #: ordinary answers, 0.5 gave 0.964 / 0.069.
    unsure: float = 0.5
    #: One sentence of a longer message with "ordinary" below this, and nearer to the crisis examples than to
    #: the ordinary ones by :attr:`part_margin`, makes the whole message surely a crisis; otherwise (and below
    #: sure) its line goes beside the answer. Without the margin (third round) 0.1 added 0.024 recall but
    #: 0.009 alarms on the tune half (past events told in one sentence, a question in the next). With the
    #: margin (fourth round, ``python -m bench.safety_bench --sweep-margins``, tune half): 0.05 with margin
    #: 0.02 lifted answers 0.911 -> 0.935 but alarms 4 -> 6 of 344 (check: 5 -> 9 of 288); 0.02 gave 0.923 and
    #: 5 alarms. 0.0 (never) kept: no false alarm more for recall.
    part_sure: float = 0.0
    #: How much nearer (cosine) that sentence must be to its nearest crisis example than to its nearest
    #: ordinary sentence (:meth:`bot.understanding.neighbours.NeighbourBlend.margin`); 1.0: never (above).
    part_margin: float = 1.0
    #: The whole message is surely a crisis only when it is also at least this much nearer to a crisis example
    #: than to an ordinary one; below it, only its crisis line goes beside the answer. -1.0: off. Tune half
    #: (fourth round): -0.02 changed nothing, -0.01 answers 0.911 -> 0.905, 0.0 -> 0.881, alarms 4 of 344 at
    #: every value (they lie at margins 0.000-0.016, among about 20 sure crises).
    sure_margin: float = -1.0
    #: A crisis line goes beside the answer only when the message (or the sentence that made it unsure) is at
    #: least this much nearer to a crisis example than to an ordinary one. -1.0: off. Tune half: -0.01 cut
    #: lines beside ordinary answers 0.070 -> 0.064 but line recall 0.958 -> 0.952 (recall first).
    unsure_margin: float = -1.0
    #: When at least this share of the nearest sentences' vote (:meth:`NeighbourBlend.vote`) is "ordinary",
    #: the regression alone does not make the message surely a crisis: its line goes beside the answer
    #: instead. The regression, balanced across classes, reads short family sentences
    #: (父が手術を受けます, 子どもがインフルエンザで寝込んでいます) as crises where every near example is
    #: ordinary. Tune half (fourth round): the sure crises' vote for "ordinary" reached at most 0.54, the four
    #: false alarms' 0.07-0.50; 0.6 (just above the highest crisis) changes no tune, check or set-2 total: it
    #: keeps short sentences of that kind, written
    #: for this and not in any set, from the safety answer.
    vote_not_sure: float = 0.6
    #: Whether a message found surely a crisis by meaning alone, that ends by asking where, when or whether
    #: something is (:func:`asks_for_a_service`; not what to do now), gets only its line beside the answer.
    #: Fifth round (2026-12-02): of 175 sure crises by meaning on the tune halves of sets 1 and 3, 6 end so,
    #: of 12 false alarms 10. Demoting all of them: tune answers 164 -> 161 of 168 (set 1), false alarms 4 ->
    #: 1 of 344 and 9 -> 5 of 151 (set 3); all but self-harm (:attr:`question_not_sure_except`): 164 -> 162,
    #: alarms 4 -> 3 and 9 -> 6; no crisis line lost either way. Off: it buys fewer alarms with right answers
    #: (the line stays), and answer recall is the target that is furthest off. The lead may turn it on.
    #: Ninth round (2026-12-03), sets 1-6 tune + check and set 2: 6 right answers lost for 7 false alarms
    #: spared, no line lost (self-harm excepted); without the exception 6 answers more for 2 alarms: off.
    question_not_sure: bool = False
    question_not_sure_except: tuple[str, ...] = ("self_harm",)
    #: A message where neither it nor a sentence of it is found is also judged clause by clause (split at
    #: 、，,): a clause with "ordinary" below this puts its crisis line beside the answer; 0.0: never. Fifth
    #: round (2026-12-02), lines beside ordinary answers on the tune halves, set 1 / set 3: 0.0: 26 / 23 of
    #: 344 / 151, 0.05: 27 / 25, 0.1: 28 / 27, 0.2: 32 / 30, 0.4: 39 / 39; no tune crisis gains a line (each
    #: already had one), so the tune halves show only the cost. 0.05 (the smallest step) was kept for recall
    #: first, "when unsure, the reply carries the crisis line", after the totals of the unread halves were
    #: seen: crises with some crisis line, set 2 (both halves) 163 -> 165 of 167, set 3's check half 106 ->
    #: 107 of 107, for 1 and 4 more lines beside ordinary answers there; no safety answer more anywhere.
    clause_unsure: float = 0.05
    #: ... only for a message whose "ordinary" is below this (a clearly ordinary one is not split: one batch
    #: of embeddings less). 0.9 changes no tune-half figure and skips ~30% of the clause judgements over the
    #: sets; in totals (all sets) no crisis line is lost at 0.8 or 0.9, one at 0.7.
    clause_gate: float = 0.9
    #: One sentence of a longer message puts its crisis line beside the answer only when its "ordinary" is
    #: below part_unsure, or below :attr:`sure` with its nearest sentences' vote for "ordinary" below
    #: part_vote (before: any sentence below sure, so an ordinary question with one sentence of worry or of a
    #: past event in it carried a line). Sixth round (2026-12-03), lines beside ordinary answers, before ->
    #: 0.15 / 0.2: set 4 61 -> 49 of 373 (both halves), set 1 tune 27 -> 16 of 344, check 30 -> 24 of 288, set
    #: 2 21 -> 19 of 274, set 3 tune 25 -> 23 of 151, check 36 -> 33 of 182; no crisis line lost on any set,
    #: safety answers unchanged. Then (with the romaji and unsure gates below), tune halves: 0.12, 0.1 and
    #: 0.08 each cut set 1 16 -> 15 and changed no other tune figure (0.12 kept: the largest); part vote 0.15
    #: changed no tune figure and lost a crisis line of set 6 (totals); 0.2 / 0.25 and 0.12 / 0.25 kept 3-4
    #: more on set 1.
    part_unsure: float = 0.12
    part_vote: float = 0.2
    #: Japanese typed in romaji is judged by its kana reading; that reading raises a line only when its
    #: nearest sentences vote "ordinary" below this (ordinary romaji questions read as kana land among odd
    #: words). Sixth round, with the part thresholds above: set 3 tune 23 -> 20 lines beside ordinary answers
    #: (with :attr:`romaji_typed_vote`: 19), check 33 -> 25, set 4 tune 23 -> 20; no crisis line lost. 0.8
    #: lost a set-4 check line (totals); 0.9 cut fewer (set 3 check 30).
    romaji_vote: float = 0.85
    #: ... and the letters as typed, when the classifier is sure of a crisis on them, add a line only when
    #: their own nearest sentences vote "ordinary" below this (the classifier, trained on Japanese script, is
    #: often sure on letters). Sixth round: 0.3 equals blocking the letters whenever the kana reading is gated
    #: on every tune half (set 3 19, set 4 20), and keeps a line the blocking lost on set 6 (totals); 0.1 lost
    #: a set-3 check line (totals). Recall first: 0.3.
    romaji_typed_vote: float = 0.3
    #: The whole message judged unsure (:attr:`unsure`) puts its line beside the answer only when its nearest
    #: sentences vote "ordinary" below this. Sixth round: 0.9 cut set 3 tune 20 -> 19 lines beside ordinary
    #: answers and changed no other tune figure, no crisis line lost; 0.8 also cut set 3 check 28 -> 26 but
    #: lost a crisis line of set 6 (totals).
    unsure_vote: float = 0.9
    #: A clause (:attr:`clause_unsure`) puts its line beside the answer only when its nearest sentences vote
    #: "ordinary" below this; 1.01: off. Sixth round: 0.8 changed no figure on any set.
    clause_vote: float = 1.01
    #: A message with no crisis line that says a goodbye sounding final (:func:`says_farewell`) gets the
    #: self-harm line beside the answer. Ninth round (2026-12-03): the kind of set 6's tune half that had no
    #: line at all (「今までお世話になりました。皆さんによろしくお伝えください。」).
    farewell_line: bool = True
    #: A message written in kana alone (:func:`bot.text.is_kana_only`; also Japanese typed in romaji, judged
    #: by its kana reading) found surely a crisis by meaning gets the safety answer only when it is also
    #: sure (:attr:`sure`) with the kana readings of the training sentences among its nearest sentences
    #: (``NeighbourBlend.judge(..., readings=True)``); otherwise its line goes beside the answer: no line is
    #: ever removed by it. Issue 10 (tenth safety round, 2026-12-03): e5 puts a short kana sentence near the
    #: kana crisis examples whatever it means (a style: ぜいきんがはらえません's nearest sentences were
    #: いきてる いみ ない, だんなが いきを してない…, "ordinary" vote 0.24: the 119 answer), and the ordinary
    #: training sentences are mostly written in kanji; with their readings voting it is 0.98 ordinary. Tune
    #: halves of sets 1 and 3-6: of the kana messages sure by meaning, 1 crisis (of 50) and 4 ordinary (of 6)
    #: are demoted. Tried on the same halves: the readings' judgement alone for kana messages lost a crisis
    #: line (set 1) and 5 right answers; its vote as the gate (at :attr:`vote_not_sure`) demoted 3 crises;
    #: the threshold :attr:`unsure` instead of :attr:`sure` 1 crisis and 3 ordinary (:attr:`sure` kept: no
    #: new threshold). Sets 2, 6 and 7 (totals) unchanged; crisis lines unchanged on every set.
    kana_sure_with_readings: bool = True


#: The shortest clause judged (:attr:`Thresholds.clause_unsure`).
CLAUSE_MIN_CHARS = 4
_CLAUSE_END = re.compile(r"[、，,]+")
#: Regularisation of the classifier (inverse strength), chosen on the tune half with the thresholds.
CLASSIFIER_C = 0.03
#: The nearest training sentences that vote beside the regression (:mod:`bot.understanding.neighbours`),
#: the sharpness of their similarity weights, and the regression's share of the blend. Chosen on the tune
#: half (``python -m bench.safety_bench --sweep``); see the README's Safety section.
NEIGHBOURS_K = 10
NEIGHBOURS_TEMPERATURE = 0.01
LINEAR_WEIGHT = 0.5
_LETTERS = re.compile(r"[a-z]")
#: Label of every sentence that is not a crisis.
ORDINARY = "ordinary"
#: Intents whose NLU training examples are crisis sentences (labelled with their intent as category).
SAFETY_INTENTS = ("emergency", "self_harm", "dv", "abuse")
#: A longer message is also judged sentence by sentence (a crisis mixed with a procedure question):
#: :func:`bot.text.sentences`. Its ellipsis (「…を聞きたかったんですが…あ、今…」), fifth round, measured as
#: totals: a crisis line for 2 more crises of set 2 (79 -> 81 of 81 on its tune half) and 1 of set 3's
#: check half (105 -> 106 of 107), for 2 + 1 more lines beside ordinary answers on set 1 (24 -> 26,
#: 29 -> 30).

#: Files of a trained classifier (inside the trained model, beside the rules; see :func:`write_classifier`).
CLASSIFIER_FILE = "crisis_classifier.npz"
META_FILE = "crisis_meta.json"

_ENTITY = re.compile(r"\[([^\]]*)\]\((?:[^)]*)\)|\[([^\]]*)\]\{[^}]*\}")


@dataclass(frozen=True)
class CrisisCategory:
    """One kind of crisis: the intent that answers it and its example sentences."""

    name: str
    intent: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class CrisisExamples:
    """The example file: crisis categories and ordinary near misses."""

    categories: tuple[CrisisCategory, ...]
    ordinary: tuple[str, ...]
    #: Ordinary sentences that join the nearest-sentence vote only, not the regression
    #: (``ordinary_neighbours`` in the file; :func:`train_classifier`).
    ordinary_neighbours: tuple[str, ...] = ()

    def intent_of(self, category: str) -> str:
        """The safety intent that answers ``category``."""
        return next(c.intent for c in self.categories if c.name == category)


@dataclass(frozen=True)
class Assessment:
    """What the detector found in one message."""

    intent: str | None = None
    category: str | None = None
    source: str | None = None  # "rule" | "semantic" | None
    #: "sure": the safety answer is due; "unsure": its crisis line goes beside the answer; None.
    level: str | None = None
    #: 1 - the classifier's probability of "ordinary" (1.0 for a rule).
    score: float = 0.0
    scores: Mapping[str, float] = field(default_factory=dict)
    #: The nearest sentences' vote for "ordinary" of the whole message (0.0 without neighbours or rule).
    vote_ordinary: float = 0.0
    #: Why a sure finding became unsure, when it is the kana check (:attr:`Thresholds.
    #: kana_sure_with_readings`): ``"kana"``. The NLU then does not take the bag-of-words intent
    #: classifier's safety intent as a second opinion (it is misled by the same kana: Sudachi reads
    #: ぜいきん as ぜ|いき|ん, いき being the breath of the 119 examples).
    demoted: str | None = None

    @property
    def is_crisis(self) -> bool:
        """Whether a safety answer is due."""
        return self.level == "sure"

    @property
    def needs_crisis_line(self) -> bool:
        """Whether the reply carries a crisis line (the safety answer or one beside the answer)."""
        return self.level is not None


def load_examples(path: Path) -> CrisisExamples:
    """Reads ``data/safety_examples.yml``; raises ValueError naming what is malformed."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return parse_examples(raw, str(path))


def parse_examples(raw: Any, source: str = "safety examples") -> CrisisExamples:
    """Builds the examples from their plain data form (as in the YAML file)."""
    cats = raw.get("categories") if isinstance(raw, dict) else None
    if not isinstance(cats, dict) or not cats:
        raise ValueError(f"{source}: 'categories' must be a non-empty mapping")
    categories = []
    for name, item in cats.items():
        if not isinstance(item, dict) or not item.get("intent"):
            raise ValueError(f"{source}: category {name}: 'intent' is missing")
        examples = tuple(str(e) for e in item.get("examples") or [] if str(e).strip())
        if not examples:
            raise ValueError(f"{source}: category {name}: 'examples' is empty")
        categories.append(CrisisCategory(str(name), str(item["intent"]), examples))
    ordinary, neighbours = (
        tuple(str(e) for e in (raw.get(key) or {}).get("examples") or [] if str(e).strip())
        for key in ("ordinary", "ordinary_neighbours")
    )
    return CrisisExamples(tuple(categories), ordinary, neighbours)


#: NLU training files whose examples are not taken as the 'ordinary' side of the crisis classifier.
#: The fifth understanding round's 239 sentences (``examples5_*``: life events told as situations, a
#: person asked for, elderly/foreign/English procedure questions; written for the intent classifier, not
#: as near misses) pulled crisis sentences to 'ordinary'. Set 1's tune half (read): any crisis line
#: 168 -> 166 of 168, right answer 165 -> 159; the unread totals moved the same way (set 4: 220 -> 215 of
#: 220, set 2: 165 -> 163 of 167). Without these files every figure is as before them; without only the
#: life-event file, set 4 still lost 3 lines. They still train the intent classifier.
NOT_ORDINARY_EVIDENCE = ("examples5_*.yml",)


def nlu_examples(
    nlu_dir: Path, skip_intents: Iterable[str] = SAFETY_INTENTS, pattern: str = "*.yml"
) -> list[tuple[str, str]]:
    """(intent, text) of the Rasa training examples under ``nlu_dir`` (entity markup removed)."""
    skip = set(skip_intents)
    pairs = []
    for path in sorted(Path(nlu_dir).glob(pattern)):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in raw.get("nlu") or []:
            intent = block.get("intent") if isinstance(block, dict) else None
            if not intent or intent in skip:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip()
                if text.startswith("- "):
                    pairs.append((intent, _ENTITY.sub(lambda m: m.group(1) or m.group(2) or "", text[2:])))
    return pairs


def ordinary_evidence(pairs: Iterable[tuple[str, str]], nlu_dir: Path) -> list[tuple[str, str]]:
    """The NLU examples the crisis classifier may weigh as 'ordinary': all but those of the files of
    :data:`NOT_ORDINARY_EVIDENCE` under ``nlu_dir``."""
    left_out = {text for pattern in NOT_ORDINARY_EVIDENCE for _, text in nlu_examples(nlu_dir, (), pattern)}
    return [(intent, text) for intent, text in pairs if text not in left_out]


def asks_for_a_service(text: str) -> bool:
    """Whether the message ends by asking where, when or whether something is (not what to do now)."""
    last = (sentences(text) or [text])[-1]
    return bool(SERVICE_QUESTION.search(normalize(last).strip())) and not WHAT_TO_DO.search(normalize(last))


def match_rules(rules: Sequence, text: str) -> str | None:
    """The safety intent of the first rule that matches the message or its kana reading
    (:func:`bot.romaji.readings`), else of the first that matches one of its sentences.

    A rule's exception speaks for its own sentence, as for the meaning (:meth:`CrisisDetector.
    _sure_outside_exceptions`): the 保険 of 「祖母が倒れて意識がありません。救急車を呼んだら保険証は
    必要ですか」 no longer stops the collapse told before it. Fifth round: right answers on set 1's tune
    half 156 -> 157 of 168, check 163 -> 164 of 190 (totals), set 3's check half 93 -> 94 of 107; no
    false alarm more on any set."""
    readings = romaji.readings(text)
    for candidates in (readings, [p for r in readings for p in split_sentences(r)]):
        for reading in candidates:
            for rule in rules:
                if rule.matches(reading):
                    return rule.intent
    return None


def index_rows(examples: CrisisExamples, ordinary: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """(labels, texts): crisis examples by category, then the file's and the given ordinary sentences."""
    labels, texts = [], []
    for category in examples.categories:
        labels += [category.name] * len(category.examples)
        texts += list(category.examples)
    for text in (*examples.ordinary, *ordinary):
        labels.append(ORDINARY)
        texts.append(text)
    return labels, texts


def training_rows(
    examples: CrisisExamples, nlu_pairs: Sequence[tuple[str, str]] = ()
) -> tuple[list[str], list[str]]:
    """(labels, texts) to train on: crisis examples by category, safety-intent training examples under
    their intent, ordinary near misses and every other training example as :data:`ORDINARY`."""
    labels, texts = index_rows(examples)
    for intent, text in nlu_pairs:
        labels.append(intent if intent in SAFETY_INTENTS else ORDINARY)
        texts.append(text)
    return labels, texts


def clauses(text: str) -> list[str]:
    """The clauses of a message (split at 、，, inside its sentences) when it has more than one sentence
    part, of at least :data:`CLAUSE_MIN_CHARS` characters; else []."""
    found = [
        c.strip()
        for part in (sentences(text) or [text])
        for c in _CLAUSE_END.split(part)
        if len(c.strip()) >= CLAUSE_MIN_CHARS
    ]
    found = [c for c in dict.fromkeys(found) if c not in sentences(text)]
    return found if len(found) > 1 else []


def sentences(text: str) -> list[str]:
    """The sentences of a message with more than one (else []): :func:`bot.text.sentences`."""
    return split_sentences(text)


class CrisisDetector:
    """Rules first, then the meaning classifier; see the module docstring."""

    def __init__(
        self,
        rules: Sequence,
        classifier: NeighbourBlend | LinearClassifier | None = None,
        intents: Mapping[str, str] | None = None,
        encoder=None,
        *,
        thresholds: Thresholds = Thresholds(),
        memo=None,
        classifier_id: str | None = None,
        farewell=None,
    ) -> None:
        """``farewell``: the whole-message goodbye check of ``data/safety.yml`` (:func:`says_farewell`;
        ``None``: none). ``thresholds``: :class:`Thresholds` (the measured defaults); a bench or a test
        may replace :attr:`thresholds` on a built detector. ``memo`` (an
        :class:`~bot.understanding.assessments.AssessmentMemo`) and ``classifier_id`` (the stored
        classifier's :func:`~bot.understanding.assessments.classifier_id`): assessments are shared with
        every detector of the same classifier, rules and thresholds (the channel's crisis desk and the NLU
        judge each message once). Without them each call judges afresh."""
        self._rules = list(rules)
        self._farewell = farewell
        self._classifier = classifier
        self._intents = dict(intents or {})
        self._encoder = encoder
        self.thresholds = thresholds
        self._memo = memo
        self._memo_base = None
        if memo is not None and classifier_id and self.semantic:
            judged_by = [*self._rules, farewell] if farewell is not None else self._rules
            self._memo_base = fingerprint(classifier_id, judged_by, encoder.model_id)

    @property
    def semantic(self) -> bool:
        """Whether the meaning of sentences is judged too (not only the rules)."""
        return self._classifier is not None and self._encoder is not None

    @property
    def encoder(self):
        """The sentence encoder (None: rules only)."""
        return self._encoder

    def match(self, text: str) -> str | None:
        """The safety intent a safety answer is due for (sure), or None."""
        found = self.assess(text)
        return found.intent if found.level == "sure" else None

    def assess(self, text: str, vector: np.ndarray | None = None) -> Assessment:
        """Rules, then meaning. ``vector``: the text's ``query`` embedding when already computed. Judged
        once per text for all detectors sharing the memo (see the constructor)."""
        if not text or not text.strip():
            return Assessment()
        if self._memo_base is None:
            return self._assess(text, vector)
        return self._memo.assess(self._memo_key(), text, lambda: self._assess(text, vector))

    def _memo_key(self) -> tuple:
        """The memo's name for this detector's judgement: classifier, rules and encoder (fixed), and the
        thresholds as they are now (a bench sweep or a test may change them on a built detector)."""
        return (self._memo_base, self.thresholds)

    def _assess(self, text: str, vector: np.ndarray | None) -> Assessment:
        found = self._assess_any(text, vector)
        if found.level is None and self.thresholds.farewell_line and says_farewell(self._farewell, text):
            intent = self._farewell.intent
            return dataclasses.replace(
                found,
                intent=intent,
                category=next((c for c, i in self._intents.items() if i == intent), intent),
                source="farewell",
                level="unsure",
            )
        return found

    def _assess_any(self, text: str, vector: np.ndarray | None) -> Assessment:
        # the message as typed, and its kana reading when it is Japanese typed in romaji; then each
        # sentence of a longer message (a rule's exception speaks for its own sentence)
        intent = match_rules(self._rules, text)
        if intent is not None:
            return Assessment(intent, None, "rule", "sure", 1.0)
        if not self.semantic:
            return Assessment()
        # Japanese typed in romaji is judged by its kana reading, as the channels' turn reads it (they
        # convert it before the NLU), and as typed: the kana reading decides; the letters as typed, when
        # surely a crisis, only add its line beside the answer (recall first). On the letters alone the
        # classifier (trained on Japanese script) read ordinary romaji questions as crises and romaji
        # crises as the wrong kind (set 3's tune half); the kana reading alone lost one set-3 check crisis's
        # line (totals), kept by the letters; a line from letters judged only unsure added 4 + 6 lines
        # beside ordinary answers on set 3 (tune + check) and no crisis line.
        kana = romaji.reading(text)
        if kana != text:
            found = self._assess_meaning(kana, None)
            if found.vote_ordinary >= self.thresholds.romaji_vote:
                found = self._no_line(found)
            if found.level is None:
                typed = self._assess_meaning(text, vector)
                if typed.level == "sure" and typed.vote_ordinary < self.thresholds.romaji_typed_vote:
                    return dataclasses.replace(typed, level="unsure")
            return found
        return self._assess_meaning(text, vector)

    def _assess_meaning(self, text: str, vector: np.ndarray | None) -> Assessment:
        if vector is None:
            vector = self._encoder.query(text)
        parts = sentences(text)
        found = self._judge(np.asarray(vector).reshape(1, -1), parts, clauses(text))
        if found.level == "sure" and self._excepted(found.intent, normalize(text)):
            if not self._sure_outside_exceptions(found.intent, parts):
                return dataclasses.replace(found, level="unsure")
        if found.level == "sure" and self.thresholds.question_not_sure and asks_for_a_service(text):
            if found.intent not in self.thresholds.question_not_sure_except:
                return dataclasses.replace(found, level="unsure")
        if found.level == "sure" and self.thresholds.kana_sure_with_readings and is_kana_only(text):
            if not self._sure_with_readings(vector):
                return dataclasses.replace(found, level="unsure", demoted="kana")
        return found

    def _sure_with_readings(self, vector: np.ndarray) -> bool:
        """Whether the message is still surely a crisis with the kana readings of the training sentences
        among its nearest sentences (:attr:`Thresholds.kana_sure_with_readings`); True for a stored
        classifier without readings (nothing to ask)."""
        if not getattr(self._classifier, "has_readings", False):
            return True
        probs, _ = self._classifier.judge(np.asarray(vector).reshape(1, -1), readings=True)
        return float(probs[0, self._classifier.classes.index(ORDINARY)]) < self.thresholds.sure

    @staticmethod
    def _no_line(found: Assessment) -> Assessment:
        """``found`` without its crisis line (its category and scores kept for the logs)."""
        return dataclasses.replace(found, intent=None, source=None, level=None)

    def _excepted(self, intent: str | None, normalized: str) -> bool:
        """Whether a staff-reviewed exception of the intent's rule matches (防犯講習, 自殺対策の講演…):
        the meaning alone is then not sure enough for the safety answer, only for its line."""
        return any(
            rule.intent == intent and any(p.search(normalized) for p in getattr(rule, "exceptions", ()))
            for rule in self._rules
        )

    def _sure_outside_exceptions(self, intent: str | None, parts: list[str]) -> bool:
        """Whether a sentence without the exception's words is, by itself, surely that crisis.

        An exception speaks for its own sentence: in 「祖母が倒れて意識がありません。救急車を呼んだら保険証は
        必要ですか」 the 保険 of the question does not make the collapse less sure. Seen on the tune half of
        the safety sets: four 119 sentences followed by a procedure question (保険, 報知器) were answered with
        a line beside instead of the 119 answer."""
        free = [p for p in parts if not self._excepted(intent, normalize(p))]
        if not free:
            return False
        probs = self._classifier.probabilities(self._encoder.query(free))
        ordinary = self._classifier.classes.index(ORDINARY)
        for row in probs:
            category = self._best_category(row, ordinary)
            if row[ordinary] < self.thresholds.sure and self._intents.get(category, category) == intent:
                return True
        return False

    def _margins(self, vectors: np.ndarray) -> np.ndarray:
        """Nearest crisis example minus nearest ordinary sentence (cosine) per vector; +inf for a stored
        classifier without neighbours (a model trained before them: no margin is asked)."""
        margin = getattr(self._classifier, "margin", None)
        if margin is None:
            return np.full(len(vectors), np.inf)
        return margin(vectors, ORDINARY)

    def _judged(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, the nearest sentences' vote for "ordinary") per vector; the vote is 0.0 for a
        stored classifier without neighbours (no vote gate applies to it)."""
        judge = getattr(self._classifier, "judge", None)
        if judge is None:
            probs = np.asarray(self._classifier.probabilities(vectors)).reshape(len(vectors), -1)
            return probs, np.zeros(len(vectors))
        probs, vote = judge(vectors)
        return probs, vote[:, self._classifier.classes.index(ORDINARY)]

    def _part_raises_line(self, ordinary: float, vote: float, margin: float) -> bool:
        """Whether one sentence of a longer message puts its crisis line beside the answer."""
        t = self.thresholds
        if ordinary >= t.sure or margin < t.unsure_margin:
            return False
        return ordinary < t.part_unsure or vote < t.part_vote

    def _judge(self, whole: np.ndarray, parts: list[str], clauses: Sequence[str] = ()) -> Assessment:
        t = self.thresholds
        all_probs, votes = self._judged(whole)
        probs, vote = all_probs[0], float(votes[0])
        ordinary = self._classifier.classes.index(ORDINARY)
        near = float(self._margins(whole)[0])
        level = None
        if probs[ordinary] < t.sure and near >= t.sure_margin and vote < t.vote_not_sure:
            level = "sure"
        elif probs[ordinary] < t.unsure and near >= t.unsure_margin and vote < t.unsure_vote:
            level = "unsure"
        if level != "sure" and parts:
            vectors = self._encoder.query(parts)
            part_probs, part_votes = self._judged(vectors)
            margins = self._margins(vectors)
            raising = [
                i
                for i in range(len(parts))
                if self._part_raises_line(float(part_probs[i, ordinary]), float(part_votes[i]), margins[i])
            ]
            if raising:
                i = min(raising, key=lambda j: part_probs[j, ordinary])
                best = part_probs[i]
                part_is_sure = best[ordinary] < t.part_sure and margins[i] >= t.part_margin
                probs, level = best, "sure" if part_is_sure else "unsure"
        gated = probs[ordinary] < t.clause_gate
        if level is None and clauses and t.clause_unsure > 0 and gated:
            clause_probs, clause_votes = self._judged(self._encoder.query(list(clauses)))
            i = int(np.argmin(clause_probs[:, ordinary]))
            if clause_probs[i][ordinary] < t.clause_unsure and clause_votes[i] < t.clause_vote:
                probs, level = clause_probs[i], "unsure"
        category = self._best_category(probs, ordinary)
        scores = dict(zip(self._classifier.classes, map(float, probs), strict=True))
        if level is None:
            return Assessment(None, category, None, None, 1.0 - float(probs[ordinary]), scores, vote)
        intent = self._intents.get(category, category)
        return Assessment(intent, category, "semantic", level, 1.0 - float(probs[ordinary]), scores, vote)

    def _best_category(self, probs: np.ndarray, ordinary: int) -> str:
        ranked = [i for i in np.argsort(-probs) if i != ordinary]
        return self._classifier.classes[ranked[0]]


def category_intents(examples: CrisisExamples) -> dict[str, str]:
    """Category -> safety intent (the safety intents answer themselves)."""
    out = {intent: intent for intent in SAFETY_INTENTS}
    out.update({c.name: c.intent for c in examples.categories})
    return out


def train_classifier(
    examples: CrisisExamples, nlu_pairs: Sequence[tuple[str, str]], encoder, cache_dir: Path | None = None
) -> NeighbourBlend:
    """Embeds the training sentences (cached by content hash) and fits the classifier; the file's
    ``ordinary_neighbours`` join the nearest-sentence vote only. Seventh safety round (2026-12-03): 153
    ordinary sentences of six kinds of false alarm, as training sentences of the regression, lost right
    answers on every set (each kind some: the regression's borders move for all); in the vote only, three
    kinds (third parties learning about DV or abuse, hobbies and events with death or crime as a theme,
    English hyperbole and past events) lost no crisis answer and no line on any set."""
    from bot.understanding.cache import embed_cached

    labels, texts = training_rows(examples, nlu_pairs)
    extra = list(examples.ordinary_neighbours)
    read_labels, read_texts = kana_rows([*labels, *[ORDINARY] * len(extra)], [*texts, *extra])
    return NeighbourBlend.fit(
        embed_cached(encoder, texts, cache_dir, "query"),
        labels,
        CLASSIFIER_C,
        k=NEIGHBOURS_K,
        temperature=NEIGHBOURS_TEMPERATURE,
        weight=LINEAR_WEIGHT,
        neighbours_only=(embed_cached(encoder, extra, cache_dir, "query"), [ORDINARY] * len(extra)),
        readings=(embed_cached(encoder, read_texts, cache_dir, "query"), read_labels),
    )


def kana_rows(labels: Sequence[str], texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """(labels, texts): the kana reading (:func:`bot.text.kana_reading`) of each training sentence written
    in Japanese, under its label, when it is not one of the sentences already (:attr:`Thresholds.
    kana_sure_with_readings`). Sentences with letters (English, romaji) have none: Sudachi reads letters
    as katakana words no resident types; nor have those already in kana (Sudachi splits a run of kana
    wrongly: ぜいきん is read ぜ|いき|ん)."""
    seen = set(texts)
    out_labels, out_texts = [], []
    for label, text in zip(labels, texts, strict=True):
        if _LETTERS.search(normalize(text)) or is_kana_only(text):
            continue
        read = kana_reading(text)
        if read and read not in seen:
            seen.add(read)
            out_labels.append(label)
            out_texts.append(read)
    return out_labels, out_texts


def build_detector(
    rules: Sequence,
    examples_path: Path,
    nlu_dir: Path | None,
    encoder,
    cache_dir: Path | None = None,
    thresholds: Thresholds = Thresholds(),
    farewell=None,
) -> CrisisDetector:
    """A detector from the data files: rules (and the farewell check), crisis examples and the NLU
    training examples."""
    examples = load_examples(examples_path)
    pairs = ordinary_evidence(nlu_examples(nlu_dir, skip_intents=()), nlu_dir) if nlu_dir else []
    classifier = train_classifier(examples, pairs, encoder, cache_dir)
    return CrisisDetector(
        rules, classifier, category_intents(examples), encoder, thresholds=thresholds, farewell=farewell
    )


class StaleClassifier(ValueError):
    """The stored classifier was trained on vectors of another encoder model (retrain: ``make model``)."""


def write_classifier(
    directory: Path, classifier: NeighbourBlend | LinearClassifier, intents: Mapping[str, str], model_id: str
):
    """Stores a trained classifier as :data:`CLASSIFIER_FILE` and :data:`META_FILE` in ``directory``."""
    np.savez(Path(directory) / CLASSIFIER_FILE, **classifier.to_arrays())
    meta = {"model_id": model_id, "intents": dict(intents)}
    (Path(directory) / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


def stored_detector(rules: Sequence, arrays: bytes, meta: str, encoder, farewell=None) -> CrisisDetector:
    """The rules + meaning detector of a classifier stored in the trained model (the contents of its two
    files), its assessments shared with every detector of the same stored classifier and rules — the
    channels' crisis desk and the NLU's safety component judge each message once
    (:mod:`bot.understanding.assessments`).

    Raises:
        StaleClassifier, ValueError: as :func:`read_classifier`.
    """
    classifier, intents = read_classifier(arrays, meta, encoder.model_id)
    return CrisisDetector(
        rules,
        classifier,
        intents,
        encoder,
        memo=default_memo(),
        classifier_id=classifier_id(arrays, meta),
        farewell=farewell,
    )


def read_classifier(
    arrays: bytes, meta: str, model_id: str
) -> tuple[NeighbourBlend | LinearClassifier, dict[str, str]]:
    """The classifier and its category intents from the contents of the two stored files.

    Raises:
        StaleClassifier: it was trained with another encoder than ``model_id``.
        ValueError: a file is malformed.
    """
    info = json.loads(meta)
    if not isinstance(info, dict) or "model_id" not in info:
        raise ValueError(f"{META_FILE}: no model_id")
    if info["model_id"] != model_id:
        raise StaleClassifier(
            f"the crisis classifier was trained with {info['model_id']}, "
            f"this installation has {model_id}: retrain (make model)"
        )
    with np.load(io.BytesIO(arrays), allow_pickle=False) as stored:
        if "blend" in stored.files:
            classifier = NeighbourBlend.from_arrays(stored)
        else:  # a model trained before the neighbours joined the regression
            classifier = LinearClassifier.from_arrays(stored)
    return classifier, dict(info.get("intents") or {})
