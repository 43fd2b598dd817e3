"""The catalog as the bot reads it: city, departments, procedures, life events (frozen dataclasses)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import time
from typing import Mapping

from bot.hours import OfficeHours
from bot.knowledge.catalog import matching

DEPARTMENTS_FILE = "departments.yml"
LIFE_EVENTS_FILE = "life_events.yml"
CATALOG_DIR = "catalog"

#: Scores below this are not reported by :meth:`Catalog.match`.
MIN_MATCH_SCORE = 0.3
#: A life event (or one of its options) needs at least this score.
MIN_LIFE_EVENT_SCORE = 0.5
#: Two options of a life event scoring within this of each other are a tie: the resident is asked.
OPTION_TIE = 0.01

PROCEDURE_FIELDS = (
    "id",
    "name",
    "aliases",
    "category",
    "summary",
    "summary_easy",
    "who",
    "deadline",
    "bring",
    "fee",
    "where",
    "online",
    "alternatives",
    "department",
    "details",
    "related",
    "verified_on",
    "with_phone_answer",
)
#: Fields a procedure may leave out: 確認日 (the day staff last checked it against the city's rules).
OPTIONAL_PROCEDURE_FIELDS = ("verified_on", "with_phone_answer")
WHERE_FIELDS = ("counter", "mail", "convenience_store", "online")
#: Ways that may be left out of ``where`` (false when absent): 電話で申し込める (粗大ごみ, 水道).
OPTIONAL_WHERE_FIELDS = ("phone",)
ONLINE_FIELDS = ("url", "requires_mynumber_card", "note")


@dataclass(frozen=True)
class CallbackSlot:
    """A time window residents can pick for a call back from the city."""

    id: str
    label: str
    start: time
    end: time


@dataclass(frozen=True)
class City:
    """The city itself: main phone (代表電話), address, default hours and callback slots."""

    name: str
    phone: str
    address: str
    hours: OfficeHours
    callback_slots: tuple[CallbackSlot, ...]

    def slot(self, slot_id: str) -> CallbackSlot | None:
        """The callback slot with this id, or None."""
        return next((s for s in self.callback_slots if s.id == slot_id), None)


@dataclass(frozen=True)
class Department:
    """A department (課) with its own phone line, hours and counter location."""

    id: str
    name: str
    phone: str
    hours: OfficeHours
    location: str
    hours_note: str = ""


@dataclass(frozen=True)
class Where:
    """Ways a procedure can be done."""

    counter: bool
    mail: bool
    convenience_store: bool
    online: bool
    phone: bool = False


@dataclass(frozen=True)
class OnlineService:
    """The city's online form (電子申請) for a procedure."""

    url: str
    requires_mynumber_card: bool
    note: str


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure residents ask about; every text field comes from the data files."""

    id: str
    name: str
    aliases: tuple[str, ...]
    category: str
    summary: str
    summary_easy: str
    who: str
    deadline: str | None
    bring: tuple[str, ...]
    fee: str
    where: Where
    online: OnlineService | None
    alternatives: str
    department: str
    details: str
    related: tuple[str, ...]
    source: str = ""
    #: 確認日 as an ISO date ("2026-04-01"), "" when never recorded (the console lists it as stale).
    verified_on: str = ""
    #: 電話の案内も出す: the answer carries the phone answer of the department after the card (the
    #: office hours' entry: an hours question is asked to reach a person; blind sets 12 and 13 count
    #: 開いてる？ / 何時まで as ``phone``).
    with_phone_answer: bool = False


@dataclass(frozen=True)
class LifeEventOption:
    """One answer to a life event's clarifying question (e.g. 市外から / 市外へ / 市内で)."""

    id: str
    label: str
    triggers: tuple[str, ...]
    checklist: tuple[str, ...]
    #: ``(procedure id, deadline)`` for items whose deadline this checklist words itself.
    deadlines: tuple[tuple[str, str], ...] = ()

    def deadline_of(self, procedure: Procedure) -> str | None:
        """The deadline this checklist shows for a procedure: its own wording, else the procedure's."""
        return dict(self.deadlines).get(procedure.id, procedure.deadline)


