"""Writing the masked per-turn analytics record (plain Python, no Rasa).

- :mod:`.outcome` — what kind of answer a turn got, read from its ``custom.madoguchi`` cards.
- :mod:`.identity` — the salted hash that stands for a conversation (never its id).
- :mod:`.recorder` — the channels' one call per turn: builds the event and stores it off the event loop,
  never delaying or failing the resident's answer.

The records are :class:`bot.stores.UsageEvent` in ``Stores.analytics``; 利用状況 reads them
(:mod:`bot.staff.analytics`).
"""
