"""MLflow Model Registry behind a small interface: register, gate, promote, roll back.

One registered model per dataset and backbone (``<dataset>.<backbone>``; models trained on
data with the planted shortcut are ``<dataset>.<backbone>.shortcut``, so they never compete
with, or replace, the clean champion). Aliases, never
stages: ``challenger`` is the newest candidate, ``champion`` the version in use. The gate
moves ``champion`` only if the challenger's held-out macro-F1 beats the champion's by at
least ``min_improvement`` and its data validated. Every decision is written as model-version
tags (``promotion.*``); the registered model's ``champion_history`` tag lists the versions
that held ``champion``, oldest first, for roll-back. A version tagged ``never_promote`` (the data
randomisation test's model trained on shuffled labels, ``<model>.data_randomized``) can hold no
alias: :meth:`ModelRegistry.move_alias` refuses it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from medsaliency.errors import MedsaliencyError

CHAMPION = "champion"
CHALLENGER = "challenger"
SOURCE_TAG = "source_model_uri"
SCORE_TAG = "test_macro_f1"
HISTORY_TAG = "champion_history"
NEVER_PROMOTE_TAG = "never_promote"
DATA_RANDOMIZED_SUFFIX = "data_randomized"


def registered_model_name(dataset: str, backbone: str, shortcut_planted: bool) -> str:
    """``<dataset>.<backbone>``, with ``.shortcut`` appended for a model of the shortcut experiment."""
    return f"{dataset}.{backbone}" + (".shortcut" if shortcut_planted else "")


class RegistryError(MedsaliencyError):
    """A registered model, version or alias that is not there, or a version that may hold no alias."""


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one challenger."""

    promote: bool
    reason: str
    challenger_score: float
    champion_score: float | None


def decide_promotion(challenger_score: float, champion_score: float | None, min_improvement: float, data_validated: bool) -> Decision:
    """Promote iff the data validated and there is no champion, or the challenger beats it by ``min_improvement`` (and strictly)."""
    if not data_validated:
        return Decision(False, "data did not validate", challenger_score, champion_score)
    if champion_score is None:
        return Decision(True, "no champion yet", challenger_score, None)
    gain = challenger_score - champion_score
    if gain > 0 and gain >= min_improvement:
        return Decision(
            True,
            f"macro-F1 {challenger_score:.4f} beats {champion_score:.4f} by {gain:.4f} >= {min_improvement}",
            challenger_score,
            champion_score,
        )
    return Decision(
        False,
        f"macro-F1 {challenger_score:.4f} does not beat {champion_score:.4f} by {min_improvement} (gain {gain:.4f})",
        challenger_score,
        champion_score,
    )


@dataclass(frozen=True)
class AliasChange:
    """What an alias move did: ``name@alias: v<before> -> v<after>``."""

    name: str
    alias: str
    before: str | None
    after: str

    def __str__(self) -> str:
        before = f"v{self.before}" if self.before else "none"
        return f"{self.name}@{self.alias}: {before} -> v{self.after}"


