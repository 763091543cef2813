# One image for every service: the command chooses which one runs
# (`retail serve order`, `retail migrate --service order`, `retail topics ensure`).
# Build from the repository root: docker build -t retail/platform . (see docs/deploy.md)
# BASE_IMAGE must carry Python 3.11+ with venv: by default the `python` stage below, or the
# Debian base that deploy/image/debian-base.sh makes (--build-arg BASE_IMAGE=…; the unused
# stage is then skipped). Builder and runtime share it, so the virtual environment's
# interpreter path holds in both. The default is a FROM line of its own, where Dependabot
# sees it (it does not read ARG values).
ARG BASE_IMAGE=python

FROM docker.io/library/python:3.11-slim-bookworm AS python

FROM ${BASE_IMAGE} AS builder
ARG UV_VERSION=0.13.9
ENV UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# A network behind a TLS-inspecting proxy passes its CA bundle as a build secret
# (--secret id=ca-bundle,src=…): used for the downloads, never stored in a layer.
# binutils (strip) lives in the builder only and never reaches the runtime image, so its
# Debian version is left to the base image's release rather than pinned (DL3008).
# hadolint ignore=DL3008
RUN --mount=type=secret,id=ca-bundle,required=false \
    if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends binutils >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
COPY . /app
# Only the locked runtime dependencies: no dev group, no embedded PostgreSQL or broker.
RUN --mount=type=secret,id=ca-bundle,required=false \
    --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && /opt/uv/bin/uv sync --frozen --all-packages --no-default-groups --python python3 \
    && find /app/libs /app/services -name pyproject.toml -delete
# Size (docs/deploy.md, bench/results/image.md): debug symbols stripped from extension
# modules; botocore's models kept for the AWS APIs the platform calls (S3, STS, Secrets
# Manager); no type stubs or C sources; bytecode compiled for what the services import at
# start (the root file system is read-only at run time, so a module not compiled here is
# compiled in memory on first use).
COPY deploy/image/slim.py /opt/slim.py
RUN find /app/.venv -name '*.so*' -type f -exec strip --strip-unneeded {} + \
    && /app/.venv/bin/python /opt/slim.py /app/.venv

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/retail-platform/retail
LABEL org.opencontainers.image.title="retail-platform" \
      org.opencontainers.image.description="Retail platform services (one image, the command picks the service)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed uid/gid so that Kubernetes' runAsUser and volume ownership can name it.
RUN groupadd --system --gid 10001 retail \
    && useradd --system --uid 10001 --gid retail --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin retail
# The environment and the services' code (editable installs point at /app/libs, /app/services;
# the migrations live beside the code).
COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /app/libs /app/libs
COPY --from=builder /app/services /app/services
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    RETAIL_SERVE_HOST=0.0.0.0
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000-8007
STOPSIGNAL SIGTERM
ENTRYPOINT ["retail"]
CMD ["--help"]
