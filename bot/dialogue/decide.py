"""The one entry point: what to answer to a message the NLU understood, given the knowledge of the turn.

``decide(ask, understood, knowledge) -> Turn``. ``ask`` is what the dialogue policy chose to do with the
message (answer the question, give details, the online form, a phone number, …: one per action); the
core decides the content. Resolution order: see :mod:`bot.dialogue.resolve`.
"""

from __future__ import annotations

from enum import Enum

from bot.dialogue import compose, contact
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.replies import Reply, ReviewNote, Turn, text
from bot.dialogue.resolve import (
    FAQ_PARAPHRASE,
    PROCEDURE_SURE,
    Resolution,
    matchable,
    named_in_text,
    resolve,
    understood_intent,
)
from bot.dialogue.understood import Understood, crisis_line
from bot.knowledge.catalog import Procedure

#: Catalog entry answered when someone asks "what can I do online?" without naming a procedure.
ONLINE_OVERVIEW_ID = "online_list"
#: Intents that ask for a person (a phone number, a call back).
PERSON_INTENTS = ("ask_phone", "request_callback")
#: When nothing is named (the answer would be suggestions, the fallback or the online overview) and the
#: classifier gives a person-asking intent at least this confidence beside the winner, the resident is
#: given the number to call and the callback button. Blind set 9, tune half: the 3 phone requests told by
#: a difficulty (画面の字が読めない, 人と直接話したい, パソコンはさっぱり) had ask_phone/request_callback at
#: 0.15-0.37 behind ask_procedure/ask_online, and went to suggestions, the fallback or the online overview.
PERSON_RUNNER_UP = 0.10
#: The domain.yml response of a question the city's content does not cover.
OUT_OF_SCOPE_RESPONSE = "utter_out_of_scope"
#: When the classifier says "out of scope" and only meaning (no catalog word) names a procedure, it is
#: answered if the nearest procedure is at least this near. Measured with intent out_of_scope forced:
#: the 75 out-of-scope training sentences (data/nlu/out_of_scope.yml) reach at most 0.924
#: (スマホの機種変更したい → online_list; 9 of them pass 0.90, the general MEANING_SURE), the issue's
#: 高齢者のインフルエンザの注射の補助は → yobo_sesshu 0.945; on the tune half of tests/nlu/dev_questions.yml
#: the words alone answer 61 of 88 right (none of the 75 out-of-scope sentences reaches PROCEDURE_SURE).
OUT_OF_SCOPE_MEANING_SURE = 0.935
#: Resolution reasons that come from the catalog's words (or the asked action on top of them), which a
#: question the classifier called out of scope may be answered by (bot.dialogue.resolve).
WORD_REASONS = ("words", "words+meaning", "meaning_over_weak_words", "asked_part", "first_question")


class Ask(str, Enum):
    """What the policy asked the core for (one per Rasa action)."""

    ANSWER = "answer"  # action_answer_procedure: a procedure, a life event, the FAQ, or suggestions
    FAQ = "faq"  # action_answer_faq: an FAQ entry (a button's), else as ANSWER
    DETAILS = "details"  # action_procedure_details
    ONLINE = "online"  # action_answer_online
    PHONE = "phone"  # action_contact_phone
    SAFETY_FOLLOWUP = "safety_followup"  # action_safety_followup: after a crisis answer
    OUT_OF_SCOPE = "out_of_scope"  # action_answer_out_of_scope: the classifier heard no city topic


def decide(ask: Ask, understood: Understood, knowledge: Knowledge) -> Turn:
    """The replies, slot changes and review note for one message (a possible crisis's line first)."""
    turn = _DECIDERS[Ask(ask)](understood, knowledge)
    line = crisis_line(understood) if Ask(ask) != Ask.SAFETY_FOLLOWUP else None
    return Turn((Reply(response=line),)).then(turn) if line else turn


