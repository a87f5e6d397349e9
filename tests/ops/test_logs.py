"""The redacting log handler, fed real token-shaped strings through ``setup_logging``."""

from __future__ import annotations

import asyncio
import base64
import errno
import functools
import io
import json
import logging
import secrets

import pytest
from cryptography.fernet import Fernet

from bot.logs import REDACTED, RateLimitFilter, redact, setup_logging


def imgur_token() -> str:
    return secrets.token_hex(20)  # Imgur access/refresh tokens and client secrets: 40 hex


def discord_bot_token() -> str:
    # base64(user id) . base64(timestamp) . HMAC, as Discord issues them
    user_id = base64.urlsafe_b64encode(b"1098765432109876543").decode().rstrip("=")
    stamp = base64.urlsafe_b64encode(secrets.token_bytes(4)).decode().rstrip("=")
    hmac = base64.urlsafe_b64encode(secrets.token_bytes(28)).decode().rstrip("=")
    return f"{user_id}.{stamp}.{hmac}"


def fernet_key() -> str:
    return Fernet.generate_key().decode()


def fernet_token() -> str:
    return Fernet(Fernet.generate_key()).encrypt(imgur_token().encode()).decode()


def state() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def log_output() -> io.StringIO:
    stream = io.StringIO()
    setup_logging("DEBUG", "text", stream=stream)
    return stream


def logged(stream: io.StringIO) -> str:
    return stream.getvalue()


SECRETS = {
    "imgur token": imgur_token,
    "discord bot token": discord_bot_token,
    "fernet key": fernet_key,
    "fernet token": fernet_token,
}


@pytest.mark.parametrize("kind", SECRETS)
def test_a_secret_in_the_message_is_redacted(log_output: io.StringIO, kind: str) -> None:
    secret = SECRETS[kind]()
    logging.getLogger("bot.test").info(f"got {secret} back")  # noqa: G004 - on purpose
    assert secret not in logged(log_output)
    assert f"got {REDACTED} back" in logged(log_output)


@pytest.mark.parametrize("kind", SECRETS)
def test_a_secret_in_the_arguments_is_redacted(log_output: io.StringIO, kind: str) -> None:
    secret = SECRETS[kind]()
    logging.getLogger("bot.test").warning("refresh for %s failed: %r", 42, {"value": secret})
    assert secret not in logged(log_output)
    assert "refresh for 42 failed" in logged(log_output)


@pytest.mark.parametrize("kind", SECRETS)
def test_a_secret_in_an_exception_traceback_is_redacted(log_output: io.StringIO, kind: str) -> None:
    secret = SECRETS[kind]()

    def fail() -> None:
        raise ValueError(f"Imgur refused {secret}")

    try:
        fail()
    except ValueError:
        logging.getLogger("bot.test").exception("refresh failed")
    text = logged(log_output)
    assert secret not in text
    assert "Traceback" in text
    assert f"ValueError: Imgur refused {REDACTED}" in text


def test_authorize_and_redirect_urls_lose_state_code_pin_and_tokens(
    log_output: io.StringIO,
) -> None:
    client_id, the_state, code = secrets.token_hex(8)[:15], state(), secrets.token_hex(20)
    access, refresh, pin = imgur_token(), imgur_token(), "4071526398"
    urls = [
        "https://api.imgur.com/oauth2/authorize?client_id="
        f"{client_id}&response_type=pin&state={the_state}",
        f"https://bot.example.org/oauth/callback?state={the_state}&code={code}",
        f"https://bot.example.org/oauth/callback#access_token={access}&expires_in=315360000"
        f"&token_type=bearer&refresh_token={refresh}&account_username=alice&state={the_state}",
        f"POST /oauth2/token grant_type=pin&pin={pin}&client_secret={imgur_token()}",
    ]
    for url in urls:
        logging.getLogger("bot.test").info("visiting %s", url)
    text = logged(log_output)
    for secret in (client_id, the_state, code, access, refresh, pin):
        assert secret not in text
    assert f"state={REDACTED}" in text
    assert f"pin={REDACTED}" in text
    assert "account_username=alice" in text  # what is not secret stays readable
    assert "expires_in=315360000" in text


