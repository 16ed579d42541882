"""DVC stage `attribute`: see :mod:`medsaliency.stages.attribute`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["attribute", *sys.argv[1:]]))
