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
        "» bob: /imgur link",
        "[Verify with my Imgur profile]",
        "I could not find your code in the About text of **Bob\\_On\\_Imgur** yet",
        "Linked as **Bob\\_On\\_Imgur** (verified by your profile)",
        "Imgur page 1 · 6–10 of 10 · newest first · your public gallery favorites only",
        "Kind: Verified by your Imgur profile",
        "» jonas: /imgur verknüpfen benutzername:Jonas_Bilder",
        "Schau in deine Direktnachrichten",
        "Dein Code für das Imgur-Konto **Jonas\\_Bilder**",
        "Verknüpft als **Jonas\\_Bilder** (über dein Profil bestätigt)",
        "(only you can see this)",
        "Imgur-Seite 1 · 1–5 von 8 · neueste zuerst · nur deine öffentlichen Galerie-Favoriten",
        "[Zurück] (disabled) [Weiter] [Zu Seite…]",
        "[Einen davon im Kanal teilen… ▾]",
        "teilt einen Favoriten von Imgur:",
        "the interactions alone: 0 calls to its channels",
        "with the client id alone: 3 profile checks, 2 public favorites pages.",
    ):
        assert expected in transcript, expected
    assert "state=" not in transcript
