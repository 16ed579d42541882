"""DVC stage `report`: see :mod:`medsaliency.stages.report`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
