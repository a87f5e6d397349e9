# The Imgur link bot. Build: docker build -t imgur-link-bot .   Run: see docker-compose.yml.
# Builds with BuildKit and with the legacy builder; it reaches no registry but the base image's
# (no `# syntax=` line: that would fetch a frontend image). PYTHON_IMAGE picks the base image:
# CI builds on one made from Debian's packages (.ci/docker); it must carry CA certificates
# that verify the package index, as the official images do.
# No secret is baked in: DISCORD_TOKEN, IMGUR_CLIENT_ID, IMGUR_CLIENT_SECRET and
# BOT_ENCRYPTION_KEY come from the environment (or *_FILE) at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: a wheel of the project, installed with its dependencies into /opt/venv --------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Exact versions with hashes (requirements/*.txt, from `make lock`): pip refuses anything else.
COPY requirements/runtime.txt requirements/build.txt ./requirements/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes \
       -r requirements/runtime.txt -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN /opt/venv/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps /wheels/*.whl \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

# --- runtime: the venv alone, run as an unprivileged user -----------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="imgur-link-bot" \
      org.opencontainers.image.description="Self-hosted Discord bot that links members' Imgur accounts" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOT_DATABASE=/data/bot.db \
    BOT_FATAL_EXIT_DELAY=60
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin bot \
    && mkdir -p /data /app \
    && chown bot:bot /data \
    && chmod 0700 /data
COPY --from=builder /opt/venv /opt/venv
# An optional config file goes to /app/config.toml (or anywhere, with BOT_CONFIG).
WORKDIR /app
# The database, its key file (when BOT_ENCRYPTION_KEY is unset) and the heartbeat live here.
VOLUME ["/data"]
USER 10001:10001
# The callback server listens here only when BOT_WEB_ENABLED=true.
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "healthcheck"]
ENTRYPOINT ["python", "-m", "bot"]
