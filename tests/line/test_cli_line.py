"""``madoguchi line ...`` as staff run it (a real process) against the stand-in platform."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import matplotlib
from line_bench import TOKEN

ROOT = Path(__file__).parents[2]
LINE_DATA = ROOT / "data" / "line"
LATIN_FONT = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"


async def madoguchi(platform, *args: str, **env: str) -> tuple[int, str]:
    full_env = {
        **os.environ,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": platform.url,
        "LINE_API_DATA_BASE_URL": platform.url + "/data",
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "line",
        *args,
        cwd=ROOT,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode()


async def test_deploy_show_delete(platform):
    code, out = await madoguchi(platform, "richmenu", "deploy")
    assert code == 0, out
    [menu_id] = platform.rich_menus
    assert f"リッチメニュー {menu_id} を既定にしました" in out
    assert platform.default_menu == menu_id
    assert platform.images[menu_id] == ("image/png", (LINE_DATA / "richmenu.png").read_bytes())

    code, out = await madoguchi(platform, "richmenu", "deploy")
    assert code == 0 and f"古いリッチメニュー {menu_id} を削除しました" in out
    [new_id] = platform.rich_menus

    code, out = await madoguchi(platform, "richmenu", "show")
    assert code == 0
    assert f"既定 / default: {new_id}" in out and f"* {new_id}  madoguchi-main" in out
    assert "電話で問い合わせ" in out

    code, out = await madoguchi(platform, "richmenu", "delete")
    assert code == 0 and f"リッチメニュー {new_id} を削除しました" in out
    assert platform.rich_menus == {}
    code, out = await madoguchi(platform, "richmenu", "delete")
    assert code == 0 and "nothing to delete" in out


async def test_errors_have_clear_exit_codes(platform, tmp_path):
    code, out = await madoguchi(platform, "richmenu", "show", LINE_CHANNEL_ACCESS_TOKEN="")
    assert code == 2 and "LINE_CHANNEL_ACCESS_TOKEN が設定されていません" in out
    platform.upload_status = 400
    code, out = await madoguchi(platform, "richmenu", "deploy")
    assert code == 1 and "status 400" in out and "Invalid image" in out
    assert platform.rich_menus == {}, "the half-made menu was removed"
    code, out = await madoguchi(platform, "richmenu", "deploy", "--image", str(tmp_path / "missing.png"))
    assert code == 2 and "missing.png: cannot read" in out


async def test_check_and_image(platform, tmp_path):
    code, out = await madoguchi(platform, "check")
    assert code == 0 and "4 区画" in out
    data = tmp_path / "data"
    shutil.copytree(LINE_DATA, data / "line")
    text = (data / "line" / "messages.yml").read_text(encoding="utf-8").replace("  sticker:", "  stamp:")
    (data / "line" / "messages.yml").write_text(text, encoding="utf-8")
    code, out = await madoguchi(platform, "check", MADOGUCHI_DATA=str(data))
    assert code == 2 and "unsupported.sticker" in out

    out_png = tmp_path / "menu.png"
    code, out = await madoguchi(
        platform, "richmenu", "image", "--font", str(LATIN_FONT), "--out", str(out_png)
    )
    assert code == 0, out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert platform.calls == []
