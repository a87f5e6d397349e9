"""Replies in the member's language (interaction.locale) and localized commands at Discord."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Harness
from tests.e2e.discord_native import button_id, buttons, favorites, footer, share_select
from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import Failure


def subcommand(discord: FakeDiscord, name: str) -> dict[str, Any]:
    (group,) = [c for c in discord.commands if c["name"] == "imgur"]
    return next(o for o in group["options"] if o["name"] == name)


async def test_the_synced_commands_carry_every_shipped_language(harness: Harness) -> None:
    discord = harness.discord
    (group,) = [c for c in discord.commands if c["name"] == "imgur"]
    assert group["description_localizations"]["de"] == "Dein Imgur-Konto"
    command = subcommand(discord, "favorites")
    assert command["name_localizations"] == {
        "de": "favoriten",
        "fr": "favoris",
        "es-ES": "favoritos",
        "pt-BR": "favoritos",
    }
    assert command["description_localizations"]["pt-BR"] == "Mostra seus favoritos do Imgur"
    options = {o["name"]: o for o in command["options"]}
    assert options["page"]["name_localizations"]["de"] == "seite"
    assert options["private"]["name_localizations"]["fr"] == "privé"
    newest = options["sort"]["choices"][0]
    assert newest["name_localizations"]["de"] == "Neueste zuerst"
    assert newest["name_localizations"]["pt-BR"] == "Mais recentes primeiro"
    assert subcommand(discord, "link")["name_localizations"]["de"] == "verknüpfen"


async def test_a_german_member_reads_german(harness: Harness) -> None:
    discord = harness.discord
    jonas = harness.member("jonas", locale="de")
    not_linked = await (await harness.command(jonas, "favorites", {})).wait_for_message()
    assert not_linked.is_ephemeral
    assert "Du hast noch kein Imgur-Konto verknüpft" in not_linked.text
    assert "`/imgur verknüpfen`" in not_linked.text

    started = await harness.command(jonas, "link")
    answer = await started.wait_for_message()
    assert "Schau in deine Direktnachrichten" in answer.text
    dm = await discord.wait_for_dm(jonas)
    assert dm.embeds[0]["title"] == "Verknüpfe dein Imgur-Konto"
    assert {"Auf Imgur freigeben", "PIN eingeben"} <= set(buttons(dm))

    harness.imgur.add_account("jonas_imgur", favorites=12)
    pin = harness.imgur.issue_pin("jonas_imgur")
    done = await (await harness.command(jonas, "pin", {"code": pin})).wait_for_message()
    assert done.text.startswith("Verknüpft! Dein Imgur-Konto **jonas\\_imgur**")

    _, message = await favorites(harness, jonas, {"private": True})
    assert footer(message) == "Imgur-Seite 1 · 1–5 von 12 · neueste zuerst"
    assert {"Zurück", "Weiter", "Zu Seite…"} == set(buttons(message))
    assert share_select(message)["placeholder"] == "Einen davon im Kanal teilen…"
    press = await discord.press_button(jonas, message, button_id(message, "Weiter"))
    await press.wait_for_message(lambda m: "6–10 von 12" in footer(m))

    status = await (await harness.command(jonas, "status")).wait_for_message()
    names = [f["name"] for f in status.embeds[0]["fields"]]
    assert {"Konto", "Verknüpft", "Art", "Zeigt", "Token"} <= set(names)
    assert "<t:" in status.text  # Discord's own timestamps, shown in the member's language


async def test_a_brazilian_member_reads_brazilian_portuguese(harness: Harness) -> None:
    discord = harness.discord
    ana = harness.member("ana", locale="pt-BR")
    await harness.link(ana, "ana_imgur", favorites=3)
    _, message = await favorites(harness, ana)
    assert not message.is_ephemeral
    assert footer(message) == "Página do Imgur 1 · 1–3 de 3 · mais recentes primeiro"
    assert {"Anterior", "Próxima", "Ir para a página…"} == set(buttons(message))
    bob = harness.member("bob")  # another member's press: in *his* language
    press = await discord.press_button(bob, message, button_id(message, "Próxima"))
    reply = await press.wait_for_message()
    assert "Run `/imgur favorites` yourself" in reply.text

    harness.imgur.fail("favorites", Failure.HANG, times=5)
    harness.bot.favorites.forget(ana.id)
    interaction = await harness.command(ana, "favorites", {"sort": "oldest"})
    reply = await interaction.wait_for_message(lambda m: m.is_ephemeral, timeout=10)
    assert "O Imgur não está respondendo agora" in reply.text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("fr", "Tu n'as pas encore lié de compte Imgur"),
        ("es-ES", "Todavía no has vinculado ninguna cuenta de Imgur"),
        ("es-419", "Todavía no has vinculado ninguna cuenta de Imgur"),
        ("ja", "You have not linked an Imgur account yet"),
    ],
)
async def test_other_languages_and_the_english_fallback(
    harness: Harness, locale: str, expected: str
) -> None:
    member = harness.member("someone", locale=locale)
    reply = await (await harness.command(member, "status")).wait_for_message()
    assert expected in reply.text


@pytest.mark.parametrize("locale", ["de", "fr", "es-ES", "pt-BR"])
async def test_every_form_opens_in_every_language(harness: Harness, locale: str) -> None:
    """Discord refuses a modal whose title or labels are too long: each must open."""
    discord = harness.discord
    member = harness.member("someone")
    await harness.link(member, "someone_imgur", favorites=12)
    member.locale = locale
    await (await harness.command(member, "link")).wait_for_message()
    dm = discord.dms(member)[-1]
    for button in [b for b in dm.buttons if b.get("custom_id")]:
        press = await discord.press_button(member, dm, button["custom_id"])
        modal = await press.wait_for_modal()
        assert press.rejected_callbacks == []
        assert modal["title"]
    _, message = await favorites(harness, member)
    go_to = next(b for b in message.buttons if b["custom_id"].startswith("imgur:fav:g:"))
    press = await discord.press_button(member, message, go_to["custom_id"])
    await press.wait_for_modal()
    assert press.rejected_callbacks == []
