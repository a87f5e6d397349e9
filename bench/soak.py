"""Soak: 200 members use the bot for 10 minutes of compressed time while Imgur misbehaves.

    python -m bench.soak [--quick] [--members N] [--minutes M] [--speed S] [--seed N]

The real bot (``ImgurBot``, in this process) against the test suite's fake Discord and fake
Imgur. Time is compressed ``--speed`` times: every interval of the bot that matters over
minutes (the refresh loop, token lifetimes, the favorites cache, the favorites buttons'
timeout) is divided by it, and the members act that much faster, so ``--minutes`` of a busy
server take ``minutes * 60 / speed`` seconds.

The members (three in four linked beforehand, straight in the database) run a random mix:
``/imgur favorites`` and its Next / Previous buttons, ``/imgur status``, linking by PIN (the
command or the Enter PIN form), by a code in the Imgur profile and its Check button, bad
PINs, ``/imgur unlink`` with Unlink or Cancel, and presses of another member's buttons.
Meanwhile Imgur fails at random: 5xx, 429, hangs past the bot's timeout, odd bodies, refused
tokens.

Printed: unhandled exceptions (ERROR log records and event-loop errors: must be 0), every
interaction acknowledged within Discord's 3 s (and the latencies), asyncio tasks and memory
at the start and at the end (after the load has drained: flat), and what the run did.
``run_soak`` is also the short soak of the test suite (``tests/e2e/test_soak.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import logging
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.bot_config import bot_config
from bench.cli import cli
from bench.figures import mb, ms, percentile
from bench.messages import button_labelled, profile_code
from bench.polling import wait_until
from bench.procfs import rss_bytes
from bench.report import Report

if TYPE_CHECKING:
    from bot.app import ImgurBot
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.discord_models import FakeInteraction, FakeMessage, FakeUser
    from tests.fakes.imgur import FakeImgur

Action = Callable[["FakeUser"], Awaitable[None]]

MEMBERS = 200
MINUTES = 10.0
SPEED = 10.0
QUICK_MINUTES = 1.0
ACK_DEADLINE = 3.0
ACTION_EVERY = 30.0  # simulated seconds between two actions of one member, on average
FAULT_EVERY = 2.0  # simulated seconds between two Imgur faults, on average
DRAIN_DEADLINE = 60.0  # wall seconds for the last answers and the bot's tasks to settle
HANG_SECONDS = 2.0  # a hanging Imgur answer; the bot gives up after REQUEST_TIMEOUT
REQUEST_TIMEOUT = 1.0

ROUTES_AND_FAULTS = {
    "token": ("SERVER_ERROR", "BAD_GATEWAY", "RATE_LIMITED", "HANG", "HTML_BODY", "EMPTY_BODY"),
    "account": ("SERVER_ERROR", "HANG", "EMPTY_BODY", "ERROR_AS_OBJECT"),
    "favorites": (
        "SERVER_ERROR",
        "BAD_GATEWAY",
        "RATE_LIMITED",
        "RATE_LIMITED_ERRORS",
        "HANG",
        "HTML_BODY",
        "EMPTY_BODY",
        "INVALID_ACCESS_TOKEN",
        "OVER_CAPACITY",
        "ERROR_AS_OBJECT",
    ),
    "public_account": ("SERVER_ERROR", "RATE_LIMITED", "HANG", "HTML_BODY", "EMPTY_BODY"),
    "gallery_favorites": ("SERVER_ERROR", "RATE_LIMITED", "HANG", "EMPTY_BODY", "HTML_BODY"),
}


@dataclass
class SoakResult:
    """What one soak run saw."""

    members: int
    simulated_seconds: float
    wall_seconds: float = 0.0
    actions: collections.Counter[str] = field(default_factory=collections.Counter)
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    interactions: int = 0
    ack_latencies: list[float] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    tasks_start: int = 0
    tasks_end: int = 0
    rss_start: int = 0
    rss_end: int = 0
    refreshes: int = 0
    broken: int = 0
    task_kinds_end: list[tuple[str, int]] = field(default_factory=list)
    views_end: int = 0
    objects_start: int = 0  # objects of the bot's own types (bot, cogs, discord.py)
    objects_warm: int = 0  # ... a third into the load
    objects_end: int = 0
    rss_warm: int = 0


class Unhandled(logging.Handler):
    """ERROR records and worse, from any logger: each is a failure nobody handled."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        self.seen.append(text[:300])


