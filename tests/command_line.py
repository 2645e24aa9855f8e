"""``lvdong ARGS`` run inside the test's own process, through ``bot.cli.main``.

``bot.cli.main`` is what the console script and ``python -m bot.cli`` call, so this is
the command line minus the interpreter's start-up: about 0.7 s of CPU a call, which
~40 command-line tests paid for nothing (the same idea as click's ``CliRunner``).
The environment, standard input and output are the call's own and put back after it.
What only a real process shows (the console script, exit on signals, a SIGKILL) stays
in ``tests/test_cli.py`` and the process tests (``tests/bot_process.py``).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.cli import main

# what the command reads from the environment; everything else is left as it is
OWN_VARIABLES = ("LVDONG_", "TELEGRAM_")


@dataclass(frozen=True)
class Ran:
    """What ``subprocess.run(..., capture_output=True, text=True)`` would give."""

    returncode: int
    stdout: str
    stderr: str


def lvdong(*args: str, env: Mapping[str, str] | None = None, stdin: str = "") -> Ran:
    """Run ``lvdong ARGS`` with exactly the ``LVDONG_*``/``TELEGRAM_*`` variables of
    ``env`` (none of the caller's), ``stdin`` as its input; its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    with _environment(env or {}), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err), _stdin(stdin):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return Ran(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(OWN_VARIABLES)]:
        del os.environ[key]
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved
