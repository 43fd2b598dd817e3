"""Starts Rasa's server with residents' personal data masked in every log record.

``python -m bot.rasa_server run ...`` takes the same arguments as ``rasa run``. Rasa sets up its own
log handlers after start, so the masking is applied where every record is created (the log record
factory), not on handlers.
"""

from __future__ import annotations

import logging
import sys


def install_record_masking() -> None:
    """Masks phone numbers, names, addresses... in every log record created from now on."""
    from bot.privacy import PiiSafeFilter

    mask_filter = PiiSafeFilter()
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        mask_filter.filter(record)
        return record

    logging.setLogRecordFactory(factory)


def main() -> None:
    from rasa.__main__ import main as rasa_main

    install_record_masking()
    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
