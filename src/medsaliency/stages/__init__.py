"""Stage jobs: read params, resolve paths, call the library, write outputs, report.

Each job is what one DVC stage runs (``pipelines/<stage>.py`` is a one-line wrapper) and
what the matching ``medsaliency <stage>`` command runs.
"""
