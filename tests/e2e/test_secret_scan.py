"""Secret scan: a whole end-to-end run at DEBUG leaks no secret into logs or exceptions.

The real bot (in this process, logging set up as ``python -m bot`` does at DEBUG, and the
loggers it keeps quieter lowered to DEBUG too) is driven through every flow a member has:
linking by PIN (command and form), by a pasted code redirect and a pasted token redirect,
through the web callback, by a code in the Imgur profile, favorites with paging, status, a
refresh, a broken link, wrong input, Imgur failing, unlink. Every secret that exists in the run
is collected as it is made (the fake Imgur's PINs, codes and tokens, the states of the
authorize URLs, the profile code, the client secret, the Discord token); then none may
appear in

- what the bot's log handler wrote (every logger: discord.py's gateway, aiosqlite, aiohttp),
- the text or ``repr`` of any exception a log record or the event loop carried (with causes).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.imgur import ImgurError
from bot.logs import setup_logging
from cogs.views import PIN_BUTTON_ID
from tests.bot.web.test_bot_wiring import free_port
from tests.e2e.conftest import Harness, make_config, running_harness
from tests.e2e.discord_native import button_id
from tests.e2e.test_bio_link import ask_code, code_of, press_check
from tests.e2e.test_link_flow import authorize_url
from tests.fakes.discord import FakeDiscord, FakeMessage, FakeUser, point_discord_py_at
from tests.fakes.imgur import Failure, FakeImgur

pytestmark = pytest.mark.errors_expected  # the broken link and Imgur's failures log warnings


class Secrets:
    """Every secret made during the run, recorded where it is made."""

    def __init__(self, imgur: FakeImgur, discord: FakeDiscord) -> None:
        self.values: set[str] = {imgur.client_secret, discord.token}
        for name in ("issue_pin", "issue_code"):
            self._record(imgur, name, lambda value: [value])
        self._record(
            imgur, "issue_tokens", lambda tokens: [tokens["access_token"], tokens["refresh_token"]]
        )

    def _record(
        self, imgur: FakeImgur, name: str, secrets_of: Callable[[Any], Iterable[str]]
    ) -> None:
        original = getattr(imgur, name)

        def recording(*args: Any, **kwargs: Any) -> Any:
            value = original(*args, **kwargs)
            self.values.update(secrets_of(value))
            return value

        setattr(imgur, name, recording)

    def add_states_of(self, message: FakeMessage) -> str:
        url = authorize_url(message)
        state = parse_qs(urlsplit(url).query)["state"][0]
        self.values.add(state)
        return state

    def found_in(self, text: str) -> list[str]:
        return sorted({secret for secret in self.values if secret and secret in text})


class RawRecords(logging.Handler):
    """Every record as logged, before any redaction: for the exceptions they carry."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.exceptions: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.exceptions.append(record.exc_info[1])


def exception_texts(exceptions: list[BaseException]) -> Iterator[str]:
    seen: set[int] = set()
    pending = list(exceptions)
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield str(exc)
        yield repr(exc)
        yield repr(getattr(exc, "args", ()))
        pending.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)


@pytest.fixture
def debug_logs() -> Iterator[tuple[io.StringIO, RawRecords]]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ALWAYS_DEBUG}
    stream, raw = io.StringIO(), RawRecords()
    setup_logging("DEBUG", "text", stream=stream)  # as `python -m bot` with BOT_LOG_LEVEL=DEBUG
    for name in ALWAYS_DEBUG:  # and everything the bot keeps quieter, too: the whole capture
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(raw)
    try:
        yield stream, raw
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)


# Loggers setup_logging keeps at INFO even at DEBUG; the scan lowers them again.
ALWAYS_DEBUG = ("discord.http", "aiosqlite", "aiohttp", "asyncio")


