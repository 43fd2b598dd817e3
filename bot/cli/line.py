"""``madoguchi line``: the LINE official account's rich menu (and a check of the channel's data files).

Commands::

    madoguchi line check                                  # validate data/line/ offline
    madoguchi line richmenu deploy [--image PATH] [--definition PATH] [--keep-old]
    madoguchi line richmenu show
    madoguchi line richmenu delete [RICH_MENU_ID]         # default: every menu named like ours
    madoguchi line richmenu image [--out PATH] [--font PATH]

API commands read ``LINE_CHANNEL_ACCESS_TOKEN``, ``LINE_API_BASE_URL`` and ``LINE_API_DATA_BASE_URL``.
Exit codes: 0 done, 1 the LINE API refused, 2 bad input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``line`` command group."""
    parser = subparsers.add_parser("line", help="LINE公式アカウント / LINE channel: rich menu, data check")
    commands = parser.add_subparsers(dest="line_command", metavar="COMMAND")
    parser.set_defaults(func=lambda _args: parser.print_help() or 2)

    check = commands.add_parser(
        "check", help="data/line/ の文言・リッチメニュー・画像を確認（API は使わない） / validate data/line/"
    )
    check.set_defaults(func=_check)

    menu = commands.add_parser("richmenu", help="公式アカウントのリッチメニュー / rich menu")
    menu_commands = menu.add_subparsers(dest="richmenu_command", metavar="ACTION")
    menu.set_defaults(func=lambda _args: menu.print_help() or 2)

    deploy = menu_commands.add_parser("deploy", help="作成・画像登録・既定に設定・古いものを削除 / deploy")
    _definition_arg(deploy)
    deploy.add_argument(
        "--image", type=Path, help="メニューの大きさの PNG/JPEG（既定 data/line/richmenu.png） / image"
    )
    deploy.add_argument(
        "--keep-old", action="store_true", help="同じ名前の古いメニューを残す / keep older menus"
    )
    deploy.set_defaults(func=_api_command(_deploy))

    show = menu_commands.add_parser("show", help="リッチメニューの一覧と既定のもの / list menus")
    show.set_defaults(func=_api_command(_show))

    delete = menu_commands.add_parser(
        "delete", help="1つ、または同じ名前のメニューをすべて削除 / delete menus"
    )
    delete.add_argument(
        "rich_menu_id", nargs="?", help="削除する id（省略時は定義と同じ名前のものすべて） / id to delete"
    )
    _definition_arg(delete)
    delete.set_defaults(func=_api_command(_delete))

    image = menu_commands.add_parser("image", help="定義のラベルからメニュー画像を描く / draw the image")
    _definition_arg(image)
    image.add_argument("--out", type=Path, help="出力する PNG（既定 data/line/richmenu.png） / output")
    image.add_argument("--font", type=Path, help="日本語フォント（既定 fc-list で探す） / font file")
    image.set_defaults(func=_image)


def _definition_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--definition", type=Path, help="リッチメニューの JSON（既定 data/line/richmenu.json） / definition"
    )


def _line_dir() -> Path:
    from bot import settings

    return settings.load().data_dir / "line"


def _load_definition(args: argparse.Namespace) -> dict[str, Any]:
    from bot.channels.line.richmenu import DEFINITION_FILE, load_definition

    return load_definition(args.definition or _line_dir() / DEFINITION_FILE)


def _check(_args: argparse.Namespace) -> int:
    from bot.channels.line.richmenu import (
        DEFINITION_FILE,
        IMAGE_FILE,
        RichMenuError,
        check_image,
        load_definition,
    )
    from bot.channels.line.texts import TextsError, load_texts

    line_dir = _line_dir()
    try:
        load_texts(line_dir)
        definition = load_definition(line_dir / DEFINITION_FILE)
        check_image((line_dir / IMAGE_FILE).read_bytes(), definition)
    except (TextsError, RichMenuError, OSError) as error:
        print(f"エラー / error: {error}")
        return 2
    print(f"問題ありません / ok: {line_dir}（文言、{len(definition['areas'])} 区画のリッチメニュー、画像）")
    return 0


def _image(args: argparse.Namespace) -> int:
    from bot.channels.line.richmenu import IMAGE_FILE, RichMenuError, check_image
    from bot.channels.line.richmenu_image import render_image

    try:
        definition = _load_definition(args)
        png = render_image(definition, args.font)
        check_image(png, definition)
    except RichMenuError as error:
        print(f"エラー / error: {error}")
        return 2
    out = args.out or _line_dir() / IMAGE_FILE
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(png)
    tmp.replace(out)  # atomic: a half-written image never replaces the old one
    print(f"書き出しました / wrote: {out}（{len(png)} バイト）")
    return 0


def _api_command(
    command: Callable[[Any, argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace], int]:
    """Wraps an async command: configuration check, one client, API errors -> exit code 1."""

    def run(args: argparse.Namespace) -> int:
        from bot.channels.line.client import LineApiClient, LineApiError
        from bot.channels.line.config import LineConfig
        from bot.channels.line.richmenu import RichMenuError

        config = LineConfig.from_sources(None)
        if not config.access_token:
            print("エラー: LINE_CHANNEL_ACCESS_TOKEN が設定されていません / not set")
            return 2

        async def main() -> int:
            client = LineApiClient(config)
            try:
                return await command(client, args)
            finally:
                await client.close()

        try:
            return asyncio.run(main())
        except RichMenuError as error:
            print(f"エラー / error: {error}")
            return 2
        except LineApiError as error:
            print(f"エラー / error: {error}")
            return 1

    return run


async def _deploy(client: Any, args: argparse.Namespace) -> int:
    from bot.channels.line.richmenu import IMAGE_FILE, RichMenuError, deploy

    definition = _load_definition(args)
    image_path = args.image or _line_dir() / IMAGE_FILE
    try:
        image = image_path.read_bytes()
    except OSError as error:
        raise RichMenuError(f"{image_path}: cannot read: {error}") from error
    result = await deploy(client, definition, image, keep_old=args.keep_old)
    print(f"リッチメニュー {result.rich_menu_id} を既定にしました / deployed as the default")
    for menu_id in result.removed:
        print(f"古いリッチメニュー {menu_id} を削除しました / removed")
    return 0


async def _show(client: Any, _args: argparse.Namespace) -> int:
    from bot.channels.line.richmenu import default_menu_id, list_menus

    default = await default_menu_id(client)
    menus = await list_menus(client)
    print(f"既定 / default: {default or '（なし）'}")
    for menu in menus:
        marker = "*" if menu.get("richMenuId") == default else " "
        areas = [area.get("action", {}).get("label", "") for area in menu.get("areas", [])]
        print(
            f"{marker} {menu.get('richMenuId')}  {menu.get('name')}  {json.dumps(areas, ensure_ascii=False)}"
        )
    return 0


async def _delete(client: Any, args: argparse.Namespace) -> int:
    from bot.channels.line.richmenu import delete_menus

    if args.rich_menu_id:
        deleted = await delete_menus(client, menu_id=args.rich_menu_id)
    else:
        deleted = await delete_menus(client, name=_load_definition(args)["name"])
    for menu_id in deleted:
        print(f"リッチメニュー {menu_id} を削除しました / deleted")
    if not deleted:
        print("削除するものはありません / nothing to delete")
    return 0
