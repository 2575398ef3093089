# syntax=docker/dockerfile:1
#
# One image for every CSMS process (router, the seven block services, migrations).
# Each workload picks its process with its own command, e.g.
#   docker run --rm csms:dev python -m router
#   docker run --rm csms:dev python -m configuration
#   docker run --rm csms:dev python -m csms_runtime.migrate --all
#
# Build (from the repo root):  docker build -t csms:dev .
#
# The repo is a uv *virtual* workspace (libs/*, services/*, tests/e2e) whose exact
# versions are pinned as [tool.uv] constraint-dependencies in pyproject.toml. There is
# no uv.lock in git, so `uv sync` resolves against those constraints at build time
# (the resolved /app/uv.lock stays in the image as a record of what was installed).

ARG PYTHON_IMAGE=python:3.11-slim

# --------------------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN pip install uv==0.13.8

WORKDIR /app
COPY . /app

# --all-packages: install every workspace member (libs, services, e2e helpers)
# --no-dev:       leave out the root dev group (pytest, ruff, ...)
# The cache mount keeps downloaded wheels between builds (BuildKit; default in
# current Docker and in `docker compose build`).
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --all-packages --no-dev \
 && python -m compileall -q /app/libs /app/services

# --------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ARG APP_UID=10001
ARG APP_GID=10001

LABEL org.opencontainers.image.title="csms" \
      org.opencontainers.image.description="OCPP 2.0.1 CSMS: router (websocket gateway), block services and migrations"

# Numeric UID/GID so Kubernetes' runAsNonRoot can verify the user.
RUN groupadd --system --gid ${APP_GID} csms \
 && useradd --system --uid ${APP_UID} --gid ${APP_GID} --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin csms

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    HOME=/tmp

WORKDIR /app
# The venv's interpreter is a symlink to /usr/local/bin/python3.11, which the
# runtime stage has too (same base image). Workspace members are installed as
# editable packages pointing at /app/libs/... and /app/services/..., so the source
# tree is copied along; everything stays root-owned and read-only for the app user.
COPY --from=builder /app /app

USER ${APP_UID}:${APP_GID}

# router: 8080 (HTTP), 8081 (SP0 websocket), 8082 (SP1 websocket)
# block services: 8101-8107 (HTTP API)
EXPOSE 8080 8081 8082 8101 8102 8103 8104 8105 8106 8107

CMD ["sh", "-c", "echo 'csms image: choose a process, e.g.'; echo '  python -m router                              (HTTP 8080, websockets 8081/8082)'; echo '  python -m configuration|transactions|evdriver|smartcharging|monitoring|reporting|certificates'; echo '  python -m csms_runtime.migrate --all          (database migrations, run once before the services)'; echo 'See deploy/README.md.'"]
