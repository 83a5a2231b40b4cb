"""Locks that keep index writers from running at the same time.

A lock here is any context manager; backends take a zero-argument callable returning one, so a
caller (or a test) can inject its own. ``FileLock`` serialises processes on one machine (the
embedded index lives on one disk); ``CacheLock`` serialises across machines through Django's
cache when that cache is shared (Redis, Memcached, database) — with the per-process LocMemCache it
only guards one process.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from pathlib import Path


class LockTimeout(RuntimeError):
    """Another writer kept the lock for longer than we were willing to wait."""


class FileLock:
    """An exclusive ``flock`` on ``path`` (plus a thread lock: flock is per open file, not per
    thread). Released by the OS if the process dies, so a crash never leaves it stuck."""

    _thread_locks: dict[str, threading.Lock] = {}
    _guard = threading.Lock()

    def __init__(self, path: str | os.PathLike, timeout: float | None = None):
        self.path = Path(path)
        self.timeout = timeout
        with self._guard:
            self._thread_lock = self._thread_locks.setdefault(str(self.path.resolve()), threading.Lock())
        self._file = None

    def __enter__(self):
        if not self._thread_lock.acquire(timeout=-1 if self.timeout is None else self.timeout):
            raise LockTimeout(f"{self.path} is held by another thread")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a")
            deadline = None if self.timeout is None else time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(self._file, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                    return self
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(f"{self.path} is held by another process") from None
                    time.sleep(0.05)
        except BaseException:
            self._release()
            raise

    def __exit__(self, *exc):
        self._release()

    def _release(self):
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._thread_lock.release()


class CacheLock:
    """A lock held as a Django cache key (``cache.add`` is atomic on shared caches).

    ``expires`` bounds how long a crashed holder can block others; set it above the longest
    reindex you expect.
    """

    def __init__(self, key: str, expires: float = 6 * 3600, timeout: float = 0):
        self.key, self.expires, self.timeout = key, expires, timeout
        self._token = uuid.uuid4().hex

    def __enter__(self):
        from django.core.cache import cache

        deadline = time.monotonic() + self.timeout
        while not cache.add(self.key, self._token, self.expires):
            if time.monotonic() >= deadline:
                raise LockTimeout(f"another process holds {self.key!r}")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        from django.core.cache import cache

        if cache.get(self.key) == self._token:
            cache.delete(self.key)
