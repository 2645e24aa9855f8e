"""Heavy jobs are capped (issue 14, item 9): per user and overall; light queries run on
threads of their own, so they are not stuck behind exports and charts."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database

from handlers.core.context import BotData
from handlers.core.offload import HEAVY_IN_FLIGHT, Busy, in_heavy_worker, in_worker
from storage.db import open_db
from tests.bot_harness import WAIT


@pytest.fixture
def bot_data(tmp_path: Path) -> BotData:
    data = BotData()
    data.db_path = tmp_path / "lvdong.sqlite"
    data.db = open_db(data.db_path)
    return data


async def test_heavy_jobs_are_capped_per_user_and_overall_and_light_ones_go_on(
    bot_data: BotData,
) -> None:
    release = threading.Event()

    def heavy(db: Database) -> int:
        release.wait(WAIT)
        return 1

    jobs = [asyncio.create_task(in_heavy_worker(bot_data, 1000 + n, heavy))
            for n in range(HEAVY_IN_FLIGHT)]
    await asyncio.sleep(0)  # let each take its place
    with pytest.raises(Busy) as same_user:
        await in_heavy_worker(bot_data, 1000, heavy)
    assert "上一个" in same_user.value.message
    with pytest.raises(Busy) as overall:
        await in_heavy_worker(bot_data, 2000, heavy)
    assert "较多" in overall.value.message
    # a light query is answered while every heavy worker is busy
    assert await asyncio.wait_for(
        in_worker(bot_data, lambda db: db.execute("SELECT 42").fetchone()[0]), WAIT) == 42
    release.set()
    assert await asyncio.gather(*jobs) == [1] * HEAVY_IN_FLIGHT
    assert await in_heavy_worker(bot_data, 1000, lambda db: 2) == 2, "free again"
