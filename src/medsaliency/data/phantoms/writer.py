"""Write the phantom datasets to disk in the Figshare ``.mat`` and COVID PNG layouts.

Each patient draws from its own seeded generator (``[seed, class, patient]``), so the
bytes depend only on ``params.phantoms``. (The planted shortcut is not drawn here: ``prepare``
burns it into the prepared arrays of any dataset, see :mod:`medsaliency.data.shortcut`.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from tqdm import tqdm

from medsaliency.data.covid import write_covid_png
from medsaliency.data.figshare import write_cjdata
from medsaliency.data.phantoms import brain, chest
from medsaliency.data.phantoms.drawing import outline_coordinates
from medsaliency.errors import DataError

if TYPE_CHECKING:
    from medsaliency.data.phantoms.options import PhantomConfig


class DatasetLayout(Protocol):
    """What the writers read of a dataset's params (:class:`medsaliency.config.DatasetConfig` has it)."""

    @property
    def format(self) -> str: ...
    @property
    def raw_dir(self) -> str: ...
    @property
    def classes(self) -> list[str]: ...


def write_brain_dataset(out_dir: Path, dataset: DatasetLayout, phantoms: PhantomConfig) -> int:
    """Figshare-format slices ``<n>.mat``; label code ``k`` draws the k-th of :data:`brain.CLASSES`."""
    config = phantoms.brain
    _check_classes(dataset, brain.CLASSES, by_position=True)
    patients = [
        (f"{100000 + 1000 * code + index}", code)
        for code in range(1, len(dataset.classes) + 1)
        for index in range(config.patients_per_class)
    ]
    file_number = 0
    for patient_id, code in tqdm(patients, desc="phantoms brain", unit="patient", mininterval=2):
        rng = np.random.default_rng([phantoms.seed, code, int(patient_id)])
        head, lesion = brain.draw_patient(rng, brain.CLASSES[code - 1], config.atypical_fraction)
        n_slices = int(rng.integers(config.slices_per_patient[0], config.slices_per_patient[1] + 1))
        for position in np.linspace(-0.6, 0.6, n_slices):
            image, mask = brain.render_slice(head, lesion, float(position), config, rng)
            file_number += 1
            write_cjdata(out_dir / f"{file_number}.mat", code, patient_id, image, mask, outline_coordinates(mask))
    return file_number


def write_chest_dataset(out_dir: Path, dataset: DatasetLayout, phantoms: PhantomConfig) -> int:
    """COVID-Radiography-format ``<class>/images|masks/<class>-<n>.png``; one image per patient."""
    config = phantoms.chest
    _check_classes(dataset, chest.CLASSES, by_position=False)
    images = [(f"{label}-{index}", label) for label in dataset.classes for index in range(1, config.images_per_class + 1)]
    for image_id, label in tqdm(images, desc="phantoms chest", unit="img", mininterval=2):
        class_index = chest.CLASSES.index(label)
        rng = np.random.default_rng([phantoms.seed, 100 + class_index, int(image_id.rsplit("-", 1)[1])])
        thorax = chest.draw_thorax(rng)
        atypical = bool(rng.random() < config.atypical_fraction)
        image = chest.render_chest(thorax, label, atypical, config, rng)
        write_covid_png(out_dir / label / "images" / f"{image_id}.png", image)
        write_covid_png(out_dir / label / "masks" / f"{image_id}.png", chest.lung_mask(thorax, config.mask_size).astype(np.uint8) * 255)
    return len(images)


def _check_classes(dataset: DatasetLayout, known: tuple[str, ...], by_position: bool) -> None:
    if by_position and len(dataset.classes) > len(known):
        raise DataError(f"phantoms: the brain phantom draws at most {len(known)} classes {list(known)}, params list {dataset.classes}")
    if not by_position and not set(dataset.classes) <= set(known):
        raise DataError(f"phantoms: the chest phantom draws only {list(known)}, params list {dataset.classes}")
