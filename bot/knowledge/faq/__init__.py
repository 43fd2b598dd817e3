"""The FAQ knowledge base staff curate.

- :mod:`.model` — the :class:`~bot.knowledge.faq.model.FaqEntry` dataclass.
- :mod:`.tables` — staff spreadsheets in and out (CSV in UTF-8 / UTF-8 with BOM / CP932, and .xlsx).
- :mod:`.validate` — every problem of a table, with its spreadsheet row number, before anything changes.
- :mod:`.base` — the live base on disk: versions, atomic swap, file lock, hot reload (:class:`LiveFaq`).
- :mod:`.review` — the review workbook (questions the bot could not answer) out to staff and back.
- :mod:`.ranking` — the search index (``FaqIndex``).

Nothing is imported here so that importing the package stays cheap.
"""
