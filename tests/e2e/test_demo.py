import io

from tests.demo import play


async def test_offline_demo_plays_the_whole_session(tmp_path):
    out = io.StringIO()
    await play(out, tmp_path)
    transcript = out.getvalue()
    for expected in (
        "» alice: /imgur link",
        "Linked! Your Imgur account",
        "Imgur page 1 · 1–5 of 10",
        "Imgur page 2 · 1–4 of 4",
        "Hidden: marked NSFW",
        "» alice: /imgur status",
        "Unlinked.",
        "Imgur API calls made: 2 favorites pages",
    ):
        assert expected in transcript, expected
    assert "state=" not in transcript