def test_authorization_headers_keep_the_scheme_only(log_output: io.StringIO) -> None:
    bearer, bot_token, client_id = imgur_token(), discord_bot_token(), secrets.token_hex(8)[:15]
    log = logging.getLogger("bot.test")
    log.debug("Authorization: Bearer %s", bearer)
    log.debug("headers %r", {"Authorization": f"Bot {bot_token}", "User-Agent": "x"})
    log.debug("Authorization: Client-ID %s", client_id)
    text = logged(log_output)
    for secret in (bearer, bot_token, client_id):
        assert secret not in text
    assert f"Authorization: Bearer {REDACTED}" in text
    assert f"'Authorization': 'Bot {REDACTED}" in text
    assert f"Client-ID {REDACTED}" in text


def test_token_fields_of_json_bodies_are_redacted(log_output: io.StringIO) -> None:
    refresh_token = imgur_token()
    body = {
        "access_token": "short-but-secret",
        "refresh_token": refresh_token,
        "account_username": "alice",
        "code": 50007,
    }
    logging.getLogger("bot.test").info("token response: %s", json.dumps(body))
    text = logged(log_output)
    assert "short-but-secret" not in text
    assert refresh_token not in text
    assert '"account_username": "alice"' in text
    assert '"code": 50007' in text  # Discord error numbers stay


def test_discord_interaction_tokens_in_routes_are_redacted(log_output: io.StringIO) -> None:
    token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OmFiY2RlZmdoaWprbG1ub3A"
    logging.getLogger("discord.http").warning(
        "rate limited: PATCH https://discord.com/api/v10/webhooks/123456789012345678/%s"
        "/messages/@original",
        token,
    )
    text = logged(log_output)
    assert token not in text
    assert f"/webhooks/123456789012345678/{REDACTED}/messages/@original" in text


def test_ordinary_lines_are_left_alone() -> None:
    lines = [
        "connected as Imgur Link Bot#1234 (1098765432109876543) to 3 guilds",
        "applied schema migration 0001_initial",
        "state digest " + "ab" * 32,  # a SHA-256 digest (what the store keeps) is no secret
        "refresh sweep: 4 refreshed, 0 failed for now, 1 broken, 2 states purged",
        "could not DM member 42 (code 50007)",
        "Bot is ready",
    ]
    for line in lines:
        assert redact(line) == line


def test_json_lines_are_redacted_objects(log_output: io.StringIO) -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream=stream)
    secret = imgur_token()
    try:
        raise RuntimeError(f"token {secret} rejected")
    except RuntimeError:
        logging.getLogger("bot.tokens").exception("refresh of member %d failed", 7)
    line = stream.getvalue().strip()
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "bot.tokens"
    assert entry["message"] == "refresh of member 7 failed"
    assert f"RuntimeError: token {REDACTED} rejected" in entry["exception"]
    assert secret not in line


def test_the_level_is_applied_and_discord_http_stays_quiet(log_output: io.StringIO) -> None:
    stream = io.StringIO()
    setup_logging("WARNING", "text", stream=stream)
    logging.getLogger("bot.test").info("not shown")
    logging.getLogger("bot.test").warning("shown")
    setup_logging("DEBUG", "text", stream=stream)
    logging.getLogger("discord.http").debug("PATCH with the whole payload")
    assert "not shown" not in stream.getvalue()
    assert "shown" in stream.getvalue()
    assert "whole payload" not in stream.getvalue()


def test_a_message_whose_arguments_do_not_fit_is_still_logged(log_output: io.StringIO) -> None:
    secret = imgur_token()
    logging.getLogger("bot.test").info("two %s %s", secret)
    assert "two" in logged(log_output)
    assert secret not in logged(log_output)


