"""Property-based tests of the callback server's routes: any query or body, never a 500.

The real ``CallbackServer`` (with the fake Imgur behind it) runs on its own event loop in a
thread for the whole test; hypothesis sends it requests over plain HTTP from the test's
thread: random query strings to ``/oauth/callback`` and ``/oauth/continue``, random bodies
and content types to ``/oauth/token``, random paths. Each answer must be a deliberate one (no
500, no traceback) and the server must log no unexpected error.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import threading
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.config import WebConfig
from bot.imgur import ResponseType
from bot.linking import LinkService
from bot.storage import LinkStore, TokenCipher, generate_key
from bot.web import BadStatePenalty, CallbackServer, WebDependencies
from tests.clients import imgur_client
from tests.fakes.imgur import FakeImgur

T = TypeVar("T")
MEMBER = 777
ALLOWED = {200, 400, 403, 404, 405, 408, 413, 415, 503}


class ServerThread:
    """The callback server and its collaborators on an event loop of their own."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self.port = 0
        self.links: LinkService | None = None
        self.errors: list[logging.LogRecord] = []

    def run(self, coroutine: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout=30)

    def start(self) -> None:
        self._thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        stack = self._stack
        imgur = await stack.enter_async_context(FakeImgur())
        session = await stack.enter_async_context(aiohttp.ClientSession())
        client = imgur_client(session, imgur, timeout=1.0, retry_backoff=0.01)
        store = await LinkStore.open(self._tmp_path / "bot.db", TokenCipher([generate_key()]))
        stack.push_async_callback(store.close)
        self.links = LinkService(store, client, response_type=ResponseType.CODE)

        async def no_sleep(_seconds: float) -> None:
            return None

        async def notify(_user: int, _text: str) -> None:
            return None

        async def member_name(_user: int) -> str | None:
            return "Alice <b> (@alice)"

        server = CallbackServer(
            WebConfig(enabled=True, host="127.0.0.1", port=0, public_url="https://bot.example"),
            WebDependencies(
                self.links,
                is_connected=lambda: True,
                notify=notify,
                penalty=BadStatePenalty(sleep=no_sleep),
                member_name=member_name,
            ),
        )
        await server.start()
        stack.push_async_callback(server.stop)
        assert server.port is not None
        self.port = server.port
        self.links.confirm_url = f"http://127.0.0.1:{self.port}/oauth/continue"
        imgur.add_account("alice_imgur")
        imgur.login_as = "alice_imgur"
        imgur.redirect_url = f"http://127.0.0.1:{self.port}/oauth/callback"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run(self._stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    def new_state(self) -> str:
        assert self.links is not None
        start = self.run(self.links.start(MEMBER))
        return start.url.split("state=", 1)[1]

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, target, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


class _Errors(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(tmp_path)
    handler = _Errors(server.errors)
    root = logging.getLogger()
    root.addHandler(handler)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        root.removeHandler(handler)


def assert_deliberate(served: ServerThread, status: int, body: bytes) -> None:
    assert status in ALLOWED, (status, body[:300])
    assert b"Traceback" not in body
    assert not served.errors, [record.getMessage() for record in served.errors]


# Mostly the names the routes read, so values reach the code behind them.
KEYS = st.one_of(
    st.sampled_from(["code", "state", "error", "access_token"]),
    st.sampled_from(["code", "state", "error", "access_token"]),
    st.sampled_from(["", "x", "STATE", "state[]"]),
    st.text(max_size=8),
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40),
    st.sampled_from(["", "access_denied", "a" * 600, "\x00", "%", "\n", "\u2028"]),
)
QUERIES = st.lists(st.tuples(KEYS, VALUES), max_size=5)
RAW_QUERIES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80
).map(lambda text: quote(text, safe="=&;%+"))
PROPERTIES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def pair_query(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


@pytest.mark.parametrize("path", ["/oauth/callback", "/oauth/continue"])
@PROPERTIES
@example(pairs=[("code", "\n")], state="\n", raw="", use_raw=False, real_state=False)
@example(pairs=[("code", "x" * 600)], state="", raw="", use_raw=False, real_state=True)
@example(pairs=[], state=None, raw="state=%ZZ&code=%00", use_raw=True, real_state=False)
@example(pairs=[("error", "\u2028")], state="%", raw="", use_raw=False, real_state=True)
@given(
    pairs=QUERIES,
    state=st.none() | VALUES,
    raw=RAW_QUERIES,
    use_raw=st.booleans(),
    real_state=st.booleans(),
)
def test_any_query_gets_a_deliberate_answer(
    served: ServerThread,
    path: str,
    pairs: list[tuple[str, str]],
    state: str | None,
    raw: str,
    use_raw: bool,
    real_state: bool,
) -> None:
    if state is not None:
        pairs = [("state", state), *pairs]
    if real_state:
        pairs = [*pairs, ("state", served.new_state())]
    query = raw if use_raw else pair_query(pairs)
    status, body = served.request("GET", f"{path}?{query}")
    assert_deliberate(served, status, body)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["state", "access_token", "refresh_token", "expires_in", "error"])
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=12,
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/json; charset=latin-1", ""]
)


@PROPERTIES
@given(
    payload=JSON,
    raw=st.binary(max_size=200),
    use_raw=st.booleans(),
    content_type=CONTENT_TYPES,
    real_state=st.booleans(),
)
def test_any_token_post_gets_a_deliberate_json_answer(
    served: ServerThread,
    payload: Any,
    raw: bytes,
    use_raw: bool,
    content_type: str,
    real_state: bool,
) -> None:
    if real_state and isinstance(payload, dict):
        payload = {**payload, "state": served.new_state()}
    body = raw if use_raw else json.dumps(payload).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    status, answer = served.request("POST", "/oauth/token", body, headers)
    assert_deliberate(served, status, answer)
    if status != 413:
        assert set(json.loads(answer)) >= {"ok", "title", "message"}


@PROPERTIES
@given(path=st.text(max_size=40), method=st.sampled_from(["GET", "POST", "PUT", "HEAD"]))
def test_any_path_and_method_gets_a_deliberate_answer(
    served: ServerThread, path: str, method: str
) -> None:
    status, body = served.request(method, "/" + quote(path, safe="/%"))
    assert_deliberate(served, status, body)
