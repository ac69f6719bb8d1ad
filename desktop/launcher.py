"""The `matlens` command: a subcommand runs the CLI; none opens the window.

This lives in `desktop` because `inference` must never depend on the Qt layer.
"""

from __future__ import annotations

import sys

import inference  # noqa: F401 - first: the offline environment (no telemetry) before any library


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # frozen Windows builds: the CIF parser's child process
    args = sys.argv[1:] if argv is None else argv
    from inference.cli import SUBCOMMANDS

    if args and (args[0] in SUBCOMMANDS or args[0] in ("-h", "--help", "--version")):
        from inference.cli import main as cli_main
        from inference.runtime.logs import send_to_log_file

        # A failing command prints one line; library warnings on the way go to the log.
        send_to_log_file()
        if args[0] == "structure":
            from desktop.panes.structure.offscreen import register

            register()  # `structure render` draws with VTK, which only desktop may import
        return cli_main(args)
    from desktop.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
