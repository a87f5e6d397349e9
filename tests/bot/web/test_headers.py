"""Every answer of the callback server carries the protective headers; failures are pages."""

from __future__ import annotations

import pytest

from tests.bot.web.conftest import state_of

PATHS = [
    ("GET", "/oauth/callback?state=abc"),  # the token page
    ("GET", "/oauth/callback?code=abc&state=unknown"),  # a failure page
    ("GET", "/oauth/callback?error=access_denied"),
    ("POST", "/oauth/token"),
    ("GET", "/healthz"),
    ("GET", "/nowhere"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_every_answer_carries_the_security_headers(web_client, method, path):
    response = await web_client.request(method, path)
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_path_is_a_small_html_page(web_client):
    response = await web_client.get("/oauth/elsewhere")
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "Not Found" in await response.text()


async def test_wrong_method_is_refused(web_client):
    response = await web_client.post("/oauth/callback")
    assert response.status == 405
    assert response.content_type == "text/html"
    # RFC 9110: a 405 names the methods the path takes.
    assert "GET" in {method.strip() for method in response.headers["Allow"].split(",")}


async def test_wrong_method_on_the_token_endpoint_names_post(web_client):
    response = await web_client.get("/oauth/token")
    assert response.status == 405
    assert "POST" in {method.strip() for method in response.headers["Allow"].split(",")}


async def test_unexpected_error_is_a_500_page_without_details(
    web_client, links, link_store, monkeypatch, caplog
):
    start = await links.start(1)
    state = state_of(start.url)

    async def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(links, "complete_from_callback", broken)
    response = await web_client.get("/oauth/callback", params={"code": "c0de", "state": state})
    page = await response.text()
    assert response.status == 500
    assert "disk on fire" not in page
    assert "Something went wrong" in page
    assert "disk on fire" in caplog.text  # logged for the operator
    assert state not in caplog.text
