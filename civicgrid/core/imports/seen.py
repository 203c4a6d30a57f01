"""The keys an import has seen so far, for "duplicate in file", without holding them in memory.

A street's register can have a million rows. Remembering every row's key (an 18-character ID
string and its row number in a dict: ~120 MB at a million rows) made the import's memory grow
with the file. `SeenKeys` keeps a 16-byte BLAKE2b digest of each key with the sheet row of its
first occurrence in a private temporary SQLite database (stdlib `sqlite3`, filename ""): SQLite
keeps at most `CACHE_KIB` of pages in memory and spills the rest to a temporary file that is
deleted when the connection closes. One lookup and one insert per batch, not per row.

A 128-bit digest makes a false "duplicate" (two different keys with one digest) about as
likely as 2^-128 per pair: at a billion rows, below 10^-20. The error message still names the
row's own key, so nothing about the key has to be stored in clear.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Hashable, Sequence

CACHE_KIB = 2048
_CHUNK = 500  # bound parameters per lookup; below every SQLite build's variable limit


def key_digest(key: Hashable) -> bytes:
    """16 bytes standing for a key: strings by their UTF-8, other keys (tuples) by repr."""
    data = key.encode() if isinstance(key, str) else repr(key).encode()
    return hashlib.blake2b(data, digest_size=16).digest()


class SeenKeys:
    """First sheet row of each key seen; `add` answers, per key, the earlier row or None."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE seen (digest BLOB PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def add(self, items: Sequence[tuple[Hashable, int]]) -> list[int | None]:
        """For each (key, row) in sheet order: the row where the key first appeared, or None
        if this is its first appearance (it is then remembered)."""
        digests = [key_digest(key) for key, _row in items]
        earlier = self._lookup(set(digests))
        fresh: dict[bytes, int] = {}
        answers: list[int | None] = []
        for digest, (_key, row) in zip(digests, items, strict=True):
            first = earlier.get(digest) or fresh.get(digest)
            if first is None:
                fresh[digest] = row
            answers.append(first)
        if fresh:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO seen VALUES (?, ?)", fresh.items())
            self.db.execute("COMMIT")
        return answers

    def _lookup(self, digests: set[bytes]) -> dict[bytes, int]:
        found: dict[bytes, int] = {}
        wanted = list(digests)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT digest, row FROM seen WHERE digest IN ({marks})"  # noqa: S608
            found.update(self.db.execute(sql, chunk).fetchall())
        return found

    def close(self) -> None:
        self.db.close()
