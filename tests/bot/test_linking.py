from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import (
    AccountMismatch,
    AuthorizationDenied,
    GrantRejected,
    InvalidLinkInput,
    UnknownState,
)
from bot.imgur import ImgurUnavailable, ResponseType
from bot.storage import LinkStatus
from tests.bot.helpers import link_service as service
from tests.bot.helpers import state_of
from tests.fakes.imgur import Failure


async def test_start_gives_an_authorize_url_with_a_fresh_state(
    link_store, imgur, fake_imgur, clock
):
    links = service(link_store, imgur, clock)
    first = await links.start(1)
    second = await links.start(1)
    query = parse_qs(urlsplit(first.url).query)
    assert query["response_type"] == ["pin"]
    assert query["client_id"] == [fake_imgur.client_id]
    assert state_of(first.url) != state_of(second.url)
    assert state_of(first.url) not in repr(first)


async def test_pin_links_the_member_and_names_the_account(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    changes: list[int] = []
    links = service(link_store, imgur, clock, changes=changes)
    await links.start(1)
    link = await links.complete(1, fake_imgur.issue_pin("alice"))
    assert link.imgur_username == "alice"
    stored = await link_store.get(1)
    assert stored.imgur_username == "alice"
    assert stored.status is LinkStatus.OK
    assert changes == [1]


async def test_pin_without_a_pending_attempt_is_refused_before_imgur(
    link_store, imgur, fake_imgur, clock
):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock)
    with pytest.raises(UnknownState):
        await links.complete(1, fake_imgur.issue_pin("alice"))
    assert fake_imgur.count("token") == 0


async def test_attempt_expires_after_ten_minutes(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock)
    await links.start(1)
    clock.advance(minutes=10, seconds=1)
    with pytest.raises(UnknownState):
        await links.complete(1, fake_imgur.issue_pin("alice"))


async def test_attempt_is_used_once(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock)
    await links.start(1)
    await links.complete(1, fake_imgur.issue_pin("alice"))
    with pytest.raises(UnknownState):
        await links.complete(1, fake_imgur.issue_pin("alice"))


async def test_another_members_state_does_not_work(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock, response_type=ResponseType.CODE)
    start = await links.start(1)
    url = (
        f"https://example.org/cb?code={fake_imgur.issue_code('alice')}&state={state_of(start.url)}"
    )
    with pytest.raises(UnknownState):
        await links.complete(2, url)
    assert (await links.complete(1, url)).imgur_username == "alice"  # still the owner's


async def test_wrong_pin_is_rejected_and_nothing_stored(link_store, imgur, fake_imgur, clock):
    links = service(link_store, imgur, clock)
    await links.start(1)
    with pytest.raises(GrantRejected):
        await links.complete(1, "0000000000")
    assert await link_store.get(1) is None


