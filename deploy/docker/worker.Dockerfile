# syntax=docker/dockerfile:1.7
# The embedding worker (`python -m speaker_worker`). Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t speakers-worker .                          # CPU (default)
#   docker build -f deploy/docker/worker.Dockerfile --build-arg TORCH_VARIANT=cu128 -t speakers-worker:gpu .
# Bases are pinned by tag and digest; the digests come from public references and were not pulled here (no
# Docker engine on the build machines): check them with `docker buildx imagetools inspect <image>`.
ARG PYTHON_IMAGE=python:3.12.13-slim-bookworm@sha256:4766d8b510c428e595d74b9cc5bbb2fae8e26316fffb4adc89908d79aacd58a2
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.12.2@sha256:069a51314a7bb6031777a9273205fe1b0b19e914ef418207d1338b268df641dd

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never
WORKDIR /app/services/embedding-worker
COPY services/embedding-worker/pyproject.toml services/embedding-worker/uv.lock ./
# Dependencies first (the slow layer), exactly as locked, without dev tools.
RUN uv sync --frozen --no-dev --no-install-project
COPY services/embedding-worker/src ./src
# Editable install: the package stays in /app/services/embedding-worker/src, where contract.py finds the schemas.
RUN uv sync --frozen --no-dev
# uv.lock pins torch/torchaudio 2.8.0 from PyPI (the CUDA build on x86_64, ~2.5 GB of NVIDIA libraries).
# The default image swaps them for the same version from PyTorch's CPU index; TORCH_VARIANT=cu128 keeps
# CUDA. This comes last: a later `uv sync` would put the locked build back.
ARG TORCH_VARIANT=cpu
RUN if [ "$TORCH_VARIANT" != "cu128" ]; then \
      uv pip install --python /opt/venv/bin/python --reinstall --no-deps \
        --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" torch==2.8.0 torchaudio==2.8.0 \
      && rm -rf /opt/venv/lib/python3.12/site-packages/nvidia; \
    fi

FROM ${PYTHON_IMAGE} AS runtime
# libsndfile for soundfile; no compilers in the runtime image.
RUN apt-get update && apt-get install -y --no-install-recommends libsndfile1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /home/speakers --create-home speakers \
    && mkdir -p /models && chown speakers /models
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/services/embedding-worker /app/services/embedding-worker
# The event contract the worker validates against (packages/events/schemas) and its health check.
COPY packages/events/schemas /app/packages/events/schemas
COPY deploy/docker/worker_healthcheck.py /app/deploy/docker/worker_healthcheck.py
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SPEAKERS_SCHEMA_DIR=/app/packages/events/schemas \
    MODEL_CACHE_DIR=/models
# The model (ECAPA from the hub, or GE2E shipped with resemblyzer) is cached in a volume, not the image.
VOLUME ["/models"]
WORKDIR /app/services/embedding-worker
USER speakers
# start-period: the first start downloads and loads the model before the service answers PING.
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
  CMD ["python", "/app/deploy/docker/worker_healthcheck.py", "embedding"]
CMD ["python", "-m", "speaker_worker"]
