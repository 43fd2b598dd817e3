"""The Messaging API client against the stand-in platform: retries, backoff, outcomes."""

from __future__ import annotations

import pytest
from line_bench import free_port, line_config

from bot.channels.line.client import LineApiClient, LineApiError, ReplyOutcome

TEXT = [{"type": "text", "text": "こんにちは"}]


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
async def client_and_sleeps(platform):
    sleeps = Sleeps()
    client = LineApiClient(line_config(platform, backoff_seconds=0.5), sleep=sleeps)
    yield client, sleeps
    await client.close()


async def test_backoff_doubles_and_is_bounded(platform, client_and_sleeps):
    client, sleeps = client_and_sleeps
    platform.script("/v2/bot/message/push", 500, 502, 503)
    key = await client.push("Uuser", TEXT)
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(platform.calls_to("/v2/bot/message/push")) == 4
    assert {c.headers["X-Line-Retry-Key"] for c in platform.calls_to("/v2/bot/message/push")} == {key}


async def test_retry_after_is_honoured_up_to_the_cap(platform, client_and_sleeps):
    client, sleeps = client_and_sleeps
    platform.script("/v2/bot/message/reply", 429)
    assert await client.reply("token-1", TEXT) is ReplyOutcome.SENT
    assert sleeps == [0.5]


async def test_push_gives_up_after_max_attempts(platform, client_and_sleeps):
    client, sleeps = client_and_sleeps
    platform.script("/v2/bot/message/push", *([500] * 10))
    with pytest.raises(LineApiError) as caught:
        await client.push("Uuser", TEXT, retry_key="123e4567-e89b-12d3-a456-426614174000")
    assert caught.value.status == 500 and caught.value.path == "/v2/bot/message/push"
    assert len(platform.calls_to("/v2/bot/message/push")) == 4 and len(sleeps) == 3


async def test_reply_outcomes(platform, client_and_sleeps):
    client, _ = client_and_sleeps
    assert await client.reply("token-2", TEXT) is ReplyOutcome.SENT
    assert await client.reply("token-2", TEXT) is ReplyOutcome.TOKEN_REJECTED
    platform.script("/v2/bot/message/reply", "accepted-500")
    assert await client.reply("token-3", TEXT) is ReplyOutcome.UNCERTAIN
    platform.script("/v2/bot/message/reply", 403)
    with pytest.raises(LineApiError) as caught:
        await client.reply("token-4", TEXT)
    assert caught.value.status == 403


async def test_wrong_token_is_an_error_not_a_retry(platform):
    client = LineApiClient(line_config(platform, access_token="wrong"))
    try:
        with pytest.raises(LineApiError) as caught:
            await client.push("Uuser", TEXT)
        assert caught.value.status == 401 and "Authentication failed" in str(caught.value)
        assert len(platform.calls) == 1
    finally:
        await client.close()


async def test_unreachable_platform(platform):
    dead = f"http://127.0.0.1:{free_port()}"
    sleeps = Sleeps()
    client = LineApiClient(line_config(platform, api_base_url=dead, request_timeout_seconds=2), sleep=sleeps)
    try:
        assert await client.reply("token", TEXT) is ReplyOutcome.UNCERTAIN
        with pytest.raises(LineApiError) as caught:
            await client.push("Uuser", TEXT)
        assert caught.value.status == 0
        assert await client.start_loading("Uuser", 20) is False
    finally:
        await client.close()


async def test_one_session_for_the_client_life(platform, client_and_sleeps):
    client, _ = client_and_sleeps
    await client.start_loading("Uuser", 5)
    first = client._http()
    await client.reply("token-5", TEXT)
    assert client._http() is first
    await client.close()
    await client.close()  # idempotent
    assert first.closed
