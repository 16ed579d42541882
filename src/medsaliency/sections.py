"""The base of every typed params section (``params.yaml`` and the option models of the extension tables)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """Unknown keys are errors, types are strict, values are immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# A [low, high] or [min, max] pair, validated for its length (its order by the section that uses it).
FloatPair = Annotated[list[float], Field(min_length=2, max_length=2)]
IntPair = Annotated[list[int], Field(min_length=2, max_length=2)]
