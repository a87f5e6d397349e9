"""The offline demo with the bot in its Docker container, as .ci/docker runs it.

    python -m tests.container_demo --image imgur-link-bot:ci [--docker /usr/bin/docker]

Serves the fake Discord and the fake Imgur on 127.0.0.1 (ports the OS picks), starts the image
with its own entrypoint, user and HEALTHCHECK command on the host network (read-only root
filesystem, a named volume for /data, no capabilities), and plays the demo's session against
it: link, PIN, favorites with paging, status, unlink, checked as tests/e2e/test_demo.py checks
the in-process bot. Then it waits for Docker to call the container healthy, stops the fake
Discord and waits for Docker to call it unhealthy. Prints the figures; exits non-zero on any
failure. The container and its volume are removed on the way out, whatever happened.

Only the health check's timing is shortened (``--health-interval`` and friends): its command
is the image's. ``--env NAME=VALUE`` adds settings, e.g. a PostgreSQL database URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from tests.demo import TRANSCRIPT_SHOWS, play
from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import FakeImgur
from tests.waiting import NotInTime, eventually

READY_DEADLINE = 120.0  # a cold container on a busy 2-core machine
HEALTH_DEADLINE = 120.0
HEALTH_INTERVAL = "2s"
HEALTH_RETRIES = "2"
HEALTH_START_PERIOD = "5s"


class ContainerFailed(Exception):
    """The container did not do what the check expects; the message says what."""


async def docker(binary: str, *args: str, check: bool = True) -> str:
    process = await asyncio.create_subprocess_exec(
        binary,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    if check and process.returncode != 0:
        raise ContainerFailed(f"docker {' '.join(args[:2])} failed ({process.returncode}): {text}")
    return text


class Container:
    """One run of the image against the fakes; `figures` collects the timings."""

    def __init__(self, binary: str, image: str, extra_env: Sequence[str]) -> None:
        self.binary = binary
        self.image = image
        self.extra_env = list(extra_env)
        self.name = f"ci-bot-{os.getpid()}"
        self.volume = f"ci-bot-data-{os.getpid()}"
        self.figures: dict[str, float] = {}
        self.started_at = 0.0

    def start_args(self, discord: FakeDiscord, imgur: FakeImgur) -> list[str]:
        settings = {
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE": discord.rest_base,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "IMGUR_CLIENT_ID": imgur.client_id,
            "IMGUR_CLIENT_SECRET": imgur.client_secret,
            "IMGUR_API_BASE": imgur.base_url,
        }
        env = [f"{name}={value}" for name, value in settings.items()] + self.extra_env
        return [
            "run",
            "--detach",
            "--name",
            self.name,
            "--network",
            "host",
            "--read-only",
            "--tmpfs",
            "/tmp",  # noqa: S108 - inside the container, as docker-compose.yml has it
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges:true",
            "--volume",
            f"{self.volume}:/data",
            f"--health-interval={HEALTH_INTERVAL}",
            f"--health-retries={HEALTH_RETRIES}",
            f"--health-start-period={HEALTH_START_PERIOD}",
            *[arg for value in env for arg in ("--env", value)],
            self.image,
        ]

    async def health(self) -> str:
        text = await docker(self.binary, "inspect", "--format", "{{json .State}}", self.name)
        state = json.loads(text)
        if not state.get("Running"):
            raise ContainerFailed(f"the container stopped (exit {state.get('ExitCode')})")
        return str(state.get("Health", {}).get("Status", "none"))

    async def wait_for_health(self, wanted: str, since: float) -> float:
        """Seconds from ``since`` until Docker reports ``wanted``."""
        seen: list[str] = []

        async def reached() -> bool:
            status = await self.health()
            if not seen or seen[-1] != status:
                seen.append(status)
            return status == wanted

        try:
            await eventually(reached, HEALTH_DEADLINE, f"Docker to say {wanted}", every=0.25)
        except NotInTime as exc:
            raise ContainerFailed(f"{exc} (was: {seen})") from None
        return time.monotonic() - since

    async def logs(self) -> str:
        return await docker(self.binary, "logs", self.name, check=False)

    async def remove(self) -> None:
        await docker(self.binary, "rm", "--force", "--volumes", self.name, check=False)
        await docker(self.binary, "volume", "rm", "--force", self.volume, check=False)

    @contextlib.asynccontextmanager
    async def run(self, discord: FakeDiscord, imgur: FakeImgur) -> AsyncIterator[Container]:
        """The demo's bot starter: the container, connected; health checked on the way out."""
        self.started_at = time.monotonic()
        await docker(self.binary, *self.start_args(discord, imgur))
        try:
            await discord.wait_until_ready_sent(timeout=READY_DEADLINE)
            # on_ready (and so the command handlers) follow GUILD_CREATE by the bot's
            # guild_ready_timeout: the first slash command waits for that on its own.
            self.figures["seconds to READY"] = time.monotonic() - self.started_at
            yield self
            logs = await self.logs()
            for bad in ("Traceback", " ERROR "):
                if bad in logs:
                    raise ContainerFailed(f"the bot logged {bad.strip()!r}:\n{logs}")
            self.figures["seconds to healthy"] = await self.wait_for_health(
                "healthy", self.started_at
            )
            gone = time.monotonic()
            # The fake gateway (and REST) go away; its close may wait for its handlers.
            closing = asyncio.create_task(discord.close())
            unhealthy = await self.wait_for_health("unhealthy", gone)
            self.figures["seconds to unhealthy after the gateway went away"] = unhealthy
            await closing
        except BaseException:
            print(f"container-demo: the container's log:\n{await self.logs()}", file=sys.stderr)
            raise
        finally:
            await self.remove()


async def check(binary: str, image: str, extra_env: Sequence[str]) -> int:
    container = Container(binary, image, extra_env)
    out = io.StringIO()
    with tempfile.TemporaryDirectory() as workdir:
        await play(out, Path(workdir), bot=container.run)
    transcript = out.getvalue()
    print(transcript)
    missing = [line for line in TRANSCRIPT_SHOWS if line not in transcript]
    if missing:
        raise ContainerFailed(f"the member did not see: {missing}")
    if "state=" in transcript:
        raise ContainerFailed("an OAuth state reached a message")
    for name, value in container.figures.items():
        print(f"container-demo: {name}: {value:.1f}")
    print("container-demo: OK: link, PIN, favorites, status, unlink; healthy, then unhealthy")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.container_demo")
    parser.add_argument("--image", required=True)
    parser.add_argument("--docker", default=os.environ.get("DOCKER", "docker"))
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(check(args.docker, args.image, args.env))
    except ContainerFailed as exc:
        print(f"container-demo: FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
