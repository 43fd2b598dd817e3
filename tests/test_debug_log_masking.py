"""No resident text in any log at DEBUG: Rasa's structlog JSON lines are masked too (issue 13, item 6)."""

from __future__ import annotations

import io
import logging

import pytest
import structlog

from bot.rasa_server import install_record_masking

CANARY_NAME = "山田花子"
CANARY_PHONE = "090-1234-5678"
TEXT = f"{CANARY_NAME}です。電話は{CANARY_PHONE}、東京都千代田区1-2-3"


@pytest.fixture
def masked_factory():
    previous = logging.getLogRecordFactory()
    install_record_masking()
    yield
    logging.setLogRecordFactory(previous)


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("rasa.core.processor")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _configure_rasa_like_structlog() -> None:
    """What rasa.utils.log_utils.configure_structlog does outside a terminal (JSON lines)."""
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )


def test_structlog_json_lines_at_debug_are_masked(masked_factory, captured):
    _configure_rasa_like_structlog()
    try:
        log = structlog.get_logger("rasa.core.processor")
        log.debug("processor.message.parse", parse_data_text=TEXT, slot_values={"callback_name": CANARY_NAME})
        log.debug("tracker", rasa_events=[{"event": "user", "text": TEXT}])
    finally:
        structlog.reset_defaults()
    out = captured.getvalue()
    assert "processor.message.parse" in out  # the lines are there...
    assert CANARY_NAME not in out and CANARY_PHONE not in out and "1-2-3" not in out  # ...masked
    assert "\\u5c71\\u7530" not in out  # nor escaped
    assert "[氏名]" in out and "[電話番号]" in out


def test_plain_records_are_still_masked(masked_factory, captured):
    logging.getLogger("rasa.core.processor").debug("Received user message '%s'", TEXT)
    out = captured.getvalue()
    assert CANARY_NAME not in out and CANARY_PHONE not in out
