"""The conversation core: how a resident's message becomes a reply. Plain Python, no Rasa import.

- :mod:`.understood` — :class:`Understood`, the message as the NLU read it (text, intent, entities, slots).
- :mod:`.knowledge` — :class:`Knowledge`, what a turn is decided from (catalog, FAQ, messages, menu, now).
- :mod:`.live` — :class:`LiveKnowledge`, the process's knowledge (files reloaded when they change).
- :mod:`.decide` — ``decide(ask, understood, knowledge) -> Turn``: the one entry point.
- :mod:`.resolve` — what free text is about (procedure, life event, FAQ entry, or unclear).
- :mod:`.compose`, :mod:`.contact` — the answers, as replies with cards.
- :mod:`.callback_form` — the callback form: each answer fills its step or re-asks it (reason, example);
  the day and hours of the call. :mod:`.form_answers` — names, time slots, 「わからない」 read from the words.
- :mod:`.replies` — :class:`Reply` (text, buttons, card or a domain.yml response), :class:`Turn`.
- :mod:`.cards` — one frozen dataclass per kind of ``custom.madoguchi`` card, ``to_json``/``card_from_json``.

The Rasa actions (``actions/``) are adapters: tracker in (:func:`actions.adapter.understood`), dispatcher
out (:func:`actions.adapter.send`). Nothing is imported here so that importing the package stays cheap.
"""
