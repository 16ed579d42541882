"""DVC stage `validate@<dataset>`: see :mod:`medsaliency.stages.validate`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["validate", *sys.argv[1:]]))
