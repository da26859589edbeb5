"""SIGINT / SIGTERM during a run.

Before and after the loop (set-up, compiling, writing the outputs) a signal
raises :class:`Interrupted`: the run unwinds, its folder is removed unless it
holds a checkpoint, and the command exits with 130 / 143. During the loop
(:class:`StopSignals`) the first signal asks the loop to stop after the current
iteration (it then writes a checkpoint and the outputs so far); a second exits
at once (checkpoints are written atomically, so the last one stays intact).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(BaseException):
    """A signal outside the loop. ``code``: the exit code (130 SIGINT, 143 SIGTERM)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class SignalScope:
    """A context in which SIGINT/SIGTERM go to ``self._handle`` (main thread only; the
    previous handlers come back on exit)."""

    enabled = True

    def __enter__(self):
        self._previous = {}
        if self.enabled and _main_thread():
            for sig in CODES:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame):
        raise NotImplementedError


class RaiseOnSignals(SignalScope):
    """While active, SIGINT/SIGTERM raise :class:`Interrupted` with ``self.message`` (a string,
    or a function that returns one when the signal arrives)."""

    def __init__(self, message: str):
        self.message = message

    def _handle(self, signum, frame):
        message = self.message() if callable(self.message) else self.message
        raise Interrupted(f"{signal.Signals(signum).name}: {message}", CODES.get(signum, 130))


class StopSignals(SignalScope):
    """During the loop: the first SIGINT/SIGTERM sets ``stop.requested`` to the signal
    number; a second one exits at once."""

    def __init__(self, quiet: bool, stop, enabled: bool = True):
        self.quiet = quiet
        self.stop = stop
        self.enabled = enabled

    @property
    def received(self):
        return self.stop.requested if isinstance(self.stop.requested, int) else None

    def _handle(self, signum, frame):
        if self.received is not None:
            os._exit(CODES.get(signum, 130))
        self.stop.requested = signum
        if not self.quiet:
            sys.stderr.write("\ndiffrast: stopping after this iteration (again to exit at once)\n")

    @property
    def exit_code(self) -> int | None:
        return None if self.received is None else CODES.get(self.received, 130)
