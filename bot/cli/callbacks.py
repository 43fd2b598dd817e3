"""``madoguchi callbacks`` — the queue of residents waiting for a call back.

Works on whichever back end the bot uses (SQLite under ``$MADOGUCHI_VAR``, or Redis when
``REDIS_URL`` is set).

Examples::

    madoguchi callbacks list                  # open requests, oldest first, as a table
    madoguchi callbacks list --status all --json
    madoguchi callbacks done CB-20261126-0007
    madoguchi callbacks delete CB-20261126-0007
    madoguchi callbacks mail-test             # one test mail through MADOGUCHI_SMTP_* (the relay set-up)
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata

from bot import settings as settings_mod
from bot.clock import JST, now_jst
from bot.stores.records import CallbackRequest, resolve_ticket

_COLUMNS = (
    ("ticket", "受付番号"),
    ("created", "受付日時"),
    ("status", "状態"),
    ("phone", "電話番号"),
    ("name", "氏名"),
    ("slot", "希望時間帯"),
    ("department", "担当課"),
    ("topic", "用件"),
)
_STATUS_LABELS = {"open": "未対応", "done": "対応済"}
_MAX_CELL = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``callbacks`` command group."""
    parser = subparsers.add_parser("callbacks", help="折り返し電話の依頼 / callback requests")
    commands = parser.add_subparsers(dest="callbacks_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("list", help="依頼の一覧 (古い順) / list requests, oldest first")
    p.add_argument(
        "--status",
        choices=("open", "done", "all"),
        default="open",
        help="open (未対応, 既定) / done (対応済) / all",
    )
    p.add_argument("--json", action="store_true", help="JSON 配列で出力 / print a JSON array")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("done", help="対応済にする / mark a request done")
    p.add_argument(
        "ticket", help="受付番号 (CB-YYYYMMDD-NNNN, or the day and number: 12月2日の0001 / 1202-0001)"
    )
    p.set_defaults(func=cmd_done)

    p = commands.add_parser("reopen", help="完了を取り消して対応中に戻す / reopen a done request")
    p.add_argument("ticket", help="受付番号 (CB-YYYYMMDD-NNNN)")
    p.add_argument("--clerk", required=True, help="対応する職員のユーザー名 / the account that takes it")
    p.add_argument("--note", default="", help="理由 (任意) / why (optional)")
    p.set_defaults(func=cmd_reopen)

    p = commands.add_parser("delete", help="依頼を削除する / delete a request")
    p.add_argument(
        "ticket", help="受付番号 (CB-YYYYMMDD-NNNN, or the day and number: 12月2日の0001 / 1202-0001)"
    )
    p.set_defaults(func=cmd_delete)

    p = commands.add_parser(
        "mail-test",
        help="通知メールを1通試験送信する / send one test notification mail (MADOGUCHI_SMTP_*)",
    )
    p.set_defaults(func=cmd_mail_test)


def _open():
    from bot.stores import open_stores  # opens SQLite/Redis only when a command runs

    return open_stores(settings_mod.load())


def _ticket(raw: str) -> str:
    """The full ticket for what a clerk typed: the ticket itself (full-width or lower case, ｃｂ－２０２６…)
    or what the resident read out, the day and its number (「12月2日の0001」, ``1202-0001``)."""
    typed = unicodedata.normalize("NFKC", raw).strip().upper().replace("ー", "-")
    return resolve_ticket(typed, now_jst().date()) or typed


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def _row(request: CallbackRequest) -> dict[str, str]:
    return {
        "ticket": request.ticket,
        "created": f"{request.created_at.astimezone(JST):%Y-%m-%d %H:%M}",  # JST whatever the record's zone
        "status": _STATUS_LABELS.get(request.status, request.status),
        "phone": request.phone,
        "name": _cell(request.name) or "-",
        "slot": _cell(request.slot),
        "department": request.department or "-",
        "topic": _cell(request.topic),
    }


def format_table(requests: list[CallbackRequest]) -> str:
    """A plain-text table aligned for full-width characters."""
    rows = [_row(r) for r in requests]
    headers = {key: label for key, label in _COLUMNS}
    widths = {key: max(_width(r[key]) for r in [headers, *rows]) for key, _ in _COLUMNS}

    def line(values: dict[str, str]) -> str:
        cells = [values[key] + " " * (widths[key] - _width(values[key])) for key, _ in _COLUMNS]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def cmd_list(args: argparse.Namespace) -> int:
    status = None if args.status == "all" else args.status
    with _open() as stores:
        requests = stores.callbacks.list(status)
    if args.json:
        print(json.dumps([r.to_dict() for r in requests], ensure_ascii=False, indent=2))
    elif not requests:
        print("該当する依頼はありません / no requests")
    else:
        print(format_table(requests))
        print(f"\n{len(requests)} 件")
    return 0


def cmd_done(args: argparse.Namespace) -> int:
    ticket = _ticket(args.ticket)
    with _open() as stores:
        before = stores.callbacks.get(ticket)
        if before is None or not stores.callbacks.mark_done(ticket):
            print(f"エラー: 受付番号 {ticket} は見つかりません / unknown ticket", file=sys.stderr)
            return 1
    if before.status == "done":
        print(f"{ticket} はすでに対応済です / already done")
    else:
        print(f"{ticket} を対応済にしました / marked done")
    return 0


def cmd_reopen(args: argparse.Namespace) -> int:
    """The page's 対応中に戻す: the request is open again and ``--clerk`` works it (audit-logged)."""
    from bot.stores import StoreError

    ticket = _ticket(args.ticket)
    with _open() as stores:
        request = stores.callbacks.get(ticket)
        if request is None:
            print(f"エラー: 受付番号 {ticket} は見つかりません / unknown ticket", file=sys.stderr)
            return 1
        work = stores.work.get(ticket)
        if request.status != "done" and (work is None or work.status != "done"):
            print(f"エラー: {ticket} は完了になっていません / not done", file=sys.stderr)
            return 1
        clerk = stores.accounts.get(args.clerk)
        if clerk is None:
            print(f"エラー: ユーザー {args.clerk} はいません / unknown account", file=sys.stderr)
            return 1
        try:
            stores.work.update(ticket, clerk.name, "reopen", args.note)
        except StoreError as problem:
            print(f"エラー: {problem}", file=sys.stderr)
            return 1
        stores.callbacks.reopen(ticket)
        stores.audit.record(clerk.name, "callback.reopen", ticket, "cli")
    print(f"{ticket} の完了を取り消し、{clerk.name} さんの対応中にしました / reopened")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    ticket = _ticket(args.ticket)
    with _open() as stores:
        deleted = stores.callbacks.delete(ticket)
    if not deleted:
        print(f"エラー: 受付番号 {ticket} は見つかりません / unknown ticket", file=sys.stderr)
        return 1
    print(f"{ticket} を削除しました / deleted")
    return 0


#: The ticket a test mail names (no request has it: day 0 does not exist).
TEST_TICKET = "CB-00000000-0000"


def cmd_mail_test(args: argparse.Namespace) -> int:
    """Sends one notice through the configured relay, now, and says plainly what went wrong."""
    from bot import callback_mail as cm

    try:
        mail = cm.MailSettings.from_env()
    except cm.MailConfigError as error:
        print(f"エラー {cm.CODE_CONFIG}: 設定が不完全です / incomplete settings: {error}", file=sys.stderr)
        return 2
    if mail is None:
        print("MADOGUCHI_SMTP_HOST が未設定です（通知メールは送りません）/ mail is off", file=sys.stderr)
        return 2
    wording = cm.load_wording(settings_mod.load().data_dir)
    notice = cm.Notice(TEST_TICKET, wording["test_department"], None, now_jst())
    try:
        cm.send(cm.compose(notice, mail, wording), mail)
    except Exception as error:  # noqa: BLE001 — every failure is reported with its code
        code = cm.failure_code(error)
        print(f"エラー {code}: 送れませんでした / not sent: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"{mail.host}:{mail.port} から {', '.join(mail.recipients)} に送りました / sent")
    return 0
