"""PyInstaller entry point: the `matlens` command (window, or CLI with a subcommand)."""

import sys

from desktop.launcher import main

if __name__ == "__main__":
    sys.exit(main())