async def whole_run(h: Harness, secrets: Secrets, web_base: str) -> None:
    imgur, discord = h.imgur, h.discord
    for name in ("pin_user", "form_user", "code_user", "token_user", "web_user"):
        imgur.add_account(name, favorites=12)

    # 1. PIN through /imgur pin, after a wrong PIN and an Imgur failure.
    alice = h.member("alice")
    await (await h.command(alice, "link")).wait_for_message()
    secrets.add_states_of(await discord.wait_for_dm(alice))
    imgur.fail("token", Failure.SERVER_ERROR)
    pin = imgur.issue_pin("pin_user")
    await (await h.command(alice, "pin", {"code": pin})).wait_for_message()
    done = await (await h.command(alice, "pin", {"code": pin})).wait_for_message()
    assert "Linked!" in done.text, done.text
    await (await h.command(alice, "link")).wait_for_message()
    secrets.add_states_of(await discord.wait_for_dm(alice, lambda m: m is not _first_dm(h, alice)))
    await (await h.command(alice, "pin", {"code": "0000000000"})).wait_for_message()

    # 2. PIN through the Enter PIN form.
    bob = h.member("bob")
    await (await h.command(bob, "link")).wait_for_message()
    dm = await discord.wait_for_dm(bob)
    secrets.add_states_of(dm)
    opened = await discord.press_button(bob, dm, PIN_BUTTON_ID)
    modal = await opened.wait_for_modal()
    (field,) = [c["custom_id"] for row in modal["components"] for c in row["components"]]
    sent = await discord.submit_modal(bob, opened, {field: imgur.issue_pin("form_user")})
    assert "Linked!" in (await sent.wait_for_message()).text

    # 3. A pasted code redirect, and 4. a pasted token redirect.
    carol = h.member("carol")
    await (await h.command(carol, "link")).wait_for_message()
    state = secrets.add_states_of(await discord.wait_for_dm(carol))
    pasted = f"https://example.org/cb?code={imgur.issue_code('code_user')}&state={state}"
    done = await (await h.command(carol, "pin", {"code": pasted})).wait_for_message()
    assert "Linked!" in done.text
    dave = h.member("dave")
    await (await h.command(dave, "link")).wait_for_message()
    state = secrets.add_states_of(await discord.wait_for_dm(dave))
    tokens = imgur.issue_tokens("token_user")
    fragment = "&".join(f"{k}={v}" for k, v in tokens.items() if v is not None)
    pasted = f"https://example.org/cb?state={state}#{fragment}"
    done = await (await h.command(dave, "pin", {"code": pasted})).wait_for_message()
    assert "Linked!" in done.text

    # 5. The web callback (as Imgur's redirect after "Allow").
    erin = h.member("erin")
    await (await h.command(erin, "link")).wait_for_message()
    state = secrets.add_states_of(await discord.wait_for_dm(erin))
    async with aiohttp.ClientSession() as session:
        callback = f"{web_base}/oauth/callback?code={imgur.issue_code('web_user')}&state={state}"
        async with session.get(callback) as page:
            assert page.status == 200, await page.text()
        async with session.get(callback) as replay:  # a replayed callback is refused
            assert replay.status == 400
    await discord.wait_for_dm(erin, lambda m: "Linked as" in m.text)

    # 5b. By a code in the Imgur profile: a wrong check first, then the right one.
    frank = h.member("frank")
    imgur.add_account("bio_user", favorites=3)
    offer = await ask_code(h, frank, "bio_user")
    code = code_of(offer)
    secrets.values.add(code)
    await press_check(h, frank, offer)  # not in the profile yet
    imgur.account("bio_user").bio = f"hi {code.lower()}"
    answer = await press_check(h, frank, offer)
    assert "verified by your profile" in answer.text, answer.text
    await (await h.command(frank, "favorites")).wait_for_message()
    await (await h.command(frank, "status")).wait_for_message()

    # 6. Favorites and paging; 7. a refresh forced by Imgur rejecting the access token.
    shown = await (await h.command(alice, "favorites")).wait_for_message()
    press = await discord.press_button(alice, shown, button_id(shown, "Next"))
    await press.wait_for_message(lambda m: "6–10" in str(m.embeds))
    token_calls = imgur.count("token")
    imgur.fail("favorites", Failure.INVALID_ACCESS_TOKEN)
    await (await h.command(alice, "favorites", {"sort": "oldest"})).wait_for_message()
    assert imgur.count("token") == token_calls + 1  # refreshed, then shown

    # 8. Status; 9. a link Imgur no longer accepts (refused refresh token).
    await (await h.command(alice, "status")).wait_for_message()
    imgur.revoke("form_user")
    imgur.expire_access_tokens("form_user")
    await (await h.command(bob, "favorites")).wait_for_message()
    await (await h.command(bob, "status")).wait_for_message()

    # 10. Unlink.
    question = await (await h.command(carol, "unlink")).wait_for_message()
    press = await discord.press_button(carol, question, button_id(question, "Unlink"))
    await press.wait_for_message(lambda m: "Unlinked" in m.text)

    # 11. Exceptions the Imgur client raises for refused secrets carry none of them.
    for call in (
        h.bot.imgur.exchange_pin(imgur.issue_pin("pin_user") + "0"),
        h.bot.imgur.exchange_code(imgur.issue_code("pin_user")[:-1]),
        h.bot.imgur.refresh(tokens["refresh_token"] + "0"),
        h.bot.imgur.account(tokens["access_token"] + "0"),
    ):
        with pytest.raises(ImgurError) as raised:
            await call
        logging.getLogger("tests.secret_scan").debug("refused", exc_info=raised.value)


