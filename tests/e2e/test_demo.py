from __future__ import annotations

import io
from pathlib import Path

from tests.demo import TRANSCRIPT_SHOWS, play


async def test_offline_demo_plays_the_whole_session(tmp_path: Path) -> None:
    out = io.StringIO()
    await play(out, tmp_path)
    transcript = out.getvalue()
    for expected in TRANSCRIPT_SHOWS:
        assert expected in transcript, expected
    assert "state=" not in transcript
