"""The callback server's access log: one line a request that nobody can forge, and no IPs.

Requests go over raw sockets to the real ``CallbackServer``, so paths arrive exactly as an
attacker would send them (percent-encoded newlines, raw escape sequences, U+2028).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import pytest

from bot.config import WebConfig
from bot.linking import LinkService
from bot.web import CallbackServer, WebDependencies, printable

FORGED = "/oauth/callback%0a2026-12-03 12:00:00 INFO bot.linking: member 1 linked%0d%0a"


async def raw_get(port: int, target: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def access_lines(
    links: LinkService, caplog: pytest.LogCaptureFixture, targets: list[bytes], **web: Any
) -> list[str]:
    config = dataclasses.replace(
        WebConfig(enabled=True, host="127.0.0.1", port=0, public_url="https://bot.example"),
        **web,
    )
    server = CallbackServer(config, WebDependencies(links, is_connected=lambda: True, notify=_none))
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    await server.start()
    assert server.port is not None
    try:
        for target in targets:
            answer = await raw_get(server.port, target)
            assert answer.startswith((b"HTTP/1.1 ", b"HTTP/1.0 400 ")), answer[:100]
    finally:
        await server.stop()
    return [record.getMessage() for record in caplog.records if record.name == "aiohttp.access"]


async def _none(_user: int, _text: str) -> None:
    return None


async def test_a_path_with_encoded_newlines_stays_one_line_as_sent(links, caplog):
    target = FORGED.replace(" ", "%20").encode()
    (line,) = await access_lines(links, caplog, [target])
    assert "\n" not in line
    assert "\r" not in line
    assert "%0a2026-12-03%2012:00:00%20INFO" in line  # as sent, not decoded
    assert '"GET /oauth/callback%0a' in line


async def test_raw_control_and_separator_characters_are_escaped(links, caplog):
    targets = [
        b"/\x1b[31mred",  # aiohttp's parser refuses this one (400)
        "/line\u2028separator".encode(),
        b'/quote"and\\backslash',
        b"/oauth/callback?code=abc&state=\x01",
    ]
    lines = await access_lines(links, caplog, targets)
    assert len(lines) == len(targets), lines
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "\x1b" not in text
    assert "\u2028" not in text
    for line in lines:
        assert line.isprintable(), repr(line)
        # Exactly the two quotes around the request: a quote in the path cannot close it early.
        assert line.count('"') - line.count('\\"') == 2, line
    # A malformed request is a client's mistake: no ERROR, no traceback, no address.
    server_log = [record for record in caplog.records if record.name == "aiohttp.server"]
    assert server_log, "aiohttp said nothing about the malformed requests"
    assert all(record.levelno == logging.DEBUG for record in server_log), server_log
    assert all(record.exc_info is None for record in server_log)
    assert "127.0.0.1" not in text


async def test_no_client_address_is_logged_unless_configured(links, caplog):
    (line,) = await access_lines(links, caplog, [b"/healthz"])
    assert "127.0.0.1" not in line
    assert line.startswith('- "GET /healthz" 200 ')
    caplog.clear()
    (line,) = await access_lines(links, caplog, [b"/healthz"], log_client_ips=True)
    assert line.startswith('127.0.0.1 "GET /healthz" 200 ')


async def test_repeated_bad_states_name_no_address_unless_configured(web_client, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(5):
        await web_client.get("/oauth/callback?code=abc&state=nobody-knows-this")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "slowing down a client" in ours
    assert "127.0.0.1" not in ours


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/a\nb", "/a\\x0ab"),
        ("/tab\there", "/tab\\x09here"),
        ("/\x7f", "/\\x7f"),
        ("/\u2028", "/\\u2028"),
        ('/"', '/\\"'),
        ("/café", "/café"),
        ("/" + "a" * 300, "/" + "a" * 199 + "..."),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown
