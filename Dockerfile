# medsaliency in a container: the pinned dependencies, the project, `dvc repro` by default.
#   CPU (default):  docker build -t medsaliency .
#   GPU:            docker build --build-arg TENSORFLOW="tensorflow[and-cuda]" -t medsaliency:gpu .
#   run:            docker run --rm -v "$PWD/data:/app/data" -v "$PWD/mlruns:/app/mlruns" medsaliency
# The GPU variant swaps tensorflow-cpu for tensorflow with its CUDA wheels (same version as the
# lock); run it with `--gpus all` and `train.mixed_precision: true` (profiles/paper.yaml).
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm

ARG TENSORFLOW=tensorflow-cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GX_ANALYTICS_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLBACKEND=Agg
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# git: DVC and the runs' git_commit tag read it when a checkout is mounted on /app.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 medsaliency

WORKDIR /app

# The pinned dependency layer, before the source: rebuilt only when requirements.lock changes.
COPY requirements.lock ./
RUN tensorflow_version="$(sed -n 's/^tensorflow-cpu==//p' requirements.lock)" \
    && grep -v '^tensorflow-cpu==' requirements.lock > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt "${TENSORFLOW}==${tensorflow_version}" \
    && rm /tmp/requirements.txt

COPY --chown=medsaliency:medsaliency . .
RUN pip install --no-deps -e . \
    && mkdir -p data mlruns outputs \
    && chown -R medsaliency:medsaliency /app

USER 1000:1000
# The image holds no .git (see .dockerignore): DVC runs without one unless a checkout is mounted.
RUN dvc config --local core.no_scm true

VOLUME ["/app/data", "/app/mlruns"]
CMD ["dvc", "repro"]
