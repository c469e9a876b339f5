"""The wire format: encodings, status codes and getUpdates semantics, with plain aiohttp."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from standin import BotAPIStandin

from .conftest import ALICE

TOKEN = "123456:TEST"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, standin: BotAPIStandin, method: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    url = f"{standin.base_url}/bot{TOKEN}/{method}"
    async with http.post(url, **kwargs) as response:
        return response.status, await response.json()


async def test_json_query_and_form_bodies(
    http: aiohttp.ClientSession, standin: BotAPIStandin
) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = await call(
        http,
        standin,
        "sendMessage",
        json={"chat_id": ALICE, "text": "json", "reply_markup": markup},
    )
    assert status == 200 and body["ok"] and body["result"]["reply_markup"] == markup
    status, body = await call(http, standin, "SENDMESSAGE", params={"chat_id": ALICE, "text": "q"})
    assert status == 200 and body["result"]["text"] == "q"
    form = {"chat_id": str(ALICE), "text": "f", "reply_markup": json.dumps(markup)}
    status, body = await call(http, standin, "sendmessage", data=form)
    assert status == 200 and standin.messages(ALICE)[-1].reply_markup == markup
    assert [name for name, _ in standin.requests] == ["sendMessage"] * 3


async def test_multipart_with_a_direct_file_part(
    http: aiohttp.ClientSession, standin: BotAPIStandin
) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ALICE))
    form.add_field("document", b"abc", filename="a.bin")
    status, body = await call(http, standin, "sendDocument", data=form)
    assert status == 200 and body["result"]["document"]["file_name"] == "a.bin"
    status, body = await call(http, standin, "sendDocument", data={"chat_id": str(ALICE)})
    assert (status, body["description"]) == (
        400,
        "Bad Request: there is no document in the request",
    )


async def test_errors_look_like_telegram(
    http: aiohttp.ClientSession, standin: BotAPIStandin
) -> None:
    status, body = await call(http, standin, "sendMessage", json={"chat_id": 7, "text": "x"})
    assert (status, body) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    status, body = await call(http, standin, "noSuchMethod")
    assert (status, body["description"]) == (404, "Not Found: method not found")
    async with http.post(f"{standin.base_url}/botnotoken/getMe") as response:
        assert response.status == 404
    status, body = await call(
        http, standin, "sendMessage", data={"chat_id": str(ALICE), "text": "x", "reply_markup": "{"}
    )
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"
    standin.fail_next(
        "getMe", error_code=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    status, body = await call(http, standin, "getMe")
    assert (status, body["parameters"]) == (429, {"retry_after": 3})


async def test_file_download_route(http: aiohttp.ClientSession, standin: BotAPIStandin) -> None:
    sent = standin.send_document(ALICE, "a.txt", b"payload")
    status, body = await call(
        http, standin, "getFile", json={"file_id": sent["document"]["file_id"]}
    )
    url = f"{standin.base_url}/file/bot{TOKEN}/{body['result']['file_path']}"
    async with http.get(url) as response:
        assert response.status == 200 and await response.read() == b"payload"
    async with http.get(f"{standin.base_url}/file/bot{TOKEN}/documents/nothing") as response:
        assert response.status == 404
    status, body = await call(http, standin, "getFile", json={"file_id": "nope"})
    assert (status, body["description"]) == (400, "Bad Request: invalid file_id")


async def updates(http: aiohttp.ClientSession, standin: BotAPIStandin, **params: Any) -> list[Any]:
    status, body = await call(http, standin, "getUpdates", json=params)
    assert status == 200, body
    result: list[Any] = body["result"]
    return result


async def test_get_updates_offsets_and_limits(
    http: aiohttp.ClientSession, standin: BotAPIStandin
) -> None:
    for text in ("a", "b", "c"):
        standin.send_text(ALICE, text)
    first = await updates(http, standin, limit=2)
    assert [u["message"]["text"] for u in first] == ["a", "b"]
    assert first[1]["update_id"] == first[0]["update_id"] + 1
    again = await updates(http, standin)
    assert len(again) == 3  # nothing confirmed yet
    rest = await updates(http, standin, offset=first[1]["update_id"] + 1)
    assert [u["message"]["text"] for u in rest] == ["c"]
    assert await updates(http, standin, offset=rest[0]["update_id"] + 1) == []
    standin.send_text(ALICE, "d")
    standin.send_text(ALICE, "e")
    assert [u["message"]["text"] for u in await updates(http, standin, offset=-1)] == ["e"]


async def test_long_polling_wakes_up(http: aiohttp.ClientSession, standin: BotAPIStandin) -> None:
    poll = asyncio.create_task(updates(http, standin, timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    standin.send_text(ALICE, "wake")
    result = await asyncio.wait_for(poll, 1)
    assert result[0]["message"]["text"] == "wake"
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await updates(http, standin, offset=result[0]["update_id"] + 1, timeout=1) == []
    assert loop.time() - started >= 0.9


async def test_second_poll_terminates_the_first(
    http: aiohttp.ClientSession, standin: BotAPIStandin
) -> None:
    first = asyncio.create_task(call(http, standin, "getUpdates", json={"timeout": 5}))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(call(http, standin, "getUpdates", json={"timeout": 5}))
    status, body = await asyncio.wait_for(first, 1)
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")
    standin.send_text(ALICE, "x")
    status, body = await asyncio.wait_for(second, 1)
    assert status == 200 and len(body["result"]) == 1


async def test_allowed_updates_filter(http: aiohttp.ClientSession, standin: BotAPIStandin) -> None:
    standin.send_text(ALICE, "text")
    assert await updates(http, standin, allowed_updates=["callback_query"]) == []
    standin.send_text(ALICE, "dropped")
    sent = (
        await call(
            http,
            standin,
            "sendMessage",
            json={
                "chat_id": ALICE,
                "text": "q",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
            },
        )
    )[1]["result"]
    standin.press(ALICE, sent["message_id"], "a")
    result = await updates(http, standin)  # the setting is remembered
    assert [next(k for k in u if k != "update_id") for u in result] == ["callback_query"]
    standin.block(ALICE)  # my_chat_member is not in the list
    assert len(await updates(http, standin, allowed_updates=[])) == 1
    standin.unblock(ALICE)  # the empty list restored the defaults
    assert [u.get("my_chat_member") is not None for u in await updates(http, standin)] == [
        False,
        True,
    ]


async def test_webhook_blocks_get_updates(
    http: aiohttp.ClientSession, standin: BotAPIStandin
) -> None:
    await call(http, standin, "setWebhook", json={"url": "https://example.org/hook"})
    status, _ = await call(http, standin, "getUpdates")
    assert status == 409
    standin.send_text(ALICE, "pending")
    await call(http, standin, "deleteWebhook", json={"drop_pending_updates": True})
    assert await updates(http, standin) == []


async def test_call_delay_holds_every_call_but_get_updates(
    http: aiohttp.ClientSession, standin: BotAPIStandin
) -> None:
    standin.call_delay = 0.2
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body = await call(http, standin, "sendMessage", json={"chat_id": ALICE, "text": "x"})
    assert status == 200 and loop.time() - started >= 0.2
    message_id = body["result"]["message_id"]
    started = loop.time()
    status, _ = await call(http, standin, "getUpdates", json={"timeout": 0})
    assert status == 200 and loop.time() - started < 0.2
    standin.call_delay = 0
    status, _ = await call(
        http,
        standin,
        "editMessageText",
        json={"chat_id": ALICE, "message_id": message_id, "text": "y"},
    )
    assert status == 200
    assert (standin.stats.messages_sent, standin.stats.messages_edited) == (1, 1)
