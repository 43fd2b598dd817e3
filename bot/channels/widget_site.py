"""A small aiohttp site that serves the widget assets and the サンプル市 demo page.

Routes:

* ``/`` — the demo page (``widget/demo/index.html``) with the configured Rasa URL and city phone
  number filled in, and a Content-Security-Policy that allows scripts/styles only from this site and
  connections only to this site and the Rasa server;
* ``/demo/<file>`` — the demo page's own assets;
* ``/widget/<file>`` — the widget (``madoguchi-widget.js``, ``.css``, ``i18n/ja.json``) for embedding.

Only regular files with a known type inside those folders are served; there is no directory listing.

Run it with ``python -m bot.channels.widget_site --port $WIDGET_PORT --rasa-url http://localhost:$PORT``.
"""

from __future__ import annotations

import argparse
import html
import os
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import yaml
from aiohttp import web

from bot import settings

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

#: Placeholders in ``demo/index.html`` replaced when the page is served.
SERVER_PLACEHOLDER = "__MADOGUCHI_SERVER__"
PHONE_PLACEHOLDER = "__MADOGUCHI_PHONE__"

_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (what CSP ``connect-src`` needs).

    Raises:
        ValueError: when the URL is not an absolute http(s) URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"rasa URL must be an absolute http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    """The demo page's CSP: nothing inline, nothing third-party, connections to Rasa only."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {origin_of(rasa_url)}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )


def safe_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` under ``root`` if it is a regular file of a served type, else None."""
    if not relative or "\\" in relative or relative.startswith("/"):
        return None
    root = root.resolve()
    candidate = (root / relative).resolve()
    if root not in candidate.parents or not candidate.is_file():
        return None
    if candidate.suffix.lower() not in CONTENT_TYPES:
        return None
    return candidate


def _file_response(path: Path, csp: str) -> web.Response:
    headers = {**_COMMON_HEADERS, "Content-Type": CONTENT_TYPES[path.suffix.lower()]}
    if path.suffix.lower() in (".html", ".htm"):  # every page, also /widget/demo/index.html
        headers["Content-Security-Policy"] = csp
    return web.Response(body=path.read_bytes(), headers=headers)


def render_demo(widget_dir: Path, rasa_url: str, city_phone: str) -> str:
    """The demo page's HTML with the Rasa URL and phone number filled in (HTML-escaped)."""
    page = (widget_dir / "demo" / "index.html").read_text(encoding="utf-8")
    page = page.replace(SERVER_PLACEHOLDER, html.escape(rasa_url.rstrip("/"), quote=True))
    return page.replace(PHONE_PLACEHOLDER, html.escape(city_phone, quote=True))


def create_app(widget_dir: Path | str, rasa_url: str, city_phone: str) -> web.Application:
    """Builds the site.

    Args:
        widget_dir: the ``widget/`` folder (assets in it, demo page in ``demo/``).
        rasa_url: base URL of the Rasa server the widget talks to (``http://localhost:5005``).
        city_phone: the city's phone number shown when the assistant cannot be reached.
    """
    widget_dir = Path(widget_dir)
    csp = content_security_policy(rasa_url)
    page = render_demo(widget_dir, rasa_url, city_phone).encode("utf-8")

    async def demo(request: web.Request) -> web.Response:
        headers = {**_COMMON_HEADERS, "Content-Type": CONTENT_TYPES[".html"], "Content-Security-Policy": csp}
        return web.Response(body=page, headers=headers)

    def serve_from(root: Path):
        async def handler(request: web.Request) -> web.Response:
            path = safe_file(root, request.match_info["path"])
            if path is None:
                raise web.HTTPNotFound()
            return _file_response(path, csp)

        return handler

    app = web.Application()
    app.router.add_get("/", demo)
    app.router.add_get("/demo/{path:.+}", serve_from(widget_dir / "demo"))
    app.router.add_get("/widget/{path:.+}", serve_from(widget_dir))
    return app


def default_widget_dir() -> Path:
    """The repository's ``widget/`` folder."""
    return settings.REPO_ROOT / "widget"


def city_phone_from_data(data_dir: Path) -> str | None:
    """The city's main phone number (``city.phone`` in ``departments.yml``), if the file has one."""
    path = data_dir / "departments.yml"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    phone = (doc.get("city") or {}).get("phone") if isinstance(doc, dict) else None
    return str(phone) if phone else None


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry: serve the demo site."""
    parser = argparse.ArgumentParser(description="Serve the madoguchi widget and the サンプル市 demo page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WIDGET_PORT", "8080")))
    parser.add_argument(
        "--rasa-url",
        default=f"http://localhost:{os.environ.get('PORT', '5005')}",
        help="Rasa server base URL",
    )
    parser.add_argument(
        "--city-phone",
        default=os.environ.get("MADOGUCHI_CITY_PHONE"),
        help="phone number shown when the assistant cannot be reached "
        "(default: env MADOGUCHI_CITY_PHONE, else city.phone in data/departments.yml)",
    )
    parser.add_argument("--widget-dir", type=Path, default=default_widget_dir())
    args = parser.parse_args(argv)
    phone = args.city_phone or city_phone_from_data(settings.load().data_dir)
    if not phone:
        parser.error("no city phone number: pass --city-phone or set city.phone in data/departments.yml")
    app = create_app(args.widget_dir, args.rasa_url, phone)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
