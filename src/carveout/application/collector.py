"""The cyclic garbage collector, paused while a run builds its records.

Facts, graph records and report documents hold no reference cycles, yet while hundreds of
thousands of them are made the collector would walk them again and again (a fifth of a
big warm run). Reference counting still frees everything that is dropped.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector's state is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
