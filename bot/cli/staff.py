"""``madoguchi staff`` — accounts of the staff console (texts in ``data/staff/ui.yml``, ``cli:``).

Examples::

    madoguchi staff add sato --role admin                   # prints a one-time password
    madoguchi staff add tanaka --role callback --department kaigo --password-stdin < pw.txt
    madoguchi staff list
    madoguchi staff reset tanaka                            # a new one-time password
    madoguchi staff delete tanaka
"""

from __future__ import annotations

import argparse
import getpass
import sys
from functools import lru_cache

import yaml

from bot import settings as settings_mod
from bot.settings import REPO_ROOT
from bot.stores import ROLES


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    path = settings_mod.load().data_dir / "staff" / "ui.yml"
    if not path.exists():  # help text must work with a city data folder that lacks the file
        path = REPO_ROOT / "data" / "staff" / "ui.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cli"]


def _say(key: str, to_stderr: bool = False, **values: object) -> None:
    print(_texts()[key].format(**values), file=sys.stderr if to_stderr else sys.stdout)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``staff`` command group."""
    t = _texts()
    parser = subparsers.add_parser("staff", help=t["help"])
    commands = parser.add_subparsers(dest="staff_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("add", help=t["help_add"])
    p.add_argument("name", help=t["help_name"])
    p.add_argument("--role", choices=ROLES, required=True, help=t["help_role"])
    p.add_argument("--department", help=t["help_department"])
    p.add_argument("--password-stdin", action="store_true", help=t["help_stdin"])
    p.set_defaults(func=cmd_add)

    commands.add_parser("list", help=t["help_list"]).set_defaults(func=cmd_list)
    for command, func in (("delete", cmd_delete), ("reset", cmd_reset)):
        p = commands.add_parser(command, help=t[f"help_{command}"])
        p.add_argument("name", help=t["help_name"])
        p.set_defaults(func=func)


def _open():
    from bot.stores import open_stores  # opens SQLite/Redis only when a command runs

    return open_stores(settings_mod.load())


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _password(args: argparse.Namespace) -> tuple[str, bool] | None:
    from bot.staff import passwords

    if not args.password_stdin:
        return passwords.generate(), True
    password = sys.stdin.readline().rstrip("\r\n")
    if passwords.problem(password):
        _say("short_password", to_stderr=True, length=passwords.MIN_LENGTH)
        return None
    return password, False


def cmd_add(args: argparse.Namespace) -> int:
    from bot.knowledge.catalog import load_catalog
    from bot.staff.passwords import default_hasher
    from bot.stores import StaffAccount, StoreError, account_name, now_jst

    try:
        name = account_name(args.name)
    except StoreError as error:
        _say("bad_name", to_stderr=True, error=error)
        return 2
    if args.department and args.department not in load_catalog(settings_mod.load().data_dir).departments:
        _say("bad_department", to_stderr=True, department=args.department)
        return 2
    chosen = _password(args)
    if chosen is None:
        return 2
    password, one_time = chosen
    password_hash = default_hasher().hash(password)
    with _open() as stores:
        try:
            stores.accounts.create(
                StaffAccount(name, args.role, args.department, password_hash, one_time, now_jst())
            )
        except StoreError as error:
            _say("exists", to_stderr=True, error=error)
            return 1
        stores.audit.record(_actor(), "account.add", name, args.role)
    _say("created", name=name, role=args.role)
    if one_time:
        _say("one_time", password=password)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with _open() as stores:
        accounts = stores.accounts.list()
    for account in accounts:
        flag = f" {_texts()['must_change']}" if account.must_change else ""
        print(f"{account.name}\t{account.role}\t{account.department or '-'}{flag}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _open() as stores:
        if not stores.accounts.delete(args.name):
            _say("unknown", to_stderr=True, name=args.name)
            return 1
        stores.audit.record(_actor(), "account.delete", stores_name(args.name))
    _say("deleted", name=args.name)
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from bot.staff import passwords

    password = passwords.generate()
    with _open() as stores:
        if not stores.accounts.set_password(
            args.name, passwords.default_hasher().hash(password), must_change=True
        ):
            _say("unknown", to_stderr=True, name=args.name)
            return 1
        stores.audit.record(_actor(), "account.reset", stores_name(args.name))
    _say("reset", name=args.name)
    _say("one_time", password=password)
    return 0


def stores_name(raw: str) -> str:
    """The canonical account name (for the audit log's target)."""
    from bot.stores import account_name

    return account_name(raw)
