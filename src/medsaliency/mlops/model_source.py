"""A registered model named by URI, loaded once per process: how a task gets its model on any worker.

A stage does not ship a model to its tasks; it ships a :class:`RegisteredModelSource` (the registry URI of
one version, the MLflow store, the target layer and the runtime settings). The first task on a
process calls :func:`explained_model`, which prepares the process (Keras backend, one thread,
seeds and determinism) and loads the model; later tasks on that process reuse it. A model that
cannot be loaded raises :class:`ModelLoadError` naming the process (the Dask worker's address)
and the URI.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import OrderedDict
from dataclasses import dataclass, replace

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.config import Params, TrainConfig
from medsaliency.errors import ConfigError, MedsaliencyError

KEPT_MODELS = 6  # per process: the trained model, its randomised copy and a cascade's steps (4 by default), reused task after task


class ModelLoadError(MedsaliencyError):
    """A worker could not load the model of a task."""


@dataclass(frozen=True)
class RegisteredModelSource:
    """``uri``: ``models:/<name>/<version>`` in the MLflow store at ``tracking_uri``; ``target_layer``:
    the Grad-CAM layer; ``keras_backend``, ``train`` (determinism, mixed precision) and ``seed``: how
    the process runs it; ``randomized_seed``: the sanity check's weight-randomised copy (None: trained),
    with only its ``randomized_blocks`` top blocks randomised (None: every layer; the cascading check)."""

    uri: str
    tracking_uri: str
    target_layer: str
    keras_backend: str
    train: TrainConfig
    seed: int
    randomized_seed: int | None = None
    randomized_blocks: int | None = None

    def explained(self) -> ExplainedModel:
        """The model in this process (:func:`explained_model`)."""
        return explained_model(self)

    def randomized(self, seed: int, top_blocks: int | None = None) -> RegisteredModelSource:
        return replace(self, randomized_seed=seed, randomized_blocks=top_blocks)

    def trained(self) -> RegisteredModelSource:
        return replace(self, randomized_seed=None, randomized_blocks=None)

    @property
    def key(self) -> tuple:
        return (self.uri, self.tracking_uri, self.target_layer, self.randomized_seed, self.randomized_blocks)


def champion_source(name: str, version: str, dataset: str, target_layer: str, params: Params, tracking_uri: str) -> RegisteredModelSource:
    """The source of ``name``'s champion, refused unless the alias still points at ``version`` (what
    register recorded for ``dataset``); workers then load that version, even if the alias moves meanwhile."""
    from medsaliency.mlops.registry import champion_uri

    uri = champion_uri(name, version, dataset)
    return RegisteredModelSource(uri, tracking_uri, target_layer, params.keras_backend, params.train, params.seed)


_loaded: OrderedDict[tuple, ExplainedModel] = OrderedDict()


def explained_model(source: RegisteredModelSource) -> ExplainedModel:
    """The :class:`ExplainedModel` of ``source`` in this process, loaded on first use (the least
    recently used of more than ``KEPT_MODELS`` is dropped). A randomised copy starts from the trained
    model of the same process."""
    if source.key in _loaded:
        _loaded.move_to_end(source.key)
    else:
        _loaded[source.key] = _randomize(explained_model(source.trained()), source) if source.randomized_seed is not None else _load(source)
        while len(_loaded) > KEPT_MODELS:
            _loaded.popitem(last=False)
    return _loaded[source.key]


def process_name() -> str:
    """``Dask worker tcp://...`` inside a Dask worker, else ``process <pid>``."""
    try:
        from distributed import get_worker

        return f"Dask worker {get_worker().address}"
    except (ImportError, ValueError):
        return f"process {os.getpid()}"


def prepare_process(source: RegisteredModelSource) -> None:
    """Keras on ``source.keras_backend``, one thread per model call, seeds, determinism and precision."""
    from medsaliency.backends import SINGLE_THREAD_ENVIRONMENT

    if "keras" not in sys.modules:
        os.environ.update(SINGLE_THREAD_ENVIRONMENT)
        os.environ["KERAS_BACKEND"] = source.keras_backend
    from medsaliency import backends
    from medsaliency.models.training import configure_runtime

    if backends.name() != source.keras_backend:
        raise ConfigError(f"{process_name()} runs Keras on {backends.name()}, but the params say keras_backend: {source.keras_backend}")
    if not backends.current().use_one_thread():
        warnings.warn(
            f"{process_name()}: {source.keras_backend} already runs on several threads; its numbers may differ in the last bits "
            "from those of the pipeline's worker processes",
            stacklevel=2,
        )
    configure_runtime(source.train, source.seed)


def _randomize(trained: ExplainedModel, source: RegisteredModelSource) -> ExplainedModel:
    from medsaliency.evaluation.sanity import cascading_copy, randomized_copy

    seed, blocks = source.randomized_seed, source.randomized_blocks
    assert seed is not None, "only called for a source with a randomised seed"
    model = randomized_copy(trained.model, seed) if blocks is None else cascading_copy(trained.model, seed, blocks)
    return ExplainedModel(model, source.target_layer)


def _load(source: RegisteredModelSource) -> ExplainedModel:
    import mlflow

    from medsaliency.mlops.registry import load_model

    prepare_process(source)
    mlflow.set_tracking_uri(source.tracking_uri)
    mlflow.set_registry_uri(source.tracking_uri)
    try:
        model = load_model(source.uri)
    except Exception as exc:  # any failure: the stage must learn where and what, not hang or retry
        raise ModelLoadError(f"{process_name()} cannot load {source.uri} from {source.tracking_uri}: {exc}") from None
    return ExplainedModel(model, source.target_layer)
