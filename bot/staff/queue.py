"""The 折り返し queue as staff see it: each request joined with its work state, filtered and ordered.

Pure functions over store records and the catalog (no I/O), shared by the console and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.hours import is_closed_day
from bot.knowledge.catalog import CallbackSlot, Catalog
from bot.stores import JST, CallbackRequest, StaffAccount, WorkState

#: Status filters of the list; "active" (the default) is everything not 完了.
STATUS_FILTERS = ("active", "new", "in_progress", "no_answer", "done", "all")
#: The department filter value of requests without a 担当課.
NO_DEPARTMENT = "-"


@dataclass(frozen=True)
class QueueRow:
    """One request in the list (no phone number: it is shown only on the request's own page)."""

    request: CallbackRequest
    work: WorkState | None
    status: str
    in_slot: bool | None

    @property
    def ticket(self) -> str:
        return self.request.ticket

    @property
    def holder(self) -> str | None:
        return self.work.holder if self.work else None

    @property
    def attempts(self) -> int:
        return self.work.attempts if self.work else 0


def status_of(request: CallbackRequest, work: WorkState | None) -> str:
    """``new`` / ``in_progress`` / ``no_answer`` / ``done`` (a request marked done by the CLI is done)."""
    if request.status == "done" or (work is not None and work.status == "done"):
        return "done"
    return work.status if work is not None else "new"


def slot_of(catalog: Catalog, label: str) -> CallbackSlot | None:
    """The city's callback slot a request's label (or id) names."""
    return next((s for s in catalog.city.callback_slots if label in (s.label, s.id)), None)


def inside_slot(catalog: Catalog, label: str, now: datetime) -> bool | None:
    """Whether ``now`` is inside the chosen slot on an open day; None when the slot is unknown."""
    slot = slot_of(catalog, label)
    if slot is None:
        return None
    local = now.astimezone(JST)
    if local.weekday() >= 5 or is_closed_day(local.date()):
        return False
    return slot.start <= local.time() < slot.end


def visible_departments(account: StaffAccount) -> str | None:
    """The only 担当課 this account may see, or None for every department."""
    return account.department if account.role == "callback" else None


def may_see(account: StaffAccount, request: CallbackRequest) -> bool:
    """Whether the account may open this request (a clerk limited to a 担当課 sees only that one)."""
    only = visible_departments(account)
    return only is None or request.department == only


def rows(
    catalog: Catalog,
    requests: list[CallbackRequest],
    work: dict[str, WorkState],
    account: StaffAccount,
    now: datetime,
    status: str = "active",
    department: str | None = None,
) -> list[QueueRow]:
    """The requests this account may see, oldest first, filtered by status and 担当課."""
    result = []
    for request in sorted(requests, key=lambda r: r.created_at):
        if not may_see(account, request):
            continue
        if department and (request.department or NO_DEPARTMENT) != department:
            continue
        state = work.get(request.ticket)
        current = status_of(request, state)
        if status == "active" and current == "done":
            continue
        if status not in ("active", "all") and current != status:
            continue
        result.append(QueueRow(request, state, current, inside_slot(catalog, request.slot, now)))
    return result


def new_count(requests: list[CallbackRequest], work: dict[str, WorkState], account: StaffAccount) -> int:
    """Requests nobody has taken yet that this account may see (the badge)."""
    return sum(1 for r in requests if may_see(account, r) and status_of(r, work.get(r.ticket)) == "new")
