"""Deciding what a resident's question is about: a procedure, a life event, an FAQ entry, or unclear.

Resolution order (documented in the README, "How the assistant decides"):
1. An explicit choice from a button (``procedure`` / ``life_event`` / ``faq_id`` entity) wins.
2. A life event (引っ越し, 出産, 家族が亡くなった) gives its checklist, asking one clarifying question
   first when the event has options (市外から / 市外へ / 市内で) — unless a specific procedure is named
   (a procedure from the event's own checklist, 転出の手続き, also answers the clarifying question).
3. A procedure named clearly enough (catalog aliases) gives the procedure answer.
4. A confident FAQ match gives the FAQ answer.
5. Otherwise up to three "もしかして" suggestions (procedures and FAQ entries) plus phone/callback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.dialogue.replies import payload
from bot.knowledge.catalog import Catalog, LifeEvent, LifeEventOption, Procedure

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


def resolve(
    text: str,
    intent: str,
    catalog: Catalog,
    faq_snapshot=None,
) -> Resolution:
    """Resolves free text to an answer (see the module docstring for the order)."""
    matches = catalog.match(text, top_k=3, min_score=PROCEDURE_SUGGEST) if text else []
    top_id, top_score = matches[0] if matches else (None, 0.0)
    life = catalog.match_life_event_scored(text) if text else None

    if life and top_score <= life[2] + LIFE_EVENT_MARGIN.get(intent, DEFAULT_LIFE_EVENT_MARGIN):
        if not _names_the_option(life[0], life[1], top_id, top_score):
            return Resolution(
                "life_event", event=life[0], option=life[1], guesses=[f"life_event:{life[0].id}"]
            )
    threshold = PROCEDURE_LIKELY if intent in PROCEDURE_INTENTS else PROCEDURE_SURE
    if top_id and top_score >= threshold:
        return Resolution("procedure", procedure=catalog.get(top_id), guesses=[top_id])

    faq_results, faq_level = search_faq(faq_snapshot, text)
    if faq_level == "confident":
        entry = faq_snapshot.entries[faq_results[0][0]]
        return Resolution("faq", faq_entry=entry, guesses=[f"faq:{faq_results[0][0]}"])

    suggestions: list[tuple[str, str]] = []
    guesses: list[str] = []
    for pid, _score in matches:
        procedure = catalog.get(pid)
        suggestions.append((procedure.name, payload("ask_procedure", procedure=pid)))
        guesses.append(pid)
    if faq_level == "close":
        for fid, _score in faq_results[:3]:
            entry = faq_snapshot.entries[fid]
            suggestions.append((short_title(entry.question), payload("faq_select", faq_id=fid)))
            guesses.append(f"faq:{fid}")
    return Resolution("close" if suggestions else "none", suggestions=suggestions, guesses=guesses)


def _names_the_option(
    event: LifeEvent, option: LifeEventOption | None, top_id: str | None, score: float
) -> bool:
    """Whether a procedure named in the text answers the event's clarifying question itself.

    引っ越すので転出の手続きを: the move would be answered with "どちらの引っ越しですか？", but 転出 is
    one of the moving checklist's procedures, so the procedure is the answer.
    """
    if option is not None or not event.options or top_id is None or score < PROCEDURE_LIKELY:
        return False
    return top_id in event.checklist


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


def named_in_text(catalog: Catalog, text: str, generic: str | None = None) -> str | None:
    """The procedure id the words name best (None when none matches).

    Args:
        catalog: the procedure catalog.
        text: the resident's words.
        generic: an entry the question's framing matches (``online_list`` under ``ask_online``): when it
            is the best match and another procedure scores within :data:`GENERIC_MARGIN` of it, that
            procedure is meant.
    """
    matches = catalog.match(text, top_k=3)
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
