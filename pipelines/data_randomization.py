"""DVC stage `data_randomization`: see :mod:`medsaliency.stages.data_randomization`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["data_randomization", *sys.argv[1:]]))
