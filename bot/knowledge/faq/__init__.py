"""The FAQ knowledge base staff curate.

- :mod:`.entry` — the :class:`~bot.knowledge.faq.entry.FaqEntry` dataclass.
- :mod:`.tables` — staff spreadsheets in and out (CSV in UTF-8 / UTF-8 with BOM / CP932, and .xlsx).
- :mod:`.validate` — every problem of a table, with its spreadsheet row number, before anything changes.
- :mod:`.live_base` — the live base on disk: versions, atomic swap, file lock, hot reload (:class:`LiveFaq`).
- :mod:`.review` — the review workbook (questions the bot could not answer) out to staff and back.
- :mod:`.ranking` — the search index (``FaqIndex``).
- :mod:`.import_export` — a staff table validated and published as the live base, and exported back.

Nothing is imported here so that importing the package stays cheap.
"""
