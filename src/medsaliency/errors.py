"""Exceptions that carry enough context (file, row, key) for a user to fix their input."""


class MedsaliencyError(Exception):
    """Base class: every error the pipeline raises on purpose for bad input."""


class ConfigError(MedsaliencyError):
    """``params.yaml`` is unreadable, or a key is unknown, missing or of the wrong type."""


class DataError(MedsaliencyError):
    """A raw data file, folder, archive or manifest row is unusable."""


class ValidationFailed(MedsaliencyError):
    """The Great Expectations suite failed on a manifest."""
