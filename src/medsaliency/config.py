"""Typed configuration: ``params.yaml`` loaded and validated into frozen pydantic models.

Every knob of the pipeline lives in ``params.yaml``. An unknown key, a missing key or a value
of the wrong type raises :class:`~medsaliency.errors.ConfigError` whose message names the
dotted key (``datasets.brain_tumor.image_size``) and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias

import yaml
from pydantic import AfterValidator, Field, ValidationError, model_validator

from medsaliency.attribution.cam import ScoreCamOptions
from medsaliency.attribution.gradients import BlurIGOptions, GuidedIGOptions, IntegratedGradientsOptions, SmoothingOptions
from medsaliency.attribution.methods import METHODS
from medsaliency.attribution.xrai import XraiOptions
from medsaliency.backends import SUPPORTED as SUPPORTED_BACKENDS
from medsaliency.data.formats import FORMATS
from medsaliency.data.phantoms.options import PhantomConfig
from medsaliency.errors import ConfigError
from medsaliency.evaluation.entropy import ESTIMATORS
from medsaliency.io import yamlfile
from medsaliency.sections import FloatPair, IntPair
from medsaliency.sections import Section as _Section

DEFAULT_PARAMS_PATH = Path("params.yaml")

# Names that the extension tables define (a new entry there is valid here at once). Checked when
# params are parsed; a type checker, which cannot read a table, sees plain strings.
if TYPE_CHECKING:
    DatasetFormat: TypeAlias = str
    AttributionMethod: TypeAlias = str
    EntropyEstimator: TypeAlias = str
    KerasBackend: TypeAlias = str
else:
    DatasetFormat = Literal[tuple(FORMATS)]
    AttributionMethod = Literal[tuple(METHODS)]
    EntropyEstimator = Literal[tuple(ESTIMATORS)]
    KerasBackend = Literal[SUPPORTED_BACKENDS]
Optimizer = Literal["sgd", "adam"]
# A test's methods: a list, or "all": every method of ``attribution.methods`` (see :func:`chosen_methods`).
MethodChoice = Literal["all"] | Annotated[list[AttributionMethod], Field(min_length=1)]


class SplitConfig(_Section):
    """Patient-grouped, class-stratified train/val/test split."""

    seed: int
    val_fraction: float = Field(gt=0, lt=0.5)
    test_fraction: float = Field(gt=0, lt=0.5)


class DatasetConfig(_Section):
    """One dataset: where its raw files are, in which format, and how to prepare them.

    ``classes`` are class names. For ``figshare_mat`` they name the ``cjdata.label`` codes
    1, 2, 3... in order; for ``covid_png`` they are the class folders to keep.
    ``intensity_range`` bounds the raw pixel values (inclusive, in the file's own units);
    ``raw_side_range`` bounds the raw image height and width in pixels.
    """

    format: DatasetFormat
    raw_dir: str
    classes: list[str] = Field(min_length=2)
    image_size: int = Field(ge=8, le=1024)
    intensity_range: FloatPair
    raw_side_range: IntPair
    mask_kind: Literal["lesion", "lung"]

    @model_validator(mode="after")
    def _check_ranges(self) -> DatasetConfig:
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be unique, got {self.classes}")
        if self.intensity_range[0] >= self.intensity_range[1]:
            raise ValueError(f"intensity_range must be [low, high] with low < high, got {self.intensity_range}")
        if not 1 <= self.raw_side_range[0] <= self.raw_side_range[1]:
            raise ValueError(f"raw_side_range must be [min, max] with 1 <= min <= max, got {self.raw_side_range}")
        return self


class ValidateConfig(_Section):
    """Data-quality thresholds checked by the Great Expectations suite.

    ``max_class_ratio``: the largest class may hold at most this many times the images of
    the smallest class (the real brain data is ~2.0, the real chest data ~2.8).
    """

    max_class_ratio: float = Field(ge=1)


class ShortcutConfig(_Section):
    """The planted shortcut experiment: a class-coded marker burnt by ``prepare`` into the images of
    every split (see :mod:`medsaliency.data.shortcut`). ``intensity`` is the marker's value in the
    [0, 1]-scaled image; ``size_fraction`` its side as a fraction of the image side."""

    enabled: bool
    intensity: float = Field(ge=0, le=1)
    size_fraction: float = Field(gt=0, le=0.25)


class FeaturelessConfig(_Section):
    """Outlier exposure with featureless images (see :mod:`medsaliency.models.featureless`):
    ``copies`` featureless copies of every training image trained towards the uniform class
    distribution (0 = off), made by ``perturbation``: ``shuffle`` (its pixels in a random order, which
    no measure uses) or ``blur`` (PIC's blur from a random ``known_fraction`` of the pixels: trains
    the model on an evaluation's perturbation)."""

    copies: int = Field(ge=0)
    perturbation: Literal["shuffle", "blur"]
    known_fraction: float = Field(gt=0, lt=1)


class TrainConfig(_Section):
    """How one model is fitted (the hyperparameters come from each Optuna trial).

    ``patience``: epochs without a better ``val_loss`` before early stopping (best weights kept).
    ``mixed_precision``: ``mixed_float16`` compute (use on GPUs; the classifier output stays float32).
    ``featureless``: blurred, class-free training images the model learns to be unsure about.
    """

    patience: int = Field(ge=1)
    mixed_precision: bool
    deterministic: bool
    featureless: FeaturelessConfig


class Hyperparameters(_Section):
    """One point of the search space: what a trial trains with."""

    optimizer: Optimizer
    learning_rate: float = Field(gt=0)
    momentum: float = Field(ge=0, lt=1)
    weight_decay: float = Field(ge=0)
    batch_size: int = Field(ge=1)
    dropout: float = Field(ge=0, lt=1)
    augmentation: float = Field(ge=0, le=1)


class SearchSpace(_Section):
    """Ranges Optuna samples from: ``[low, high]`` (log scale for rates), or a list of choices."""

    optimizer: list[Optimizer] = Field(min_length=1)
    learning_rate: FloatPair
    momentum: FloatPair
    weight_decay: FloatPair
    batch_size: list[int] = Field(min_length=1)
    dropout: FloatPair
    augmentation: FloatPair


class BackboneTuneConfig(_Section):
    """Per-backbone budget (a ``tune.backbones.<name>`` entry; editing it re-runs only its stages).

    ``working_size``: the side the backbone runs at, when it should differ from the dataset's
    ``image_size`` (a reduced size keeps the big backbones affordable on a CPU).
    """

    n_trials: int = Field(ge=1)
    epochs: int = Field(ge=1)
    working_size: int | None = Field(default=None, ge=8)
    weights_path: str | None = None


class PrunerConfig(_Section):
    """Optuna ``MedianPruner``: no pruning before ``n_startup_trials`` trials and ``n_warmup_steps`` epochs."""

    n_startup_trials: int = Field(ge=0)
    n_warmup_steps: int = Field(ge=0)


class TuneConfig(_Section):
    """Optuna studies: storage, sampler, pruner, search space, the paper's trial, backbones.

    ``storage``: an SQLAlchemy URL (``sqlite:///...`` relative to the project root, or
    ``postgresql://...`` for several workers). ``heartbeat_interval`` / ``grace_period``
    (seconds): a trial whose process died is marked failed after ``grace_period`` and retried once.
    """

    storage: str
    heartbeat_interval: int = Field(ge=1)
    grace_period: int = Field(ge=2)
    pruner: PrunerConfig
    search_space: SearchSpace
    paper_trial: Hyperparameters
    backbones: dict[str, BackboneTuneConfig] = Field(min_length=1)


class RegistryConfig(_Section):
    """Model Registry promotion gate and the top-k selection for attribution.

    A challenger replaces the champion only if its held-out macro-F1 beats the champion's by at
    least ``min_improvement`` and its data validated.
    """

    min_improvement: float = Field(ge=0)
    top_k: int = Field(ge=1)


class _AttributionSettings(_Section):
    """The attribute stage: which images, which methods (every method's options: :data:`AttributionConfig`).

    ``images_per_class``: test images explained per class (seeded by ``seed``, the same for
    every model); ``null`` explains every test image (the statistics need them all).
    ``explain``: the class each map explains, ``predicted`` or ``true``.
    ``batch_size``: model inputs per compiled call (path steps, noisy samples, masked inputs).
    ``methods``: names of :data:`medsaliency.attribution.methods.METHODS` (default: all, in its order).
    ``target_layers``: Grad-CAM-family layer per backbone, overriding the backbone registry.
    """

    images_per_class: int | None = Field(ge=1)
    seed: int
    explain: Literal["predicted", "true"]
    batch_size: int = Field(ge=1)
    methods: list[AttributionMethod] = Field(default=list(METHODS), min_length=1)
    target_layers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_methods(self) -> _AttributionSettings:
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods must be unique, got {self.methods}")
        return self


class AttributionConfig(_AttributionSettings):
    """The settings above plus one section per entry of the method options table
    (:data:`medsaliency.attribution.methods.OPTIONS`; a test keeps the two equal), each defaulting to
    its model's defaults (PAIR's), so params.yaml carries only the options that differ. Spelled out,
    not generated from the table, so that a type checker knows ``config.guided_ig.x_steps``."""

    smoothgrad: SmoothingOptions = Field(default_factory=SmoothingOptions)
    integrated_gradients: IntegratedGradientsOptions = Field(default_factory=IntegratedGradientsOptions)
    guided_ig: GuidedIGOptions = Field(default_factory=GuidedIGOptions)
    blur_ig: BlurIGOptions = Field(default_factory=BlurIGOptions)
    xrai: XraiOptions = Field(default_factory=XraiOptions)
    scorecam: ScoreCamOptions = Field(default_factory=ScoreCamOptions)

    def restricted(self, choice: list[str] | str, available: list[str]) -> AttributionConfig:
        """These settings for the methods of ``choice`` (a list, or ``all``) that ``available`` has
        (:func:`chosen_methods`): how a sanity test, the cascade or data randomisation picks its methods."""
        return self.model_copy(update={"methods": chosen_methods(choice, available)})


class BootstrapConfig(_Section):
    """Percentile bootstrap of aggregate AUCs: ``resamples`` draws of the images, ``confidence`` level."""

    resamples: int = Field(ge=10)
    confidence: float = Field(gt=0, lt=1)
    seed: int


def _strictly_ascending_within(low: float, high: float) -> AfterValidator:
    """A validator: the list's values strictly ascending and strictly between ``low`` and ``high``."""

    def check(values: list[float]) -> list[float]:
        if any(not low < v < high for v in values) or sorted(set(values)) != list(values):
            raise ValueError(f"must be strictly ascending numbers in ({low:g}, {high:g})")
        return values

    return AfterValidator(check)


class InsertionDeletionConfig(_Section):
    """Insertion/deletion curves: ``steps`` equal shares of the pixels; ``blur_sigma`` (pixels) of the
    insertion baseline's Gaussian (deletion's baseline is black)."""

    steps: int = Field(ge=2)
    blur_sigma: float = Field(gt=0)


class RoadConfig(_Section):
    """ROAD: ``percentages`` of the pixels removed (strictly ascending, in (0, 100)), imputation ``noise`` std."""

    percentages: Annotated[list[float], Field(min_length=1), _strictly_ascending_within(0, 100)]
    noise: float = Field(ge=0)


class CascadingConfig(_Section):
    """Cascading model randomisation: ``methods`` (or ``all``) re-run on the model randomised from the
    top down, in at most ``max_steps`` cumulative steps (one per block of layers when there are fewer)."""

    methods: MethodChoice
    max_steps: int = Field(ge=1)


class EvaluationConfig(_Section):
    """The evaluate stage: PIC (AIC/SIC), statistics, localisation and the sanity check.

    ``thresholds``: ascending fractions of the most salient pixels revealed (the paper's 13).
    ``entropy``: ``webp`` (PAIR), ``shannon`` (fixed 0..255 range) or ``shannon_minmax`` (the paper's).
    ``random_mask_fraction``: pixels always known (seeded per image by ``seed``, shared by all methods).
    ``min_pred_value``: images whose original prediction is lower are excluded (PAIR's default is 0.8).
    ``aggregate``: the curve of a method over images, pointwise ``median`` (the paper's) or ``mean``.
    ``top_fraction``: the most salient share of pixels compared with the lesion mask (IoU).
    ``sanity_methods``: methods (or ``all``) re-run on the weight-randomised model (a second attribution).
    ``randomization_images_per_class``: the tests that explain images again (weight randomisation,
    RandomLogit, cascading, data randomisation: each a full attribution pass or more) use a seeded,
    class-stratified sample of this many test images per class, the same for every test and model
    (null: every explained image).
    ``insertion_deletion``, ``road``: those faithfulness curves (null: not computed).
    ``random_logit``: ``sanity_methods`` re-run for a random other class (another attribution).
    ``cascading``: the cascading randomisation (null: off; each step is another attribution of its methods).
    ``complexity``: sparseness (Gini) and complexity (entropy) of every map.
    """

    seed: int
    thresholds: Annotated[list[float], Field(min_length=2), _strictly_ascending_within(0, 1)]
    entropy: EntropyEstimator
    random_mask_fraction: float = Field(ge=0, lt=1)
    min_pred_value: float = Field(ge=0, le=1)
    keep_monotonous: bool
    num_points: int = Field(ge=10)
    aggregate: Literal["median", "mean"]
    bootstrap: BootstrapConfig
    top_fraction: float = Field(gt=0, le=1)
    sanity_methods: MethodChoice
    randomization_images_per_class: int | None = Field(ge=1)
    insertion_deletion: InsertionDeletionConfig | None
    road: RoadConfig | None
    random_logit: bool
    cascading: CascadingConfig | None
    complexity: bool

    def per_image_only(self) -> EvaluationConfig:
        """These settings without the tests that explain images again (weight randomisation, RandomLogit,
        cascading): every per-image measure of the maps and of the model, one attribution pass."""
        return self.model_copy(update={"sanity_methods": [], "random_logit": False, "cascading": None})


class DataRandomizationConfig(_Section):
    """The data randomisation test: ``methods`` (or ``all``) whose maps of the model trained for
    ``epochs`` on labels shuffled with ``seed`` are compared with the trained model's."""

    seed: int
    epochs: int = Field(ge=1)
    methods: MethodChoice


class ReplicatesConfig(_Section):
    """Replicates: the champion's configuration (its best trial's hyperparameters) trained ``count``
    more times, with seeds ``seed``, ``seed + 1``, ... (initial weights, dropout, batch order,
    augmentation, featureless copies); each explained on the same images and scored with every
    per-image measure. ``count: 0`` turns them off. The training gate: a replicate whose validation
    macro-F1 is below ``min_val_macro_f1`` did not learn; it is rejected (logged, not registered or
    explained) and the next seed trained instead, at most ``max_rejected`` times."""

    count: int = Field(ge=0)
    seed: int
    min_val_macro_f1: float = Field(ge=0, le=1)
    max_rejected: int = Field(ge=0)


class ComputeConfig(_Section):
    """Where the per-image work of ``attribute`` and ``evaluate`` runs (Dask; :mod:`medsaliency.compute`).

    ``scheduler``: ``local`` (an embedded Dask ``LocalCluster`` of ``workers`` processes, one thread
    each; 0 = one per CPU core), ``sync`` (in the stage's own process, no Dask), or the address of
    an existing Dask scheduler (``tcp://host:8786``). ``DASK_SCHEDULER_ADDRESS`` in the environment
    overrides it. ``images_per_task``: test images per task (small, so that every worker gets several
    tasks; each model call is still padded to ``attribution.batch_size`` rows).
    ``gpu``: attribution tasks ask for a ``GPU`` resource (workers started with ``--resources GPU=1``;
    the local cluster then runs one GPU worker).
    Outputs do not depend on any of these (a model call sees the same batch and one thread
    wherever it runs), so DVC does not track this section.
    """

    scheduler: str = Field(min_length=1)
    workers: int = Field(ge=0)
    images_per_task: int = Field(ge=1)
    gpu: bool


class MlflowConfig(_Section):
    """``tracking_uri`` is used unless the ``MLFLOW_TRACKING_URI`` environment variable is set."""

    tracking_uri: str


class Params(_Section):
    """The whole of ``params.yaml``."""

    seed: int
    keras_backend: KerasBackend
    split: SplitConfig
    datasets: dict[str, DatasetConfig] = Field(min_length=1)
    validate_: ValidateConfig = Field(alias="validate")
    phantoms: PhantomConfig
    shortcut: ShortcutConfig
    mlflow: MlflowConfig
    train: TrainConfig
    tune: TuneConfig
    registry: RegistryConfig
    attribution: AttributionConfig
    evaluation: EvaluationConfig
    data_randomization: DataRandomizationConfig
    replicates: ReplicatesConfig
    compute: ComputeConfig

    def backbone(self, name: str) -> BackboneTuneConfig:
        """The ``tune.backbones`` entry ``name``; a :class:`ConfigError` lists the configured ones."""
        try:
            return self.tune.backbones[name]
        except KeyError:
            raise ConfigError(
                f"backbone {name!r} is not under tune.backbones; configured: {', '.join(sorted(self.tune.backbones))}"
            ) from None

    def dataset(self, name: str) -> DatasetConfig:
        """The config of dataset ``name``; a :class:`ConfigError` lists the known names."""
        try:
            return self.datasets[name]
        except KeyError:
            raise ConfigError(f"unknown dataset {name!r}; params.yaml defines: {', '.join(sorted(self.datasets))}") from None


def chosen_methods(choice: list[str] | str, available: list[str]) -> list[str]:
    """The methods of a :data:`MethodChoice` among ``available`` (a maps file's), in ``available``'s
    order for ``all``, else in ``choice``'s order (those the maps file lacks left out)."""
    return list(available) if choice == "all" else [m for m in choice if m in available]


def load_params(path: Path | str = DEFAULT_PARAMS_PATH) -> Params:
    """Read and validate ``params.yaml``; every problem is reported with its dotted key."""
    path = Path(path)
    try:
        raw = yamlfile.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level, got {type(raw).__name__}")
    return parse_params(raw, source=str(path))


def parse_params(raw: dict, source: str = "params") -> Params:
    """Validate an already-parsed params mapping (see :func:`load_params`)."""
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid configuration\n" + _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "<top level>"
        if error["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key")
        elif error["type"] == "missing":
            lines.append(f"  {key}: missing key")
        else:
            lines.append(f"  {key}: {error['msg']} (got {error.get('input')!r})")
    return "\n".join(lines)
