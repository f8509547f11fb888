"""A content-addressed cache of per-file facts, stored as one SQLite file.

Keys are hashes of file content (fresh CI checkouts change every mtime, never the content).
A salt made of carveout's version, the Python version and whatever changes facts guards the
whole file: when it differs the cache starts empty. SQLite makes it safe for two runs to
share one cache; a cache that cannot be opened or written is skipped with a warning.
"""

from __future__ import annotations

import logging
import pickle
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from carveout.domain.facts import FileFacts

log = logging.getLogger(__name__)

CACHE_FILE = "facts.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS facts (digest TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


class FactCache:
    """Facts by content digest. `get_many` and `put_many` never raise on cache trouble."""

    def __init__(self, folder: Path, salt: str) -> None:
        self.path = folder / CACHE_FILE
        self.salt = salt
        self.problem: str | None = None
        self._connection: sqlite3.Connection | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._connection = self._open()
        except (OSError, sqlite3.Error) as error:
            self.problem = f"cache disabled: cannot use {self.path}: {error}"
            log.warning("%s", self.problem)
            self._connection = None

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        row = connection.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        if row is None or row[0] != self.salt:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM facts")
            connection.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('salt', ?)", (self.salt,)
            )
            connection.execute("COMMIT")
        return connection

    def get_many(self, digests: Iterable[str]) -> dict[str, FileFacts]:
        if self._connection is None:
            return {}
        wanted = sorted(set(digests))
        found: dict[str, FileFacts] = {}
        try:
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT digest, data FROM facts WHERE digest IN ({marks})", chunk
                )
                for digest, data in rows:
                    found[digest] = pickle.loads(data)
        except (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError) as error:
            log.warning("cache read failed, scanning instead: %s", error)
            return {}
        return found

    def put_many(self, facts: Mapping[str, FileFacts]) -> None:
        if self._connection is None or not facts:
            return
        rows = [(d, pickle.dumps(f, protocol=5)) for d, f in sorted(facts.items())]
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            self._connection.executemany(
                "INSERT OR REPLACE INTO facts (digest, data) VALUES (?, ?)", rows
            )
            self._connection.execute("COMMIT")
        except sqlite3.Error as error:
            log.warning("cache write failed: %s", error)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
