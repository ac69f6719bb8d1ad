"""`matlens SUBCOMMAND ...`: the command-line twin of the GUI.

Each subcommand lives in `inference/commands/<name>.py` with `register(subparsers)`; its handler
returns an exit code. Every error is one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

import inference
from inference.errors import describe

# name -> module in inference.commands (imported only when used, so `matlens doctor` stays fast)
SUBCOMMANDS = {
    "doctor": "doctor",
    "models": "models",
    "segment": "segment",
    "auto": "auto",
    "structure": "structure",
    "extract": "extract",
    "search": "search",
    "predict": "predict",
    "measure": "measure",
    "batch": "batch",
    "phases": "phases",
    "data": "data",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage otherwise)
        if message.endswith("expected one argument"):
            # `--point -5,-5`: argparse takes a value starting with "-" for an option
            message += " (a value starting with '-' is written with '=': --point=-5,-5)"
        print(f"matlens: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="matlens", description="MatLens: run with no subcommand to open the window."
    )
    parser.add_argument("--version", action="version", version=f"MatLens {inference.__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name, module in SUBCOMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"inference.commands.{module}").register(sub)
    return parser


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Started with stdout or stderr closed (`2>&-`), Python has None there, and the first
    # progress line ended the run with an AttributeError; what would be written goes nowhere.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    only = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    args = build_parser(only).parse_args(argv)
    if not getattr(args, "handler", None):
        build_parser().print_help()
        return 0
    try:
        _refuse_writing_over_what_it_reads(args)
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("matlens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped reading (`matlens search … | head`): nothing went wrong here. What
        # is left in stdout's buffer goes nowhere, as for any command a pipe closes on (141).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        print(f"matlens: {describe(exc).message}", file=sys.stderr)
        return 2


def _refuse_writing_over_what_it_reads(args: argparse.Namespace) -> None:
    """A subcommand names the options it reads (`reads`) and writes (`writes`): no output may
    be one of its inputs, nor another of its outputs (`measure --csv m.csv --report m.csv`),
    and each goes into a folder that exists."""
    from pathlib import Path

    from inference.errors import MatLensError
    from inference.runtime.write_guard import (
        refuse_missing_folder,
        refuse_writing_over,
        same_file,
    )

    reads = [getattr(args, name, None) for name in getattr(args, "reads", ())]
    written: dict[str, Path] = {}
    for name in getattr(args, "writes", ()):
        out = getattr(args, name, None)
        if not out:
            continue
        refuse_writing_over(out, reads, f"--{name}")
        refuse_missing_folder(out, f"--{name}")
        for other, path in written.items():
            if same_file(Path(out), path):
                raise MatLensError(
                    f"--{other} and --{name} are both {path.name}: give each its own file"
                )
        written[name] = Path(out)


if __name__ == "__main__":
    sys.exit(main())