def bot_tasks() -> list[asyncio.Task[Any]]:
    """The running tasks, less the fake servers' own (one per connection they serve) and the
    timeouts of live views (see ``view_timeouts``)."""
    return [
        task
        for task in asyncio.all_tasks()
        if not _is_fake_server_task(task) and not _is_view_timeout(task)
    ]


def bot_objects() -> int:
    """Live objects whose type is the bot's, its cogs' or discord.py's (the fakes use their
    own types): what the bot holds on to, apart from the fake servers' records."""
    prefixes = ("bot.", "cogs.", "discord.")
    return sum(1 for obj in gc.get_objects() if type(obj).__module__.startswith(prefixes))


def view_timeouts() -> int:
    """Live views' timeout tasks. discord.py gives a view sent in an ephemeral follow-up (the
    link message when DMs are closed, the profile code's Check) a 15-minute timeout, the life
    of the interaction's token, whatever the view asked: those end 15 real minutes later."""
    return sum(1 for task in asyncio.all_tasks() if _is_view_timeout(task))


def _is_view_timeout(task: asyncio.Task[Any]) -> bool:
    return getattr(task.get_coro(), "__qualname__", "").endswith("__timeout_task_impl")


def _is_fake_server_task(task: asyncio.Task[Any]) -> bool:
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    filename = code.co_filename if code is not None else ""
    return "aiohttp/web_protocol" in filename or "tests/fakes" in filename