def named_procedure(
    u: Understood, k: Knowledge, use_text: bool = True, generic: str | None = None
) -> Procedure | None:
    """The procedure the resident means: a button's entity, else their words, else the last topic.

    ``generic``: a catalog entry the question's framing matches (``online_list`` for "can I do it
    online?"); see :func:`bot.dialogue.resolve.named_in_text`.
    """
    catalog = k.catalog
    explicit = u.entity("procedure")
    if explicit and catalog.get(explicit):
        return catalog.get(explicit)
    if use_text and u.text:
        pid = named_in_text(catalog, u.text, generic)
        if pid:
            return catalog.get(pid)
    remembered = u.slots.get("procedure")
    return catalog.get(remembered) if remembered else None


def resolve_understood(u: Understood, k: Knowledge) -> Resolution:
    """What the message asks for (:func:`bot.dialogue.resolve.resolve` with the turn's knowledge): the one
    home of that call, for the decision and for ``madoguchi ask``, which reports its sources."""
    return resolve(
        u.text,
        understood_intent(u.intent, list(u.ranking)),
        k.catalog,
        k.faq,
        meaning=k.neighbours(matchable(u.text)),
        asked=k.asked,
        similarity=k.similarity,
    )


def _resolved(u: Understood, k: Knowledge) -> Turn:
    resolution = resolve_understood(u, k)
    if resolution.kind in ("close", "none") and wants_a_person(u, k):
        return contact.phone(k, None)
    return compose.answer_resolution(k, resolution, u.text, u.easy)


def wants_a_person(u: Understood, k: Knowledge) -> bool:
    """Whether the message asks for a person: the classifier heard it beside the intent it chose
    (:data:`PERSON_RUNNER_UP`), or the words say it (the ``person`` words of data/asked_actions.yml:
    電話で, 直接話したい, 係の方)."""
    if any(
        r.get("name") in PERSON_INTENTS and float(r.get("confidence") or 0.0) >= PERSON_RUNNER_UP
        for r in u.ranking
    ):
        return True
    return bool(u.text) and k.asked is not None and "person" in k.asked.found(u.text)


def _answer(u: Understood, k: Knowledge) -> Turn:
    catalog = k.catalog
    asked = Turn(slots=(("last_question", u.text or None),))
    explicit = u.entity("procedure")
    if explicit and catalog.get(explicit):
        return asked.then(compose.answer_procedure(k, catalog.get(explicit), u.easy))
    event_id = u.entity("life_event")
    if not u.text and not event_id:
        return asked.then(compose.menu(k))
    event = catalog.life_event(event_id) if event_id else None
    if event is not None:
        resolution = Resolution("life_event", event=event, option=event.option(u.entity("move_type") or ""))
        return asked.then(compose.answer_resolution(k, resolution, u.text, u.easy))
    return asked.then(_resolved(u, k))


def _faq(u: Understood, k: Knowledge) -> Turn:
    chosen = u.entity("faq_id")
    if chosen and k.faq is not None and chosen in k.faq.entries:
        return compose.answer_faq_entry(k, k.faq.entries[chosen])
    return Turn(slots=(("last_question", u.text or None),)).then(_resolved(u, k))


def _details(u: Understood, k: Knowledge) -> Turn:
    procedure = named_procedure(u, k)
    if procedure is None:
        return compose.say("details.which")
    return compose.details(k, procedure)


def _online(u: Understood, k: Knowledge) -> Turn:
    procedure = named_procedure(u, k, generic=ONLINE_OVERVIEW_ID)
    # a person asked for beside only the generic online overview (スマホで申請するのが難しくて、手伝って
    # くれる人がほしい) names no procedure: the phone answer, not the list of online procedures
    wants_person = wants_a_person(u, k)
    if procedure is not None and not (procedure.id == ONLINE_OVERVIEW_ID and wants_person):
        return compose.online(k, procedure)
    if wants_person:
        return contact.phone(k, None)
    told = _life_event_told(u, k)
    if told is not None:
        return compose.answer_resolution(k, told, u.text, u.easy)
    overview = k.catalog.get(ONLINE_OVERVIEW_ID)
    if overview is None:
        return compose.say("online.which_procedure")
    return compose.answer_procedure(k, overview, u.easy)


