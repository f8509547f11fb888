"""A content-addressed cache of per-file facts, stored as one SQLite file.

Keys are hashes of file content (fresh CI checkouts change every mtime, never the content)
together with a salt made of carveout's version, the Python version, the catalogue and the
settings that change facts, so that facts made under other conditions are never returned.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import marshal
import operator
import os
import sqlite3
import typing
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from carveout.domain import facts as facts_module
from carveout.domain.facts import FileFacts

log = logging.getLogger(__name__)

CACHE_FILE = "facts.sqlite"
# https://bford.info/cachedir/: the first line is the signature tools look for
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by carveout.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
# facts of this many most recent salts are kept (two configurations can alternate cheaply)
KEPT_SALTS = 3
_BUSY_TIMEOUT = 60.0
_QUERY_CHUNK = 900  # below SQLite's limit on bound parameters
# SQLite's (primary) result codes for a file that is not a database or is damaged
_CORRUPT_CODES = frozenset(
    {getattr(sqlite3, "SQLITE_CORRUPT", 11), getattr(sqlite3, "SQLITE_NOTADB", 26)}
)
_CORRUPT_MESSAGES = ("file is not a database", "malformed")
# the table layout; a file with another layout is emptied and laid out again
_LAYOUT = 2
_TABLES = (
    "CREATE TABLE salts (salt TEXT PRIMARY KEY, used INTEGER NOT NULL)",
    "CREATE TABLE facts (salt TEXT NOT NULL, digest TEXT NOT NULL, data BLOB NOT NULL, "
    "PRIMARY KEY (salt, digest)) WITHOUT ROWID",
)


class FactCache:
    """Facts by content digest, under one salt.

    Two runs may share the file at once: SQLite serialises the writers, and rows carry
    their salt, so a run never reads facts written under another salt. `get_many` and
    `put_many` never raise: cache trouble is kept in `problem` (for the run's summary,
    which reports it; the log gets it at INFO only), and the run scans instead. A cache
    file that is not a database or is damaged is carveout's own file gone bad: it is
    deleted (with its `-wal` and `-shm` files) and started afresh, once per run, and
    `problem` says so; one that cannot be opened for other reasons (permissions) leaves
    the cache disabled. `get_many_encoded`/`put_many_encoded` move the stored bytes as
    they are.
    """

    def __init__(self, folder: Path, salt: str) -> None:
        self.path = folder / CACHE_FILE
        self.salt = salt
        self.problem: str | None = None
        self._connection: sqlite3.Connection | None = None
        self._started_afresh = False
        try:
            try:
                folder.mkdir(parents=True)
            except FileExistsError:
                pass  # a folder made earlier (or by the user): left unmarked
            else:
                mark_cache_folder(folder)
            try:
                self._connection = self._open()
            except sqlite3.Error as error:
                if not _is_corrupt(error):
                    raise
                self._start_afresh()
        except (OSError, sqlite3.Error) as error:
            self._give_up(f"cache disabled: cannot use {self.path}: {error}")

    def get_many(self, digests: Iterable[str]) -> dict[str, FileFacts]:
        """The cached facts of those `digests` that are known; unreadable entries are
        left out (they are scanned again)."""
        found: dict[str, FileFacts] = {}
        for digest, data in self.get_many_encoded(digests).items():
            facts = decode_facts(data)
            if facts is not None:
                found[digest] = facts
        return found

    def get_many_encoded(self, digests: Iterable[str]) -> dict[str, bytes]:
        if self._connection is None:
            return {}
        wanted = sorted(set(digests))
        found: dict[str, bytes] = {}
        try:
            for start in range(0, len(wanted), _QUERY_CHUNK):
                chunk = wanted[start : start + _QUERY_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT digest, data FROM facts WHERE salt = ? AND digest IN ({marks})",
                    [self.salt, *chunk],
                )
                found.update(rows)
        except sqlite3.Error as error:
            if _is_corrupt(error) and self._restart():
                return {}
            self._note(f"cache read failed, scanning instead: {error}")
            return {}
        return found

    def put_many(self, facts: Mapping[str, FileFacts]) -> None:
        """Store facts by digest, in one transaction."""
        self.put_many_encoded({d: encode_facts(f) for d, f in facts.items()})

    def put_many_encoded(self, encoded: Mapping[str, bytes]) -> None:
        if self._connection is None or not encoded:
            return
        rows = [(self.salt, digest, encoded[digest]) for digest in sorted(encoded)]
        try:
            self._write(rows)
        except sqlite3.Error as error:
            self._rollback()
            if not (_is_corrupt(error) and self._restart()):
                self._give_up(f"cache not updated: cannot write {self.path}: {error}")
                return
            try:
                self._write(rows)
            except sqlite3.Error as again:
                self._rollback()
                self._give_up(f"cache not updated: cannot write {self.path}: {again}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # --- private helpers ---------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")

            # lay the file out when it is new or laid out by another version
            connection.execute("BEGIN IMMEDIATE")
            (layout,) = connection.execute("PRAGMA user_version").fetchone()
            if layout != _LAYOUT:
                tables = connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                ).fetchall()
                for (table,) in tables:
                    connection.execute(f'DROP TABLE "{table}"')
                for statement in _TABLES:
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {_LAYOUT}")

            # mark this salt as the most recently used; drop facts of long-unused salts
            (latest,) = connection.execute("SELECT COALESCE(MAX(used), 0) FROM salts").fetchone()
            connection.execute(
                "INSERT OR REPLACE INTO salts (salt, used) VALUES (?, ?)", (self.salt, latest + 1)
            )
            connection.execute(
                "DELETE FROM salts WHERE salt NOT IN "
                "(SELECT salt FROM salts ORDER BY used DESC LIMIT ?)",
                (KEPT_SALTS,),
            )
            connection.execute("DELETE FROM facts WHERE salt NOT IN (SELECT salt FROM salts)")
            connection.execute("COMMIT")
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    def _write(self, rows: list[tuple[str, str, bytes]]) -> None:
        """Store `rows` in one transaction (raises `sqlite3.Error`)."""
        connection = self._connection
        if connection is None:
            raise sqlite3.OperationalError("the cache is closed")
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT OR REPLACE INTO facts (salt, digest, data) VALUES (?, ?, ?)", rows
        )
        connection.execute("COMMIT")

    def _start_afresh(self) -> None:
        """Delete the corrupt cache file with its `-wal` and `-shm` files and open a new
        one; raises `OSError` or `sqlite3.Error` when that fails too."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")
        self._started_afresh = True
        self._connection = self._open()
        self._note(f"the cache file {self.path} was corrupt and has been started afresh")

    def _restart(self) -> bool:
        """Start afresh after corruption found mid-run, once; whether the cache works."""
        if self._started_afresh:
            return False
        try:
            self._start_afresh()
        except (OSError, sqlite3.Error) as error:
            self._give_up(f"cache disabled: cannot use {self.path}: {error}")
        return self._connection is not None

    def _note(self, problem: str) -> None:
        """Keep `problem` for the run's summary (the first one wins)."""
        if self.problem is None:
            self.problem = problem
        log.info("%s", problem)

    def _rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._connection.execute("ROLLBACK")

    def _give_up(self, problem: str) -> None:
        """Disable the cache for the rest of the run; the summary reports `problem`."""
        self.problem = problem
        log.info("%s", problem)
        self.close()


