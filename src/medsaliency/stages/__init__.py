"""Stage jobs: read params and inputs, call the library, write outputs, log.

Each job is what one DVC stage runs (``pipelines/<stage>.py`` is a one-line wrapper) and what the
matching ``medsaliency <stage>`` command runs. No stage imports another: what they hand each other
on disk is one typed record each in :mod:`medsaliency.io.artifacts`, and the MLflow lookups they
share live in :mod:`medsaliency.mlops.tracking`.
"""
