"""Benchmark 5: Imgur credits. API calls made, as counted by the fake Imgur.

    python -m bench.credits [--quick]

The real bot against the test suite's fakes (``tests/e2e/conftest.py``'s ``running_bot``,
``FakeImgur``, ``FakeDiscord``, all in this process: only counts matter here). First one member
runs each kind of command once, to count the calls per command; then 10 members at once each
run ``/imgur favorites`` and page with Next through 3 Imgur pages (60 + 60 + 30 favorites, 5
shown per message) and back with Previous, with the page cache as configured by default and
with it disabled (``cache.favorites_ttl_seconds = 0``).

Then a member links by a code in their Imgur profile (``bio``) and pages their public gallery
favorites through the same pages and back: Imgur calls per profile check and per uncached
public page, read with the client id alone.

Credits: Imgur counts ``/3/`` API calls (account, favorites, public profiles, gallery
favorites) against the client's and the user's limits; the OAuth2 token endpoint is counted
apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cli import cli
from bench.messages import button_id, footer, profile_code
from bench.report import Report

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness
    from tests.fakes.discord_models import FakeMessage, FakeUser
    from tests.fakes.imgur import FakeImgur

ROUTES = ("favorites", "account", "token", "public_account", "gallery_favorites")
MEMBERS = 10
PRESS_TIMEOUT = 10.0


def windows(page_sizes: list[int], per_message: int) -> list[tuple[int, int]]:
    """(Imgur page, offset) of every message from the first favorite to the last."""
    return [
        (page, offset)
        for page, size in enumerate(page_sizes)
        for offset in range(0, size, per_message)
    ]


@contextlib.asynccontextmanager
async def harness(workdir: Path, cache: bool, page_size: int) -> AsyncIterator[Harness]:
    from bot.storage import generate_key
    from tests.e2e.conftest import Harness, make_config, running_bot
    from tests.fakes.discord import FakeDiscord, point_discord_py_at
    from tests.fakes.imgur import FakeImgur

    async with FakeImgur(page_size=page_size) as imgur, FakeDiscord() as discord:
        imgur.client_remaining = imgur.client_limit = 10**9
        imgur.user_remaining = imgur.user_limit = 10**9
        with point_discord_py_at(discord):
            sections: dict[str, dict[str, Any]] = {
                "imgur": {"request_timeout_seconds": 5},
                "storage": {"encryption_key": generate_key()},
            }
            if not cache:
                sections["cache"] = {"favorites_ttl_seconds": 0}
            config = make_config(workdir, discord, imgur, **sections)
            async with running_bot(config, discord) as bot:
                yield Harness(bot=bot, discord=discord, imgur=imgur, config=config)


class Counter:
    """Imgur calls per route since the last ``take``."""

    def __init__(self, imgur: FakeImgur) -> None:
        self.imgur = imgur
        self.last = {route: imgur.count(route) for route in ROUTES}

    def take(self) -> dict[str, int]:
        now = {route: self.imgur.count(route) for route in ROUTES}
        delta = {route: now[route] - self.last[route] for route in ROUTES}
        self.last = now
        return delta


async def press(
    h: Harness, user: FakeUser, message: FakeMessage, label: str, expect: tuple[int, int]
) -> None:
    """Press ``label`` on ``message`` and wait until it shows window ``expect``."""
    page, offset = expect
    prefix = f"Imgur page {page + 1} · {offset + 1}–"
    pressed = await h.discord.press_button(user, message, button_id(message, label))
    await pressed.wait_for_message(lambda m: footer(m).startswith(prefix), timeout=PRESS_TIMEOUT)


async def page_through(
    h: Harness, user: FakeUser, message: FakeMessage, sequence: list[tuple[int, int]]
) -> int:
    """Next from the first window of ``sequence`` to the last, Previous back to the first;
    the messages shown (the first one included)."""
    for expect in sequence[1:]:
        await press(h, user, message, "Next", expect)
    for expect in reversed(sequence[:-1]):
        await press(h, user, message, "Previous", expect)
    return 1 + 2 * (len(sequence) - 1)


async def per_command(workdir: Path, page_sizes: list[int], per_message: int) -> dict[str, Any]:
    """Imgur calls of each kind of command, one member, cache on."""
    counts: dict[str, dict[str, int]] = {}
    async with harness(workdir, cache=True, page_size=page_sizes[0]) as h:
        h.imgur.add_account("solo_imgur", favorites=sum(page_sizes))
        user = h.member("solo")
        count = Counter(h.imgur)
        started = await h.command(user, "link")
        await started.wait_for_message()
        counts["/imgur link"] = count.take()
        done = await h.command(user, "pin", {"code": h.imgur.issue_pin("solo_imgur")})
        await done.wait_for_message(lambda m: "Linked!" in m.text)
        counts["/imgur pin (PIN exchange)"] = count.take()
        shown = await h.command(user, "favorites", {})
        message = await shown.wait_for_message()
        counts["/imgur favorites (page not cached)"] = count.take()
        again = await h.command(user, "favorites", {})
        await again.wait_for_message()
        counts["/imgur favorites (page cached)"] = count.take()
        await press(h, user, message, "Next", (0, per_message))
        counts["Next within a cached page"] = count.take()
        await press(h, user, message, "Previous", (0, 0))
        counts["Previous within a cached page"] = count.take()
        page = await h.command(user, "favorites", {"page": 2})
        second = await page.wait_for_message()
        counts["/imgur favorites page:2 (not cached)"] = count.take()
        await press(
            h, user, second, "Previous", (0, (page_sizes[0] - 1) // per_message * per_message)
        )
        counts["Previous into a cached page"] = count.take()
        status = await h.command(user, "status")
        await status.wait_for_message()
        counts["/imgur status"] = count.take()
        ask = await h.command(user, "unlink")
        question = await ask.wait_for_message()
        confirm = await h.discord.press_button(user, question, button_id(question, "Unlink"))
        await confirm.wait_for_message(lambda m: "Unlinked" in m.content)
        counts["/imgur unlink + confirm"] = count.take()
    return counts


async def paging(
    workdir: Path, cache: bool, page_sizes: list[int], per_message: int
) -> dict[str, Any]:
    """10 members page forward through every window and back; Imgur calls in total."""
    sequence = windows(page_sizes, per_message)
    async with harness(workdir, cache=cache, page_size=page_sizes[0]) as h:
        users = []
        for n in range(MEMBERS):
            user = h.member(f"member{n}")
            await h.link(user, f"imgur{n}", favorites=sum(page_sizes))
            users.append(user)
        count = Counter(h.imgur)

        async def browse(user: FakeUser) -> int:
            shown = await h.command(user, "favorites", {})
            return await page_through(h, user, await shown.wait_for_message(), sequence)

        async with asyncio.timeout(300):
            shown = await asyncio.gather(*(browse(user) for user in users))
        calls = count.take()
        h.discord.assert_all_acknowledged(within=3.0)
    return {"calls": calls, "messages": sum(shown), "pages": len(page_sizes) * MEMBERS}


async def bio_member(workdir: Path, page_sizes: list[int], per_message: int) -> dict[str, Any]:
    """One member links by profile code (one check before the code is there, one after) and
    pages their public gallery favorites forward through every window and back, cache on."""
    sequence = windows(page_sizes, per_message)
    async with harness(workdir, cache=True, page_size=page_sizes[0]) as h:
        h.imgur.add_account("bio_imgur", favorites=sum(page_sizes))
        user = h.member("bio_member")
        count = Counter(h.imgur)
        started = await h.command(user, "link", {"username": "bio_imgur"})
        await started.wait_for_message()
        dm = await h.discord.wait_for_dm(user, lambda m: profile_code(m) is not None)
        code = profile_code(dm)
        assert code is not None
        start = count.take()
        checks = 0
        for bio in ("no code yet", f"hello {code}"):
            h.imgur.account("bio_imgur").bio = bio
            pressed = await h.discord.press_button(user, dm, button_id(dm, "Check"))
            await pressed.wait_for_message(timeout=PRESS_TIMEOUT)
            checks += 1
        checked = count.take()
        shown = await h.command(user, "favorites", {})
        messages = await page_through(h, user, await shown.wait_for_message(), sequence)
        paged = count.take()
        h.discord.assert_all_acknowledged(within=3.0)
    return {
        "start": start,
        "checks": checks,
        "checked": checked,
        "paged": paged,
        "messages": messages,
        "pages": len(page_sizes),
    }


def _calls(counts: dict[str, int]) -> str:
    api = counts["favorites"] + counts["account"]
    return (
        f"{api} API call(s) ({counts['favorites']} favorites, {counts['account']} account), "
        f"{counts['token']} token"
    )


async def bench(quick: bool = False) -> Report:
    from bot.render import ITEMS_PER_MESSAGE

    report = Report("5. Imgur credits")
    page_sizes = [10, 10, 5] if quick else [60, 60, 30]
    with tempfile.TemporaryDirectory(prefix="bench-credits-") as name:
        root = Path(name)
        for sub in ("solo", "cache", "nocache"):
            (root / sub).mkdir()
        # discord.py logs each interaction at DEBUG/INFO; keep the run's output to the figures.
        logging.getLogger("discord").setLevel(logging.WARNING)
        solo = await per_command(root / "solo", page_sizes, ITEMS_PER_MESSAGE)
        (root / "bio").mkdir()
        bio = await bio_member(root / "bio", page_sizes, ITEMS_PER_MESSAGE)
        cached = await paging(root / "cache", True, page_sizes, ITEMS_PER_MESSAGE)
        uncached = await paging(root / "nocache", False, page_sizes, ITEMS_PER_MESSAGE)
    for kind, counts in solo.items():
        report.add(kind, _calls(counts))
    report.notes.append(
        f"{MEMBERS} members, each: /imgur favorites, Next through {len(page_sizes)} Imgur pages "
        f"({' + '.join(map(str, page_sizes))} favorites, {ITEMS_PER_MESSAGE} a message), "
        f"Previous back to the first: {cached['messages'] // MEMBERS} messages each"
    )
    ideal = cached["pages"]
    for label, run in (("with the cache", cached), ("without the cache", uncached)):
        fav = run["calls"]["favorites"]
        report.add(
            f"paging {label}",
            f"{fav} favorites calls for {run['messages']} messages over {run['pages']} distinct "
            f"pages ({fav / run['messages']:.2f} per message); other calls: "
            f"{run['calls']['account']} account, {run['calls']['token']} token",
        )
    report.add(
        "calls with the cache, per distinct page",
        f"{cached['calls']['favorites'] / ideal:.2f}",
        "exactly 1 per uncached page, 0 per cached",
        cached["calls"]["favorites"] == ideal
        and cached["calls"]["account"] == 0
        and solo["/imgur favorites (page cached)"]["favorites"] == 0,
    )
    # Without the cache nothing fetched is kept, so every message shown reads its page again:
    # exactly one call per message, none more (a live pager keeps only the items it shows).
    got = uncached["calls"]["favorites"]
    shown = uncached["messages"]
    report.add(
        "calls without the cache, per message shown",
        f"{got / shown:.2f} ({got} calls for {shown} messages)",
        "exactly 1 per uncached page",
        got == shown,
    )
    other = sum(
        counts["account"] + counts["token"] for kind, counts in solo.items() if "pin" not in kind
    )
    report.add(
        "credit-costing calls besides favorites pages (all commands but /imgur pin)",
        str(other),
        "0",
        other == 0,
    )
    per_check = bio["checked"]["public_account"] / bio["checks"]
    report.add(
        "bio: Imgur calls per profile check (client id only)",
        f"{per_check:.2f} ({bio['checked']['public_account']} for {bio['checks']} checks; "
        f"/imgur link username: made {sum(bio['start'].values())})",
        "1",
        per_check == 1
        and sum(bio["start"].values()) == 0
        and sum(v for k, v in bio["checked"].items() if k != "public_account") == 0,
    )
    gallery = bio["paged"]["gallery_favorites"]
    report.add(
        "bio: Imgur calls per uncached public page",
        f"{gallery / bio['pages']:.2f} ({gallery} gallery_favorites calls for {bio['pages']} "
        f"distinct pages over {bio['messages']} messages; other calls: "
        f"{sum(v for k, v in bio['paged'].items() if k != 'gallery_favorites')})",
        "1",
        gallery == bio["pages"] and sum(bio["paged"].values()) == gallery,
    )
    report.summary = (
        f"{MEMBERS} members paging through {len(page_sizes)} pages and back: "
        f"{cached['calls']['favorites']} Imgur calls with the cache "
        f"({ideal} distinct pages), {uncached['calls']['favorites']} without "
        f"({uncached['messages']} messages)"
    )
    return report


def main() -> None:
    cli(bench, "Benchmark 5: Imgur credits (--quick: Imgur pages of 10 favorites)")


if __name__ == "__main__":
    main()
