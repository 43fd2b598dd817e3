"""Composing answers from the catalog and the FAQ: which pieces to show, as replies with cards.

Every text comes from data/messages.yml (:class:`~bot.dialogue.knowledge.Messages`) or the catalog/FAQ
data; this module only decides which pieces to show. Answers end with the "役に立ちましたか？" question
(:data:`~bot.dialogue.replies.ASK_FEEDBACK`) so votes can be recorded.
"""

from __future__ import annotations

from typing import Any

from bot.dialogue import contact
from bot.dialogue.cards import (
    ChecklistCard,
    ClarifyCard,
    Contact,
    DetailsCard,
    EasyFields,
    FallbackCard,
    FaqCard,
    MenuCard,
    OnlineCard,
    OnlineForm,
    ProcedureCard,
    SuggestionsCard,
)
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.replies import (
    ASK_FEEDBACK,
    Button,
    Line,
    Reply,
    ReviewNote,
    Turn,
    payload,
    render_line,
    text,
)
from bot.knowledge.catalog import LifeEvent, LifeEventOption, Procedure, department_names

#: Most buttons a suggestion list shows (LINE quick replies and small screens stay readable).
MAX_SUGGESTIONS = 3
#: Most procedures the 「手続きをさがす」 menu offers (LINE allows 13 quick replies).
MAX_MENU = 12
#: Most related procedures a details answer links to.
MAX_RELATED = 3
_WHERE_ORDER = ("counter", "mail", "convenience_store", "online", "phone")


def where_labels(k: Knowledge, procedure: Procedure, easy: bool = False) -> list[str]:
    """Human labels of the places a procedure can be done, in a fixed order (``easy``: in やさしい日本語,
    data/yasashii.yml)."""
    labels = k.easy.where_labels if easy and k.easy else k.messages.raw("procedure.where_labels")
    return [labels[key] for key in _WHERE_ORDER if getattr(procedure.where, key)]


def easy_fields(k: Knowledge, procedure: Procedure) -> EasyFields | None:
    """Every card field in やさしい日本語, or None when data/yasashii.yml has nothing for the procedure
    (``madoguchi catalog check`` reports that)."""
    easy = k.easy.procedures.get(procedure.id) if k.easy else None
    if easy is None:
        return None
    department = k.catalog.department_of(procedure.id)
    contact = None
    if department:
        contact = Contact(name=k.easy.departments.get(department.id, department.name), phone=department.phone)
    return EasyFields(
        summary=procedure.summary_easy or procedure.summary,
        deadline=easy.deadline if procedure.deadline else None,
        bring=easy.bring,
        fee=easy.fee,
        where=tuple(where_labels(k, procedure, easy=True)),
        department=contact,
    )


def online_form(procedure: Procedure) -> OnlineForm | None:
    """The card's view of a procedure's online form."""
    form = procedure.online
    return OnlineForm(url=form.url, requires_mynumber_card=form.requires_mynumber_card) if form else None


def procedure_card(k: Knowledge, procedure: Procedure, easy: bool = False) -> ProcedureCard:
    """Structured fields of a procedure answer; ``easy``: rich channels show ``summary_easy``."""
    department = k.catalog.department_of(procedure.id)
    return ProcedureCard(
        easy=easy,
        procedure=procedure.id,
        name=procedure.name,
        summary=procedure.summary,
        summary_easy=procedure.summary_easy,
        deadline=procedure.deadline,
        bring=tuple(procedure.bring),
        fee=procedure.fee,
        where=tuple(where_labels(k, procedure)),
        online=online_form(procedure),
        department=Contact(name=department.name, phone=department.phone) if department else None,
        easy_fields=easy_fields(k, procedure),
    )


