"""Repeated unknown states from one address are slowed down, within bounds of time and memory."""

from __future__ import annotations

from typing import Any

import pytest

from bot.web import BadStatePenalty
from tests.bot.web.conftest import state_of
from tests.waiting import RecordedSleeps


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_penalty(**options: Any) -> tuple[BadStatePenalty, Ticks, RecordedSleeps]:
    ticks = Ticks()
    sleeps = RecordedSleeps()
    settings: dict[str, Any] = {"free": 2, "step": 0.5, "max_delay": 2.0, "window": 60.0} | options
    return BadStatePenalty(sleep=sleeps, monotonic=ticks, **settings), ticks, sleeps


def test_first_bad_states_cost_nothing_then_the_delay_doubles_up_to_its_cap():
    penalty, _, _ = make_penalty()
    delays = []
    for _ in range(7):
        delays.append(penalty.delay_for("10.0.0.1"))
        penalty.record("10.0.0.1")
    assert delays == [0.0, 0.0, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_other_addresses_are_not_slowed():
    penalty, _, _ = make_penalty()
    for _ in range(5):
        penalty.record("10.0.0.1")
    assert penalty.delay_for("10.0.0.2") == 0.0


def test_penalty_is_forgotten_after_a_quiet_window():
    penalty, ticks, _ = make_penalty()
    for _ in range(5):
        penalty.record("10.0.0.1")
    ticks.now += 61
    assert penalty.delay_for("10.0.0.1") == 0.0
    assert len(penalty) == 0


def test_memory_is_bounded_by_forgetting_the_oldest_address():
    penalty, _, _ = make_penalty(max_addresses=3)
    for address in ("a", "b", "c", "d"):
        for _ in range(3):
            penalty.record(address)
    assert len(penalty) == 3
    assert penalty.delay_for("a") == 0.0
    assert penalty.delay_for("d") == 1.0


async def test_wait_sleeps_the_penalty():
    penalty, _, sleeps = make_penalty()
    await penalty.wait("x")
    for _ in range(3):
        penalty.record("x")
    await penalty.wait("x")
    assert sleeps.delays == [1.0]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="positive"):
        BadStatePenalty(window=0)


async def test_callbacks_with_bad_states_are_slowed_down(web_client, sleeps, fake_imgur):
    for _ in range(5):
        response = await web_client.get("/oauth/callback", params={"code": "abc", "state": "guess"})
        assert response.status == 400
    # free=2, step=0.5, max_delay=2.0 in the fixture; each bad answer is delayed once recorded
    assert sleeps.delays == [0.5, 1.0, 2.0, 2.0]
    assert fake_imgur.count("token") == 0


async def test_token_posts_with_bad_states_are_slowed_down(web_client, sleeps):
    for _ in range(4):
        await web_client.post(
            "/oauth/token", json={"state": "guess", "access_token": "a", "expires_in": "1"}
        )
    assert sleeps.delays == [0.5, 1.0, 2.0]


async def test_a_slowed_address_still_links_with_a_good_state(
    web_client, links, link_store, sleeps, fake_imgur
):
    for _ in range(3):
        await web_client.get("/oauth/callback", params={"code": "abc", "state": "guess"})
    start = await links.start(5)
    code = fake_imgur.issue_code("alice")
    response = await web_client.get(
        "/oauth/callback", params={"code": code, "state": state_of(start.url)}
    )
    assert response.status == 200
    assert sleeps.delays == [0.5, 1.0]  # the good state itself waited for nothing
    assert (await link_store.get(5)).imgur_username == "alice"
