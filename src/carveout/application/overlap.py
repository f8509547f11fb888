"""Run one pure stage in a second process while this one runs another, on machines where a
process can be forked: the child starts with every fact already in memory, so nothing is
sent to it, and only the (small) result comes back.

Where forking is unavailable or the child fails in any way, the stage simply runs here:
the answer is the same either way, only the time differs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

from carveout.application.lifetime import as_helper_process

log = logging.getLogger(__name__)

T = TypeVar("T")

# below this many modules a second process costs more than it saves
OVERLAP_THRESHOLD = 2000


def can_overlap() -> bool:
    """Whether this process can fork cheaply and safely: on Linux with two cores or more
    (macOS forks, but its system libraries are not safe in a forked child), and with no
    other thread running (a lock another thread holds would stay locked in the child)."""
    return sys.platform == "linux" and (os.cpu_count() or 1) > 1 and threading.active_count() == 1


class Overlapped(Generic[T]):
    """`function()` started in a forked child; `result()` returns its value.

    When the child cannot be started, dies, or fails, `result()` calls `function()` here
    instead (an error then surfaces as it would have without the child).
    """

    def __init__(self, function: Callable[[], T], *, enabled: bool = True) -> None:
        self._function = function
        self._reader: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        if not enabled:
            return
        try:
            context = multiprocessing.get_context("fork")
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(function, writer), daemon=True)
            process.start()
        except (OSError, ValueError) as error:
            log.info("running the stage in this process: cannot fork: %s", error)
            return
        writer.close()
        self._reader, self._process = reader, process

    def result(self) -> T:
        if self._reader is None or self._process is None:
            return self._function()
        try:
            outcome, value = self._reader.recv()
        except (EOFError, OSError) as error:
            outcome, value = "died", repr(error)
        finally:
            self._reader.close()
            self._process.join()
        if outcome == "done":
            return value
        log.info("the stage's second process %s (%s); running it here", outcome, value)
        return self._function()


def _child(function: Callable[[], object], writer: Connection) -> None:
    """In the forked child: run `function` and send back ("done", value) or why not."""
    as_helper_process()
    try:
        message: tuple[str, object] = ("done", function())
    except BaseException as error:  # reported to the parent, which runs it again
        message = ("failed", f"{type(error).__name__}: {error}")
    try:
        writer.send(message)
    except Exception as error:  # e.g. a result that cannot be pickled
        writer.send(("failed", f"cannot send the result: {error}"))
    finally:
        writer.close()
