"""DVC stage `tune`: see :mod:`medsaliency.stages.tune`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["tune", *sys.argv[1:]]))