def _is_corrupt(error: sqlite3.Error) -> bool:
    """Whether `error` says the file is not a database or is damaged (not, say, that it
    cannot be opened or written)."""
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF in _CORRUPT_CODES
    return any(message in str(error) for message in _CORRUPT_MESSAGES)


def mark_cache_folder(folder: Path) -> None:
    """Mark a folder carveout created for its cache: a `CACHEDIR.TAG` (backup and archive
    tools skip the folder) and a `.gitignore` ignoring everything in it, so cached facts
    are never committed (and never arrive, forged, with a repository). Only for a folder
    carveout created: a `.gitignore` of `*` in a user's own folder would hide their files.
    """
    (folder / "CACHEDIR.TAG").write_text(CACHEDIR_TAG, encoding="utf-8")
    (folder / ".gitignore").write_text(
        "# Created by carveout: its cache is never committed.\n*\n", encoding="utf-8"
    )


def encode_facts(facts: FileFacts) -> bytes:
    """`facts` as compact bytes (nested tuples of plain values, in `marshal`'s format,
    which the cache salt ties to the running Python)."""
    return marshal.dumps(_ENCODERS[FileFacts](facts))


def decode_facts(data: bytes) -> FileFacts | None:
    """The facts `encode_facts` wrote, or None when `data` is not such bytes."""
    try:
        return _DECODERS[FileFacts](marshal.loads(data))
    except (ValueError, EOFError, TypeError, KeyError, IndexError) as error:
        log.info("cache entry unreadable, scanning instead: %s", error)
        return None


