# sitrep: the Discord bot in one small, non-root container.
#
#   docker build -t sitrep .
#   docker run -d --name sitrep -e SITREP_DISCORD_TOKEN=... -v sitrep-data:/data sitrep
#
# BASE_IMAGE must provide python3 (3.11+) with the venv module. Both stages use the same base so the
# virtual environment's interpreter link resolves in the runtime stage (/usr/local/bin/python3 in the
# official python images, /usr/bin/python3 in a Debian one). CI builds it on a debootstrap base.
ARG BASE_IMAGE=python:3.12-slim

# ---- builder: a virtual environment with exactly what requirements/lock.txt pins, then sitrep ----
FROM ${BASE_IMAGE} AS builder

# Optional: where pip finds packages, for a build behind a mirror (CI passes these). Build stage only:
# nothing of them reaches the runtime image.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY requirements/lock.txt /tmp/lock.txt
RUN /opt/venv/bin/python -m pip install --no-cache-dir --no-deps -r /tmp/lock.txt

# Then the package itself (no dependencies: they are all above), and no installer in the result.
COPY pyproject.toml README.md /src/
COPY bot /src/bot
RUN /opt/venv/bin/python -m pip install --no-cache-dir --no-deps /src \
    && /opt/venv/bin/python -m pip uninstall --yes pip setuptools wheel \
    && /opt/venv/bin/python -c "import bot.__main__, discord, aiosqlite, asyncpg, rapidfuzz, pydantic_settings, yaml, dateparser"

# ---- runtime ----
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="sitrep" \
      org.opencontainers.image.description="Discord bot answering situation-update questions from a curated, sourced fact store" \
      org.opencontainers.image.licenses="MIT"

# A fixed numeric user, so volume ownership is predictable across images and hosts.
RUN groupadd --system --gid 10001 sitrep \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
               --shell /usr/sbin/nologin sitrep \
    && mkdir -p /data \
    && chown 10001:10001 /data \
    && chmod 0750 /data

COPY --from=builder /opt/venv /opt/venv
# The curated files the store is built from (read-only for the bot).
COPY seeds /app/seeds
COPY data /app/data

ENV PATH=/opt/venv/bin:$PATH \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SITREP_DATABASE=/data/sitrep.db \
    SITREP_HEARTBEAT_FILE=/tmp/sitrep.heartbeat \
    SITREP_SEEDS_DIR=/app/seeds \
    SITREP_DATA_DIR=/app/data \
    SITREP_LOG_LEVEL=INFO

WORKDIR /app
VOLUME ["/data"]
USER 10001:10001

# Alive (fresh heartbeat) and the store readable; never asks Discord, which a restart would not fix.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["sitrep", "health"]

# Exec form: the Python process is PID 1 and handles SIGTERM itself (clean exit 0 within seconds).
STOPSIGNAL SIGTERM
CMD ["sitrep", "bot"]
