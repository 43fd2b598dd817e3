"""The LINE rich menu: validating ``data/line/richmenu.json`` and its image, deploying, showing, deleting.

Deploying is a swap: the new menu is created, its image uploaded (to the api-data host) and made the
default before older menus of the same name are deleted; if any step fails, the half-made new menu is
removed and the old one stays in place.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.channels.line.client import LineApiClient, LineApiError

DEFINITION_FILE = "richmenu.json"
IMAGE_FILE = "richmenu.png"
MAX_IMAGE_BYTES = 1024 * 1024
MAX_AREAS = 20
ACTION_TYPES = {"postback", "message", "uri", "datetimepicker", "richmenuswitch"}
URI_SCHEMES = ("https://", "http://", "tel:", "line://")


class RichMenuError(ValueError):
    """The rich menu definition or image is not acceptable (the message names the field)."""


@dataclass
class DeployResult:
    """What a deploy did."""

    rich_menu_id: str
    removed: list[str] = field(default_factory=list)


def load_definition(path: Path) -> dict[str, Any]:
    """Reads and validates a rich menu definition.

    Raises:
        RichMenuError: naming the file and the field that is wrong.
    """
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RichMenuError(f"{path}: cannot read: {error}") from error
    problems = validate_definition(definition)
    if problems:
        raise RichMenuError(f"{path}: " + "; ".join(problems))
    return definition


def validate_definition(definition: Any) -> list[str]:
    """Lists every problem of a rich menu object (LINE's documented limits); empty when valid."""
    if not isinstance(definition, Mapping):
        return ["expected a JSON object"]
    problems: list[str] = []
    size = definition.get("size")
    width, height = (size.get("width"), size.get("height")) if isinstance(size, Mapping) else (None, None)
    if not (isinstance(width, int) and isinstance(height, int)):
        problems.append("size: expected integer width and height")
        width = height = None
    elif not (800 <= width <= 2500 and height >= 250 and width / height >= 1.45):
        problems.append("size: width must be 800-2500, height at least 250, width/height at least 1.45")
    if not isinstance(definition.get("selected"), bool):
        problems.append("selected: expected true or false")
    problems += _text_problem("name", definition.get("name"), 300)
    problems += _text_problem("chatBarText", definition.get("chatBarText"), 14)
    areas = definition.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= MAX_AREAS:
        problems.append(f"areas: expected 1-{MAX_AREAS} areas")
        return problems
    for index, area in enumerate(areas):
        problems += _area_problems(f"areas[{index}]", area, width, height)
    return problems


def _area_problems(where: str, area: Any, width: int | None, height: int | None) -> list[str]:
    if not isinstance(area, Mapping):
        return [f"{where}: expected an object with bounds and action"]
    problems = []
    bounds = area.get("bounds")
    keys = ("x", "y", "width", "height")
    if not isinstance(bounds, Mapping) or not all(isinstance(bounds.get(k), int) for k in keys):
        problems.append(f"{where}.bounds: expected integer x, y, width, height")
    elif min(bounds[k] for k in keys) < 0 or bounds["width"] == 0 or bounds["height"] == 0:
        problems.append(f"{where}.bounds: must be positive")
    elif width is not None and height is not None:
        if bounds["x"] + bounds["width"] > width or bounds["y"] + bounds["height"] > height:
            problems.append(f"{where}.bounds: goes beyond the menu size")
    return problems + _action_problems(f"{where}.action", area.get("action"))


def _action_problems(where: str, action: Any) -> list[str]:
    if not isinstance(action, Mapping) or action.get("type") not in ACTION_TYPES:
        return [f"{where}.type: expected one of {', '.join(sorted(ACTION_TYPES))}"]
    problems = _text_problem(f"{where}.label", action.get("label"), 20, required=False)
    kind = action["type"]
    if kind == "postback":
        problems += _text_problem(f"{where}.data", action.get("data"), 300)
        problems += _text_problem(f"{where}.displayText", action.get("displayText"), 300, required=False)
    elif kind == "message":
        problems += _text_problem(f"{where}.text", action.get("text"), 300)
    elif kind == "uri":
        uri = action.get("uri")
        if not isinstance(uri, str) or not uri.startswith(URI_SCHEMES) or len(uri) > 1000:
            problems.append(f"{where}.uri: expected an http(s), tel or line URI of at most 1000 characters")
    return problems


def _text_problem(where: str, value: Any, limit: int, required: bool = True) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, str) or not value.strip():
        return [f"{where}: expected non-empty text"]
    if len(value) > limit:
        return [f"{where}: at most {limit} characters (has {len(value)})"]
    return []


