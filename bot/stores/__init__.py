"""The memory layer: callback queue, review log, feedback, webhook de-duplication.

One interface (:mod:`bot.stores.interfaces`), two back ends: SQLite under ``settings.var_dir`` (default)
and Redis (when ``settings.redis_url`` is set). Plain Python, no Rasa import (checked by ``make layers``);
Rasa's own tracker and lock stores over Redis are in :mod:`bot.rasa_stores`.

Example::

    from bot import settings
    from bot.stores import open_stores

    with open_stores(settings.load()) as stores:
        request = stores.callbacks.add("090-1234-5678", "…", "平日午前", "juminhyo", None)
"""

from __future__ import annotations

from bot.clock import JST, Clock, now_jst
from bot.settings import Settings
from bot.stores.analytics import AnalyticsLog, UsageEvent
from bot.stores.interfaces import CallbackQueue, EventDeduplicator, FeedbackLog, ReviewLog, Stores
from bot.stores.records import (
    REVIEW_KINDS,
    CallbackRequest,
    ReviewGroup,
    StoreError,
)
from bot.stores.staff_base import (
    ROLES,
    WORK_STATUSES,
    AuditEntry,
    AuditLog,
    CallbackWork,
    ClaimConflict,
    LoginState,
    StaffAccount,
    StaffAccounts,
    WorkState,
    account_name,
)

__all__ = [
    "AnalyticsLog",
    "UsageEvent",
    "ROLES",
    "WORK_STATUSES",
    "AuditEntry",
    "AuditLog",
    "CallbackWork",
    "ClaimConflict",
    "LoginState",
    "StaffAccount",
    "StaffAccounts",
    "WorkState",
    "account_name",
    "JST",
    "now_jst",
    "REVIEW_KINDS",
    "CallbackQueue",
    "CallbackRequest",
    "EventDeduplicator",
    "FeedbackLog",
    "ReviewGroup",
    "ReviewLog",
    "StoreError",
    "Stores",
    "open_stores",
]


def open_stores(settings: Settings, *, prefix: str | None = None, clock: Clock | None = None) -> Stores:
    """Opens the stores of the configured back end.

    Args:
        settings: from :func:`bot.settings.load`; ``redis_url`` picks Redis, else SQLite in ``var_dir``.
        prefix: Redis key prefix (default ``"madoguchi:"``); ignored by SQLite.
        clock: returns the current aware datetime (default: now in JST); tests pass a fake one.
    """
    clock = clock or now_jst
    if settings.redis_url:
        return _open_redis(settings, prefix, clock)
    return _open_sqlite(settings, clock)


def _open_sqlite(settings: Settings, clock: Clock) -> Stores:
    from bot.stores import analytics_sqlite as asq
    from bot.stores import sqlite_backend as sq
    from bot.stores import staff_sqlite as ss

    db = sq.SqliteDatabase(settings.var_dir / sq.DB_NAME)
    ss.create_staff_schema(db)
    asq.create_analytics_schema(db)
    return Stores(
        backend="sqlite",
        callbacks=sq.SqliteCallbackQueue(db, clock),
        review=sq.SqliteReviewLog(db, clock),
        feedback=sq.SqliteFeedbackLog(db, clock),
        dedup=sq.SqliteEventDeduplicator(db, clock),
        accounts=ss.SqliteStaffAccounts(db),
        audit=ss.SqliteAuditLog(db, clock),
        work=ss.SqliteCallbackWork(db, clock),
        analytics=asq.SqliteAnalyticsLog(db, clock),
        retention_days=settings.retention_days,
        audit_retention_days=settings.audit_retention_days,
        clock=clock,
        _close=db.close,
    )


def _open_redis(settings: Settings, prefix: str | None, clock: Clock) -> Stores:
    from bot.stores import analytics_redis as ar
    from bot.stores import redis_backend as rb
    from bot.stores import staff_redis as sr

    client = rb.connect(settings.redis_url)
    key_prefix = rb.DEFAULT_PREFIX if prefix is None else prefix
    return Stores(
        backend="redis",
        callbacks=rb.RedisCallbackQueue(client, key_prefix, clock),
        review=rb.RedisReviewLog(client, key_prefix, clock),
        feedback=rb.RedisFeedbackLog(client, key_prefix, clock),
        dedup=rb.RedisEventDeduplicator(client, key_prefix),
        accounts=sr.RedisStaffAccounts(client, key_prefix),
        audit=sr.RedisAuditLog(client, key_prefix, clock),
        work=sr.RedisCallbackWork(client, key_prefix, clock),
        analytics=ar.RedisAnalyticsLog(client, key_prefix, clock),
        retention_days=settings.retention_days,
        audit_retention_days=settings.audit_retention_days,
        clock=clock,
        _close=client.close,
    )
