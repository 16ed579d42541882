"""DVC stage `prepare@<dataset>`: see :mod:`medsaliency.stages.prepare`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["prepare", *sys.argv[1:]]))