def _life_event_told(u: Understood, k: Knowledge) -> Resolution | None:
    """A life event the message tells in its own words (the triggers of data/life_events.yml), when an
    "online?" question names no procedure: 派遣を切られて無職に…役所で何かしないといけない？ gets the job
    loss checklist, not the list of online procedures. None otherwise."""
    if not u.text:
        return None
    resolution = resolve_understood(u, k)
    return resolution if resolution.kind == "life_event" and resolution.reason == "life_event" else None


def _phone(u: Understood, k: Knowledge) -> Turn:
    return contact.phone(k, named_procedure(u, k))


def _out_of_scope(u: Understood, k: Knowledge) -> Turn:
    """A message the classifier called out of scope: the catalog and the FAQ are still asked, and answer
    when they are sure (「高齢者のインフルエンザの注射の補助は」 → 予防接種); the turn then goes to the staff
    review list, since the classifier disagreed. Otherwise the out-of-scope answer."""
    if u.text:
        resolution = resolve_understood(u, k)
        if _sure_beside_out_of_scope(resolution, u.text, k):
            answer = compose.answer_resolution(k, resolution, u.text, u.easy)
            note = answer.review or ReviewNote(u.text, "low_confidence", tuple(resolution.guesses))
            return Turn(slots=(("last_question", u.text),)).then(Turn(answer.replies, answer.slots, note))
    return Turn((Reply(response=OUT_OF_SCOPE_RESPONSE),))


def _sure_beside_out_of_scope(resolution: Resolution, text: str, k: Knowledge) -> bool:
    """Whether a resolution is sure enough to overrule the classifier's "out of scope": catalog words
    (:data:`WORD_REASONS`), a life event's own words, an FAQ question meaning the same
    (:data:`~bot.dialogue.resolve.FAQ_PARAPHRASE`), or meaning alone at :data:`OUT_OF_SCOPE_MEANING_SURE`."""
    reason = resolution.reason
    if resolution.kind == "procedure":
        if reason in WORD_REASONS or reason.startswith("action:"):
            return True
        meaning = resolution.signals.meaning if resolution.signals else None
        return (
            reason == "meaning"
            and meaning is not None
            and meaning.procedure_score(resolution.procedure.id) >= OUT_OF_SCOPE_MEANING_SURE
        )
    if resolution.kind == "life_event":
        return reason in ("life_event", "life_event_overview")
    if resolution.kind == "faq" and k.similarity is not None:
        return k.similarity(text, resolution.faq_entry.question) >= FAQ_PARAPHRASE
    return False


def _safety_followup(u: Understood, k: Knowledge) -> Turn:
    """After a crisis answer: the card of a procedure the message names clearly; nothing otherwise.

    The crisis answer always comes first and is never taken back (「飼っていた犬が死んでしまいました」 →
    crisis lines, then 犬の死亡の届出); no "was this helpful?" follows.
    """
    if not u.text:
        return Turn()
    matches = k.catalog.match(u.text, top_k=1, min_score=PROCEDURE_SURE)
    if not matches:
        return Turn()
    procedure = k.catalog.get(matches[0][0])
    intro = Reply(lines=(text("safety.procedure_too", name=procedure.name),))
    return Turn((intro,)).then(compose.procedure_reply(k, procedure, u.easy))


_DECIDERS = {
    Ask.ANSWER: _answer,
    Ask.FAQ: _faq,
    Ask.DETAILS: _details,
    Ask.ONLINE: _online,
    Ask.PHONE: _phone,
    Ask.SAFETY_FOLLOWUP: _safety_followup,
    Ask.OUT_OF_SCOPE: _out_of_scope,
}