def check_image(data: bytes, definition: Mapping[str, Any]) -> str:
    """Checks a rich menu image (PNG or JPEG, at most 1 MB, exactly the menu's size).

    Returns:
        The image's content type.

    Raises:
        RichMenuError: what is wrong with the image.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise RichMenuError(f"image: {len(data)} bytes; LINE accepts at most {MAX_IMAGE_BYTES}")
    content_type, dimensions = _image_dimensions(data)
    expected = (definition["size"]["width"], definition["size"]["height"])
    if dimensions != expected:
        raise RichMenuError(
            f"image: {dimensions[0]}x{dimensions[1]} pixels; the menu needs {expected[0]}x{expected[1]}"
        )
    return content_type


def _image_dimensions(data: bytes) -> tuple[str, tuple[int, int]]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", (width, height)
    if data[:2] == b"\xff\xd8":
        return "image/jpeg", _jpeg_dimensions(data)
    raise RichMenuError("image: expected a PNG or JPEG file")


def _jpeg_dimensions(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    raise RichMenuError("image: JPEG without a frame header")


async def deploy(
    client: LineApiClient, definition: Mapping[str, Any], image: bytes, *, keep_old: bool = False
) -> DeployResult:
    """Creates the menu, uploads its image, makes it the default, then removes older menus of its name.

    Raises:
        RichMenuError: the image does not fit the definition (checked before any API call).
        LineApiError: an API call failed (the new menu is removed again; the old default stays).
    """
    content_type = check_image(image, definition)
    await client.post_json("/v2/bot/richmenu/validate", definition)
    created = await client.post_json("/v2/bot/richmenu", definition)
    menu_id = created["richMenuId"]
    try:
        await client.upload(f"/v2/bot/richmenu/{menu_id}/content", image, content_type)
        await client.post_json(f"/v2/bot/user/all/richmenu/{menu_id}")
    except LineApiError:
        try:
            await client.delete(f"/v2/bot/richmenu/{menu_id}")
        except LineApiError:
            pass  # the original error matters more; `show` lists what is left
        raise
    result = DeployResult(menu_id)
    if not keep_old:
        for menu in await list_menus(client):
            if menu.get("name") == definition["name"] and menu.get("richMenuId") != menu_id:
                await client.delete(f"/v2/bot/richmenu/{menu['richMenuId']}")
                result.removed.append(menu["richMenuId"])
    return result


async def list_menus(client: LineApiClient) -> list[dict[str, Any]]:
    """All rich menus of the channel."""
    answer = await client.get_json("/v2/bot/richmenu/list")
    return list(answer.get("richmenus") or [])


async def default_menu_id(client: LineApiClient) -> str | None:
    """The id of the default rich menu, or ``None``."""
    answer = await client.get_json("/v2/bot/user/all/richmenu", missing_ok=True)
    return answer.get("richMenuId") if isinstance(answer, Mapping) else None


async def delete_menus(
    client: LineApiClient, *, menu_id: str | None = None, name: str | None = None
) -> list[str]:
    """Deletes one menu by id, or every menu with ``name``; returns the deleted ids."""
    if menu_id:
        await client.delete(f"/v2/bot/richmenu/{menu_id}")
        return [menu_id]
    deleted = []
    for menu in await list_menus(client):
        if menu.get("name") == name:
            await client.delete(f"/v2/bot/richmenu/{menu['richMenuId']}")
            deleted.append(menu["richMenuId"])
    return deleted
