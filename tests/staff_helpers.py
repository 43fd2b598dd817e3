"""Shared by the staff console tests: a cheap hasher, a settable clock, accounts, the console app."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher, Type
from cryptography.fernet import Fernet

from bot.knowledge.catalog import load_catalog
from bot.staff.app import create_app, load_ui
from bot.staff.config import StaffConfig
from bot.stores import JST, StaffAccount, Stores

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
#: A weekday inside the city's 平日の午前 callback slot (Thursday 2026-11-26 10:00 JST).
MORNING = datetime(2026, 11, 26, 10, 0, tzinfo=JST)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def cheap_hasher() -> PasswordHasher:
    """argon2id with tiny cost: the same code path, fast enough for many sign-ins in tests."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)


class Clock:
    """A settable clock."""

    def __init__(self, start: datetime = MORNING) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def add_account(
    stores: Stores, name: str, role: str, department: str | None = None, must_change: bool = False
) -> StaffAccount:
    account = StaffAccount(name, role, department, cheap_hasher().hash(PASSWORD), must_change, MORNING)
    return stores.accounts.create(account)


def make_console(stores: Stores, clock: Clock, faq=None, data_dir=None, work_dir=None, **config: object):
    base = StaffConfig(session_key=Fernet.generate_key())
    return create_app(
        stores,
        load_catalog(REPO / "data"),
        replace(base, **config),
        load_ui(REPO / "data"),
        clock=clock,
        hasher=cheap_hasher(),
        faq=faq,
        data_dir=data_dir,
        work_dir=work_dir,
    )


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)