class ModelRegistry:
    """The operations the pipeline needs, over an ``MlflowClient`` (registry URI already set)."""

    def __init__(self, client=None):
        import mlflow

        self.client = client or mlflow.MlflowClient()

    def register(self, name: str, model_uri: str, tags: dict[str, str], description: str | None = None) -> str:
        """The version holding ``model_uri``: the existing one if it was registered before, else a new one."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(name, description=description or f"Best tuned model for {name}")
        for version in self.client.search_model_versions(f"name = '{name}'"):
            if version.tags.get(SOURCE_TAG) == model_uri:
                return str(version.version)
        version = self.client.create_model_version(name, model_uri, tags={**tags, SOURCE_TAG: model_uri})
        return str(version.version)

    def describe(self, name: str, version: str, heading: str, body: str) -> None:
        """Replace the ``## heading`` section of the version's Markdown description (:mod:`medsaliency.mlops.model_card`)."""
        from medsaliency.mlops.model_card import with_section

        current = self.client.get_model_version(name, version).description
        self.client.update_model_version(name, version, description=with_section(current, heading, body))

    def alias_version(self, name: str, alias: str) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(name, alias).version)
        except MlflowException:
            return None

    def score(self, name: str, version: str) -> float:
        return float(self.client.get_model_version(name, version).tags[SCORE_TAG])

    def move_alias(self, name: str, alias: str, version: str) -> AliasChange:
        """Point ``alias`` at ``version``; moves of ``champion`` are appended to the history tag. A version
        tagged ``never_promote`` is refused (:class:`RegistryError`)."""
        self._require_version(name, version)
        if self.client.get_model_version(name, version).tags.get(NEVER_PROMOTE_TAG) == "true":
            raise RegistryError(f"{name} v{version} is tagged {NEVER_PROMOTE_TAG}: it can hold no alias ({alias!r} refused)")
        before = self.alias_version(name, alias)
        self.client.set_registered_model_alias(name, alias, version)
        if alias == CHAMPION and before != version:
            history = self.champion_history(name)
            self.client.set_registered_model_tag(name, HISTORY_TAG, ",".join([*history, version]))
        return AliasChange(name, alias, before, version)

    def champion_history(self, name: str) -> list[str]:
        tag = self.client.get_registered_model(name).tags.get(HISTORY_TAG, "")
        return [v for v in tag.split(",") if v]

    def rollback_champion(self, name: str) -> AliasChange:
        """Give ``champion`` back to the version that held it before the current one."""
        history = self.champion_history(name)
        current = self.alias_version(name, CHAMPION)
        if current is None or len(history) < 2 or history[-1] != current:
            raise RegistryError(f"{name}: no earlier champion to roll back to (history {history or 'empty'}, champion v{current})")
        self.client.set_registered_model_alias(name, CHAMPION, history[-2])
        self.client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history[:-1]))
        return AliasChange(name, CHAMPION, current, history[-2])

    def record_decision(self, name: str, version: str, decision: Decision, champion_version: str | None) -> None:
        tags = {f"promotion.{key}": "" if value is None else str(value) for key, value in asdict(decision).items()}
        tags["promotion.champion_version"] = champion_version or ""
        tags["promotion.decision"] = "promoted" if decision.promote else "kept"
        for key, value in tags.items():
            self.client.set_model_version_tag(name, version, key, value)

    def gate(self, name: str, challenger: str, min_improvement: float, data_validated: bool) -> tuple[Decision, AliasChange | None]:
        """Set ``challenger``, decide, move ``champion`` if promoted, record the decision."""
        self.move_alias(name, CHALLENGER, challenger)
        champion = self.alias_version(name, CHAMPION)
        if champion == challenger:
            decision = Decision(False, "already champion", self.score(name, challenger), self.score(name, champion))
            return decision, None
        champion_score = self.score(name, champion) if champion else None
        decision = decide_promotion(self.score(name, challenger), champion_score, min_improvement, data_validated)
        self.record_decision(name, challenger, decision, champion)
        change = self.move_alias(name, CHAMPION, challenger) if decision.promote else None
        return decision, change

    def _require_version(self, name: str, version: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_model_version(name, version)
        except MlflowException:
            raise RegistryError(f"{name}: no version {version}") from None


def rank_champions(models: list, top_k: int) -> list[str]:
    """Names of the ``top_k`` models (with ``name``, ``champion_version``, ``champion_macro_f1``) that
    have a champion, by its held-out macro-F1, best first (ties by name)."""
    ranked = sorted((m for m in models if m.champion_version), key=lambda m: (-m.champion_macro_f1, m.name))
    return [m.name for m in ranked[:top_k]]


def champion_uri(name: str, expected_version: str, dataset: str) -> str:
    """``models:/<name>/<version>`` of the champion, refused when the alias no longer points at
    ``expected_version`` (the version the register stage of ``dataset`` resolved). A version URI,
    not the alias: every worker that loads it gets the same model, even if the alias moves meanwhile."""
    from medsaliency.io.paths import registry_file

    current = ModelRegistry().alias_version(name, CHAMPION)
    if current != expected_version:
        raise RegistryError(
            f"{name}@{CHAMPION} is version {current} but {registry_file(dataset)} says {expected_version}: "
            f"run `dvc repro -f register@{dataset}` so the pipeline records the move"
        )
    return f"models:/{name}/{expected_version}"


def load_registered_model(name: str, alias: str = CHAMPION):
    """``models:/<name>@<alias>`` as a ``keras.Model`` (see :func:`load_model`)."""
    return load_model(f"models:/{name}@{alias}")


def load_model(uri: str):
    """A ``models:/`` URI as a ``keras.Model``, deserialised with ``safe_mode=True``."""
    import tempfile

    import keras
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as folder:
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=folder)
        except MlflowException as exc:
            raise RegistryError(f"{uri}: cannot be resolved ({exc.message})") from None
        return keras.saving.load_model(f"{local}/data/model.keras", safe_mode=True)
