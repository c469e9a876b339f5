"""Photos users send to the bot, as Telegram delivers them (several sizes, albums),
and the bot downloading them (getFile, then the file route; aiogram's
``bot.download``), with downloads that fail."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest
from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message, PhotoSize

from standin import DOWNLOAD, BotAPIStandin
from standin.media import image_size, photo_sides, sample_png

from .conftest import ALICE, RunRouter


def test_photo_sides_follow_telegram() -> None:
    assert photo_sides(8, 8) == [(8, 8)]
    assert photo_sides(640, 480) == [(90, 67), (320, 240), (640, 480)]
    assert photo_sides(4000, 3000) == [
        (90, 67),
        (320, 240),
        (800, 600),
        (1280, 960),
        (2560, 1920),
    ]
    assert photo_sides(1280, 2000)[-1] == (1280, 2000)


async def test_a_photo_comes_in_sizes_each_downloadable(bot: Bot, standin: BotAPIStandin) -> None:
    original = sample_png(640, 480)
    sent = standin.send_photo(ALICE, original, caption="tea")
    sizes = [PhotoSize.model_validate(s) for s in sent["photo"]]
    assert [(s.width, s.height) for s in sizes] == [(90, 67), (320, 240), (640, 480)]
    assert len({s.file_id for s in sizes}) == 3 and len({s.file_unique_id for s in sizes}) == 3
    assert sizes[-1].file_size == len(original)
    # The largest is the photo itself; each smaller one is an image of its size.
    buffer = await bot.download(sizes[-1].file_id)
    assert buffer is not None and buffer.read() == original
    small = await bot.download(sizes[0].file_id)
    assert small is not None and image_size(small.read()) == (90, 67)
    assert len(standin.downloads) == 2
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.download("no-such-file")


async def test_an_album_is_one_message_per_photo(
    standin: BotAPIStandin, run_router: RunRouter
) -> None:
    got: list[tuple[str | None, str | None, int]] = []
    all_three = asyncio.Event()
    router = Router()

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo is not None
        largest = message.photo[-1]
        data = await bot.download(largest)
        assert data is not None
        got.append((message.media_group_id, message.caption, len(data.read())))
        if len(got) == 3:
            all_three.set()

    await run_router(router)
    contents = [sample_png(10 + n, 10) for n in range(3)]
    sent = standin.send_album(ALICE, contents, caption="after the visit")
    await asyncio.wait_for(all_three.wait(), 5)
    group = sent[0]["media_group_id"]
    assert {m["media_group_id"] for m in sent} == {group}
    # The bot handles updates concurrently: compare without order.
    assert {g[0] for g in got} == {group}
    assert sorted((g[1] or "", g[2]) for g in got) == sorted(
        [("after the visit", len(contents[0])), ("", len(contents[1])), ("", len(contents[2]))]
    )
    with pytest.raises(ValueError, match="2 to 10"):
        standin.send_album(ALICE, [sample_png()])


async def test_downloads_fail_on_demand_and_in_an_outage(bot: Bot, standin: BotAPIStandin) -> None:
    sent = standin.send_photo(ALICE, sample_png(20, 20))
    file_id = sent["photo"][-1]["file_id"]
    standin.fail_next(DOWNLOAD, error_code=502, description="Bad Gateway")
    with pytest.raises(aiohttp.ClientResponseError) as failed:
        await bot.download(file_id, destination=io.BytesIO())
    assert failed.value.status == 502
    # The next one works: a fault is used once.
    buffer = await bot.download(file_id)
    assert buffer is not None and buffer.read() == sample_png(20, 20)
    # While Telegram is down, getFile and downloads both fail.
    standin.outage(30, methods=["getFile", DOWNLOAD])
    with pytest.raises(Exception, match="Bad Gateway"):
        await bot.download(file_id)
    file = sent["photo"][-1]
    url = f"{standin.base_url}/file/bot123456:TEST/photos/"
    async with aiohttp.ClientSession() as http:
        stored = standin.files[file["file_id"]]
        async with http.get(url + stored.file_path.split("/", 1)[1]) as response:
            assert response.status == 502
    assert standin.stats.outage == 2
