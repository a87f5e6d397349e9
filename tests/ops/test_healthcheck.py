"""``python -m bot healthcheck``: the heartbeat file, or /healthz when the web server is on."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.heartbeat import Heartbeat, heartbeat_age
from tests.ops.conftest import clean_env, run_cli, run_cli_async
from tests.waiting import eventually


def test_a_fresh_heartbeat_is_healthy(tmp_path: Path) -> None:
    (tmp_path / "bot.db.heartbeat").touch()
    result = run_cli(
        "healthcheck", env=clean_env(BOT_DATABASE=str(tmp_path / "bot.db")), cwd=tmp_path
    )
    assert result.returncode == 0
    assert result.stdout.startswith("healthy:")


def test_a_stale_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    beat = tmp_path / "bot.db.heartbeat"
    beat.touch()
    old = time.time() - 300
    os.utime(beat, (old, old))
    result = run_cli(
        "healthcheck", env=clean_env(BOT_DATABASE=str(tmp_path / "bot.db")), cwd=tmp_path
    )
    assert result.returncode == 1
    # The age is measured when the child process runs: a loaded machine adds seconds to 300.
    assert re.search(r"heartbeat is 3\d\d s old", result.stdout), result.stdout


def test_no_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    result = run_cli(
        "healthcheck", env=clean_env(BOT_DATABASE=str(tmp_path / "bot.db")), cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stdout.startswith("unhealthy: no heartbeat")


def test_a_broken_configuration_is_unhealthy_not_exit_code_2(tmp_path: Path) -> None:
    # Docker reserves a health check's exit code 2.
    result = run_cli("healthcheck", env=clean_env(BOT_LOG_LEVEL="LOUD"), cwd=tmp_path)
    assert result.returncode == 1
    assert "unhealthy: configuration" in result.stdout


@pytest.fixture
async def healthz() -> AsyncIterator[tuple[int, list[int]]]:
    """A stand-in web server: /healthz answers the status at the head of the list."""
    statuses = [200]

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=statuses[0], text="status")

    app = web.Application()
    app.router.add_get("/healthz", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield port, statuses
    finally:
        await runner.cleanup()


def web_env(port: int) -> dict[str, str]:
    return clean_env(
        BOT_WEB_ENABLED="true", BOT_WEB_PORT=str(port), BOT_PUBLIC_URL="https://bot.example.org"
    )


async def test_with_the_web_server_healthz_decides(
    tmp_path: Path, healthz: tuple[int, list[int]]
) -> None:
    port, statuses = healthz
    healthy = await run_cli_async("healthcheck", env=web_env(port), cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout
    assert "/healthz answered 200" in healthy.stdout
    statuses[0] = 503
    unhealthy = await run_cli_async("healthcheck", env=web_env(port), cwd=tmp_path)
    assert unhealthy.returncode == 1
    assert "answered 503" in unhealthy.stdout


def test_with_the_web_server_down_it_is_unhealthy(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli("healthcheck", env=web_env(port), cwd=tmp_path)
    assert result.returncode == 1
    assert "did not answer" in result.stdout


async def test_the_heartbeat_beats_only_while_connected(tmp_path: Path) -> None:
    path, connected = tmp_path / "bot.db.heartbeat", asyncio.Event()
    task = asyncio.create_task(Heartbeat(path, connected, interval=0.02).run())
    try:
        # Disconnected, it only waits: the task stays blocked and touches nothing.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 0.5)
        assert not path.exists()
        connected.set()
        await eventually(path.exists, 5, "the heartbeat file")
        first = path.stat().st_mtime_ns
        await eventually(lambda: path.stat().st_mtime_ns > first, 5, "a second beat")
        connected.clear()
        # At its next beat it sees the gateway down and removes the file: unhealthy at once.
        await eventually(lambda: not path.exists(), 5, "the heartbeat file removed")
        connected.set()
        await eventually(path.exists, 5, "a beat once reconnected")
        assert (heartbeat_age(path) or 0) < 5
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not path.exists()  # a stopped bot leaves no heartbeat behind
