"""The sandbox's terminal with the real bot: a number typed when the bot asks for one
is the answer, not a press of some older message's button."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from services import roles
from standin.models import SentMessage
from standin.terminal import InputFunc, run_terminal
from storage.models import Beneficiaries, TargetGroup
from storage.types import utcnow
from tests.e2e.conftest import Live
from tests.factories import make_activity

STAFF = 5301
HOME = "hf-ss-xy-xyxc"


@dataclass(frozen=True)
class Press:
    """Type the number of the button labelled ``label`` in the latest message."""

    label: str


def script(live: Live, steps: list[str | Press]) -> InputFunc:
    """Types each step once the bot has answered the one before, as a person would."""
    pending = iter(steps)
    mark: list[int] = []

    async def read(prompt: str) -> str:
        if mark:  # the bot's answer to the last step
            await live.standin.wait_for_message(STAFF, after=mark[-1], timeout=10)
            await live.standin.wait_idle(STAFF, quiet=0.3)
        mark.append(live.standin.mark(STAFF))
        step = next(pending, None)
        if step is None:
            raise EOFError
        if isinstance(step, str):
            return step
        label = step.label

        def latest_shows(message: SentMessage) -> bool:
            latest = live.standin.last_message(STAFF)
            return latest is not None and any(label in b.get("text", "") for b in latest.buttons())

        await live.standin.wait_for_message(STAFF, predicate=latest_shows, timeout=10)
        latest = live.standin.last_message(STAFF)
        assert latest is not None
        labels = [str(b.get("text", "")) for b in latest.buttons()]
        number = next(i for i, text in enumerate(labels, start=1) if step.label in text)
        return str(number)

    return read


async def test_typing_6_at_the_elderly_count_records_6(live: Live, tmp_path: Path) -> None:
    live.standin.add_user(STAFF, "Staff", language_code="zh-hans")
    async with live.sessionmaker() as session:
        await roles.grant(session, user_id=STAFF, role="staff", station_code=HOME, actor_id=None)
    activity_id = await make_activity(
        live.sessionmaker,
        live.stations[HOME],
        now=utcnow(),
        capacity=10,
        starts_in=-timedelta(hours=3),
        title="敬老茶话会",
    )
    out = io.StringIO()
    steps: list[str | Press] = [
        "/roster",
        Press("敬老茶话会"),
        Press("受益"),
        Press("老年人"),
        "6",
    ]
    await run_terminal(
        live.standin,
        user_id=STAFF,
        input_func=script(live, steps),
        output=out,
        download_dir=tmp_path,
    )
    async with live.sessionmaker() as session:
        rows = (
            await session.exec(
                select(Beneficiaries.target_group, Beneficiaries.count).where(
                    Beneficiaries.activity_id == activity_id
                )
            )
        ).all()
    assert "老年人" in out.getvalue()
    assert list(rows) == [(TargetGroup.ELDERLY, 6)], out.getvalue()
