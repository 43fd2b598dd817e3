"""Deciding what a resident's question is about: a procedure, a life event, an FAQ entry, or unclear.

Resolution order (documented in the README, "How the assistant decides"):
1. An explicit choice from a button (``procedure`` / ``life_event`` / ``faq_id`` entity) wins.
2. A life event (引っ越し, 出産, 家族が亡くなった) gives its checklist, asking one clarifying question
   first when the event has options (市外から / 市外へ / 市内で) — unless a specific procedure is named
   (a procedure from the event's own checklist, 転出の手続き, also answers the clarifying question).
   A situation whose message asks for everything it entails (一通り, まとめて, どんな手続き: the
   ``overview`` words of data/asked_actions.yml) or lists several things (保険や年金はどうなる) gets the
   checklist even when a procedure of it is named.
3. A procedure named clearly enough (catalog aliases) gives the procedure answer.
4. A confident FAQ match gives the FAQ answer.
5. Otherwise up to three "もしかして" suggestions (procedures and FAQ entries) plus phone/callback.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Callable

from bot import romaji
from bot.dialogue.replies import payload
from bot.knowledge.asked import AskedActions
from bot.knowledge.catalog import Catalog, LifeEvent, LifeEventOption, Procedure
from bot.knowledge.catalog.matching import fold
from bot.text import analyze, normalize
from bot.understanding.meaning import Neighbours

logger = logging.getLogger(__name__)

#: A procedure score (0..1, see bot.knowledge.catalog.matching) this high is an answer whatever the intent
#: (e.g. nlu_fallback: the classifier is unsure, but a catalog phrase covers much of the text). 0.7 was
#: chosen on the "tune" half of tests/nlu/dev_questions.yml with intent nlu_fallback (0.85: 54% named,
#: 0.75: 81%, 0.7: 94%); of the 231 out-of-scope/small-talk training sentences none scores 0.7.
PROCEDURE_SURE = 0.7
#: When the classifier already says "procedure question", this score is enough.
PROCEDURE_LIKELY = 0.6
#: Intents under which PROCEDURE_LIKELY is enough.
PROCEDURE_INTENTS = ("ask_procedure", "ask_online", "ask_details", "life_event")
#: Lowest score shown as a suggestion.
PROCEDURE_SUGGEST = 0.5
#: How much better a procedure must match than a life event to win. When the classifier says "life
#: event" (子どもが生まれました, 市外から引っ越してきました) the checklist wins unless a procedure is
#: clearly named (転入届の持ち物); otherwise the procedure wins unless the life event matches better.
LIFE_EVENT_MARGIN = {"life_event": 0.1}
DEFAULT_LIFE_EVENT_MARGIN = -0.05
#: The FallbackClassifier's thresholds in config.yml (a test keeps them equal).
FALLBACK_THRESHOLD = 0.45
AMBIGUITY_THRESHOLD = 0.1
#: A generic entry (オンラインでできる手続きの一覧) gives way to a specific procedure matched almost as well:
#: in 「出ていく届け、ネットでできる？」 the online words are the question's framing, 転出届 its topic.
GENERIC_MARGIN = 0.15
#: Where one question of a message ends and the next may begin (。？ and それと / あと / それから).
_QUESTION_BREAK = re.compile(r"[。？?！!\n]+|(?:それと|それから|あと|ついでに|また)、")


#: The meaning signal (:mod:`bot.understanding.meaning`): cosines of e5 vectors, where unrelated
#: sentences sit near 0.86-0.89 and the right procedure of a paraphrase near 0.90-0.96. Chosen by a sweep on
#: the tune halves of blind sets 4 and 5 (NLU intents of the trained model, FAQ on; sure 0.90-0.91 x margin
#: 0-0.04 x weight 0/2/4): 0.90 / 0.00 / 2.0 named 89 of 109 tune questions, 0.90 / 0.01 87, 0.91 / 0.00 86;
#: (offline: resolve() on cached NLU intents of those halves, the sample FAQ loaded).
#: A procedure nearest by meaning is answered, when the words named nothing surely, if its cosine is at
#: least this and leads the second procedure by :data:`MEANING_MARGIN`.
MEANING_SURE = 0.90
MEANING_MARGIN = 0.0
#: Below MEANING_SURE, a nearest procedure at least this near is offered as a suggestion.
MEANING_SUGGEST = 0.88
#: Weight of the meaning cosine (above :data:`MEANING_FLOOR`, the noise floor) added to a word score when
#: procedures the words name surely are compared (a related procedure named in passing loses to the one
#: asked about).
MEANING_WEIGHT = 2.0
MEANING_FLOOR = 0.88
#: When the words name a procedure only weakly (below :data:`PROCEDURE_SURE`: a short alias such as 国保 in
#: a long message) and meaning names another one surely (:data:`MEANING_SURE`) and by at least this much
#: more than the words' procedure (its cosine, or :data:`MEANING_FLOOR` when not among the neighbours),
#: the one meant is answered. Blind set 9, tune half: of the 10 questions with a weak word winner and a
#: different nearest procedure, the two right switches led by 0.033 and 0.041; a wrong one (a death's
#: checklist question, answered by the checklist before this rule) led by 0.020; the others were below
#: MEANING_SURE.
MEANING_OVER_WEAK_WORDS = 0.03
#: A life event nearest by meaning, when the words named neither a procedure nor an event (not swept:
#: set above every unrelated message seen on the tune halves, 0.92).
MEANING_LIFE_EVENT_SURE = 0.94
#: A confident FAQ entry answers instead of a procedure the words named when its question's cosine with
#: the message is at least FAQ_PARAPHRASE and leads the procedure's nearest text by FAQ_LEAD.
#: 0.01 took two tune questions from their right cards (近くの避難所はどこですか 1.000 vs 0.985; a 国民年金
#: question 0.969 vs 0.942); 0.03 keeps them and still lets the issue's 駐車場 example go to the FAQ.
FAQ_PARAPHRASE = 0.92
FAQ_LEAD = 0.03
#: A winner leading the runner-up by less than this (fused scores) is answered with 「もしかして」
#: alternatives beside it, and the turn goes to the staff review list.
THIN_MARGIN = 0.03


@dataclass
class Resolution:
    """What to answer."""

    kind: str  # "procedure" | "life_event" | "faq" | "close" | "none"
    procedure: Procedure | None = None
    event: LifeEvent | None = None
    option: LifeEventOption | None = None
    faq_entry: object | None = None
    #: (title, payload) suggestion buttons, best first, for "close" and "none".
    suggestions: list[tuple[str, str]] = field(default_factory=list)
    #: ids of the best guesses (for the review log).
    guesses: list[str] = field(default_factory=list)
    #: why this answer: "words", "meaning", "action:<name>", "faq", "life_event" … (for `madoguchi ask`)
    reason: str = ""
    #: buttons beside the answer: (title, payload, what it opens: ``procedure:ID`` / ``life_event:ID``)
    offers: list[tuple[str, str, str]] = field(default_factory=list)
    #: why they are offered: "maybe" (the margin was thin: 「もしかして」), "checklist" (the message also
    #: describes a life event), "also" (a second question); None without offers.
    offer: str | None = None
    #: the scores every source gave (for `madoguchi ask` and the review log).
    signals: Signals | None = None

    @property
    def unsure(self) -> bool:
        """Whether the answer came with 「もしかして」 alternatives (recorded for staff review)."""
        return self.offer == "maybe" and bool(self.offers)


@dataclass(frozen=True)
class Signals:
    """What each source said about a message."""

    words: tuple[tuple[str, float], ...] = ()
    life_event: tuple[str, str | None, float] | None = None
    meaning: Neighbours | None = None
    faq: tuple[tuple[str, float], ...] = ()
    faq_level: str = "none"
    actions: tuple[tuple[str, str], ...] = ()
    fused: tuple[tuple[str, float], ...] = ()


def fused_scores(words: list[tuple[str, float]], meaning: Neighbours | None) -> list[tuple[str, float]]:
    """Word score plus the weighted meaning cosine above its floor, for every procedure either names."""
    ids = dict.fromkeys(
        [pid for pid, _ in words] + [pid for pid, _ in (meaning.procedures if meaning else ())]
    )
    lexical = dict(words)
    out = []
    for pid in ids:
        sem = meaning.procedure_score(pid) if meaning else 0.0
        out.append((pid, round(lexical.get(pid, 0.0) + MEANING_WEIGHT * max(0.0, sem - MEANING_FLOOR), 4)))
    return sorted(out, key=lambda x: (-x[1], x[0]))


def resolve(
    text: str,
    intent: str,
    catalog: Catalog,
    faq_snapshot=None,
    meaning: Neighbours | None = None,
    asked: AskedActions | None = None,
    similarity: Callable[[str, str], float] | None = None,
) -> Resolution:
    """Resolves free text to an answer (see the module docstring for the order).

    Args:
        meaning: the message's nearest procedures and life events by meaning (None: words only).
        asked: the action vocabulary choosing among sibling procedures (None: none).
        similarity: (message, text) -> cosine; with it a confident FAQ entry whose question means the
            message better than the procedure's texts do wins over the procedure (see
            :func:`_faq_over_procedure`).
    """
    text = matchable(text)
    matches = catalog.match(text, top_k=5, min_score=PROCEDURE_SUGGEST) if text else []
    life = catalog.match_life_event_scored(text) if text else None
    fused = fused_scores(matches, meaning)
    said = asked.found(text) if asked and text else {}
    signals = Signals(
        words=tuple(matches),
        life_event=(life[0].id, life[1].id if life[1] else None, life[2]) if life else None,
        meaning=meaning,
        actions=tuple(said.items()),
        fused=tuple(fused[:5]),
    )
    resolution = _resolve(text, intent, catalog, faq_snapshot, matches, life, fused, asked, signals)
    resolution.signals = resolution.signals or signals
    if resolution.kind == "procedure" and similarity is not None:
        return _faq_over_procedure(text, resolution, faq_snapshot, similarity)
    return resolution


def _faq_over_procedure(text: str, resolution: Resolution, snapshot, similarity) -> Resolution:
    """Catalog and FAQ weighed by meaning: a confident FAQ entry whose question is nearer to the message
    (cosine) than the chosen procedure's nearest text, by :data:`FAQ_LEAD`, answers instead
    (市役所の駐車場は無料ですか: the FAQ's 市役所に駐車場はありますか, not the 開庁時間 card)."""
    faq_results, faq_level = search_faq(snapshot, text)
    signals = resolution.signals
    signals = Signals(**{**signals.__dict__, "faq": tuple(faq_results[:5]), "faq_level": faq_level})
    resolution.signals = signals
    if faq_level != "confident" or signals.meaning is None or resolution.reason.startswith("action:"):
        return resolution
    entry = snapshot.entries[faq_results[0][0]]
    faq_cosine = similarity(text, entry.question)
    procedure_cosine = signals.meaning.procedure_score(resolution.procedure.id)
    if faq_cosine >= FAQ_PARAPHRASE and faq_cosine >= procedure_cosine + FAQ_LEAD:
        return Resolution(
            "faq",
            faq_entry=entry,
            guesses=[f"faq:{entry.id}", resolution.procedure.id],
            reason=f"faq_meaning {faq_cosine:.3f}>{procedure_cosine:.3f}",
            signals=signals,
        )
    return resolution


def _life_event(life, reason: str) -> Resolution:
    """The life event's answer (its checklist, or the clarify question when it has options)."""
    event, option = life[0], life[1]
    return Resolution(
        "life_event", event=event, option=option, guesses=[f"life_event:{event.id}"], reason=reason
    )


def _resolve(text, intent, catalog, faq_snapshot, matches, life, fused, asked, signals) -> Resolution:
    words = dict(matches)
    top_id, top_score = matches[0] if matches else (None, 0.0)
    if life and top_score <= life[2] + LIFE_EVENT_MARGIN.get(intent, DEFAULT_LIFE_EVENT_MARGIN):
        if not _names_the_option(life[0], life[1], top_id, top_score) and not _named_in_situation(
            catalog, text, top_id, top_score, life
        ):
            return _life_event(life, "life_event")
    if life and (life[1] is not None or not life[0].options) and _asks_for_the_whole_situation(asked, text):
        return _life_event(life, "life_event_overview")
    threshold = PROCEDURE_LIKELY if intent in PROCEDURE_INTENTS else PROCEDURE_SURE
    chosen, reason = None, ""
    if top_id and top_score >= threshold:
        # among the procedures the words name surely, meaning picks the one asked about
        named = [(pid, s) for pid, s in fused if words.get(pid, 0.0) >= threshold]
        chosen = named[0][0] if named else top_id
        reason = "words" if chosen == top_id else "words+meaning"
        meant = _meant_over_weak_words(signals.meaning, chosen, words.get(chosen, 0.0))
        if meant is not None:
            chosen, reason = meant, "meaning_over_weak_words"
    elif signals.meaning is not None and _meaning_sure(signals.meaning):
        chosen, reason = signals.meaning.procedures[0][0], "meaning"
    elif intent in PROCEDURE_INTENTS and _words_and_meaning_agree(signals.meaning, top_id, top_score):
        chosen, reason = top_id, "words_and_meaning"
    if chosen is None:
        chosen, reason = _asked_of_an_object(catalog, asked, text)
    if chosen is None and not life and signals.meaning is not None and signals.meaning.life_events:
        event_id, cosine = signals.meaning.life_events[0]
        if cosine >= MEANING_LIFE_EVENT_SURE and catalog.life_event(event_id) is not None:
            event = catalog.life_event(event_id)
            return Resolution("life_event", event=event, guesses=[f"life_event:{event_id}"], reason="meaning")
    if chosen is not None:
        told = _told_then_asked(catalog, asked, text)
        if told and chosen == told[1]:
            chosen, reason = told[0], "asked_part"
        chosen, reason = _asked_sibling(catalog, asked, chosen, reason, text)
        questions = _two_questions(catalog, asked, text)
        if questions and questions[0] != chosen:
            # the second question's procedure, or one the two parts' words name together (転入届の
            # 期限は。あと犬の登録の住所変更も: the whole message's 住所変更 is 転居届): the first is answered
            chosen, reason = questions[0], "first_question"
        alternatives = _thin_alternatives(catalog, chosen, fused, reason)
        if alternatives:
            offers, offer = alternatives, "maybe"
        elif questions and questions[0] == chosen:
            second = catalog.get(questions[1])
            offers = [(second.name, payload("ask_procedure", procedure=second.id), f"procedure:{second.id}")]
            offer = "also"
        elif life is not None:
            offers, offer = [_checklist_offer(life)], "checklist"
        else:
            offers, offer = [], None
        return Resolution(
            "procedure",
            procedure=catalog.get(chosen),
            guesses=[chosen] + [ref.split(":", 1)[1] for _, _, ref in alternatives],
            reason=reason,
            offers=offers,
            offer=offer,
        )

    faq_results, faq_level = search_faq(faq_snapshot, text)
    signals = Signals(**{**signals.__dict__, "faq": tuple(faq_results[:5]), "faq_level": faq_level})
    if faq_level == "confident":
        entry = faq_snapshot.entries[faq_results[0][0]]
        return Resolution(
            "faq", faq_entry=entry, guesses=[f"faq:{faq_results[0][0]}"], reason="faq", signals=signals
        )

    suggestions: list[tuple[str, str]] = []
    guesses: list[str] = []
    for pid in _suggested(matches, signals.meaning):
        procedure = catalog.get(pid)
        if procedure is None:
            continue
        suggestions.append((procedure.name, payload("ask_procedure", procedure=pid)))
        guesses.append(pid)
    if faq_level == "close":
        for fid, _score in faq_results[:3]:
            entry = faq_snapshot.entries[fid]
            suggestions.append((short_title(entry.question), payload("faq_select", faq_id=fid)))
            guesses.append(f"faq:{fid}")
    return Resolution(
        "close" if suggestions else "none", suggestions=suggestions, guesses=guesses, signals=signals
    )


def _named_in_situation(
    catalog: Catalog, text: str, top_id: str | None, top_score: float, life: tuple
) -> bool:
    """Whether a procedure is named inside a described situation in words of its own
    (子どもが生まれたので児童手当の申請を: 児童手当 is not the situation's 生まれた): its card answers and
    the life event's checklist is offered as a button. When the procedure's alias and the event's trigger
    are the same words (市内で引っ越し予定、やること全部: 引っ越し), the situation is what is asked."""
    if top_id is None or top_score < PROCEDURE_SURE or top_score <= life[2]:
        return False
    alias = fold(catalog.matched_phrase(text, top_id) or "")
    trigger = fold(catalog.matched_trigger(text, life[0].id) or "")
    return bool(alias and trigger) and trigger not in alias and alias not in trigger


def _checklist_offer(life: tuple[LifeEvent, LifeEventOption | None, float]) -> tuple[str, str, str]:
    event, option = life[0], life[1]
    entities = {"life_event": event.id, **({"move_type": option.id} if option else {})}
    title = f"{event.name}（{option.label}）" if option else event.name
    return title, payload("life_event", **entities), f"life_event:{event.id}"


def _asked_sibling(
    catalog: Catalog, asked: AskedActions | None, chosen: str, reason: str, text: str
) -> tuple[str, str]:
    """The sibling of ``chosen`` the action asked picks (マイナンバーカードをなくした: 紛失), if any."""
    switched = asked.choose(chosen, text) if asked is not None else None
    if switched and switched[0] != chosen and catalog.get(switched[0]) is not None:
        return switched[0], f"action:{switched[1]}"
    return chosen, reason


def _asked_of_an_object(catalog: Catalog, asked: AskedActions | None, text: str) -> tuple[str | None, str]:
    """(procedure, reason) when no procedure is named but the text names the object of a group of
    data/asked_actions.yml and one of its actions (保険書がボロボロなので作り直して: the 保険証 group's
    re-issue); (None, "") otherwise."""
    found = asked.choose_by_object(text) if asked is not None and text else None
    if found is None or catalog.get(found[0]) is None:
        return None, ""
    return found[0], f"action:{found[1]}"


def _named_parts(catalog: Catalog, asked: AskedActions | None, text: str) -> list[tuple[str, bool]]:
    """(procedure, told) for each part of a message (:data:`_QUESTION_BREAK`, and a reason clause
    ending in ので/から: :func:`_reason_clause`) that names a procedure surely; ``told``: the part tells
    what happened or what is the case rather than asks (:func:`_tells`, or a reason clause). One part: []."""
    parts: list[tuple[str, bool]] = []
    for part in (p for p in _QUESTION_BREAK.split(text) if p.strip()):
        split = _reason_clause(part)
        parts += [(split[0], True), (split[1], _tells(split[1]))] if split else [(part, _tells(part))]
    if len(parts) < 2:
        return []
    named: dict[str, bool] = {}
    for part, told in parts:
        found = catalog.match(part, top_k=1, min_score=PROCEDURE_SURE)
        if found:
            pid = _asked_sibling(catalog, asked, found[0][0], "", part)[0]
            # told first and asked after (葬儀を出しました。…葬祭費は出ますか): it is asked
            named[pid] = named.get(pid, True) and told
    return list(named.items())


#: Parts of speech that end a predicate (a reason clause's ので/から follows one).
_PREDICATE = frozenset({"動詞", "助動詞", "形容詞"})


def _reason_clause(part: str) -> tuple[str, str] | None:
    """(reason, rest) when a part gives a reason before what it asks (国保に入っていたので、葬祭費は…;
    入ってたから / 入ってたんで): split after the last ので, んで or から that follows a predicate; None
    when there is none or nothing follows it. The reason tells the resident's situation, so a procedure
    named only there is not the one asked (see :func:`_told_then_asked`)."""
    morphs = [m for m in analyze(normalize(part), "A") if m.pos]
    end = None
    for i in range(1, len(morphs)):
        m, before = morphs[i], morphs[i - 1]
        if m.pos[:2] == ("助詞", "接続助詞") and m.lemma == "から" and before.pos[0] in _PREDICATE:
            end = i
        elif (
            i >= 2
            and m.pos[0] == "助動詞"
            and m.surface == "で"
            and before.pos[:2] == ("助詞", "準体助詞")
            and morphs[i - 2].pos[0] in _PREDICATE
        ):
            end = i
        elif m.pos[0] == "助詞" and m.surface == "ので" and before.pos[0] in _PREDICATE:
            end = i
    if end is None:
        return None
    rest = morphs[end + 1 :]
    if not any(m.pos[0] not in ("補助記号", "空白") for m in rest):
        return None
    return "".join(m.surface for m in morphs[: end + 1]), "".join(m.surface for m in rest)


def _two_questions(catalog: Catalog, asked: AskedActions | None, text: str) -> tuple[str, str] | None:
    """(first, second) procedures when the message is two questions, each naming a procedure surely
    (住民票を取りたいです。あと、印鑑登録もしたい); None otherwise. A part that tells what happened
    (年金を受け取っていた母が亡くなりました) is not a question (see :func:`_told_then_asked`)."""
    named = [pid for pid, told in _named_parts(catalog, asked, text) if not told]
    return (named[0], named[1]) if len(named) >= 2 else None


def _told_then_asked(catalog: Catalog, asked: AskedActions | None, text: str) -> tuple[str, str] | None:
    """(asked, told) when one part of the message tells what happened, naming a procedure, and another
    asks about a different one (年金を受け取っていた母が亡くなりました。年金を止める届けを…: the
    question is the second part's); None otherwise, and None when the two are siblings of one group of
    data/asked_actions.yml (then the action told chooses between them)."""
    named = _named_parts(catalog, asked, text)
    asked_ids = [pid for pid, told in named if not told]
    told_ids = [pid for pid, told in named if told]
    if not (asked_ids and told_ids):
        return None
    group = asked.group_of(told_ids[0]) if asked is not None else None
    if group is not None and asked_ids[0] in group.members:
        # siblings (会社の保険に入りました。国保は?): the told part is what chooses among them
        return None
    return asked_ids[0], told_ids[0]


def _tells(part: str) -> bool:
    """Whether a part of a message tells what happened or what is the case: it ends in the past tense
    (亡くなりました, はいりました, 届きました) with no question or request after it, or it says what
    something is, a topic with は and a noun with the copula (今は国民健康保険でございます,
    うちは国保です)."""
    morphs = [m for m in analyze(normalize(part), "A") if m.pos and m.pos[0] not in ("補助記号", "空白")]
    if not morphs:
        return False
    if morphs[-1].pos[0] == "助動詞" and morphs[-1].lemma == "た":
        return True
    return _states(morphs)


#: The copula's words (です, だ; でございます is で + ござる + ます).
_COPULA = frozenset({"です", "だ"})


def _states(morphs: list) -> bool:
    """Whether the words end in ``<topic>は … <noun> です|だ|でございます``."""
    tail = morphs
    if len(tail) >= 3 and tail[-1].lemma == "ます" and tail[-2].lemma in ("御座る", "ござる"):
        tail = tail[:-2]
    if len(tail) < 3 or tail[-1].pos[0] != "助動詞" or tail[-1].lemma not in _COPULA:
        return False
    noun, topic = tail[-2], tail[:-2]
    return noun.pos[0] == "名詞" and any(m.pos[:2] == ("助詞", "係助詞") and m.surface == "は" for m in topic)


#: Words that list things (保険や年金): with a life event told, several of its procedures are asked about.
_LISTING = frozenset({"や", "とか"})


def _asks_for_the_whole_situation(asked: AskedActions | None, text: str) -> bool:
    """Whether a message that tells a life event asks for everything it entails: an ``overview`` word
    of data/asked_actions.yml (一通り, まとめて, どんな手続き) or several things listed (健康保険や年金)."""
    if asked is not None and "overview" in asked.found(text):
        return True
    words = _particles_joined(analyze(normalize(text), "A"))
    return any(
        a[0] == "名詞" and b[0] == "助詞" and b[1] in _LISTING and c[0] == "名詞"
        for a, b, c in zip(words, words[1:], words[2:], strict=False)
    )


def _particles_joined(morphs: list) -> list[tuple[str, str]]:
    """(part of speech, surface) of each word, adjacent particles joined into one: Sudachi's short unit
    splits the listing とか into と + か (保険とか年金とか), which is one particle."""
    words: list[tuple[str, str]] = []
    for m in morphs:
        pos = m.pos[0] if m.pos else ""
        if pos == "助詞" and words and words[-1][0] == "助詞":
            words[-1] = ("助詞", words[-1][1] + m.surface)
        else:
            words.append((pos, m.surface))
    return words


def _meant_over_weak_words(meaning: Neighbours | None, chosen: str, score: float) -> str | None:
    """The procedure meaning names surely over one the words name only weakly (see
    :data:`MEANING_OVER_WEAK_WORDS`); None when the words are sure or meaning does not lead enough."""
    if meaning is None or score >= PROCEDURE_SURE or not _meaning_sure(meaning):
        return None
    best, cosine = meaning.procedures[0]
    if best == chosen:
        return None
    chosen_cosine = meaning.procedure_score(chosen) or MEANING_FLOOR
    return best if cosine - chosen_cosine >= MEANING_OVER_WEAK_WORDS else None


def _words_and_meaning_agree(meaning: Neighbours | None, top_id: str | None, top_score: float) -> bool:
    """Whether a procedure both sources name, each too weakly to answer alone, is the one asked about:
    the words' best (at least :data:`PROCEDURE_SUGGEST`: an alias in a long message) is also meaning's
    nearest (at least :data:`MEANING_SUGGEST`). Only under a topic intent (the caller's check)."""
    if meaning is None or not meaning.procedures or top_id is None or top_score < PROCEDURE_SUGGEST:
        return False
    best, cosine = meaning.procedures[0]
    return best == top_id and cosine >= MEANING_SUGGEST


def _meaning_sure(meaning: Neighbours) -> bool:
    """Whether the nearest procedure by meaning is near enough, and far enough ahead, to answer."""
    return bool(meaning.procedures) and (
        meaning.procedures[0][1] >= MEANING_SURE and meaning.margin() >= MEANING_MARGIN
    )


def _suggested(matches: list[tuple[str, float]], meaning: Neighbours | None) -> list[str]:
    """Procedures to offer: those the words match, then those near in meaning (at most three)."""
    ids = [pid for pid, _ in matches[:3]]
    for pid, cosine in meaning.procedures if meaning else ():
        if cosine >= MEANING_SUGGEST and pid not in ids:
            ids.append(pid)
    return ids[:3]


def _thin_alternatives(
    catalog: Catalog, chosen: str, fused: list[tuple[str, float]], reason: str
) -> list[tuple[str, str, str]]:
    """「もしかして」 buttons when the runner-up is within :data:`THIN_MARGIN` of the winner (a sibling
    chosen by the action asked is not second-guessed)."""
    if reason.startswith("action:") or len(fused) < 2:
        return []
    scores = dict(fused)
    best = scores.get(chosen, fused[0][1])
    out = []
    for pid, score in fused:
        if pid != chosen and best - score < THIN_MARGIN and catalog.get(pid) is not None:
            out.append((catalog.get(pid).name, payload("ask_procedure", procedure=pid), f"procedure:{pid}"))
    return out[:2]


def _names_the_option(
    event: LifeEvent, option: LifeEventOption | None, top_id: str | None, score: float
) -> bool:
    """Whether a procedure named in the text answers the event's clarifying question itself.

    引っ越すので転出の手続きを: the move would be answered with "どちらの引っ越しですか？", but 転出 is
    one of the moving checklist's procedures, so the procedure is the answer. So is a procedure of one
    option's checklist (来週引っ越すから水道を止めたい: 水道 is on the 市外へ and 市内で lists): the
    resident asked about it, and the checklist is offered beside its card.
    """
    if option is not None or not event.options or top_id is None or score < PROCEDURE_LIKELY:
        return False
    return top_id in event.checklist or any(top_id in o.checklist for o in event.options)


def understood_intent(intent: str, ranking: list[dict]) -> str:
    """The intent to resolve with: ``nlu_fallback`` only when the classifier did not understand.

    The FallbackClassifier also falls back when the two best intents are close. When both are topic
    intents (:data:`PROCEDURE_INTENTS`: 障害者手帳がほしい… could be ``ask_procedure`` or ``life_event``)
    and the best is confident enough on its own, the resident did ask about a procedure or an event; the
    best of the two is used, and the resolver decides from the words.

    Args:
        intent: the predicted intent name.
        ranking: the NLU's ``intent_ranking`` (name, confidence), best first.
    """
    if intent != "nlu_fallback":
        return intent
    ranked = [r for r in ranking if r.get("name") != "nlu_fallback"][:2]
    if (
        len(ranked) == 2
        and all(r.get("name") in PROCEDURE_INTENTS for r in ranked)
        and float(ranked[0].get("confidence") or 0.0) >= FALLBACK_THRESHOLD
    ):
        return str(ranked[0]["name"])
    return intent


def matchable(text: str) -> str:
    """The text the catalog is matched with: a romaji message in hiragana (juuminhyou wo toritai), else
    the text itself."""
    return romaji.to_kana(text) if text and romaji.looks_like_romaji(text) else text


def named_in_text(catalog: Catalog, text: str, generic: str | None = None) -> str | None:
    """The procedure id the words name best (None when none matches).

    Args:
        catalog: the procedure catalog.
        text: the resident's words.
        generic: an entry the question's framing matches (``online_list`` under ``ask_online``): when it
            is the best match and another procedure scores within :data:`GENERIC_MARGIN` of it, that
            procedure is meant.
    """
    matches = catalog.match(matchable(text), top_k=3)
    if not matches:
        return None
    best_id, best_score = matches[0]
    if best_id == generic:
        for pid, score in matches[1:]:
            if score >= best_score - GENERIC_MARGIN:
                return pid
    return best_id


def search_faq(snapshot, text: str) -> tuple[list[tuple[str, float]], str]:
    """Ranks the FAQ for a text; returns (results, "confident" | "close" | "none")."""
    if snapshot is None or not text.strip():
        return [], "none"
    from bot.knowledge.faq.ranking import confidence

    results = snapshot.index.search(text, top_k=10)
    return results, confidence(results)


def short_title(question: str, limit: int = 40) -> str:
    """A question cut to fit on a button."""
    question = " ".join(question.split())
    return question if len(question) <= limit else question[: limit - 1] + "…"
