"""``python -m bot healthcheck``: is the running bot healthy, as seen from inside its container
(Docker's ``HEALTHCHECK``)."""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
from collections.abc import Mapping

from bot.cli.handlers import Subparsers, add_command, load
from bot.config import Config, ConfigError
from bot.heartbeat import HEARTBEAT_MAX_AGE_SECONDS, heartbeat_age, heartbeat_path


def add_commands(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add ``healthcheck``; ``common`` holds the options every command takes."""
    health = add_command(
        subparsers,
        "healthcheck",
        healthcheck_handler,
        common,
        help="exit 0 if the running bot is healthy, 1 if not (for Docker's HEALTHCHECK)",
        description=(
            "Exit 0 if the running bot is healthy, 1 if not, with one line saying why. With the "
            "web server enabled it asks /healthz; otherwise it checks that the heartbeat file "
            "(<database>.heartbeat), touched while the bot is connected to Discord, is fresh."
        ),
    )
    health.add_argument(
        "--max-age",
        metavar="SECONDS",
        type=float,
        default=HEARTBEAT_MAX_AGE_SECONDS,
        help="oldest heartbeat that still counts as healthy (default: %(default)g)",
    )
    health.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=5.0,
        help="how long to wait for /healthz (default: %(default)g)",
    )


def healthcheck_handler(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    # Docker reserves exit code 2 of a health check: every failure here is 1. No logging is set
    # up: the one line printed is what Docker shows.
    try:
        config, _ = load(args, env)
    except ConfigError as exc:
        print(f"unhealthy: configuration: {exc}")
        return 1
    healthy, why = healthcheck(config, max_age=args.max_age, timeout=args.timeout)
    print(f"{'healthy' if healthy else 'unhealthy'}: {why}")
    return 0 if healthy else 1


def healthcheck(config: Config, *, max_age: float, timeout: float) -> tuple[bool, str]:
    """(healthy, why) of the running bot, as seen from inside its container."""
    if config.web.enabled:
        return _probe_healthz(config, timeout)
    path = heartbeat_path(config.storage)
    age = heartbeat_age(path)
    if age is None:
        return False, f"no heartbeat at {path}: the bot is not connected to Discord"
    if age > max_age:
        return False, f"heartbeat is {age:.0f} s old (limit {max_age:g} s)"
    return True, f"connected (heartbeat {age:.0f} s ago)"


def _probe_healthz(config: Config, timeout: float) -> tuple[bool, str]:
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
        config.web.host, config.web.host
    )
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{config.web.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{url} did not answer: {reason}"
    if status == 200:
        return True, f"{url} answered 200"
    return False, f"{url} answered {status}"
