"""The store interface every back end implements, and the :class:`Stores` bundle."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.stores.analytics import AnalyticsLog
from bot.stores.records import CallbackRequest, FeedbackEntry, ReviewGroup
from bot.stores.staff_base import AuditLog, CallbackWork, StaffAccounts


class CallbackQueue(abc.ABC):
    """Residents' callback requests, numbered per day."""

    @abc.abstractmethod
    def add(
        self,
        phone: str,
        name: str | None,
        slot: str,
        topic: str,
        department: str | None,
        key: str | None = None,
    ) -> CallbackRequest:
        """Validates and durably stores a request; allocates its ticket atomically (``name`` may be None).

        ``key`` (:func:`bot.stores.records.check_request_key`) makes the call idempotent: a request already
        stored under it is returned as it is, and a key :meth:`settle` found unused stores nothing.

        Raises:
            StoreError: naming the bad field (phone not a valid Japanese number, empty slot/topic, ...),
                or the key was settled as not stored.
        """

    @abc.abstractmethod
    def settle(self, key: str) -> CallbackRequest | None:
        """The request stored under ``key``, or None — and then never one: an :meth:`add` with this key
        still in flight (sent to a hung server, say) stores nothing when it arrives. One atomic step, so
        whoever asks after a failed ``add`` gets an answer that stays true."""

    @abc.abstractmethod
    def get(self, ticket: str) -> CallbackRequest | None:
        """The request with this ticket, or ``None``."""

    @abc.abstractmethod
    def list(self, status: str | None = None) -> list[CallbackRequest]:
        """Requests, oldest first; ``status`` ``"open"``/``"done"`` filters, ``None`` lists all."""

    @abc.abstractmethod
    def mark_done(self, ticket: str) -> bool:
        """Marks a request done (idempotent: keeps the first ``done_at``); False if the ticket is unknown."""

    @abc.abstractmethod
    def reopen(self, ticket: str) -> bool:
        """Marks a done request open again (clears ``done_at``; idempotent); False for an unknown ticket."""

    @abc.abstractmethod
    def delete(self, ticket: str) -> bool:
        """Deletes a request; False if the ticket is unknown."""

    @abc.abstractmethod
    def purge(self, older_than: datetime) -> int:
        """Deletes requests marked done before ``older_than``; open requests are kept. Returns the count."""

    @abc.abstractmethod
    def counts(self) -> dict[str, int]:
        """``{"open": n, "done": m}``."""

    @abc.abstractmethod
    def count_expired(self, older_than: datetime) -> int:
        """How many requests :meth:`purge` would delete (``data purge --dry-run``)."""


class ReviewLog(abc.ABC):
    """Questions the assistant could not answer well, masked, for staff review."""

    @abc.abstractmethod
    def record(self, question: str, kind: str, guesses: list[str]) -> None:
        """Masks ``question`` with :func:`bot.privacy.mask` and stores it.

        Raises:
            StoreError: for a kind outside ``REVIEW_KINDS`` or an empty question.
        """

    @abc.abstractmethod
    def distinct(self) -> list[ReviewGroup]:
        """One group per distinct masked+normalized question; most asked first (対象外 ones left out)."""

    @abc.abstractmethod
    def dismiss(self, key: str) -> int:
        """対象外（今後出さない）: deletes the records of one distinct question (its normalized masked
        wording, ``ReviewGroup`` key) and drops later records of the same wording, until the retention
        period after the dismissal has passed. Returns how many records were deleted."""

    @abc.abstractmethod
    def purge(self, older_than: datetime) -> int:
        """Deletes records made before ``older_than``; returns how many."""

    @abc.abstractmethod
    def clear(self) -> int:
        """Deletes every record; returns how many."""

    @abc.abstractmethod
    def count_expired(self, older_than: datetime) -> int:
        """How many records :meth:`purge` would delete."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many records are kept."""