async def test_imgur_down_keeps_the_attempt_for_another_try(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    links = service(link_store, imgur, clock)
    await links.start(1)
    pin = fake_imgur.issue_pin("alice")
    fake_imgur.fail("token", Failure.SERVER_ERROR)
    with pytest.raises(ImgurUnavailable):
        await links.complete(1, pin)
    assert (await links.complete(1, pin)).imgur_username == "alice"


async def test_pasted_redirect_with_code_links_the_member(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("bob")
    links = service(link_store, imgur, clock, response_type=ResponseType.CODE)
    start = await links.start(5)
    url = f"https://example.org/cb?state={state_of(start.url)}&code={fake_imgur.issue_code('bob')}"
    assert (await links.complete(5, url)).imgur_username == "bob"


async def test_pasted_redirect_with_token_fragment_links_the_member(
    link_store, imgur, fake_imgur, clock
):
    fake_imgur.add_account("carol")
    links = service(link_store, imgur, clock, response_type=ResponseType.TOKEN)
    start = await links.start(5)
    tokens = fake_imgur.issue_tokens("carol")
    fragment = "&".join(f"{key}={value}" for key, value in tokens.items() if value is not None)
    url = f"https://example.org/cb?state={state_of(start.url)}#{fragment}"
    link = await links.complete(5, url)
    assert link.imgur_username == "carol"
    assert link.access_token == tokens["access_token"]


async def test_tokens_claiming_another_account_are_refused(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("carol")
    fake_imgur.add_account("mallory")
    links = service(link_store, imgur, clock, response_type=ResponseType.TOKEN)
    start = await links.start(5)
    tokens = fake_imgur.issue_tokens("mallory")
    tokens["account_username"] = "carol"
    tokens["account_id"] = fake_imgur.account("carol").id
    fragment = "&".join(f"{key}={value}" for key, value in tokens.items() if value is not None)
    with pytest.raises(AccountMismatch):
        await links.complete(5, f"https://example.org/cb?state={state_of(start.url)}#{fragment}")
    assert await link_store.get(5) is None


async def test_bare_value_in_token_mode_asks_for_the_whole_address(
    link_store, imgur, fake_imgur, clock
):
    links = service(link_store, imgur, clock, response_type=ResponseType.TOKEN)
    await links.start(5)
    with pytest.raises(InvalidLinkInput, match="whole address"):
        await links.complete(5, "abcdef123456")


async def test_denied_authorization_is_reported(link_store, imgur, clock):
    links = service(link_store, imgur, clock, response_type=ResponseType.CODE)
    start = await links.start(5)
    with pytest.raises(AuthorizationDenied):
        await links.complete(5, f"https://x.org/cb?error=access_denied&state={state_of(start.url)}")


async def test_relinking_replaces_the_old_link(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    fake_imgur.add_account("alice2")
    links = service(link_store, imgur, clock)
    await links.start(1)
    await links.complete(1, fake_imgur.issue_pin("alice"))
    await links.start(1)
    await links.complete(1, fake_imgur.issue_pin("alice2"))
    assert (await link_store.get(1)).imgur_username == "alice2"


async def test_unlink_deletes_link_and_pending_attempts(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("alice")
    changes: list[int] = []
    links = service(link_store, imgur, clock, changes=changes)
    await links.start(1)
    await links.complete(1, fake_imgur.issue_pin("alice"))
    await links.start(1)
    assert await links.unlink(1)
    assert await link_store.get(1) is None
    assert (await link_store.stats()).pending_states == 0
    assert changes == [1, 1]
    assert not await links.unlink(1)


async def test_a_paste_of_the_wrong_kind_keeps_the_attempt(link_store, imgur, fake_imgur, clock):
    fake_imgur.add_account("carol")
    links = service(link_store, imgur, clock, response_type=ResponseType.TOKEN)
    start = await links.start(5)
    with pytest.raises(InvalidLinkInput, match="whole address"):
        await links.complete(5, "abcdef123456")
    tokens = fake_imgur.issue_tokens("carol")
    fragment = "&".join(f"{key}={value}" for key, value in tokens.items() if value is not None)
    url = f"https://example.org/cb?state={state_of(start.url)}#{fragment}"
    assert (await links.complete(5, url)).imgur_username == "carol"


async def test_pin_exchange_needs_no_second_call_when_imgur_names_the_account(
    link_store, imgur, fake_imgur, clock
):
    fake_imgur.add_account("alice")
    fake_imgur.fail("account", Failure.SERVER_ERROR, times=5)  # would lose the spent PIN
    links = service(link_store, imgur, clock)
    await links.start(1)
    link = await links.complete(1, fake_imgur.issue_pin("alice"))
    assert link.imgur_username == "alice"
    assert link.imgur_account_id == fake_imgur.account("alice").id
    assert fake_imgur.count("account") == 0


async def test_expired_attempts_are_purged(link_store, imgur, clock):
    links = service(link_store, imgur, clock)
    await links.start(1)
    await links.start(2)
    clock.advance(minutes=5)
    await links.start(3)
    clock.advance(minutes=6)
    assert await links.purge_expired_attempts() == 2
    assert (await link_store.stats(now=clock())).pending_states == 1