def _task_kind(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    kind = getattr(coro, "__qualname__", type(coro).__name__)
    frame = getattr(coro, "cr_frame", None)
    owner = frame.f_locals.get("self") if frame is not None else None
    return f"{kind} of {type(owner).__name__}" if owner is not None else kind


class Members:
    """The load generator: members acting at random, as compressed time goes by."""

    def __init__(self, harness: _Harness, rng: random.Random, result: SoakResult) -> None:
        self.h = harness
        self.rng = rng
        self.result = result
        self.users: list[FakeUser] = []
        self.favorites_messages: dict[int, FakeMessage] = {}
        self.busy: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def discord(self) -> FakeDiscord:
        return self.h.discord

    @property
    def imgur(self) -> FakeImgur:
        return self.h.imgur

    def act(self) -> None:
        """One member (not already busy) starts one action."""
        idle = [u for u in self.users if u.id not in self.busy]
        if not idle:
            return
        user = self.rng.choice(idle)
        name, action = self.rng.choices(self.actions(), weights=[w for w, _, _ in self._table])[0]
        self.result.actions[name] += 1
        self.busy.add(user.id)
        task = asyncio.create_task(self._run(user, name, action))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @property
    def _table(self) -> list[tuple[float, str, Action]]:
        return [
            (30, "favorites", self.favorites),
            (20, "next/previous", self.page),
            (12, "status", self.status),
            (8, "link by PIN", self.link_by_pin),
            (5, "link by the Enter PIN form", self.link_by_form),
            (5, "link by profile code", self.link_by_bio),
            (4, "bad PIN", self.bad_pin),
            (4, "unlink (confirmed or cancelled)", self.unlink),
            (6, "another member's button", self.stranger),
            (3, "a made-up button id", self.guessed),
        ]

    def actions(self) -> list[tuple[str, Action]]:
        return [(name, action) for _, name, action in self._table]

    async def _run(self, user: FakeUser, name: str, action: Action) -> None:
        try:
            await action(user)
        except AssertionError as exc:  # FakeDiscordTimeout is one: no answer in time
            self.result.unanswered.append(f"{name}: {str(exc)[:160]}")
        except ValueError:
            pass  # the message changed under the member (a button disabled meanwhile)
        finally:
            self.busy.discard(user.id)

    async def answered(self, interaction: FakeInteraction) -> FakeMessage:
        return await interaction.wait_for_message(timeout=ACK_DEADLINE + REQUEST_TIMEOUT * 6)

    # -- the actions ----------------------------------------------------------------------

    async def favorites(self, user: FakeUser) -> None:
        options = {"sort": self.rng.choice(["newest", "oldest"])} if self.rng.random() < 0.3 else {}
        interaction = await self.h.command(user, "favorites", options)
        message = await self.answered(interaction)
        if message.components:
            self.favorites_messages[user.id] = message

    async def page(self, user: FakeUser) -> None:
        message = self.favorites_messages.get(user.id)
        if message is None:
            await self.favorites(user)
            return
        label = "Next" if self.rng.random() < 0.7 else "Previous"
        button = button_labelled(message, label)
        if button is None or button.get("disabled"):
            await self.status(user)
            return
        press = await self.discord.press_button(user, message, button["custom_id"])
        await press.wait_acknowledged(timeout=ACK_DEADLINE + 1)

    async def status(self, user: FakeUser) -> None:
        await self.answered(await self.h.command(user, "status"))

    async def _start_link(self, user: FakeUser) -> FakeMessage:
        before = {m.id for m in self.discord.dms(user)}
        reply = await self.answered(await self.h.command(user, "link"))
        if reply.buttons:  # DMs closed: the private link is in the ephemeral answer
            return reply
        return await self.discord.wait_for_dm(
            user, lambda m: m.id not in before and not m.is_loading, timeout=ACK_DEADLINE + 2
        )

    async def link_by_pin(self, user: FakeUser) -> None:
        await self._start_link(user)
        pin = self.imgur.issue_pin(self._account(user))
        await self.answered(await self.h.command(user, "pin", {"code": pin}))

    async def link_by_form(self, user: FakeUser) -> None:
        dm = await self._start_link(user)
        button = next((b for b in dm.buttons if b.get("label") == "Enter PIN"), None)
        if button is None:
            return
        opened = await self.discord.press_button(user, dm, button["custom_id"])
        modal = await opened.wait_for_modal(timeout=ACK_DEADLINE + 1)
        (field_id,) = [c["custom_id"] for row in modal["components"] for c in row["components"]]
        pin = self.imgur.issue_pin(self._account(user))
        await self.answered(await self.discord.submit_modal(user, opened, {field_id: pin}))

    async def link_by_bio(self, user: FakeUser) -> None:
        account = self._account(user)
        before = {m.id for m in self.discord.dms(user)}
        reply = await self.answered(await self.h.command(user, "link", {"username": account}))
        offer = reply
        if not reply.buttons:
            offer = await self.discord.wait_for_dm(
                user, lambda m: m.id not in before and bool(m.buttons), timeout=ACK_DEADLINE + 2
            )
        check = next((b for b in offer.buttons if b.get("label") == "Check"), None)
        if check is None:
            return
        code = profile_code(offer)
        if code and self.rng.random() < 0.8:
            self.imgur.account(account).bio = f"soak {code}"
        press = await self.discord.press_button(user, offer, check["custom_id"])
        await self.answered(press)

    async def bad_pin(self, user: FakeUser) -> None:
        await self.answered(
            await self.h.command(
                user,
                "pin",
                {
                    "code": self.rng.choice(
                        [
                            "0000000000",
                            "not a pin!",
                            "x" * 600,
                            "https://example.org/cb?state=abc&code=def",
                        ]
                    )
                },
            )
        )

    async def unlink(self, user: FakeUser) -> None:
        question = await self.answered(await self.h.command(user, "unlink"))
        label = "Unlink" if self.rng.random() < 0.5 else "Cancel"
        button = button_labelled(question, label)
        if button is None:
            return
        press = await self.discord.press_button(user, question, button["custom_id"])
        await self.answered(press)
        if label == "Unlink":
            self.favorites_messages.pop(user.id, None)

    async def stranger(self, user: FakeUser) -> None:
        others = [m for uid, m in self.favorites_messages.items() if uid != user.id]
        if not others:
            await self.status(user)
            return
        message = self.rng.choice(others)
        button = button_labelled(message, "Next") or button_labelled(message, "Previous")
        if button is None:
            return
        press = await self.discord.press_button(user, message, button["custom_id"], check=False)
        await self.answered(press)

    async def guessed(self, user: FakeUser) -> None:
        message = next(iter(self.favorites_messages.values()), None)
        if message is None:
            await self.status(user)
            return
        custom_id = self.rng.choice(["0" * 32, "imgur:page:9:9", "imgur:bio-check:1:AAAAAAAA"])
        press = await self.discord.press_button(user, message, custom_id, check=False)
        await self.answered(press)

    def _account(self, user: FakeUser) -> str:
        return f"soak_{user.name}"


class Faults:
    """Imgur failing at random: the next request to a route gets a canned failure."""

    def __init__(self, imgur: FakeImgur, rng: random.Random, result: SoakResult) -> None:
        from tests.fakes.imgur import Failure

        self.imgur = imgur
        self.rng = rng
        self.result = result
        self.failures = {
            route: [Failure[name] for name in names] for route, names in ROUTES_AND_FAULTS.items()
        }

    def inject(self) -> None:
        route = self.rng.choice(list(self.failures))
        failure = self.rng.choice(self.failures[route])
        self.imgur.fail(route, failure, times=self.rng.randint(1, 3))
        self.result.faults[f"{route} {failure.name}"] += 1


async def seed(harness: _Harness, members: int, linked: int) -> list[FakeUser]:
    """``members`` members, each with an Imgur account; the first ``linked`` linked already."""
    from bot.storage import Link

    now = datetime.now(UTC).replace(microsecond=0)
    users = []
    for n in range(members):
        user = harness.discord.add_user(name=f"m{n}", dms_open=n % 10 != 0)
        account = harness.imgur.add_account(f"soak_m{n}", favorites=12 + n % 70)
        users.append(user)
        if n < linked:
            tokens = harness.imgur.issue_tokens(account.username)
            lifetime = timedelta(seconds=harness.imgur.expires_in)
            await harness.bot.store.save_link(
                Link(
                    discord_user_id=user.id,
                    imgur_account_id=account.id,
                    imgur_username=account.username,
                    access_token=tokens["access_token"],
                    refresh_token=tokens["refresh_token"],
                    # spread over the token's lifetime, as links made at different times are
                    expires_at=now + lifetime * (n + 1) / linked,
                    linked_at=now - lifetime * (linked - n - 1) / linked,
                )
            )
    return users


@contextlib.contextmanager
def watching() -> Iterator[tuple[Unhandled, list[str]]]:
    """Collect ERROR log records and the event loop's unhandled errors meanwhile."""
    handler = Unhandled()
    root = logging.getLogger()
    root.addHandler(handler)
    loop = asyncio.get_running_loop()
    loop_errors: list[str] = []

    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        loop_errors.append(str(context.get("exception") or context.get("message"))[:300])

    loop.set_exception_handler(on_loop_error)
    try:
        yield handler, loop_errors
    finally:
        loop.set_exception_handler(None)
        root.removeHandler(handler)


async def run_soak(
    workdir: Path,
    *,
    members: int = MEMBERS,
    simulated_seconds: float = MINUTES * 60,
    speed: float = SPEED,
    seed_value: int = 1,
    log: Callable[[str], None] = lambda line: None,
) -> SoakResult:
    """Run the soak; the caller checks the result (see ``SoakResult``)."""
    import cogs.views
    from bot.app import ImgurBot
    from bot.config import parse_config
    from bot.shutdown import interaction_tasks
    from tests.fakes.discord import FakeDiscord, point_discord_py_at
    from tests.fakes.imgur import FakeImgur

    rng = random.Random(seed_value)
    result = SoakResult(members=members, simulated_seconds=simulated_seconds)
    interval = max(1.0, 300.0 / speed)
    favorites_timeout = getattr(cogs.views, "FAVORITES_TIMEOUT", None)
    if favorites_timeout is not None:
        cogs.views.FAVORITES_TIMEOUT = max(1.0, favorites_timeout / speed)  # type: ignore[attr-defined]
    try:
        async with FakeImgur() as imgur, FakeDiscord() as discord:
            imgur.hang_seconds = HANG_SECONDS
            imgur.expires_in = int(max(4 * interval, 3600 / speed))
            with point_discord_py_at(discord):
                raw = bot_config(
                    workdir,
                    discord,
                    imgur_base=imgur.base_url,
                    key=None,
                    imgur={
                        "client_id": imgur.client_id,
                        "client_secret": imgur.client_secret,
                        "request_timeout_seconds": REQUEST_TIMEOUT,
                    },
                    storage={"database": str(workdir / "soak.db")},
                    refresh={"interval_seconds": interval, "lead_seconds": imgur.expires_in},
                    cache={"favorites_ttl_seconds": max(1.0, 300.0 / speed)},
                )
                config = parse_config(raw, {})
                bot = ImgurBot(config, guild_ready_timeout=0.05)
                runner = asyncio.create_task(bot.start(config.discord.token))
                try:
                    await asyncio.wait_for(bot.wait_until_ready(), 30)
                    harness = _Harness(bot, discord, imgur)
                    await _soak(harness, result, rng, speed, interaction_tasks, log)
                finally:
                    await bot.close()
                    with contextlib.suppress(asyncio.CancelledError):
                        await runner
    finally:
        if favorites_timeout is not None:
            cogs.views.FAVORITES_TIMEOUT = favorites_timeout  # type: ignore[attr-defined]
    return result


@dataclass
class _Harness:
    bot: ImgurBot
    discord: FakeDiscord
    imgur: FakeImgur

    async def command(
        self, user: FakeUser, subcommand: str, options: dict[str, Any] | None = None
    ) -> FakeInteraction:
        return await self.discord.slash_command(user, "imgur", subcommand, options)


async def _soak(
    h: _Harness,
    result: SoakResult,
    rng: random.Random,
    speed: float,
    interaction_tasks: Callable[[], set[asyncio.Task[Any]]],
    log: Callable[[str], None],
) -> None:
    loop = asyncio.get_running_loop()
    crowd = Members(h, rng, result)
    crowd.users = await seed(h, result.members, linked=result.members * 3 // 4)
    faults = Faults(h.imgur, rng, result)
    token_calls_before = h.imgur.count("token")
    gc.collect()
    result.tasks_start = len(bot_tasks())
    result.rss_start = rss_bytes()
    result.objects_start = bot_objects()
    log(f"seeded {result.members} members; {result.tasks_start} tasks; rss {mb(result.rss_start)}")

    wall = result.simulated_seconds / speed
    actions_per_second = result.members / ACTION_EVERY * speed
    faults_per_second = speed / FAULT_EVERY
    tick = 0.05
    started = loop.time()
    next_report = started + 10
    with watching() as (unhandled, loop_errors):
        while (now := loop.time()) - started < wall:
            for _ in range(_poisson(rng, actions_per_second * tick)):
                crowd.act()
            for _ in range(_poisson(rng, faults_per_second * tick)):
                faults.inject()
            if not result.objects_warm and now - started >= wall / 3:
                sampled = time.perf_counter()
                result.objects_warm, result.rss_warm = bot_objects(), rss_bytes()
                log(f"  (counting objects took {time.perf_counter() - sampled:.2f} s)")
            if now >= next_report:
                log(
                    f"  {now - started:5.0f} s: {sum(result.actions.values())} actions, "
                    f"{len(h.discord.interactions)} interactions, {len(crowd.tasks)} in flight"
                )
                next_report += 10
            await asyncio.sleep(tick)
        # The load stops; what is in flight finishes (Imgur's queued failures are dropped).
        h.imgur.clear_failures()
        deadline = loop.time() + DRAIN_DEADLINE
        await wait_until(
            lambda: not crowd.tasks and not interaction_tasks(), deadline - loop.time(), every=0.1
        )
        result.wall_seconds = loop.time() - started
        # Views time out, keep-alive connections close: the bot's tasks come back down.
        await wait_until(
            lambda: len(bot_tasks()) <= result.tasks_start, deadline - loop.time(), every=0.1
        )
        gc.collect()
        result.tasks_end = len(bot_tasks())
        result.views_end = view_timeouts()
        result.objects_end = bot_objects()
        result.rss_end = rss_bytes()
        result.task_kinds_end = collections.Counter(map(_task_kind, bot_tasks())).most_common(8)
    result.unhandled = unhandled.seen + loop_errors
    result.interactions = len(h.discord.interactions)
    result.unacknowledged = h.discord.unacknowledged(within=ACK_DEADLINE)
    result.ack_latencies = [
        i.acknowledged_after
        for i in h.discord.interactions.values()
        if i.acknowledged_after is not None
    ]
    result.refreshes = h.imgur.count("token") - token_calls_before
    result.broken = (await h.bot.store.stats()).broken_links


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def report_of(result: SoakResult) -> Report:
    report = Report("Soak: 200 members, random Imgur faults, compressed time")
    lat = result.ack_latencies
    report.add(
        "simulated / wall time",
        f"{result.simulated_seconds / 60:.1f} min in {result.wall_seconds:.0f} s",
    )
    report.add("members / interactions", f"{result.members} / {result.interactions}")
    report.add("unhandled exceptions", str(len(result.unhandled)), "0", not result.unhandled)
    report.add(
        "interactions acknowledged within 3 s",
        f"{result.interactions - len(result.unacknowledged)} of {result.interactions}",
        "all",
        not result.unacknowledged,
    )
    report.add(
        "acknowledgement p50 / p99 / max",
        f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 99))} / {ms(max(lat, default=0.0))}",
    )
    report.add(
        "answered (a message, form or edit)", f"{result.interactions - len(result.unanswered)}"
    )
    report.add(
        "asyncio tasks start / end",
        f"{result.tasks_start} / {result.tasks_end}",
        "end <= start",
        result.tasks_end <= result.tasks_start,
    )
    report.add("live views at the end (15-minute Discord timeout)", str(result.views_end))
    report.add(
        "bot's objects start / a third in / end",
        f"{result.objects_start} / {result.objects_warm} / {result.objects_end}",
    )
    report.add(
        "memory (RSS) start / a third in / end",
        f"{mb(result.rss_start)} / {mb(result.rss_warm)} / {mb(result.rss_end)}",
    )
    report.add("refreshes / links broken", f"{result.refreshes} / {result.broken}")
    report.add("Imgur faults injected", str(sum(result.faults.values())))
    report.notes.append(
        "actions: " + ", ".join(f"{name} {count}" for name, count in result.actions.most_common())
    )
    for line in result.unhandled[:10]:
        report.notes.append(f"unhandled: {line}")
    for line in result.unacknowledged[:10]:
        report.notes.append(f"late: {line}")
    for line in result.unanswered[:5]:
        report.notes.append(f"unanswered: {line}")
    report.notes.append(
        "RSS is this process's: the fake Discord and fake Imgur in it keep every interaction, "
        "message and request of the run; the bot's own objects are counted apart"
    )
    if result.tasks_end > result.tasks_start:
        report.notes.append(f"tasks left: {result.task_kinds_end}")
    met = (
        not result.unhandled
        and not result.unacknowledged
        and result.tasks_end <= result.tasks_start
    )
    report.summary = (
        "no unhandled exception, every interaction acknowledged in time, tasks flat"
        if met
        else "FAILED: see the figures"
    )
    return report


async def bench(
    quick: bool = False,
    members: int = MEMBERS,
    minutes: float | None = None,
    speed: float = SPEED,
    seed: int = 1,
) -> Report:
    minutes = minutes if minutes is not None else (QUICK_MINUTES if quick else MINUTES)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        result = await run_soak(
            Path(tmp),
            members=members,
            simulated_seconds=minutes * 60,
            speed=speed,
            seed_value=seed,
            log=lambda line: print(line, flush=True),
        )
    return report_of(result)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=f"Soak (--quick: {QUICK_MINUTES:.0f} simulated minute)"
    )
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--minutes", type=float, default=None, help="simulated minutes")
    parser.add_argument("--speed", type=float, default=SPEED, help="time compression factor")
    parser.add_argument("--seed", type=int, default=1)
    started = time.monotonic()
    cli(bench, "", parser)
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
