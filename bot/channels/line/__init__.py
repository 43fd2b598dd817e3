"""LINE Messaging API channel for Rasa.

``credentials.yml`` names the channel by this package's class path, ``bot.channels.line.LineInput``;
the webhook is served at ``/webhooks/line/webhook``. ``LineInput`` is imported on first access so that
light users of the package (the rich menu CLI) do not load Rasa.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LineInput"]


def __getattr__(name: str) -> Any:
    if name == "LineInput":
        from bot.channels.line.channel import LineInput

        return LineInput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
