"""PyInstaller entry point: the `matlens` command (window, or CLI with a subcommand)."""

import sys

import inference  # noqa: F401 - first: ORT_DISABLE_TELEMETRY and the hub flags before any library
from desktop.launcher import main

if __name__ == "__main__":
    sys.exit(main())
