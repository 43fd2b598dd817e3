"""``python -m bot.staff``: serves the staff console on ``STAFF_HOST:STAFF_PORT`` (127.0.0.1:5080)."""

from __future__ import annotations

import argparse
import logging
from typing import Sequence

from aiohttp import web

from bot import settings as settings_module
from bot.knowledge.catalog import load_catalog
from bot.knowledge.faq.live_base import LiveFaq
from bot.privacy import install_log_masking
from bot.staff.app import create_app, load_ui
from bot.staff.config import StaffConfig
from bot.stores import now_jst, open_stores


def main(argv: Sequence[str] | None = None) -> None:
    settings = settings_module.load()
    config = StaffConfig.from_env(settings.var_dir)
    parser = argparse.ArgumentParser(description="Serve the madoguchi staff console.")
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--port", type=int, default=config.port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    install_log_masking()
    app = create_app(
        open_stores(settings),
        load_catalog(settings.data_dir),
        config,
        load_ui(settings.data_dir),
        clock=now_jst,
        faq=LiveFaq(settings.faq_dir),
        close_stores=True,
        data_dir=settings.data_dir,
        work_dir=settings.var_dir / "staff",
    )
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
