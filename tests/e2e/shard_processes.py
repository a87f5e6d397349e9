"""Bot processes (``python -m bot``) of one sharded bot, run against the in-test fakes.

Each process gets its own data directory and TOML file (``DISCORD_SHARD_COUNT`` /
``DISCORD_SHARD_IDS`` come from its environment, as in a container), logs to a file, and is
stopped with SIGTERM (or killed on purpose) by its own process id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import FakeImgur

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


@dataclass
class BotProcess:
    shard_ids: list[int]
    process: asyncio.subprocess.Process
    log_path: Path
    data_dir: Path
    stopped: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as a crash or an OOM kill."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.stopped = True

    def freeze(self) -> None:
        """SIGSTOP: the process does nothing more (no request sent, no connection opened)."""
        self.process.send_signal(signal.SIGSTOP)

    def ports_connected_to(self, port: int) -> set[int]:
        """The local ports of the process's established TCP connections to ``port`` (on this
        machine; Linux: read from ``/proc``)."""
        inodes = set()
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target.removeprefix("socket:[").removesuffix("]"))
        ports = set()
        for table in ("tcp", "tcp6"):
            path = Path(f"/proc/{self.pid}/net/{table}")
            if not path.exists():
                continue
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if inode in inodes and state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
        return ports


def toml_value(value: Any) -> str:
    return json.dumps(value)  # strings, numbers, booleans and lists are valid TOML this way


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> None:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def process_sections(
    fake_discord: FakeDiscord,
    fake_imgur: FakeImgur,
    database: str,
    key: str,
    **extra: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """A process's configuration, pointed at the fakes; ``extra`` sections are merged in."""
    discord, imgur = fake_discord, fake_imgur
    sections: dict[str, dict[str, Any]] = {
        "discord": {
            "token": discord.token,
            "api_base": discord.rest_base,
            "gateway_url": discord.gateway_url,
        },
        "imgur": {
            "client_id": imgur.client_id,
            "client_secret": imgur.client_secret,
            "api_base": imgur.base_url,
            "request_timeout_seconds": 5,
        },
        "storage": {"database": database, "encryption_key": key},
        "logging": {"level": "INFO"},
    }
    for name, values in extra.items():
        sections.setdefault(name, {}).update(values)
    return sections


@contextlib.asynccontextmanager
async def bot_processes(
    tmp_path: Path,
    shard_count: int,
    splits: list[list[int]],
    sections_for: Callable[[int, Path], dict[str, dict[str, Any]]],
) -> AsyncIterator[list[BotProcess]]:
    """Start one ``python -m bot`` per entry of ``splits`` (its shard ids); stop them all."""
    processes: list[BotProcess] = []
    try:
        for number, ids in enumerate(splits):
            data_dir = tmp_path / f"process{number}"
            data_dir.mkdir()
            config = data_dir / "config.toml"
            write_config(config, sections_for(number, data_dir))
            log_path = data_dir / "bot.log"
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DISCORD_", "IMGUR_", "BOT_"))
            }
            env.update(
                BOT_CONFIG=str(config),
                DISCORD_SHARD_COUNT=str(shard_count),
                DISCORD_SHARD_IDS=",".join(str(i) for i in ids),
                PYTHONUNBUFFERED="1",
            )
            with log_path.open("wb") as log_file:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    cwd=ROOT,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=asyncio.subprocess.STDOUT,
                )
            processes.append(BotProcess(ids, process, log_path, data_dir))
        yield processes
    finally:
        for bot in processes:
            if bot.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    bot.process.send_signal(signal.SIGTERM)
        for bot in processes:
            try:
                await asyncio.wait_for(bot.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                bot.kill()
                await bot.process.wait()


async def wait_for_shards(
    discord: FakeDiscord,
    processes: list[BotProcess],
    timeout: float = START_TIMEOUT,  # noqa: ASYNC109
) -> None:
    """Until every shard is identified at the fake gateway; a process that died says why."""
    wanted = {shard for bot in processes for shard in bot.shard_ids}

    def all_up() -> bool:
        if wanted <= set(discord.shards):
            return True
        for bot in processes:
            if bot.process.returncode is not None and not bot.stopped:
                raise AssertionError(
                    f"bot process for shards {bot.shard_ids} exited "
                    f"({bot.process.returncode}):\n{bot.log()[-3000:]}"
                )
        return False

    def missing() -> str:
        logs = "\n".join(f"--- shards {b.shard_ids}:\n{b.log()[-1500:]}" for b in processes)
        return f"shards {sorted(wanted - set(discord.shards))} up:\n{logs}"

    await discord.wait_for(all_up, timeout=timeout, what=missing)
