"""Rich menu definition, image and deployment (against the stand-in platform)."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import matplotlib
import pytest
import yaml
from line_bench import line_config

from bot.channels.line import richmenu_image
from bot.channels.line.client import LineApiClient, LineApiError
from bot.channels.line.richmenu import (
    RichMenuError,
    check_image,
    default_menu_id,
    delete_menus,
    deploy,
    list_menus,
    load_definition,
    validate_definition,
)
from bot.channels.line.texts import load_texts

ROOT = Path(__file__).parents[2]
LINE_DATA = ROOT / "data" / "line"
DEFINITION = load_definition(LINE_DATA / "richmenu.json")
IMAGE = (LINE_DATA / "richmenu.png").read_bytes()
# A font file that is always there (shipped inside matplotlib): enough to test the drawing itself.
LATIN_FONT = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"


def test_shipped_menu_has_the_four_entries():
    labels = [area["action"]["label"] for area in DEFINITION["areas"]]
    assert labels == ["相談する", "手続きをさがす", "オンライン申請", "電話で問い合わせ"]
    assert DEFINITION["size"] == {"width": 2500, "height": 843}
    assert check_image(IMAGE, DEFINITION) == "image/png"


def test_buttons_the_channel_sends_by_itself_use_domain_intents():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = set(domain["intents"])
    menu_payloads = [area["action"]["data"] for area in DEFINITION["areas"]]
    greeting_payloads = [b["payload"] for b in load_texts(LINE_DATA).follow["buttons"]]
    for payload in menu_payloads + greeting_payloads:
        assert payload.startswith("/") and payload[1:].split("{")[0] in intents, payload


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d.update(chatBarText="とても長いメニューの名前です!!"), "chatBarText: at most 14"),
        (lambda d: d["areas"][3]["bounds"].update(width=700), "areas[3].bounds: goes beyond"),
        (lambda d: d["areas"][0]["action"].update(label="x" * 21), "areas[0].action.label"),
        (lambda d: d["areas"][1]["action"].update(type="camera"), "areas[1].action.type"),
        (lambda d: d["areas"][2]["action"].pop("data"), "areas[2].action.data"),
        (lambda d: d["size"].update(height=2000), "size:"),
        (lambda d: d.update(areas=[]), "areas: expected 1-20"),
        (lambda d: d.update(selected="yes"), "selected"),
    ],
)
def test_validation_names_the_field(edit, named):
    broken = copy.deepcopy(DEFINITION)
    edit(broken)
    assert any(named in problem for problem in validate_definition(broken)), validate_definition(broken)


def test_bad_file_is_a_clear_error(tmp_path):
    (tmp_path / "richmenu.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RichMenuError, match="richmenu.json: cannot read"):
        load_definition(tmp_path / "richmenu.json")
    broken = dict(DEFINITION, chatBarText="")
    (tmp_path / "richmenu.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(RichMenuError, match="chatBarText"):
        load_definition(tmp_path / "richmenu.json")


def test_image_checks():
    from PIL import Image

    with pytest.raises(RichMenuError, match="PNG or JPEG"):
        check_image(b"GIF89a....", DEFINITION)
    with pytest.raises(RichMenuError, match="at most"):
        check_image(b"\x89PNG" + bytes(1024 * 1024), DEFINITION)
    small = io.BytesIO()
    Image.new("RGB", (1200, 405), "#1F4E79").save(small, format="PNG")
    with pytest.raises(RichMenuError, match="1200x405 pixels; the menu needs 2500x843"):
        check_image(small.getvalue(), DEFINITION)
    jpeg = io.BytesIO()
    Image.new("RGB", (2500, 843), "#1F4E79").save(jpeg, format="JPEG", quality=70)
    assert check_image(jpeg.getvalue(), DEFINITION) == "image/jpeg"


def test_image_is_drawn_at_the_menu_size(tmp_path):
    png = richmenu_image.render_image(DEFINITION, LATIN_FONT)
    assert check_image(png, DEFINITION) == "image/png"
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    # each panel has its own background colour (sampled near the panel's top-left corner)
    colours = {image.getpixel((area["bounds"]["x"] + 20, 20)) for area in DEFINITION["areas"]}
    assert len(colours) == 4


def test_without_a_japanese_font_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(richmenu_image.shutil, "which", lambda _name: None)
    with pytest.raises(RichMenuError, match="fonts-ipafont-gothic"):
        richmenu_image.find_japanese_font()


@pytest.fixture
async def client(platform):
    api = LineApiClient(line_config(platform))
    yield api
    await api.close()


async def test_deploy_creates_uploads_sets_default_and_swaps(platform, client):
    first = await deploy(client, DEFINITION, IMAGE)
    assert platform.default_menu == first.rich_menu_id
    content_type, uploaded = platform.images[first.rich_menu_id]
    assert (content_type, uploaded) == ("image/png", IMAGE)
    upload = [c for c in platform.calls if c.path.endswith("/content")][0]
    assert upload.path == f"/data/v2/bot/richmenu/{first.rich_menu_id}/content", "uploads go to the data host"
    second = await deploy(client, DEFINITION, IMAGE)
    assert second.removed == [first.rich_menu_id]
    assert [m["richMenuId"] for m in await list_menus(client)] == [second.rich_menu_id]
    assert await default_menu_id(client) == second.rich_menu_id
    third = await deploy(client, DEFINITION, IMAGE, keep_old=True)
    assert third.removed == [] and len(await list_menus(client)) == 2


async def test_failed_upload_leaves_the_old_menu_in_place(platform, client):
    old = await deploy(client, DEFINITION, IMAGE)
    platform.upload_status = 400  # e.g. LINE refuses the image
    with pytest.raises(LineApiError) as caught:
        await deploy(client, DEFINITION, IMAGE)
    assert caught.value.status == 400
    assert [m["richMenuId"] for m in await list_menus(client)] == [old.rich_menu_id]
    assert platform.default_menu == old.rich_menu_id


async def test_wrong_image_is_refused_before_any_call(platform, client):
    with pytest.raises(RichMenuError):
        await deploy(client, DEFINITION, b"not an image")
    assert platform.calls == []


async def test_delete_by_id_or_by_name(platform, client):
    other = dict(DEFINITION, name="another-menu")
    kept = await deploy(client, other, IMAGE)
    ours = await deploy(client, DEFINITION, IMAGE)
    assert await delete_menus(client, name=DEFINITION["name"]) == [ours.rich_menu_id]
    assert await default_menu_id(client) is None
    assert await delete_menus(client, menu_id=kept.rich_menu_id) == [kept.rich_menu_id]
    assert await list_menus(client) == []