def procedure_lines(k: Knowledge, procedure: Procedure, easy: bool) -> tuple[Line, ...]:
    """The short answer: what, deadline, what to bring, where, who to call (``easy``: every field in
    やさしい日本語, with the labels of ``procedure.easy`` in data/messages.yml)."""
    card = procedure_card(k, procedure, easy)
    fields = card.easy_fields if easy and card.easy_fields else card
    prefix = "procedure.easy." if fields is card.easy_fields else "procedure."
    sep = k.messages.text("procedure.list_separator")
    lines: list[Line] = [text("procedure.title", name=procedure.name)]
    lines.append(procedure.summary_easy if easy and procedure.summary_easy else procedure.summary)
    if fields.deadline:
        lines.append(text(prefix + "deadline", deadline=fields.deadline))
    if fields.bring:
        lines.append(text(prefix + "bring", bring=sep.join(fields.bring)))
    if fields.fee:
        lines.append(text(prefix + "fee", fee=fields.fee))
    if fields.where:
        lines.append(text(prefix + "where", where=sep.join(fields.where)))
    if fields.department:
        lines.append(
            text(prefix + "department", department=fields.department.name, phone=fields.department.phone)
        )
    return tuple(lines)


def procedure_buttons(k: Knowledge, procedure: Procedure, leave_out: str = "") -> tuple[Button, ...]:
    """Online form, details, ask by phone (``leave_out``: the intent of the answer being given)."""
    labels = k.messages.raw("procedure.buttons")
    buttons = []
    if procedure.online:
        buttons.append(Button(labels["online"], payload("ask_online", procedure=procedure.id)))
    buttons.append(Button(labels["details"], payload("ask_details", procedure=procedure.id)))
    buttons.append(Button(labels["phone"], payload("ask_phone", procedure=procedure.id)))
    return tuple(b for b in buttons if not (leave_out and b.payload.startswith(f"/{leave_out}")))


def procedure_reply(k: Knowledge, procedure: Procedure, easy: bool) -> Turn:
    """The short answer for one procedure (text, buttons, card), nothing else; an entry marked
    ``with_phone_answer`` (the office hours) with the phone answer after its card (its own "ask by
    phone" button left out)."""
    hours = procedure.with_phone_answer
    reply = Reply(
        lines=procedure_lines(k, procedure, easy),
        buttons=procedure_buttons(k, procedure, leave_out="ask_phone" if hours else ""),
        card=procedure_card(k, procedure, easy),
    )
    phone = contact.phone(k, procedure).replies if hours else ()
    return Turn((reply, *phone), (("procedure", procedure.id), ("last_answer", f"procedure:{procedure.id}")))


def answer_procedure(k: Knowledge, procedure: Procedure, easy: bool) -> Turn:
    """The short answer for one procedure, then "was this helpful?"."""
    return procedure_reply(k, procedure, easy).then(Turn((ASK_FEEDBACK,)))


def kept_checklist(k: Knowledge, event_id: str, option_id: str | None) -> str | None:
    """A checklist as a message to keep (pin, forward, print): the list with each deadline and who to
    ask, without buttons; None when the life event (or its option) is not in the catalog."""
    event = k.catalog.life_event(event_id)
    option = event.option(option_id) if event and option_id else None
    if event is None or (event.options and option is None) or (option_id and not event.options):
        return None
    reply = answer_life_event(k, event, option).replies[0]
    lines = [render_line(line, k.messages) for line in reply.lines]
    lines[-1] = k.messages.text("life_event.kept_footer", phone=k.catalog.city.phone)
    for pid in reply.card.procedures:
        department = k.catalog.department_of(pid)
        if department:
            index = 1 + (1 if event.intro else 0) + reply.card.procedures.index(pid)
            lines[index] += k.messages.text(
                "life_event.kept_department", department=department.name, phone=department.phone
            )
    return "\n".join(lines)