async def test_accept_errors_of_the_event_loop_are_rate_limited() -> None:
    # What asyncio logs each time accept() fails because descriptors ran out: through the
    # loop's real exception handler, a hundred times.
    stream = io.StringIO()
    setup_logging("INFO", "text", stream=stream)
    loop = asyncio.get_running_loop()
    for _ in range(100):
        loop.call_exception_handler(
            {
                "message": "socket.accept() out of system resource",
                "exception": OSError(errno.EMFILE, "Too many open files"),
            }
        )
    lines = [line for line in stream.getvalue().splitlines() if "socket.accept()" in line]
    assert 1 <= len(lines) <= 5, lines
    logging.getLogger("bot.tokens").error("refresh of member %d failed", 1)
    assert "refresh of member 1 failed" in stream.getvalue()  # other loggers are not limited


def test_the_rate_limit_says_how_many_it_held_back_and_forgets_after_its_period() -> None:
    now = [0.0]
    limit = RateLimitFilter(["bot.web"], burst=2, period=60, monotonic=lambda: now[0])

    def record(name: str = "bot.web", arg: int = 0) -> logging.LogRecord:
        return logging.LogRecord(name, logging.WARNING, __file__, 1, "closing %d", (arg,), None)

    passed = [limit.filter(record(arg=i)) for i in range(10)]
    assert passed == [True, True] + [False] * 8  # one kind: the template, not the arguments
    assert all(limit.filter(record("bot.tokens")) for _ in range(10))
    now[0] = 61.0
    again = record(arg=99)
    assert limit.filter(again)
    assert again.getMessage() == "closing 99 [8 more like this not shown]"
    assert limit.filter(record())
    assert not limit.filter(record())


def test_gateway_payloads_at_debug_keep_only_op_event_and_sequence(log_output: io.StringIO) -> None:
    payload = {
        "op": 0,
        "t": "INTERACTION_CREATE",
        "s": 7,
        "d": {"token": "interaction-token", "data": {"options": [{"value": "4071526398"}]}},
    }
    logging.getLogger("discord.gateway").debug("For Shard ID %s: WebSocket Event: %s", 0, payload)
    text = logged(log_output)
    assert "For Shard ID 0: WebSocket Event: {op=0, t=INTERACTION_CREATE, s=7, ...}" in text
    assert "4071526398" not in text
    assert "interaction-token" not in text


def test_aiosqlite_at_debug_shows_the_sql_but_not_its_parameters(log_output: io.StringIO) -> None:
    def execute(sql: str, parameters: tuple[object, ...]) -> None:
        return None

    call = functools.partial(execute, "SELECT * FROM links\n WHERE imgur_username = ?", ("alice",))
    aiosqlite_log = logging.getLogger("aiosqlite")
    aiosqlite_log.setLevel(logging.DEBUG)  # as if someone lowered it again
    aiosqlite_log.debug("executing %s", call)
    text = logged(log_output)
    assert "executing execute('SELECT * FROM links WHERE imgur_username = ?', <parameters" in text
    assert "alice" not in text
    setup_logging("DEBUG", "text", stream=io.StringIO())
    assert aiosqlite_log.getEffectiveLevel() == logging.INFO  # kept at INFO even at DEBUG


def test_a_message_cannot_forge_a_line_of_its_own_but_tracebacks_keep_theirs(
    log_output: io.StringIO,
) -> None:
    log = logging.getLogger("bot.test")
    log.warning("Imgur refused the link (%s)", "bad\n2026-12-03 12:00:00 INFO bot: all is well")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed on %s", "x\r\u2028y")
    lines = logged(log_output).splitlines()
    assert "bad\\x0a2026-12-03 12:00:00 INFO bot: all is well)" in lines[0]
    assert not any(line.startswith("2026-12-03 12:00:00 INFO") for line in lines)
    assert "failed on x\\x0d\\u2028y" in lines[1]
    assert lines[2] == "Traceback (most recent call last):"
