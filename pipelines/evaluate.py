"""DVC stage `evaluate`: see :mod:`medsaliency.stages.evaluate`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
