"""The callback server on a free local port, for runs with no Discord behind it (the
descriptor-limit child process, the slow-clients benchmark)."""

from __future__ import annotations

from typing import Any

from bot.config import WebConfig
from bot.imgur import ImgurClient
from bot.linking import LinkService
from bot.storage import LinkStore
from bot.web import CallbackServer, WebDependencies


async def send_nothing(_user: int, _text: str) -> None:
    """A ``notify`` that sends no DM: there is no Discord."""


def local_callback_server(store: LinkStore, imgur: ImgurClient, **web: Any) -> CallbackServer:
    """A server for ``store`` on 127.0.0.1 (a free port), its bot always connected;
    ``web`` are further ``WebConfig`` settings."""
    return CallbackServer(
        WebConfig(enabled=True, host="127.0.0.1", port=0, public_url="https://bot.example", **web),
        WebDependencies(LinkService(store, imgur), is_connected=lambda: True, notify=send_nothing),
    )
