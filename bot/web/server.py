"""Serving the callback application on the configured address: the listening socket under
the connection guard, aiohttp's runner with the server's own loggers, start and stop."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.config import ConfigError, WebConfig
from bot.web.dependencies import WebDependencies
from bot.web.guard import ConnectionGuard, ConnectionLimits, descriptor_limit, listen_backlog
from bot.web.logs import AccessLogger, AccessLoggerWithIPs, ServerLog
from bot.web.routes import CALLBACK_PATH, CONFIRM_PATH, create_app

__all__ = ["CallbackServer"]

log = logging.getLogger(__name__)


class CallbackServer:
    """Serves ``create_app`` on the configured host and port between ``start`` and ``stop``."""

    def __init__(self, config: WebConfig, dependencies: WebDependencies) -> None:
        self.config = config
        self.dependencies = dependencies
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.guard: ConnectionGuard | None = None

    @property
    def callback_url(self) -> str:
        """The redirect URL to register at Imgur."""
        return self.config.public_url.rstrip("/") + CALLBACK_PATH

    @property
    def confirm_url(self) -> str:
        """The confirmation page members are sent to first (``LinkService(confirm_url=)``)."""
        return self.config.public_url.rstrip("/") + CONFIRM_PATH

    @property
    def port(self) -> int | None:
        """The port listened on (useful when the configured port is 0), or None if stopped."""
        if self._listener is None or not self._listener.sockets:
            return None
        return int(self._listener.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen; ``ConfigError`` naming ``web.port`` if the address cannot be bound."""
        if self._runner is not None:
            return
        config = self.config
        wanted = ConnectionLimits(
            max_connections=config.max_connections,
            header_timeout=config.header_timeout_seconds,
            keepalive_timeout=config.keepalive_timeout_seconds,
        )
        fd_limit = descriptor_limit()
        limits = wanted.for_descriptor_limit(fd_limit)
        if limits != wanted:
            log.warning(
                "web.max_connections: %d is more than half the file-descriptor limit (%s); "
                "serving at most %d connections",
                wanted.max_connections,
                fd_limit,
                limits.max_connections,
            )
        guard = ConnectionGuard(limits)
        app = create_app(
            self.dependencies,
            guard=guard,
            body_timeout=config.body_timeout_seconds,
            log_client_ips=config.log_client_ips,
        )
        runner = web.AppRunner(
            app,
            access_log_class=AccessLoggerWithIPs if config.log_client_ips else AccessLogger,
            shutdown_timeout=5.0,
            keepalive_timeout=config.keepalive_timeout_seconds,
            lingering_time=1.0,
            logger=ServerLog(
                logging.getLogger("aiohttp.server"), log_client_ips=config.log_client_ips
            ),
        )
        await runner.setup()
        assert runner.server is not None
        host, port = config.host, config.port
        try:
            listener = await asyncio.get_running_loop().create_server(
                guard.protocol_factory(runner.server),
                host,
                port,
                reuse_address=True,
                backlog=listen_backlog(fd_limit),
            )
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"web.port: cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None
        self._runner, self._listener, self.guard = runner, listener, guard
        log.info(
            "callback server listening on %s:%s; Imgur's redirect URL: %s",
            host,
            self.port,
            self.callback_url,
        )

    async def stop(self) -> None:
        """Stop listening, finish requests in flight and DMs being sent. Safe to call twice."""
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # no new connections
        if runner is not None:
            await runner.cleanup()  # finishes requests in flight, closes the connections
        if self.guard is not None:
            self.guard.close_all()  # any still waiting for their headers
        if listener is not None:
            await listener.wait_closed()
        if runner is not None:
            log.info("callback server stopped")
