"""A fake Imgur for the benchmarks, run as its own process so it does not share a core with
the client being measured.

    python -m bench.imgur_server [--mode lean|fake] [--latency S] [--favorites N]

Prints one JSON line: ``base_url``, ``client_id``, ``client_secret``, ``username``,
``access_token``, ``refresh_token``; then serves until SIGTERM or stdin closes.

``lean`` (default) is a bench-only server: the same paths, status codes, headers and payload
shapes as ``tests/fakes/imgur.py`` (items from ``tests.fakes.imgur_data``), but stateless and
cheap: favorites pages are encoded to JSON once at start, tokens are self-describing
(``at.<username>.<serial>``, ``rt.<username>.<serial>``; any such token is accepted, the
username is read from it), nothing is recorded but a count per route
(``GET /_bench/stats``). ``fake`` runs the test suite's ``FakeImgur`` itself with one account
``bench``, for comparison: it records every request and encodes every answer anew.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import web

from bench.children import announce, wait_for_stdin_close_or_signal
from bench.identities import CLIENT_ID, CLIENT_SECRET, access_token, refresh_token
from bench.procfs import cpu_seconds
from tests.fakes.imgur_data import FakeAccount, error_envelope, make_favorites

JSON = "application/json"


class LeanImgur:
    """Imgur's token, account and favorites endpoints, precomputed; see the module docs."""

    def __init__(self, *, latency: float, favorites: int, page_size: int = 60) -> None:
        self.latency = latency
        self.page_size = page_size
        self.counts: dict[str, int] = {
            "token": 0,
            "token_reused": 0,  # refresh tokens presented a second time (should stay 0)
            "account": 0,
            "favorites": 0,
        }
        self._refresh_tokens_seen: set[str] = set()
        self._serial = itertools.count(1)
        items = make_favorites(favorites, "bench")
        self._pages: dict[tuple[str, int], bytes] = {}
        for sort, ordered in (("newest", items), ("oldest", items[::-1])):
            for page in range(max(1, -(-favorites // page_size)) + 1):
                chunk = ordered[page * page_size : (page + 1) * page_size]
                body = {"data": chunk, "success": True, "status": 200}
                self._pages[(sort, page)] = json.dumps(body).encode()
        self._empty = json.dumps({"data": [], "success": True, "status": 200}).encode()
        self._rate_headers = {
            "X-RateLimit-ClientLimit": "12500",
            "X-RateLimit-ClientRemaining": "12000",
            "X-RateLimit-UserLimit": "2000",
            "X-RateLimit-UserRemaining": "1990",
            "X-RateLimit-UserReset": str(int(time.time()) + 3600),
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth2/token", self._token)
        app.router.add_get("/3/account/me", self._account)
        app.router.add_get(r"/3/account/{username}/favorites", self._favorites)
        app.router.add_get(r"/3/account/{username}/favorites/{page:\d+}", self._favorites)
        app.router.add_get(r"/3/account/{username}/favorites/{page:\d+}/{sort}", self._favorites)
        app.router.add_get("/_bench/stats", self._stats)
        return app

    async def _pause(self) -> None:
        if self.latency > 0:
            await asyncio.sleep(self.latency)

    def _error(self, request: web.Request, status: int, message: str) -> web.Response:
        body = error_envelope(status, message, request.path, request.method)
        return web.json_response(body, status=status)

    def _user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer at."):
            return None
        return header[len("Bearer at.") :].split(".", 1)[0] or None

    def _tokens(self, username: str) -> dict[str, Any]:
        serial = next(self._serial)
        return {
            "access_token": f"at.{username}.{serial:020d}00000000000000000000",
            "expires_in": 3600,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": f"rt.{username}.{serial:020d}00000000000000000000",
            "account_id": 10_000_000,
            "account_username": username,
        }

    async def _token(self, request: web.Request) -> web.Response:
        self.counts["token"] += 1
        form = await request.post()
        await self._pause()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self._error(request, 400, "The client credentials are invalid")
        if form.get("grant_type") != "refresh_token":
            return self._error(request, 400, "Invalid grant_type parameter or parameter missing")
        token = form.get("refresh_token")
        if not isinstance(token, str) or not token.startswith("rt."):
            return self._error(request, 400, "Invalid refresh token")
        if token in self._refresh_tokens_seen:
            self.counts["token_reused"] += 1
        self._refresh_tokens_seen.add(token)
        username = token[3:].split(".", 1)[0]
        return web.json_response(self._tokens(username))

    async def _account(self, request: web.Request) -> web.Response:
        self.counts["account"] += 1
        await self._pause()
        username = self._user(request)
        if username is None:
            return self._error(request, 403, "The access token provided is invalid.")
        account = FakeAccount(username=username, id=10_000_000)
        body = {"data": account.payload(), "success": True, "status": 200}
        return web.json_response(body, headers=self._rate_headers)

    async def _favorites(self, request: web.Request) -> web.Response:
        self.counts["favorites"] += 1
        await self._pause()
        username = self._user(request)
        if username is None:
            return self._error(request, 403, "The access token provided is invalid.")
        wanted = request.match_info["username"]
        if wanted != "me" and wanted.lower() != username.lower():
            return self._error(request, 403, "Unauthorized")
        page = int(request.match_info.get("page") or 0)
        sort = "oldest" if request.match_info.get("sort") == "oldest" else "newest"
        body = self._pages.get((sort, page), self._empty)
        return web.Response(body=body, content_type=JSON, headers=self._rate_headers)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"counts": self.counts, "cpu": cpu_seconds()})


async def serve_lean(latency: float, favorites: int) -> None:
    lean = LeanImgur(latency=latency, favorites=favorites)
    runner = web.AppRunner(lean.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    host, port = runner.addresses[0][:2]
    announce(
        {
            "mode": "lean",
            "base_url": f"http://{host}:{port}",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": "m0",
            "access_token": access_token(0),
            "refresh_token": refresh_token(0),
        }
    )
    try:
        await wait_for_stdin_close_or_signal()
    finally:
        await runner.cleanup()


async def serve_fake(latency: float, favorites: int) -> None:
    from tests.fakes.imgur import FakeImgur

    async with FakeImgur(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as fake:
        fake.latency = latency
        fake.client_remaining = fake.client_limit = 10**9
        fake.user_remaining = fake.user_limit = 10**9
        fake.add_account("bench", favorites=favorites)
        tokens = fake.issue_tokens("bench")
        announce(
            {
                "mode": "fake",
                "base_url": fake.base_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "username": "bench",
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
            }
        )
        await wait_for_stdin_close_or_signal()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("lean", "fake"), default="lean")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--favorites", type=int, default=130, help="favorites of each account")
    args = parser.parse_args()
    serve = serve_lean if args.mode == "lean" else serve_fake
    asyncio.run(serve(args.latency, args.favorites))


if __name__ == "__main__":
    main()
