"""`matlens doctor [--json]`."""

from __future__ import annotations


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
    return 0
