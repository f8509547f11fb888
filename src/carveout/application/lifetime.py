"""How carveout's processes end: a stop signal ends a run the way Ctrl-C does (cleanly,
through every `finally`), and a helper process never outlives the run that started it.

Without this a SIGTERM (what CI runners and `kill` send) ended the main process at once
and left its scanning processes blocked on a pipe nobody read, holding the caller's
output open for ever.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

# the signals that ask a run to stop (SIGHUP: the terminal went away)
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Stopped(BaseException):
    """The run was asked to stop by `signal_number`. A BaseException, like
    KeyboardInterrupt, so that no `except Exception` of a stage swallows it."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


@contextlib.contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP raise `Stopped` in the main thread; the
    previous handlers come back after it. Outside the main thread: no change."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, _raise_stopped)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def as_helper_process() -> None:
    """Call first thing in a helper process (a scanning process, a forked stage): stop
    signals end it at once again (it inherited the run's handlers), and on Linux it is
    sent SIGTERM when the process that started it dies, however that one died."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_DFL)
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None)  # the running program's symbols: libc's among them
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def _raise_stopped(signal_number: int, frame: FrameType | None) -> None:
    raise Stopped(signal_number)