@dataclass(frozen=True)
class LifeEvent:
    """A life event (引っ越し, 出産 …) and the procedures it usually needs."""

    id: str
    name: str
    triggers: tuple[str, ...]
    checklist: tuple[str, ...]
    question: str | None = None
    options: tuple[LifeEventOption, ...] = ()
    deadlines: tuple[tuple[str, str], ...] = ()
    #: A sentence shown before the checklist (condolences for 家族が亡くなった), or None.
    intro: str | None = None
    #: Life events this one brings with it and whose procedures its checklist holds (離婚 includes
    #: 引っ越し: 別れて実家に戻る): a message telling both gets this event's checklist.
    includes: tuple[str, ...] = ()

    def deadline_of(self, procedure: Procedure) -> str | None:
        """The deadline this checklist shows for a procedure: its own wording, else the procedure's."""
        return dict(self.deadlines).get(procedure.id, procedure.deadline)

    def option(self, option_id: str) -> LifeEventOption | None:
        """The option with this id, or None."""
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, eq=False)
class Catalog:
    """The whole catalog. Matching indexes are built on first use and cached on the object."""

    city: City
    departments: Mapping[str, Department]
    procedures: Mapping[str, Procedure]
    life_events: Mapping[str, LifeEvent]

    def get(self, procedure_id: str) -> Procedure | None:
        """The procedure with this id, or None."""
        return self.procedures.get(procedure_id)

    def department(self, department_id: str) -> Department | None:
        """The department with this id, or None."""
        return self.departments.get(department_id)

    def department_of(self, procedure_id: str) -> Department | None:
        """The department in charge of a procedure, or None if the procedure is unknown."""
        procedure = self.get(procedure_id)
        return self.departments.get(procedure.department) if procedure else None

    def life_event(self, event_id: str) -> LifeEvent | None:
        """The life event with this id, or None."""
        return self.life_events.get(event_id)

    @functools.cached_property
    def _procedure_index(self) -> matching.PhraseIndex:
        phrases = {p.id: (p.name, *p.aliases) for p in self.procedures.values()}
        return matching.PhraseIndex.build(phrases)

    @functools.cached_property
    def _life_event_index(self) -> matching.PhraseIndex:
        """Keys: event ids (the event's triggers, plus its options' triggers that have a verb) and
        ``event/option`` (the option's triggers). A verbless option trigger (市内の, 県外から) only tells
        the options apart: alone it does not make 市内の病院 a move."""
        phrases: dict[str, tuple[str, ...]] = {}
        for event in self.life_events.values():
            implied = [t for option in event.options for t in option.triggers if matching.has_verb(t)]
            phrases[event.id] = (*event.triggers, *implied)
            for option in event.options:
                phrases[f"{event.id}/{option.id}"] = option.triggers
        return matching.PhraseIndex.build(phrases)

    def match(self, text: str, top_k: int = 3, min_score: float = MIN_MATCH_SCORE) -> list[tuple[str, float]]:
        """Procedures a resident's words most likely refer to.

        The most specific alias wins: a longer alias that the text contains scores higher than a
        shorter one ("転入届" beats "引っ越し").

        Args:
            text: what the resident wrote (any width, kana or kanji).
            top_k: how many procedures to return at most.
            min_score: drop procedures scoring below this.

        Returns:
            ``(procedure id, score)`` pairs, best first, scores in 0..1: 1.0 when the text is exactly
            an alias; 0.6-1.0 when an alias occurs in it (higher the more of the text it covers);
            lemma matches (other inflection or particles) up to 0.95, typo matches up to 0.7.
        """
        scores = self._procedure_index.scores(text)
        ranked = sorted(
            ((pid, s) for pid, s in scores.items() if s >= min_score), key=lambda x: (-x[1], x[0])
        )
        return [(pid, round(s, 4)) for pid, s in ranked[:top_k]]

    def matched_phrase(self, text: str, procedure_id: str) -> str | None:
        """The alias of a procedure that matched the text best (to explain a match), or None."""
        found = self._procedure_index.best_phrases(text).get(procedure_id)
        return found[1] if found else None

    def matched_trigger(self, text: str, event_id: str) -> str | None:
        """The trigger of a life event that matched the text best, or None."""
        found = self._life_event_index.best_phrases(text).get(event_id)
        return found[1] if found else None

    def match_life_event(
        self, text: str, min_score: float = MIN_LIFE_EVENT_SCORE
    ) -> tuple[LifeEvent, LifeEventOption | None] | None:
        """The life event a resident's words describe, with the option they already answered, if any.

        An option's triggers that contain a verb (越してきた) also count for their event; verbless ones
        (市外から, 市内の) only pick the option. So "市外から越してきた" gives ``(moving, in)``,
        "引っ越しします" gives ``(moving, None)``, and "市内の病院" gives None. When two options match
        equally well, none is picked (the resident is asked).
        """
        scored = self.match_life_event_scored(text, min_score)
        return (scored[0], scored[1]) if scored else None

    def match_life_event_scored(
        self, text: str, min_score: float = MIN_LIFE_EVENT_SCORE
    ) -> tuple[LifeEvent, LifeEventOption | None, float] | None:
        """Like :meth:`match_life_event`, with the score (0..1, comparable to :meth:`match`)."""
        scores = self._life_event_index.scores(text)
        events = [(score, key) for key, score in scores.items() if "/" not in key and score >= min_score]
        if not events:
            return None
        score, event_id = max(events, key=lambda x: (x[0], x[1]))
        including = [
            (s, key) for s, key in events if event_id in self.life_events[key].includes and key != event_id
        ]
        if including:
            # both told (夫と別れて実家に戻る): the event that includes the other one (its ``includes``)
            _, event_id = max(including, key=lambda x: (x[0], x[1]))
        event = self.life_events[event_id]
        return event, self._best_option(event, scores, min_score), score

    @staticmethod
    def _best_option(
        event: LifeEvent, scores: Mapping[str, float], min_score: float
    ) -> LifeEventOption | None:
        """The option the text answers; None when no option, or two equally good ones, match.

        A tie means the words do not tell the options apart (県外の matches both 県外から and 県外へ), so
        the resident is asked rather than guessed for.
        """
        options = [(scores.get(f"{event.id}/{o.id}", 0.0), o) for o in event.options]
        options = sorted(((s, o) for s, o in options if s >= min_score), key=lambda x: -x[0])
        if not options or (len(options) > 1 and options[1][0] >= options[0][0] - OPTION_TIE):
            return None
        return options[0][1]