def answer_life_event(k: Knowledge, event: LifeEvent, option: LifeEventOption | None) -> Turn:
    """A checklist of related procedures, or one clarifying question first."""
    if event.options and option is None:
        reply = Reply(
            lines=(text("life_event.clarify", question=event.question or event.name),),
            buttons=tuple(
                Button(o.label, payload("life_event", life_event=event.id, move_type=o.id))
                for o in event.options
            ),
            card=ClarifyCard(life_event=event.id),
        )
        return Turn((reply,), (("life_event", event.id), ("move_type", None)))
    checklist = option.checklist if option else event.checklist
    name = f"{event.name}（{option.label}）" if option else event.name
    procedures = [p for p in (k.catalog.get(pid) for pid in checklist) if p is not None]
    deadlines = tuple((option or event).deadline_of(p) for p in procedures)
    lines: list = [event.intro] if event.intro else []
    lines.append(text("life_event.checklist_heading", name=name))
    for p, deadline in zip(procedures, deadlines, strict=True):
        key = "life_event.checklist_item" if deadline else "life_event.checklist_item_no_deadline"
        lines.append(text(key, name=p.name, deadline=deadline or ""))
    lines.append(text("life_event.checklist_footer"))
    reply = Reply(
        lines=tuple(lines),
        buttons=tuple(Button(p.name, payload("ask_procedure", procedure=p.id)) for p in procedures),
        card=ChecklistCard(
            life_event=event.id,
            option=option.id if option else None,
            procedures=tuple(p.id for p in procedures),
            deadlines=deadlines,
            intro=event.intro,
        ),
    )
    option_id = option.id if option else None
    slots = (
        ("life_event", event.id),
        ("move_type", option_id),
        ("last_answer", f"life_event:{event.id}:{option_id or ''}"),
    )
    return Turn((reply, ASK_FEEDBACK), slots)


def answer_faq_entry(k: Knowledge, entry: Any) -> Turn:
    """One FAQ answer with its department (and that department's phone, as procedure cards show it),
    link and 確認日."""
    lines = [text("faq.answer", answer=entry.answer)]
    department = department_names.find(k.catalog, entry.department)
    if department is not None:
        lines.append(text("procedure.department", department=department.name, phone=department.phone))
    elif entry.department:
        lines.append(text("faq.meta_department", department=entry.department))
    if entry.verified_on:
        lines.append(text("faq.meta_verified", verified_on=entry.verified_on))
    buttons = (Button(k.messages.text("faq.more_link"), entry.url),) if entry.url else ()
    card = FaqCard(
        faq_id=entry.id,
        question=entry.question,
        department=entry.department,
        url=entry.url or None,
        verified_on=entry.verified_on or None,
        contact=Contact(name=department.name, phone=department.phone) if department else None,
    )
    reply = Reply(lines=tuple(lines), buttons=buttons, card=card)
    return Turn((reply, ASK_FEEDBACK), (("last_answer", f"faq:{entry.id}"),))


def people_buttons(k: Knowledge) -> tuple[Button, ...]:
    """The two ways to a person that every dead end offers."""
    msg = k.messages
    return (
        Button(msg.text("fallback.phone_button"), payload("ask_phone")),
        Button(msg.text("fallback.callback_button"), payload("request_callback")),
    )


def suggest(k: Knowledge, suggestions: list[tuple[str, str]], intro_key: str) -> Turn:
    """Up to three "もしかして" buttons plus phone and callback; never a dead end.

    Args:
        suggestions: (title, payload) pairs, best first.
        intro_key: the messages.yml key of the text above the buttons.
    """
    if suggestions:
        shown = tuple(Button(title, p) for title, p in suggestions[:MAX_SUGGESTIONS])
        reply = Reply(
            lines=(text(intro_key),),
            buttons=shown + people_buttons(k),
            card=SuggestionsCard(count=len(shown)),
        )
    else:
        reply = Reply(
            lines=(text("fallback.nothing"), text("fallback.rephrase_hint")),
            buttons=people_buttons(k),
            card=FallbackCard(),
        )
    return Turn((reply,), (("last_answer", "fallback"),))


def answer_resolution(k: Knowledge, resolution: Any, question: str, easy: bool) -> Turn:
    """The answer a :class:`bot.dialogue.resolve.Resolution` calls for.

    Unclear questions (suggestions or nothing) carry a :class:`ReviewNote` so staff can turn them into
    FAQ content.
    """
    if resolution.kind == "procedure" and resolution.offers:
        return _procedure_with_offers(k, resolution, question, easy)
    if resolution.kind == "procedure":
        return answer_procedure(k, resolution.procedure, easy)
    if resolution.kind == "life_event":
        return answer_life_event(k, resolution.event, resolution.option)
    if resolution.kind == "faq":
        return answer_faq_entry(k, resolution.faq_entry)
    note = None
    if question.strip():
        kind = "low_confidence" if resolution.kind == "close" else "fallback"
        note = ReviewNote(question, kind, tuple(resolution.guesses))
    only_faq = all(g.startswith("faq:") for g in resolution.guesses)
    intro = "faq.close_intro" if resolution.kind == "close" and only_faq else "fallback.suggest_intro"
    turn = suggest(k, resolution.suggestions, intro)
    return Turn(turn.replies, turn.slots, note)


