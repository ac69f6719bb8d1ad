"""Run a parser in a child process with a time limit: some malformed files hang pymatgen.

Why a process and not a thread: Python cannot stop a thread, so a parse that hangs in a thread
keeps a core busy until the app exits. A child process can be killed on every platform.
`multiprocessing` with the "spawn" start method behaves the same on Windows, macOS and Linux, and
is safe next to Qt's threads (fork is not). A frozen Windows build must call
`multiprocessing.freeze_support()` first thing in its entry point.

One child is kept warm and reused, so only the first parse pays for starting Python and importing
pymatgen (seconds on a slow machine), and that start-up is not counted against the limit; the
window starts it in the background at start-up (`ChildRunner.start`), before anyone opens a
file. A child that overruns, dies or is cancelled is killed; the next call starts a fresh one.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import multiprocessing
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from inference.errors import JobCancelled, MatLensError, UnreadableFile

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from inference.jobs import CancelToken

START_LIMIT_S = 120.0  # generous: a cold start on a slow Windows disk can take many seconds
_POLL_S = 0.05


class ParseTimeout(UnreadableFile):
    """The child ran past its time limit and was stopped; `timeout_s` is the limit it had, so
    the caller can offer more time."""

    def __init__(self, message: str, timeout_s: float = 0.0) -> None:
        super().__init__(message)
        self.timeout_s = timeout_s


class ChildCrashed(UnreadableFile):
    """The child died (a segfault in native code, or killed for memory) while working on a file."""


def _crash_message(what: str, action: str, exitcode: int | None) -> str:
    how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else "it stopped"
    return (
        f"{what}: {action} it crashed a library ({how}); the cell or coordinates in the file "
        "are probably broken: check them, or report the file"
    )


def _resolve(fn: Callable[..., Any] | str) -> Callable[..., Any]:
    """A function, or its "package.module:name" (so the parent need not import the module)."""
    if isinstance(fn, str):
        module, _, name = fn.partition(":")
        return getattr(importlib.import_module(module), name)
    return fn


def _serve(conn, preload: tuple[str, ...]) -> None:  # runs in the child
    for name in preload:
        importlib.import_module(name)
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        fn, args, kwargs = request
        try:
            result = _resolve(fn)(*args, **kwargs)
            conn.send(("ok", result))
        except MatLensError as exc:
            conn.send(("error", (type(exc).__name__, str(exc))))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, never lost
            detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            try:
                conn.send(("crash", (type(exc).__name__, str(exc), detail)))
            except Exception:  # noqa: BLE001 - e.g. an exception that cannot be pickled
                conn.send(("crash", (type(exc).__name__, "", detail)))


class ChildRunner:
    """One reusable child process; `call` runs a picklable top-level function in it."""

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self.preload = preload
        self._lock = threading.Lock()
        self._proc = None
        self._conn = None

    # life cycle ---------------------------------------------------------------------------------
    def _start(self, cancel: CancelToken | None) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_serve, args=(child, self.preload), daemon=True, name="matlens-parser"
        )
        try:
            proc.start()
        except AssertionError as exc:  # multiprocessing: "daemonic processes are not allowed…"
            if "daemonic" not in str(exc):
                raise
            raise MatLensError(
                "structures are read in a child process, which this worker process may not "
                "start: start dask workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
            ) from None
        child.close()
        self._proc, self._conn = proc, parent
        deadline = time.monotonic() + START_LIMIT_S
        while not parent.poll(_POLL_S):
            if cancel is not None and cancel.cancelled:
                self.kill()
                raise JobCancelled()
            if not proc.is_alive() or time.monotonic() > deadline:
                self.kill()
                raise MatLensError("the structure reader process could not start")
        try:
            parent.recv()
        except (EOFError, OSError):
            self.kill()
            raise MatLensError("the structure reader process could not start") from None

    def kill(self) -> None:
        """Stop the child at once (a hung parse cannot be asked nicely)."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(5)

    def close(self) -> None:
        """Ask an idle child to exit; kill it if it does not."""
        if not self._lock.acquire(timeout=1):
            self.kill()
            return
        try:
            if self._conn is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._conn.send(None)
                if self._proc is not None:
                    self._proc.join(2)
            self.kill()
        finally:
            self._lock.release()

    def start(self, cancel: CancelToken | None = None) -> None:
        """Start the child now, unless it runs already (the window does this at start-up, in
        the background, so the first file opens without waiting for Python and the preloaded
        modules). A call made meanwhile waits for this start instead of making a second child."""
        with self._running_child(cancel):
            pass

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    # calls --------------------------------------------------------------------------------------
    def call(
        self,
        fn: Callable[..., Any] | str,
        *args: Any,
        timeout: float,
        cancel: CancelToken | None = None,
        what: str = "the file",
        action: str = "reading",
        **kwargs: Any,
    ) -> Any:
        """`fn(*args, **kwargs)` in the child; `ParseTimeout` after `timeout` seconds and
        `ChildCrashed` if the child dies. `fn` is a picklable top-level function or its
        "module:name"; `what` (a file name) and `action` ("reading") word the messages."""
        with self._running_child(cancel):
            return self._exchange(fn, args, kwargs, timeout, cancel, what, action)

    @contextlib.contextmanager
    def _running_child(self, cancel: CancelToken | None) -> Iterator[None]:
        """Holds the child for one caller (another job waits its turn; Cancel stops waiting),
        started if it is not running."""
        while not self._lock.acquire(timeout=_POLL_S):
            if cancel is not None and cancel.cancelled:
                raise JobCancelled()
        try:
            if self._proc is None or not self._proc.is_alive():
                self.kill()
                self._start(cancel)
            yield
        finally:
            self._lock.release()

    def _exchange(self, fn, args, kwargs, timeout, cancel, what, action):
        conn, proc = self._conn, self._proc
        if conn is None or proc is None:  # _start either set both or raised
            raise MatLensError("the structure reader process could not start")
        try:
            conn.send((fn, args, kwargs))
        except (OSError, ValueError):
            self.kill()
            raise MatLensError("the structure reader process stopped unexpectedly") from None
        deadline = time.monotonic() + timeout
        while not conn.poll(_POLL_S):
            if cancel is not None and cancel.cancelled:
                self.kill()
                raise JobCancelled()
            if not proc.is_alive():
                code = proc.exitcode
                self.kill()
                raise ChildCrashed(_crash_message(what, action, code))
            if time.monotonic() > deadline:
                self.kill()
                raise ParseTimeout(
                    f"{action} {what} took longer than {timeout:g} s and was stopped", timeout
                )
        try:
            status, payload = conn.recv()
        except (EOFError, OSError):
            proc.join(1)
            code = proc.exitcode
            self.kill()
            raise ChildCrashed(_crash_message(what, action, code)) from None
        if status == "ok":
            return payload
        if status == "error":
            name, message = payload
            raise (UnreadableFile if name != "MatLensError" else MatLensError)(message)
        name, message, _detail = payload
        first = message.strip().splitlines()[0] if message.strip() else ""
        raise UnreadableFile(f"{what}: {action} it failed ({name}{': ' + first if first else ''})")


# What the shared child imports before it says it is ready: the reader (pymatgen's core and CIF
# code) and what the window asks next, the symmetry search and the bond finder. Loaded there
# while nobody waits (a prewarmed child), none of it is paid on the first open.
CHILD_PRELOAD = (
    "inference.structures.reader",
    "inference.structures.prepared",
    "pymatgen.symmetry.analyzer",
    "pymatgen.analysis.local_env",
)

_DEFAULT: ChildRunner | None = None
_DEFAULT_LOCK = threading.Lock()


def default_runner() -> ChildRunner:
    """The shared parser process of this application (started on first use, closed at exit)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = ChildRunner(preload=CHILD_PRELOAD)
            atexit.register(_DEFAULT.close)
        return _DEFAULT
