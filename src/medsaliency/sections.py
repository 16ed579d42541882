"""The base of every typed params section (``params.yaml`` and the option models of the extension tables)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Unknown keys are errors, types are strict, values are immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
