"""Conversation ids for LINE chats: stable per chat, never the LINE id itself."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "line-"


def conversation_id(channel_secret: str, chat_id: str) -> str:
    """Derives the Rasa conversation (sender) id from a LINE user/group/room id.

    The id is ``line-`` + the first 32 hex digits of HMAC-SHA256(channel secret, chat id): the same chat
    always maps to the same conversation, and the LINE id cannot be read back from logs or the tracker
    store. Rotating the channel secret starts new conversations.
    """
    digest = hmac.new(channel_secret.encode("utf-8"), chat_id.encode("utf-8"), hashlib.sha256)
    return PREFIX + digest.hexdigest()[:32]
