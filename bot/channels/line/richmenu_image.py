"""Draws the rich menu image from ``richmenu.json``: one panel per area, an icon and the area's label.

Used by ``madoguchi line richmenu image`` to (re)generate ``data/line/richmenu.png`` whenever a city edits
the labels. Needs Pillow and a Japanese font (``fc-list :lang=ja``; e.g. Debian's fonts-ipafont-gothic),
or ``--font PATH``. The labels are read from the definition, so no resident-facing text lives here.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.channels.line.richmenu import RichMenuError

# White text/icons on these backgrounds have a contrast ratio above 4.5:1 (WCAG AA).
PALETTE = ("#1F4E79", "#00695C", "#283593", "#A63A17", "#4E342E", "#37474F")
DIVIDER = "#FFFFFF"
INK = "#FFFFFF"


def find_japanese_font() -> Path:
    """A font file that covers Japanese, found with fontconfig (Gothic faces preferred).

    Raises:
        RichMenuError: no Japanese font is installed.
    """
    fc_list = shutil.which("fc-list")
    files: list[str] = []
    if fc_list:
        listing = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [fc_list, ":lang=ja", "-f", "%{file}\n"], capture_output=True, text=True, check=False, timeout=30
        )
        files = sorted({line.strip() for line in listing.stdout.splitlines() if line.strip()})
    preferred = [f for f in files if "goth" in f.lower() and "ipagp" not in f.lower()] + files
    for candidate in preferred:
        if Path(candidate).is_file():
            return Path(candidate)
    raise RichMenuError(
        "no Japanese font found: install fonts-ipafont-gothic (or similar) or pass --font PATH"
    )


def render_image(definition: Mapping[str, Any], font_path: Path | None = None) -> bytes:
    """Renders the menu as PNG bytes of exactly the definition's size.

    Raises:
        RichMenuError: Pillow or a Japanese font is missing.
    """
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as error:  # Pillow is only needed to regenerate the image
        raise RichMenuError("Pillow is needed to draw the rich menu image (pip install pillow)") from error
    font_file = str(font_path or find_japanese_font())
    width, height = definition["size"]["width"], definition["size"]["height"]
    image = Image.new("RGB", (width, height), PALETTE[0])
    draw = ImageDraw.Draw(image)
    for index, area in enumerate(definition["areas"]):
        box = area["bounds"]
        x0, y0 = box["x"], box["y"]
        x1, y1 = x0 + box["width"], y0 + box["height"]
        draw.rectangle((x0, y0, x1, y1), fill=PALETTE[index % len(PALETTE)])
        unit = min(box["width"], box["height"])
        center = (x0 + box["width"] // 2, y0 + int(box["height"] * 0.38))
        _ICONS.get(_intent(area["action"]), _draw_dot)(draw, center, unit)
        label = area["action"].get("label") or ""
        font = _fitting_font(ImageFont, font_file, label, box["width"] - unit // 10, int(unit * 0.13))
        draw.text(
            (x0 + box["width"] // 2, y0 + int(box["height"] * 0.80)),
            label,
            font=font,
            fill=INK,
            anchor="mm",
            stroke_width=1,
            stroke_fill=INK,
        )
        if x0 > 0:
            draw.line((x0, y0 + unit // 12, x0, y1 - unit // 12), fill=DIVIDER, width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _fitting_font(image_font: Any, font_file: str, text: str, max_width: int, size: int) -> Any:
    while True:
        font = image_font.truetype(font_file, size)
        if size <= 24 or font.getlength(text) <= max_width:
            return font
        size -= 4


def _intent(action: Mapping[str, Any]) -> str:
    data = action.get("data") or action.get("text") or action.get("uri") or ""
    return str(data).lstrip("/").split("{", 1)[0]


def _draw_chat(draw: Any, center: tuple[int, int], unit: int) -> None:
    cx, cy = center
    w, h = int(unit * 0.42), int(unit * 0.30)
    draw.rounded_rectangle((cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 2), radius=h // 3, fill=INK)
    draw.polygon(
        [(cx - w // 4, cy + h // 2 - 2), (cx - w // 3, cy + int(h * 0.85)), (cx - w // 12, cy + h // 2 - 2)],
        fill=INK,
    )
    r = unit // 36
    for dx in (-w // 4, 0, w // 4):
        draw.ellipse((cx + dx - r, cy - r, cx + dx + r, cy + r), fill=PALETTE[0])


def _draw_search(draw: Any, center: tuple[int, int], unit: int) -> None:
    cx, cy = center
    r, stroke = int(unit * 0.13), max(8, unit // 22)
    lens = (cx - int(r * 1.9), cy - int(r * 0.9))
    draw.ellipse((lens[0] - r, lens[1] - r, lens[0] + r, lens[1] + r), outline=INK, width=stroke)
    start = (lens[0] + int(r * 0.7), lens[1] + int(r * 0.7))
    draw.line((start, (start[0] + int(r * 1.1), start[1] + int(r * 1.1))), fill=INK, width=stroke + 6)
    doc = (cx + r // 3, cy - int(r * 1.6), cx + int(r * 1.9), cy + int(r * 1.5))
    draw.rounded_rectangle(doc, radius=r // 5, outline=INK, width=stroke // 2)
    for i in range(3):
        y = doc[1] + int(r * 0.7) + i * int(r * 0.7)
        draw.line((doc[0] + r // 3, y, doc[2] - r // 3, y), fill=INK, width=stroke // 2)


def _draw_online(draw: Any, center: tuple[int, int], unit: int) -> None:
    cx, cy = center
    w, h, stroke = int(unit * 0.44), int(unit * 0.28), max(8, unit // 24)
    screen = (cx - w // 2, cy - h // 2 - unit // 20, cx + w // 2, cy + h // 2 - unit // 20)
    draw.rounded_rectangle(screen, radius=unit // 40, outline=INK, width=stroke)
    draw.line((cx, screen[3], cx, screen[3] + unit // 14), fill=INK, width=stroke)
    draw.line(
        (cx - w // 4, screen[3] + unit // 14, cx + w // 4, screen[3] + unit // 14), fill=INK, width=stroke
    )
    top = cy - unit // 20
    check = [(cx - w // 6, top), (cx - w // 20, top + h // 5), (cx + w // 5, top - h // 5)]
    draw.line(check, fill=INK, width=stroke + 2, joint="curve")


def _draw_phone(draw: Any, center: tuple[int, int], unit: int) -> None:
    cx, cy = center
    w, h, stroke = int(unit * 0.18), int(unit * 0.36), max(8, unit // 24)
    body = (cx - w // 2 - unit // 12, cy - h // 2, cx + w // 2 - unit // 12, cy + h // 2)
    draw.rounded_rectangle(body, radius=unit // 30, outline=INK, width=stroke)
    draw.line(
        (body[0] + w // 3, body[1] + stroke * 2, body[2] - w // 3, body[1] + stroke * 2), fill=INK, width=6
    )
    r = unit // 40
    bx, by = (body[0] + body[2]) // 2, body[3] - stroke * 3
    draw.ellipse((bx - r, by - r, bx + r, by + r), fill=INK)
    for i, radius in enumerate((unit // 10, unit // 6)):
        arc_box = (body[2] - radius, cy - radius, body[2] + radius, cy + radius)
        draw.arc(arc_box, start=-40, end=40, fill=INK, width=stroke - 2 * i)


def _draw_dot(draw: Any, center: tuple[int, int], unit: int) -> None:
    cx, cy = center
    r = unit // 8
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=INK, width=max(8, unit // 24))


_ICONS = {
    "greet": _draw_chat,
    "ask_procedure": _draw_search,
    "ask_online": _draw_online,
    "ask_phone": _draw_phone,
}
