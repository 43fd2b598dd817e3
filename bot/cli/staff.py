"""``madoguchi staff`` — accounts of the staff console.

Examples::

    madoguchi staff add sato --role admin                   # prints a one-time password
    madoguchi staff add tanaka --role callback --department kaigo --password-stdin < pw.txt
    madoguchi staff list
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot import settings as settings_mod
from bot.stores import ROLES

_ROLE_HELP = "admin (管理者) / editor (編集者) / callback (折り返し担当) / viewer (閲覧)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``staff`` command group."""
    parser = subparsers.add_parser("staff", help="職員用画面のアカウント / staff console accounts")
    commands = parser.add_subparsers(dest="staff_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("add", help="アカウントを作成 / create an account")
    p.add_argument("name", help="ユーザー名 (a-z 0-9 . _ -)")
    p.add_argument("--role", choices=ROLES, required=True, help=_ROLE_HELP)
    p.add_argument("--department", help="折り返し担当の担当課 ID (data/departments.yml)。省略時はすべての課")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="パスワードを標準入力から読む (12文字以上)。省略時は一回限りのパスワードを表示",
    )
    p.set_defaults(func=cmd_add)

    p = commands.add_parser("list", help="アカウントの一覧 / list accounts")
    p.set_defaults(func=cmd_list)


def _password(args: argparse.Namespace) -> tuple[str, bool] | None:
    from bot.staff import passwords

    if not args.password_stdin:
        return passwords.generate(), True
    password = sys.stdin.readline().rstrip("\r\n")
    if passwords.problem(password):
        print(f"パスワードは{passwords.MIN_LENGTH}文字以上にしてください", file=sys.stderr)
        return None
    return password, False


def cmd_add(args: argparse.Namespace) -> int:
    from bot.knowledge.catalog import load_catalog
    from bot.staff.passwords import default_hasher
    from bot.stores import StaffAccount, StoreError, account_name, now_jst, open_stores

    settings = settings_mod.load()
    try:
        name = account_name(args.name)
    except StoreError as error:
        print(f"ユーザー名が使えません: {error}", file=sys.stderr)
        return 2
    if args.department and args.department not in load_catalog(settings.data_dir).departments:
        print(f"担当課 {args.department!r} は data/departments.yml にありません", file=sys.stderr)
        return 2
    chosen = _password(args)
    if chosen is None:
        return 2
    password, one_time = chosen
    account = StaffAccount(
        name, args.role, args.department, default_hasher().hash(password), one_time, now_jst()
    )
    with open_stores(settings) as stores:
        try:
            stores.accounts.create(account)
        except StoreError as error:
            print(f"作成できません: {error}", file=sys.stderr)
            return 1
        stores.audit.record(f"cli:{getpass.getuser()}", "account.add", name, args.role)
    print(f"アカウント {name} ({args.role}) を作成しました")
    if one_time:
        print(f"一回限りのパスワード (初回ログイン時に変更): {password}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from bot.stores import open_stores

    with open_stores(settings_mod.load()) as stores:
        accounts = stores.accounts.list()
    for account in accounts:
        flag = " (初回パスワード未変更)" if account.must_change else ""
        print(f"{account.name}\t{account.role}\t{account.department or '-'}{flag}")
    return 0
