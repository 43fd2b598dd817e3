"""Starts Rasa's server with residents' personal data masked in every log record.

``python -m bot.rasa_server run ...`` takes the same arguments as ``rasa run``. Rasa sets up its own
log handlers after start, so the masking is applied where every record is created (the log record
factory), not on handlers; it covers Rasa's structlog output (JSON) at every level, DEBUG included.

Before Rasa starts it also installs: one prebuilt validator of action replies
(:mod:`bot.rasa_action_check`), a table of Rasa's event classes instead of a walk of their class tree for
every event read (:mod:`bot.rasa_events`), action calls that carry the turn's events, not the whole
conversation's (:mod:`bot.rasa_action_call`), the NLU parse on the understanding thread instead of
the event loop (:mod:`bot.rasa_nlu_thread`), the SQLite store's closing at shutdown (:mod:`bot.rasa_sql`), the
sentence-encoder counts (``madoguchi_encoder_texts``) and the heap's freeze once the model is loaded
(:mod:`bot.heap`).
"""

from __future__ import annotations

import logging
import sys


def install_record_masking() -> None:
    """Masks phone numbers, names, addresses... in every log record created from now on.

    Rasa's structlog lines (``LOG_LEVEL=DEBUG`` shows every resident text and slot) reach the standard
    logging as JSON with ``\\uXXXX`` escapes the masker cannot read: those are turned back into
    characters first (:func:`bot.privacy_extra.unescape_for_masking`), then masked.
    """
    from bot.privacy import PiiSafeFilter, mask
    from bot.privacy_extra import unescape_for_masking

    mask_filter = PiiSafeFilter()
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        mask_filter.filter(record)
        if "\\u" in record.msg:
            record.msg = mask(unescape_for_masking(record.msg))
        return record

    logging.setLogRecordFactory(factory)


def install_freeze_after_load() -> None:
    """Makes Rasa's ``before_server_start`` listener that loads the model (``load_agent_on_start``)
    freeze the heap once the model is loaded (:func:`bot.heap.freeze`). Call before Rasa starts."""
    from rasa.core import run

    original = run.load_agent_on_start
    if getattr(original, "freezes_heap", False):
        return

    async def load_agent_on_start(*args, **kwargs):
        from bot.heap import freeze

        agent = await original(*args, **kwargs)
        freeze("rasa server, model loaded")
        return agent

    load_agent_on_start.freezes_heap = True  # type: ignore[attr-defined]
    run.load_agent_on_start = load_agent_on_start


def main() -> None:
    # skops (Rasa's LogisticRegressionClassifier loads with it) lists numpy's and scipy's ufuncs at import,
    # looking each up in every module of sys.modules: ~1.7 s of CPU before Rasa and TensorFlow are
    # imported, ~7.7 s after (6000 modules). Imported first, it costs every Rasa start ~6 s less.
    import skops.io  # noqa: F401
    from rasa.__main__ import main as rasa_main

    from bot import rasa_action_call, rasa_action_check, rasa_events, rasa_nlu_thread, rasa_sql
    from bot.metrics import count_encodings

    install_record_masking()
    count_encodings("rasa")
    rasa_action_check.install()
    rasa_action_call.install()
    rasa_events.install()
    rasa_nlu_thread.install()
    rasa_sql.install_closing_at_shutdown()
    install_freeze_after_load()
    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
