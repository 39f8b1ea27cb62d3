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

FROM ${PYTHON_IMAGE} AS runtime
# git: `/platform new-service` commits each new repository with it. The version follows the
# base image's Debian release (pinning it would break the build at each security update).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
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
