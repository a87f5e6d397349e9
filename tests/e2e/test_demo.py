import io

from tests.demo import TRANSCRIPT_SHOWS, play


async def test_offline_demo_plays_the_whole_session(tmp_path):
    out = io.StringIO()
    await play(out, tmp_path)
    transcript = out.getvalue()
    for expected in TRANSCRIPT_SHOWS:
        assert expected in transcript, expected
    assert "state=" not in transcript
