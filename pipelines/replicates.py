"""DVC stage `replicates`: see :mod:`medsaliency.stages.replicates`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["replicates", *sys.argv[1:]]))
