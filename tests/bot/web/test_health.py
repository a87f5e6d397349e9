"""``GET /healthz``: 200 when the gateway is connected and the database answers, else 503."""

from __future__ import annotations


async def test_healthy_when_connected_and_the_database_answers(web_client):
    response = await web_client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "gateway": True, "database": True}


async def test_unhealthy_while_the_gateway_is_disconnected(web_client, gateway):
    gateway.connected = False
    response = await web_client.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"status": "unavailable", "gateway": False, "database": True}


async def test_unhealthy_when_the_database_does_not_answer(web_client, link_store):
    await link_store.close()
    response = await web_client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["database"] is False
