"""`matlens search LIBRARY_DIR "query" [--json] [--top 10] [--mode hybrid|semantic|keyword]
[--workers N]`.

The index lives in the cache folder and is updated first (new or changed PDFs only).
JSON: {"results": [{"paper", "title", "page", "text", "score"}], "mode", "indexed", "notice"}.
"""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("search", help="search a folder of PDF papers (semantic and keyword)")
    p.add_argument("library", help="a folder of PDF files")
    p.add_argument("query")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--mode", default="hybrid", choices=["hybrid", "semantic", "keyword"])
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="index new papers on N worker processes of this computer (0: as many as pay here)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args) -> int:
    import sys

    from inference.batch import papers_on_workers
    from inference.cli import print_json
    from inference.errors import MatLensError
    from inference.literature.search import Library

    if args.workers < 0:
        raise MatLensError("--workers must be 0 (as many as pay here) or more")
    if args.top < 1:  # "--top -3" listed all hits but the last 3; "--top 0" said none matched
        raise MatLensError(f"--top is how many passages to list: 1 or more, not {args.top}")
    if not args.query.strip():
        raise MatLensError('give a query: a few words, e.g. "sintering temperature of LLZO"')
    library = Library(Path(args.library))
    report = library.update(workers=args.workers or None, on_workers=papers_on_workers)
    hits = library.search(args.query, top=args.top, mode=args.mode)
    if args.json:
        print_json(
            {
                "results": [h.to_json() for h in hits],
                "mode": library.last_mode,
                "indexed": report.to_json(),
                "notice": library.notice,
            }
        )
        return 0
    if library.notice:
        print(f"note: {library.notice}", file=sys.stderr)
    for reason in report.failed.values():  # each names its file: "scan.pdf: no text layer …"
        print(f"not searched: {reason}", file=sys.stderr)
    if not library.n_papers:
        raise MatLensError(
            f"{args.library}: no PDF paper there could be read, so none was searched"
        )
    for h in hits:
        print(f"{h.score:6.3f}  {Path(h.paper).name} p{h.page}: {h.text[:160]}")
    if not hits:
        papers = f"{library.n_papers} paper" + ("s" if library.n_papers != 1 else "")
        print(f"no passage of the {papers} matches '{args.query}'", file=sys.stderr)
    return 0
