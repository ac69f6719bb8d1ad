"""Run a MatLens entry point with every network socket forbidden, and report any attempt.

Usage: python tests/offline_guard.py MODULE|SCRIPT.py [ARGS...]. Local (AF_UNIX) sockets stay allowed:
the X server and D-Bus use them. Any other connect, DNS lookup or bind prints NETWORK-ATTEMPT.
"""

import runpy
import socket
import sys

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _attempt(what):
    def guard(*args, **kwargs):
        print(f"NETWORK-ATTEMPT {what} {args[1:] if len(args) > 1 else args}", file=sys.stderr)
        raise OSError(f"network disabled by the offline guard ({what})")

    return guard


def _connect(self, address):
    if self.family == socket.AF_UNIX:
        return _real_connect(self, address)
    return _attempt("connect")(self, address)


def _connect_ex(self, address) -> int:
    if self.family == socket.AF_UNIX:
        return _real_connect_ex(self, address)
    return _attempt("connect_ex")(self, address)


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.create_connection = _attempt("create_connection")
socket.getaddrinfo = _attempt("getaddrinfo")
socket.gethostbyname = _attempt("gethostbyname")

if __name__ == "__main__":
    target, sys.argv = sys.argv[1], sys.argv[1:]
    if target.endswith(".py"):
        runpy.run_path(target, run_name="__main__")
    else:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
