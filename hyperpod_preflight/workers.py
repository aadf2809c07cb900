"""A small thread pool whose threads never keep the process alive.

``concurrent.futures.ThreadPoolExecutor`` joins every worker thread at interpreter exit, so
one read hung on a silent endpoint (read timeout × attempts: minutes) holds the process after
the report is printed. The run deadline must be final: :class:`DaemonPool` runs its work on
daemon threads, and leaving its ``with`` block never waits for them (use
:func:`concurrent.futures.wait` with a timeout for what should be waited for).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
_Item = tuple[Future[Any], Callable[[], Any]] | None


class DaemonPool:
    """At most ``workers`` daemon threads running submitted callables in order."""

    def __init__(self, workers: int, name: str = "worker") -> None:
        self._max = max(1, workers)
        self._name = name
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        fut: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("submit after shutdown")
            self._queue.put((fut, lambda: fn(*args, **kwargs)))
            if len(self._threads) < self._max:  # one thread per task, up to the most
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return fut

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn = item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # handed to whoever waits on the future
                    fut.set_exception(exc)

    def map(self, fn: Callable[[Any], T], items: list[Any]) -> list[T]:
        """``[fn(i) for i in items]`` on the pool's threads, in order (the first failure
        raises, as ``Executor.map`` does)."""
        return [f.result() for f in [self.submit(fn, i) for i in items]]

    def shutdown(self, *, cancel_pending: bool = True) -> None:
        """Stop taking work; cancel what has not started (``cancel_pending``); never wait."""
        with self._lock:
            self._closed = True
            if cancel_pending:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)

    def __enter__(self) -> DaemonPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown(cancel_pending=exc is not None)
