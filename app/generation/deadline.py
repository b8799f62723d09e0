"""One model call's time budget, and the watchdog that holds a response to it.

An HTTP client's timeout bounds each read, not the call: a server that sends one token
every 2 s never trips a 3 s read timeout and can hold a question for minutes. A
:class:`Deadline` is the whole call's budget (every attempt, the stream included);
each request is given only what is left of it as its own timeout, and a
:class:`Watchdog` cuts the connection of a response still being read when the
budget runs out, so that a read blocked on a slow server returns then, not a read
timeout later.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any


class Deadline:
    """``seconds`` from now, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; zero or less once the deadline has passed."""
        return self._ends - time.monotonic()

    @property
    def passed(self) -> bool:
        """Whether the budget is spent."""
        return self.left() <= 0


def _socket_of(response: Any) -> socket.socket | None:
    """The socket under an httpx response (HTTP/1.1 through httpcore), or None."""
    stream = getattr(response, "extensions", {}).get("network_stream")
    get_extra_info = getattr(stream, "get_extra_info", None)
    sock = get_extra_info("socket") if get_extra_info else None
    return sock if isinstance(sock, socket.socket) else None


class Watchdog:
    """Shuts a response's connection down when ``deadline`` passes, unless stopped first.

    ``shutdown`` (not ``close``) wakes a read blocked in another thread at once; the
    reader then sees the connection end and asks :attr:`fired` why. Where no socket can
    be found (another transport), nothing is armed: the reader's checks between reads
    and its per-read timeout (what was left when the request went) still end the call.
    """

    def __init__(self, response: Any, deadline: Deadline) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._stopped = False
        self._timer: threading.Timer | None = None
        sock = _socket_of(response)
        if sock is not None:
            self._timer = threading.Timer(max(deadline.left(), 0.0), self._fire, args=(sock,))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, sock: socket.socket) -> None:
        with self._lock:
            if self._stopped:
                return
            self.fired = True
            # OSError: already closed, so the read it would have woken has ended.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Disarm: the response was read (or given up) before the deadline."""
        with self._lock:
            self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
