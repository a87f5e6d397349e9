"""The soak's short version: 200 members, 30 s of compressed time, random Imgur faults.

The full soak (10 minutes of compressed time, with figures) is ``python -m bench.soak``.
"""

from __future__ import annotations

from pathlib import Path

from bench.soak import run_soak


async def test_a_short_soak_leaves_nothing_unhandled_unanswered_or_running(
    tmp_path: Path,
) -> None:
    result = await run_soak(tmp_path, members=200, simulated_seconds=30, speed=5, seed_value=7)
    assert result.interactions > 100
    assert sum(result.faults.values()) > 5  # Imgur did misbehave
    assert result.unhandled == []
    assert result.unacknowledged == []  # every interaction acknowledged within 3 s
    assert result.unanswered == []  # and every member got an answer
    assert result.tasks_end <= result.tasks_start  # the bot's tasks back to where they were
