"""`volunteer-bot audit`, run as a person would: the sentences of a station's subtree
since a day, in the station's time, as CSV too; one-line mistakes with exit status 2."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services import backfill, roles
from services.access import Actor
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from tests.conftest import load_example_tree
from tests.factories import make_activity
from tests.unit.test_cli import cli

NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # 09:00 in Hefei


async def seed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"  # the database `cli` points the command at
    await migrate.upgrade(url)
    engine = make_engine(url)
    try:
        maker = make_sessionmaker(engine)
        tree = await load_example_tree(maker)
        async with maker() as session:
            for code in ("hf-ss-xy-xyxc", "hf-ss-hp-wyl"):
                await roles.grant(
                    session, user_id=7001, role="staff", station_code=code, actor_id=None
                )
        for code, name in (("hf-ss-xy-xyxc", "王芳"), ("hf-ss-hp-wyl", "Elsewhere")):
            activity = await make_activity(
                maker, tree[code], now=NOW, capacity=5, starts_in=-timedelta(hours=1), title="Tea"
            )
            async with maker() as session:
                await backfill.record_on_behalf(
                    session,
                    actor=Actor(7001),
                    activity_id=activity,
                    name=name,
                    phone=None,
                    minutes=40,
                    now=NOW,
                )
    finally:
        await engine.dispose()


async def test_prints_the_sentences_and_writes_csv(tmp_path: Path) -> None:
    await seed(tmp_path)
    out_csv = tmp_path / "audit.csv"
    args = ["audit", "--station", "hf-ss-xy", "--since", "2026-01-01", "--lang", "en"]
    result = cli(tmp_path, *args, "--csv", str(out_csv))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    expected = (
        "hf-ss-xy-xyxc  Telegram user 7001 added 王芳 to the records of «Tea» on their "
        "behalf: not recorded → present · 40 min"
    )
    assert any(line.endswith(expected) for line in lines), result.stdout
    assert "Elsewhere" not in result.stdout  # another street
    assert "<b>" not in result.stdout and "<i>" not in result.stdout
    assert f"csv: {out_csv}" in result.stdout
    with out_csv.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["at", "station", "actor_id", "action", "what"]
    actions = [r[3] for r in rows[1:]]
    assert actions == ["role.granted", "attendance.recorded_on_behalf"]
    assert rows[2][4] == expected.split("  ", 1)[1]
    # The entry's time in the station's zone: created now, so today's date there.
    assert rows[2][0].endswith("+08:00")

    later = cli(tmp_path, "audit", "--station", "hf-ss-xy", "--since", "2999-01-01")
    assert (
        later.returncode == 0 and "no audit entries for hf-ss-xy since 2999-01-01" in later.stdout
    )


def test_mistakes(tmp_path: Path) -> None:
    bad_date = cli(tmp_path, "audit", "--station", "hf", "--since", "yesterday")
    assert bad_date.returncode == 2
    assert "bad date 'yesterday': dates look like 2026-11-01" in bad_date.stderr
    unknown = cli(tmp_path, "audit", "--station", "nowhere", "--since", "2026-01-01")
    assert unknown.returncode == 2 and "no station with code 'nowhere'" in unknown.stderr