def _procedure_with_offers(k: Knowledge, resolution: Any, question: str, easy: bool) -> Turn:
    """The procedure's answer, then the offered buttons (「もしかして」, the life event's checklist, a
    second question), then "was this helpful?". A thin margin's turn goes to the staff review list."""
    offers = resolution.offers[:MAX_SUGGESTIONS]
    reply = Reply(
        lines=(text(f"answer.offer_{resolution.offer}"),),
        buttons=tuple(Button(title, p) for title, p, _ in offers),
        card=SuggestionsCard(
            count=len(offers), offer=resolution.offer, options=tuple(r for _, _, r in offers)
        ),
    )
    turn = procedure_reply(k, resolution.procedure, easy).then(Turn((reply, ASK_FEEDBACK)))
    if resolution.unsure and question.strip():
        turn = Turn(
            turn.replies, turn.slots, ReviewNote(question, "low_confidence", tuple(resolution.guesses))
        )
    return turn


def menu(k: Knowledge) -> Turn:
    """Popular procedures as buttons (「手続きをさがす」 with nothing named yet)."""
    procedures = [k.catalog.get(pid) for pid in k.menu if k.catalog.get(pid)][:MAX_MENU]
    reply = Reply(
        lines=(text("procedure.menu_intro"),),
        buttons=tuple(Button(p.name, payload("ask_procedure", procedure=p.id)) for p in procedures),
        card=MenuCard(procedures=tuple(p.id for p in procedures)),
    )
    return Turn((reply,))


def details(k: Knowledge, procedure: Procedure) -> Turn:
    """The longer explanation of a procedure, with related procedures as buttons."""
    lines: list[Line] = [text("procedure.details_heading", name=procedure.name)]
    if procedure.details:
        lines.append(procedure.details)
    if procedure.who:
        lines.append(text("procedure.who", who=procedure.who))
    if procedure.alternatives:
        lines.append(procedure.alternatives)
    related = [k.catalog.get(r) for r in procedure.related if k.catalog.get(r)]
    buttons = procedure_buttons(k, procedure, leave_out="ask_details") + tuple(
        Button(r.name, payload("ask_procedure", procedure=r.id)) for r in related[:MAX_RELATED]
    )
    reply = Reply(
        lines=tuple(lines),
        buttons=buttons,
        card=DetailsCard(procedure=procedure.id),
    )
    slots = (("procedure", procedure.id), ("last_answer", f"details:{procedure.id}"))
    return Turn((reply, ASK_FEEDBACK), slots)


def online(k: Knowledge, procedure: Procedure) -> Turn:
    """The online form (with whether a マイナンバーカード is needed) or the honest alternatives."""
    msg = k.messages
    sep = msg.text("procedure.list_separator")
    buttons: tuple[Button, ...] = ()
    lines: list[Line]
    if procedure.online:
        lines = [text("online.available", name=procedure.name, url=procedure.online.url)]
        key = "online.requires_card" if procedure.online.requires_mynumber_card else "online.no_card_needed"
        lines.append(text(key))
        if procedure.online.note:
            lines.append(text("online.note", note=procedure.online.note))
        buttons = (Button(msg.text("online.open_form_button"), procedure.online.url),)
    else:
        lines = [text("online.not_available", name=procedure.name), text("online.alternatives_heading")]
        places = [p for p in where_labels(k, procedure) if p]
        if places:
            lines.append(text("procedure.where", where=sep.join(places)))
        if procedure.alternatives:
            lines.append(procedure.alternatives)
    reply = Reply(
        lines=tuple(lines),
        buttons=buttons + procedure_buttons(k, procedure, leave_out="ask_online"),
        card=OnlineCard(procedure=procedure.id, online=online_form(procedure)),
    )
    slots = (("procedure", procedure.id), ("last_answer", f"online:{procedure.id}"))
    return Turn((reply, ASK_FEEDBACK), slots)


def say(key: str, **values: Any) -> Turn:
    """A single plain text from data/messages.yml."""
    return Turn((Reply(lines=(text(key, **values),)),))
