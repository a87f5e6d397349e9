"""Finding 5: an unlink that lands while a link is being completed wins over the completion.

The fake Imgur holds the token exchange (or the account call) open while the member unlinks;
then nothing may be stored, no attempt may come back, and the completion says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from bot.clock import Clock
from bot.errors import GrantRejected, LinkCancelled, UnknownState
from bot.imgur import ResponseType
from bot.linking import LinkService
from bot.storage import LinkStore
from tests.bot.helpers import link_service as service
from tests.bot.helpers import state_of
from tests.fakes.imgur import Failure, FakeImgur

MEMBER = 7


async def assert_nothing_left(link_store: LinkStore, clock: Clock) -> None:
    assert await link_store.get(MEMBER) is None
    assert (await link_store.stats(now=clock())).pending_states == 0


async def unlink_while_held(
    links: LinkService, fake_imgur: FakeImgur, route: str, completion: Coroutine[Any, Any, object]
) -> None:
    hold = fake_imgur.hold(route)
    task = asyncio.create_task(completion)
    await hold.reached()
    assert await links.unlink(MEMBER)  # the claimed attempt counts as something to delete
    hold.release()
    with pytest.raises(LinkCancelled):
        await task


async def test_unlink_during_the_pin_exchange_wins(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock)
    await links.start(MEMBER)
    pin = fake_imgur.issue_pin("alice")
    await unlink_while_held(links, fake_imgur, "token", links.complete(MEMBER, pin))
    assert fake_imgur.count("token") == 1  # Imgur did answer; its tokens were dropped
    await assert_nothing_left(link_store, clock)
    with pytest.raises(UnknownState):  # and the attempt is gone for good
        await links.complete(MEMBER, pin)


async def test_unlink_during_a_web_callback_exchange_wins(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock, response_type=ResponseType.CODE)
    state = state_of((await links.start(MEMBER)).url)
    code = fake_imgur.issue_code("alice")
    await unlink_while_held(
        links, fake_imgur, "token", links.complete_from_callback(state, code=code)
    )
    await assert_nothing_left(link_store, clock)


async def test_unlink_while_redirect_tokens_are_checked_wins(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("carol")
    links = service(link_store, imgur, clock, response_type=ResponseType.TOKEN)
    state = state_of((await links.start(MEMBER)).url)
    tokens = fake_imgur.issue_tokens("carol")
    fragment = "&".join(f"{key}={value}" for key, value in tokens.items() if value is not None)
    url = f"https://example.org/cb?state={state}#{fragment}"
    await unlink_while_held(links, fake_imgur, "account", links.complete(MEMBER, url))
    await assert_nothing_left(link_store, clock)


async def test_an_attempt_that_failed_for_now_does_not_come_back_after_unlink(
    link_store, imgur, fake_imgur, clock
):
    # Imgur answers 500 after the unlink: the attempt would be given back for another try.
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock)
    await links.start(MEMBER)
    pin = fake_imgur.issue_pin("alice")
    fake_imgur.fail("token", Failure.SERVER_ERROR, times=3)
    await unlink_while_held(links, fake_imgur, "token", links.complete(MEMBER, pin))
    await assert_nothing_left(link_store, clock)
    with pytest.raises(UnknownState):
        await links.complete(MEMBER, pin)


async def test_a_second_paste_during_a_completion_finds_no_attempt(
    link_store, imgur, fake_imgur, clock
):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock)
    await links.start(MEMBER)
    hold = fake_imgur.hold("token")
    first = asyncio.create_task(links.complete(MEMBER, fake_imgur.issue_pin("alice")))
    await hold.reached()
    with pytest.raises(UnknownState):  # the attempt is claimed by the first paste
        await links.complete(MEMBER, fake_imgur.issue_pin("alice"))
    hold.release()
    assert (await first).imgur_username == "alice"
    assert (await link_store.stats(now=clock())).pending_states == 0


async def test_a_refused_pin_uses_the_attempt_up(link_store, imgur, fake_imgur, clock):
    links = service(link_store, imgur, clock)
    await links.start(MEMBER)
    with pytest.raises(GrantRejected):
        await links.complete(MEMBER, "0000000000")
    assert (await link_store.stats(now=clock())).pending_states == 0
