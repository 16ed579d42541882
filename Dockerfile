# medsaliency in a container: the pinned dependencies, the project, `dvc repro` by default.
#   CPU (default):   docker build -t medsaliency .
#   GPU, TensorFlow: docker build --build-arg TENSORFLOW="tensorflow[and-cuda]" -t medsaliency:gpu .
#   GPU, JAX:        docker build --build-arg KERAS_BACKEND=jax --build-arg JAX="jax[cuda12]" -t medsaliency:gpu-jax .
#   run:             docker run --rm -v "$PWD/data:/app/data" -v "$PWD/mlruns:/app/mlruns" medsaliency
# The GPU variants swap tensorflow-cpu for tensorflow with its CUDA wheels, or jax for jax with its
# CUDA plugin (same versions as the lock); run them with `--gpus all` and `train.mixed_precision: true`
# (profiles/paper.yaml). KERAS_BACKEND is written into the image's params.yaml (keras_backend), which
# is what the stages and DVC read.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm

ARG KERAS_BACKEND=tensorflow
ARG TENSORFLOW=tensorflow-cpu
ARG JAX=jax
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
    && jax_version="$(sed -n 's/^jax==//p' requirements.lock)" \
    && grep -v -e '^tensorflow-cpu==' -e '^jax==' requirements.lock > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt "${TENSORFLOW}==${tensorflow_version}" "${JAX}==${jax_version}" \
    && rm /tmp/requirements.txt

COPY --chown=medsaliency:medsaliency . .
RUN pip install --no-deps -e . \
    && medsaliency set-backend "${KERAS_BACKEND}" \
    && mkdir -p data mlruns outputs \
    && chown -R medsaliency:medsaliency /app

USER 1000:1000
# The image holds no .git (see .dockerignore): DVC runs without one unless a checkout is mounted.
RUN dvc config --local core.no_scm true

VOLUME ["/app/data", "/app/mlruns"]
CMD ["dvc", "repro"]
