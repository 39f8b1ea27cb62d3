# syntax=docker/dockerfile:1
# Platform Bot: one image for every role (serve, socket, worker, migrate).
#   docker build -t platform-bot .
#   docker run --rm platform-bot --help
# The build stage installs the package and its dependencies (all wheels, no compiler) into a
# virtualenv; the runtime stage copies only that virtualenv, so no pip cache, no build tools
# and no source tree reach the final image.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/platform-bot
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY integrations ./integrations
COPY surveys ./surveys
# dumb-init (a wheel with the binary) runs as PID 1, so SIGTERM reaches `socket` and `worker`
# and zombies are reaped; gunicorn alone would handle it, Python alone ignores it as PID 1.
RUN /opt/platform-bot/bin/pip install --no-cache-dir . dumb-init==1.2.5.post1

# The PostgreSQL project's apt signing key, as Debian's postgresql-common ships it (so no
# key is fetched over the network), for the client tools below.
FROM ${PYTHON_IMAGE} AS pgdg-key
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common \
    && rm -rf /var/lib/apt/lists/*

FROM ${PYTHON_IMAGE} AS runtime
# The major version of pg_dump/pg_restore: cloning a PostgreSQL environment whose source has
# open sessions copies it through them, and pg_dump reads servers up to its own version.
ARG POSTGRES_CLIENT=17
COPY --from=pgdg-key /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
    /usr/share/keyrings/apt.postgresql.org.asc
# git: `/platform new-service` commits each new repository with it. Versions follow the
# base image's Debian release and the PostgreSQL repository (pinning them would break the
# build at each security update).
# hadolint ignore=DL3008
RUN . /etc/os-release \
    && echo "deb [signed-by=/usr/share/keyrings/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends git "postgresql-client-${POSTGRES_CLIENT}" \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 platform-bot \
    && useradd --system --uid 10001 --gid platform-bot --home-dir /var/lib/platform-bot \
        --create-home --shell /usr/sbin/nologin platform-bot
COPY --from=build /opt/platform-bot /opt/platform-bot
ENV PATH=/opt/platform-bot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PLATFORM_CONFIG=/etc/platform-bot/platform.yaml \
    MPLCONFIGDIR=/tmp/matplotlib \
    HEALTHCHECK_URL=http://127.0.0.1:3000/healthz
WORKDIR /var/lib/platform-bot
USER 10001:10001
EXPOSE 3000
# `serve` answers /healthz on 3000; a worker sets HEALTHCHECK_URL to its --health-port.
# `socket` serves no HTTP: turn the check off for it (compose: healthcheck.disable).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]
ENTRYPOINT ["dumb-init", "--", "platform-bot"]
CMD ["serve"]
