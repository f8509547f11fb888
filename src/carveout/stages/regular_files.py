"""The one way carveout reads a file of the user's tree: only when it is a regular file.

A FIFO would block the run forever and a device could fill the memory. It lives with the
stages, the lowest layer that reads files (discovery reads packaging files), so adapters
and the application may use it too.
"""

from __future__ import annotations

import errno
import os
import stat

# the kinds of file that are not read, by the test of their mode
_FILE_TYPES = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISDIR, "folder"),
)


class NotRegularFileError(OSError):
    """The path names something other than a regular file (a FIFO, a device, a socket, a
    folder); `strerror` says which, e.g. "not a regular file (FIFO)"."""


def read_regular_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file at `path` (a symbolic link is followed).

    Anything else raises `NotRegularFileError` without being read: the file is opened
    without blocking and checked through its open descriptor, so a FIFO put in its place
    after an earlier check cannot hang the run, nor `/dev/zero` fill the memory. Other
    failures raise `OSError` as `open` does (`FileNotFoundError`, `PermissionError`, ...).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(
                errno.EINVAL, f"not a regular file ({file_type(mode)})", os.fspath(path)
            )
        with open(descriptor, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(descriptor)


def read_regular_text(path: str | os.PathLike[str]) -> str:
    """`read_regular_file` decoded as UTF-8; raises `UnicodeDecodeError` when it is not."""
    return read_regular_file(path).decode("utf-8")


def file_type(mode: int) -> str:
    """What a file of `st_mode` `mode` is, in words ("FIFO", "folder", "regular file")."""
    if stat.S_ISREG(mode):
        return "regular file"
    return next((name for test, name in _FILE_TYPES if test(mode)), "special file")
