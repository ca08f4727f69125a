# syntax=docker/dockerfile:1
# firstline's container image. Two stages: the builder installs the pinned runtime closure
# (requirements-runtime.lock, the subset of requirements.lock that `firstline` itself needs,
# no dev tools, no llm-server extra) and then the wheel of this project into a virtual
# environment; the final stage copies only that environment onto a slim Python.
# docs/deploy.md: building, running and what was (not) verified.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/firstline
COPY requirements-runtime.lock ./
RUN /opt/firstline/bin/pip install --no-deps -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY src ./src
COPY scenarios ./scenarios
# The wheel is built here (the build backend from pyproject's build-system, in an isolated
# build environment that is thrown away), then installed without resolving anything: every
# dependency is already there at its pin, and `pip check` proves none is missing.
RUN /opt/firstline/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/firstline/bin/pip install --no-deps /wheels/firstline-*.whl \
    && /opt/firstline/bin/pip check \
    && mkdir -p /var/lib/firstline

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="firstline" \
      org.opencontainers.image.description="Self-hosted incident-response agent" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/firstline/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    FIRSTLINE_STORE__DATA_DIR=/var/lib/firstline
COPY --from=builder /opt/firstline /opt/firstline
COPY --from=builder --chown=10001:10001 /var/lib/firstline /var/lib/firstline
WORKDIR /var/lib/firstline
USER 10001:10001
# 8080: `firstline serve` (webhooks, API, /healthz, /readyz, /metrics).
# 8081: `firstline worker` (its /healthz, /readyz, /metrics), as the Kubernetes manifests run it.
EXPOSE 8080 8081
# No HEALTHCHECK: the same image runs `serve` and `worker` on different ports, and the
# orchestrator's probes (deploy/kubernetes) check /healthz and /readyz on the right one.
ENTRYPOINT ["firstline"]
# Alone (docker run), one process does everything on the embedded SQLite store; in a cluster
# the manifests run `serve --no-workers` and `worker` against PostgreSQL instead.
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