def _first_dm(h: Harness, user: FakeUser) -> FakeMessage:
    return h.discord.dms(user)[0]


async def test_a_whole_run_at_debug_leaks_no_secret(
    tmp_path: Path, debug_logs: tuple[io.StringIO, RawRecords]
) -> None:
    stream, raw = debug_logs
    port = free_port()
    web_base = f"http://127.0.0.1:{port}"
    web = {"enabled": True, "host": "127.0.0.1", "port": port, "public_url": web_base}
    loop_errors: list[BaseException] = []
    loop = asyncio.get_running_loop()

    def note_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "exception" in context:
            loop_errors.append(context["exception"])
        loop.default_exception_handler(context)

    loop.set_exception_handler(note_loop_error)
    try:
        async with FakeImgur() as imgur, FakeDiscord() as discord:
            secrets = Secrets(imgur, discord)
            with point_discord_py_at(discord):
                config = make_config(tmp_path, discord, imgur, logging={"level": "DEBUG"}, web=web)
                async with running_harness(config, discord, imgur) as harness:
                    await whole_run(harness, secrets, web_base)
            discord.assert_all_acknowledged(within=3.0)
    finally:
        loop.set_exception_handler(None)

    output = stream.getvalue()
    for logger in ("discord.gateway", "discord.http", "aiosqlite", "bot.imgur.client"):
        assert f" {logger}: " in output  # DEBUG reached every logger
    assert len(secrets.values) > 20
    texts = "\n".join(exception_texts(raw.exceptions + loop_errors))
    assert raw.exceptions, "the run should have logged some exceptions to check"
    assert not secrets.found_in(texts), "secrets in exception texts or reprs"
    leaks = leaking_lines(output, secrets)
    assert not leaks, f"{len(leaks)} line(s) of the DEBUG log hold a secret: {leaks[:3]}"


def leaking_lines(output: str, secrets: Secrets) -> list[tuple[str, str]]:
    """(logger, the line up to the secret) for each log line that holds a secret."""
    leaks = []
    logger = "?"
    for line in output.splitlines():
        header = LOG_LINE.match(line)
        if header is not None:
            logger = header[1]  # lines without a header continue the record (a traceback)
        for secret in secrets.found_in(line):
            leaks.append((logger, line[: line.index(secret)][-120:] + "<SECRET>"))
    return leaks


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ +([\w.]+): ")
