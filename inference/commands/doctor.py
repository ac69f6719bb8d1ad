"""`matlens doctor [--json]`: exit 1 when an installed model is damaged (one line each on stderr,
with its fix), as other checks exit 1 when one failed; a missing model is only listed."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("doctor", help="versions, ONNX providers, device and model checks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args) -> int:
    from inference.cli import print_json
    from inference.doctor import collect, render_text

    report = collect()
    if args.json:
        print_json(report.to_json())
    else:
        print(render_text(report))
    for line in report.damaged:
        print(f"matlens: {line}", file=sys.stderr)
    return 1 if report.damaged else 0
