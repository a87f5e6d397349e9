"""Finding 5 on the web callback: an unlink during the code exchange wins; no DM says linked."""

from __future__ import annotations

import asyncio

from tests.bot.web.conftest import follow_authorize, path_and_query

MEMBER = 4242


async def test_unlink_during_the_callbacks_exchange_wins(
    web_client, links, link_store, http_session, fake_imgur, notifications, clock
):
    start = await links.start(MEMBER)
    target = path_and_query(await follow_authorize(http_session, start.url))
    hold = fake_imgur.hold("token")
    callback = asyncio.create_task(web_client.get(target))
    await hold.reached()
    assert await links.unlink(MEMBER)
    hold.release()
    response = await callback
    page = await response.text()
    assert response.status == 409
    assert 'data-result="failed"' in page
    assert "You unlinked in Discord" in page
    assert await link_store.get(MEMBER) is None
    assert (await link_store.stats(now=clock())).pending_states == 0
    assert notifications.sent == []
    replay = await web_client.get(target)
    assert replay.status == 400  # the attempt is gone for good