class FeedbackLog(abc.ABC):
    """Residents' "was this helpful?" answers."""

    @abc.abstractmethod
    def record(self, helpful: bool, question: str | None, answer_ref: str | None) -> None:
        """Stores one answer; ``question`` is masked first."""

    @abc.abstractmethod
    def entries(self) -> list[FeedbackEntry]:
        """Every kept answer (questions already masked), oldest first."""

    @abc.abstractmethod
    def summary(self) -> dict[str, Any]:
        """Totals; see :func:`bot.stores.records.summarize_feedback`."""

    @abc.abstractmethod
    def purge(self, older_than: datetime) -> int:
        """Deletes answers given before ``older_than``; returns how many."""

    @abc.abstractmethod
    def count_expired(self, older_than: datetime) -> int:
        """How many answers :meth:`purge` would delete."""


class EventDeduplicator(abc.ABC):
    """Remembers webhook event ids so a redelivered event is handled once."""

    @abc.abstractmethod
    def seen_before(self, event_id: str, ttl_seconds: int = 86400) -> bool:
        """Atomically records ``event_id`` for ``ttl_seconds``; True if it was already recorded."""


@dataclass
class Stores:
    """Every store of one back end. Build with :func:`bot.stores.open_stores`; call :meth:`close`."""

    backend: str
    callbacks: CallbackQueue
    review: ReviewLog
    feedback: FeedbackLog
    dedup: EventDeduplicator
    accounts: StaffAccounts
    audit: AuditLog
    work: CallbackWork
    analytics: AnalyticsLog
    retention_days: int
    clock: Callable[[], datetime]
    _close: Callable[[], None]
    #: The 監査ログ's own retention (``settings.audit_retention_days``); ``days=`` never shortens it.
    audit_retention_days: int = 365

    def purge_expired(self, now: datetime | None = None, days: int | None = None) -> dict[str, int]:
        """Deletes what is older than the retention period.

        Args:
            now: reference time (default: the stores' clock).
            days: retention in days (default: ``settings.retention_days``).

        Returns:
            Deleted counts: ``{"callbacks": n, "review": n, "feedback": n, "callback_work": n,
            "analytics": n, "audit": n}`` (only done callbacks expire, and the staff's notes on them with
            them; the 監査ログ expires after ``audit_retention_days`` whatever ``days`` says).
        """
        keep_days = self.retention_days if days is None else days
        if keep_days < 0:
            raise ValueError("days: must be zero or more")
        cutoff = (now or self.clock()) - timedelta(days=keep_days)
        return {
            "callbacks": self.callbacks.purge(cutoff),
            "review": self.review.purge(cutoff),
            "feedback": self.feedback.purge(cutoff),
            "callback_work": self.work.purge(cutoff),
            "analytics": self.analytics.purge(cutoff),
            "audit": self.audit.purge(self._audit_cutoff(now)),
        }

    def _audit_cutoff(self, now: datetime | None) -> datetime:
        return (now or self.clock()) - timedelta(days=self.audit_retention_days)

    def count_expired(self, now: datetime | None = None, days: int | None = None) -> dict[str, int]:
        """What :meth:`purge_expired` would delete, deleting nothing (same keys and arguments)."""
        keep_days = self.retention_days if days is None else days
        if keep_days < 0:
            raise ValueError("days: must be zero or more")
        cutoff = (now or self.clock()) - timedelta(days=keep_days)
        return {
            "callbacks": self.callbacks.count_expired(cutoff),
            "review": self.review.count_expired(cutoff),
            "feedback": self.feedback.count_expired(cutoff),
            "callback_work": self.work.count_expired(cutoff),
            "analytics": self.analytics.count_expired(cutoff),
            "audit": self.audit.count_expired(self._audit_cutoff(now)),
        }

    def stats(self) -> dict[str, Any]:
        """Counts for staff: callbacks by status, review records and groups, feedback totals."""
        feedback = self.feedback.summary()
        return {
            "backend": self.backend,
            "callbacks": self.callbacks.counts(),
            "review": {"records": self.review.count(), "distinct": len(self.review.distinct())},
            "feedback": {k: feedback[k] for k in ("total", "helpful", "unhelpful", "helpful_rate")},
            "analytics": {"events": self.analytics.count()},
            "retention_days": self.retention_days,
        }

    def close(self) -> None:
        """Releases connections; the stores must not be used afterwards."""
        self._close()

    def __enter__(self) -> Stores:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
