"""What a member reads off a message of the fake Discord: a button by its label, the footer,
the profile code the bot asks them to put in their Imgur bio."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.discord_models import FakeMessage

PROFILE_CODE = re.compile(r"imgur-link-[A-Z0-9]{4}-[A-Z0-9]{4}")


def button_labelled(message: FakeMessage, label: str) -> dict[str, Any] | None:
    """The first button labelled ``label``, if the message has one."""
    return next((b for b in message.buttons if b.get("label") == label), None)


def button_id(message: FakeMessage, label: str) -> str:
    """The custom id of the button labelled ``label``; ``LookupError`` if there is none."""
    found = button_labelled(message, label)
    if found is None:
        raise LookupError(label)
    return str(found["custom_id"])


def footer(message: FakeMessage) -> str:
    """The last embed's footer text ("" without embeds)."""
    return str(message.embeds[-1]["footer"]["text"]) if message.embeds else ""


def profile_code(message: FakeMessage) -> str | None:
    """The profile code in the message's embeds or text, if any."""
    found = PROFILE_CODE.search(str(message.embeds) + message.text)
    return found[0] if found else None
