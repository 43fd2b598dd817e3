"""The per-address part of sign-in throttling: many failures from one address make it wait.

The account lock (5 failures → 15 minutes, in the stores) stops guessing one account's password; this
stops one address from trying many accounts. After :data:`FREE_FAILURES` failed sign-ins from an address
within :data:`WINDOW`, each further attempt from it is refused (HTTP 429, ``Retry-After``) until a delay
has passed that doubles with every failure, from :data:`FIRST_DELAY` up to :data:`MAX_DELAY`. Nothing
sleeps: the refusal is immediate, so a flood costs the server nothing and the clock can be injected.

Kept in the console's memory (one process serves the console): a restart forgets it, which only gives an
attacker the :data:`FREE_FAILURES` again. At most :data:`MAX_ADDRESSES` addresses are tracked (oldest
forgotten first). Behind the city's reverse proxy every request comes from the proxy: set
``STAFF_TRUST_FORWARDED=1`` so the address is the one the proxy appends to ``X-Forwarded-For``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

#: 10 failures per 15 minutes from one address before delays start: a 庁内 PC (or a whole floor behind one
#: NAT address) whose staff mistype a few times a morning never waits; a script trying many accounts does
#: after its 10th guess.
FREE_FAILURES = 10
WINDOW = timedelta(minutes=15)
#: 2 s, then 4, 8 … capped at 5 minutes: 100 guesses from one address take over 7 hours instead of seconds.
FIRST_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=5)
MAX_ADDRESSES = 10_000


@dataclass
class _Entry:
    failures: int
    first_at: datetime
    not_before: datetime


class IpThrottle:
    """Failed sign-ins per client address, and how long that address must wait."""

    def __init__(self, free_failures: int = FREE_FAILURES, window: timedelta = WINDOW) -> None:
        self.free_failures = free_failures
        self.window = window
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def wait(self, address: str, now: datetime) -> timedelta:
        """How long ``address`` must wait before its next attempt (zero: go ahead)."""
        entry = self._current(address, now)
        if entry is None or entry.not_before <= now:
            return timedelta(0)
        return entry.not_before - now

    def failed(self, address: str, now: datetime) -> None:
        """Counts a failed sign-in from ``address``."""
        entry = self._current(address, now) or _Entry(0, now, now)
        entry.failures += 1
        beyond = entry.failures - self.free_failures
        if beyond > 0:
            delay = min(MAX_DELAY, FIRST_DELAY * (2 ** min(beyond - 1, 20)))
            entry.not_before = now + delay
        self._entries[address] = entry
        self._entries.move_to_end(address)
        while len(self._entries) > MAX_ADDRESSES:
            self._entries.popitem(last=False)

    def _current(self, address: str, now: datetime) -> _Entry | None:
        entry = self._entries.get(address)
        if entry is not None and now - entry.first_at > self.window and entry.not_before <= now:
            del self._entries[address]  # a quiet window forgives
            return None
        return entry


def client_address(remote: str | None, forwarded_for: str | None, trust_forwarded: bool) -> str:
    """The address to throttle: the proxy's last ``X-Forwarded-For`` hop when trusted, else the peer."""
    if trust_forwarded and forwarded_for:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return remote or "-"
