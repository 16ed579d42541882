"""DVC stage `register`: see :mod:`medsaliency.stages.register`."""

import sys

from medsaliency.cli import main

if __name__ == "__main__":
    sys.exit(main(["register", *sys.argv[1:]]))
