"""The phantom writers' options (``params.yaml``'s ``phantoms``), beside the writers that read them."""

from __future__ import annotations

from pydantic import Field

from medsaliency.sections import IntPair, Section


class BrainPhantomConfig(Section):
    """Synthetic Figshare-format brain MRI slices; see :mod:`medsaliency.data.phantoms.brain`."""

    patients_per_class: int = Field(ge=3)
    slices_per_patient: IntPair
    size: int = Field(ge=32, le=512)
    noise_std: float = Field(ge=0)
    lesion_contrast: float = Field(gt=0)
    atypical_fraction: float = Field(ge=0, le=1)


class ChestPhantomConfig(Section):
    """Synthetic COVID-19-Radiography-format chest X-rays; see :mod:`medsaliency.data.phantoms.chest`."""

    images_per_class: int = Field(ge=3)
    size: int = Field(ge=32, le=1024)
    mask_size: int = Field(ge=32, le=1024)
    noise_std: float = Field(ge=0)
    lesion_contrast: float = Field(gt=0)
    atypical_fraction: float = Field(ge=0, le=1)


class PhantomConfig(Section):
    """The embedded default dataset: seeded, byte-deterministic phantoms in the real formats."""

    seed: int
    brain: BrainPhantomConfig
    chest: ChestPhantomConfig
