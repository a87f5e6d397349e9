"""Benchmark pieces in processes of their own: ``python -m <module>`` from the repository root.

The protocol, both sides: a child announces itself (or its result) with one JSON line on
stdout (``announce``); the parent reads it with a deadline (``child``, ``run_child``), then
stops a long-running child with SIGTERM, or by closing its stdin
(``wait_for_stdin_close_or_signal`` on the child's side). Everything listens on and talks to
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent

Pipe = int | IO[Any] | None  # what asyncio.create_subprocess_exec takes for a stream


async def spawn(
    *args: str,
    stdin: Pipe = None,
    stdout: Pipe = asyncio.subprocess.PIPE,
    stderr: Pipe = None,
    env: Mapping[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """Start ``python -m <args>`` from the repository root, its output unbuffered."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=ROOT,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
    )


async def output_lines(
    process: asyncio.subprocess.Process,
    timeout: float,  # noqa: ASYNC109
    late: str,
) -> AsyncIterator[str]:
    """The lines ``process`` prints, until it closes stdout; ``TimeoutError(late)`` when that
    takes longer than ``timeout`` seconds."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(late)
        line = await asyncio.wait_for(process.stdout.readline(), remaining)
        if not line:
            return
        yield line.decode().rstrip("\n")


async def read_json_line(
    process: asyncio.subprocess.Process,
    timeout: float,  # noqa: ASYNC109
) -> dict[str, Any]:
    """The next JSON line ``process`` prints (other lines are skipped)."""
    late = f"child {process.pid} printed no JSON line within {timeout} s"
    async for text in output_lines(process, timeout, late):
        if text.strip().startswith("{"):
            return dict(json.loads(text))
    code = await process.wait()
    raise RuntimeError(f"child {process.pid} exited ({code}) before printing its result")


@dataclass
class Child:
    """A running child process and the JSON line it announced itself with."""

    process: asyncio.subprocess.Process
    hello: dict[str, Any]
    started_at: float  # time.monotonic() just before it was spawned

    @property
    def pid(self) -> int:
        return self.process.pid

    async def read_json(self, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The next JSON line the child prints (other lines are skipped)."""
        return await read_json_line(self.process, timeout)

    async def send_line(self, text: str) -> None:
        """One line to the child's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()


@contextlib.asynccontextmanager
async def child(
    *args: str,
    stderr_path: Path | None = None,
    hello_timeout: float = 60.0,
    stop_timeout: float = 15.0,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Child]:
    """Run ``python -m <args>`` until its first JSON line; stop it with SIGTERM on exit.

    Its stderr goes to ``stderr_path`` (appended; its end is quoted if the child fails before
    its first line), else nowhere.
    """
    handle = stderr_path.open("ab") if stderr_path is not None else None  # closed in finally
    started = time.monotonic()
    try:
        process = await spawn(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stderr=handle if handle is not None else asyncio.subprocess.DEVNULL,
            env=env,
        )
        try:
            try:
                hello = await read_json_line(process, hello_timeout)
            except (RuntimeError, TimeoutError) as exc:
                if handle is None or stderr_path is None:
                    raise
                handle.flush()
                tail = _tail(stderr_path)
                raise RuntimeError(f"{exc}; python -m {args[0]} said:\n{tail}") from None
            yield Child(process, hello, started)
        finally:
            await _stop(process, stop_timeout)
    finally:
        if handle is not None:
            handle.close()


def _tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:]


async def _stop(process: asyncio.subprocess.Process, timeout: float) -> None:  # noqa: ASYNC109
    """SIGTERM, and SIGKILL if it has not exited ``timeout`` seconds later."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def run_child(*args: str, timeout: float = 300.0) -> dict[str, Any]:  # noqa: ASYNC109
    """Run ``python -m <args>`` to completion and return the last JSON line it printed."""
    process = await spawn(*args, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(
            f"python -m {' '.join(args)} failed ({process.returncode}):\n{err.decode()[-3000:]}"
        )
    return dict(json.loads(lines[-1]))


# --- the child's side ------------------------------------------------------------------------


def announce(payload: dict[str, Any]) -> None:
    """Print one JSON line for the parent process."""
    print(json.dumps(payload), flush=True)


async def wait_for_stdin_close_or_signal() -> None:
    """Block until the parent closes our stdin or sends SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    reader = asyncio.StreamReader()
    with contextlib.suppress(OSError, ValueError):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def eof() -> None:
        while await reader.read(4096):
            pass

    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(eof())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