# --- the codec: one encoder and one decoder per record type of the facts ------------------
#
# Built once from the records' field types, so a field added to a record later is carried
# without a change here. Records become tuples of their fields in order, enum members their
# values. A named-tuple record whose fields are all plain is rebuilt by `tuple.__new__` on
# the decoded tuple itself: no per-field work at all.

_Codec = Callable[[Any], Any]
_ENCODERS: dict[type, _Codec] = {}
_DECODERS: dict[type, _Codec] = {}


def _is_record(hint: Any) -> bool:
    return isinstance(hint, type) and (dataclasses.is_dataclass(hint) or _is_named_tuple(hint))


def _is_named_tuple(hint: type) -> bool:
    return issubclass(hint, tuple) and hasattr(hint, "_fields")


def _codec_for(hint: Any) -> tuple[_Codec, _Codec] | None:
    """Encoder and decoder for a field type, or None when its values are plain already."""
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        members = {member.value: member for member in hint}
        return (lambda member: member.value), members.__getitem__
    if _is_record(hint):
        _record_codec(hint)
        return _ENCODERS[hint], _DECODERS[hint]
    if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:
        item = arguments[0]
        if _is_record(item):
            _record_codec(item)
            encode_item = _ENCODERS[item]
            decode_item = _DECODERS[item]
            return (
                (lambda values: tuple(map(encode_item, values))),
                (lambda values: tuple(map(decode_item, values))),
            )
        inner = _codec_for(item)
        if inner is None:
            return None
        encode, decode = inner
        return (lambda values: tuple(map(encode, values))), (
            lambda values: tuple(map(decode, values))
        )
    if arguments and type(None) in arguments:  # an optional value
        others = [a for a in arguments if a is not type(None)]
        inner = _codec_for(others[0]) if len(others) == 1 else None
        if inner is None:
            return None
        encode, decode = inner
        return (lambda value: None if value is None else encode(value)), (
            lambda value: None if value is None else decode(value)
        )
    return None


def _record_codec(record: type) -> None:
    if record in _ENCODERS:
        return
    hints = typing.get_type_hints(record, vars(facts_module))
    if _is_named_tuple(record):
        names = list(record._fields)  # type: ignore[attr-defined]
    else:
        names = [field.name for field in dataclasses.fields(record)]
    codecs = [_codec_for(hints[name]) for name in names]
    converted = [(index, codec) for index, codec in enumerate(codecs) if codec is not None]

    encode: _Codec
    decode: _Codec
    if not converted and _is_named_tuple(record):
        encode = tuple
        decode = functools.partial(tuple.__new__, record)
    elif not converted and len(names) > 1:
        encode = operator.attrgetter(*names)

        def decode(values: Any) -> Any:
            return record(*values)

    elif not converted:

        def encode(value: Any) -> Any:
            return tuple(getattr(value, name) for name in names)

        def decode(values: Any) -> Any:
            return record(*values)

    else:
        build = functools.partial(tuple.__new__, record) if _is_named_tuple(record) else None

        def encode(value: Any) -> Any:
            fields = [getattr(value, name) for name in names]
            for index, (to_plain, _) in converted:
                fields[index] = to_plain(fields[index])
            return tuple(fields)

        def decode(values: Any) -> Any:
            fields = list(values)
            for index, (_, from_plain) in converted:
                fields[index] = from_plain(fields[index])
            return build(fields) if build is not None else record(*fields)

    _ENCODERS[record] = encode
    _DECODERS[record] = decode


_record_codec(FileFacts)
