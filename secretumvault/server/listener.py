"""The HTTP listener's limits: uvicorn's h11 protocol with Vault's timeouts and a connection cap.

uvicorn on its own closes only idle keep-alive connections; a client that
sends its headers one byte a second keeps its connection, and a thousand of
them use up the process's file descriptors. :func:`protocol_class` gives the
protocol uvicorn runs (``uvicorn.Config(http=...)``), per connection:

* ``http_read_header_timeout``: the request line and headers must be complete
  this long after the connection opens or the request's first byte arrives;
* ``http_read_timeout``: the whole request, body included, from the same start;
* ``http_idle_timeout``: an idle keep-alive connection (uvicorn's own
  ``timeout_keep_alive``, set by run.py);
* ``max_request_duration``: from the end of the headers until the response is
  complete; a request without a response by then gets 503, one whose response
  has started is cut off. The handler itself is not stopped (a worker thread
  cannot be): it runs to its end and its answer is dropped.

On the first three the connection is closed without an answer, as Vault (Go's
``net/http``) does. Over ``max_connections`` open connections in this process,
a new one gets a 503 and is closed at once, before anything of it is read, so
descriptors stay free and the requests already admitted keep being served.

Not covered: a TLS handshake happens before the protocol sees the connection
(asyncio's own 60 s handshake timeout applies, and a handshaking connection is
not counted).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ListenerLimits", "protocol_class"]

_REFUSED_BODY = b'{"errors":["too many open connections"]}'
# Written before the request is read: a client that has sent nothing yet still sees why.
_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_REFUSED_BODY), _REFUSED_BODY)
)
_TOO_LONG_BODY = b'{"errors":["request exceeded max_request_duration"]}'


@dataclass(frozen=True)
class ListenerLimits:
    """Seconds, and the connection cap of one server process."""

    http_read_header_timeout: float
    http_read_timeout: float
    max_request_duration: float
    max_connections: int


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits above; use :func:`protocol_class` to set them."""

    limits: ListenerLimits

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        # One timer per connection for max_request_duration, armed when a request starts and
        # none is armed, and moved on when it fires early: a timer per request cost about 3%
        # of a small request's time (issue 24).
        self._duration_timer: asyncio.TimerHandle | None = None
        self._timed_cycle: object = None  # the latest request, which has until _request_deadline
        self._request_deadline = 0.0  # in loop.time()

    # -- the connection --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self._refused = True
            self.transport = transport
            transport.write(_REFUSED)
            transport.close()  # after the buffered 503 is written
            return
        super().connection_made(transport)
        self._start_reading_request()  # Go: the header deadline runs from accept

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        self._follow_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self._refused:
            return
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start a pipelined request
        self._follow_request()

    # -- the deadlines ---------------------------------------------------------------------------

    def _follow_request(self) -> None:
        """Arm or drop the deadlines for where the current request is (called after every step)."""
        if self.transport.is_closing():
            self._cancel_timers()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            # Bytes of a next request have arrived (a fresh connection was armed on accept).
            if self._read_timer is None and self.conn.trailing_data[0]:
                self._start_reading_request()
        elif state is h11.SEND_BODY:
            self._cancel(self._header_timer)
            self._header_timer = None
        elif self._read_timer is not None:  # the request is read (DONE, MUST_CLOSE) or the connection is over
            self._cancel(self._header_timer)  # (armed only with the read timer)
            self._cancel(self._read_timer)
            self._header_timer = self._read_timer = None
        cycle = self.cycle
        if cycle is not None and cycle is not self._timed_cycle and not cycle.response_complete:
            self._timed_cycle = cycle
            self._request_deadline = self.loop.time() + self.limits.max_request_duration
            if self._duration_timer is None:
                self._duration_timer = self.loop.call_at(self._request_deadline, self._check_duration)

    def _start_reading_request(self) -> None:
        self._cancel(self._header_timer)
        self._cancel(self._read_timer)
        self._header_timer = self.loop.call_later(self.limits.http_read_header_timeout, self._too_slow)
        self._read_timer = self.loop.call_later(self.limits.http_read_timeout, self._too_slow)

    def _too_slow(self) -> None:
        """A read deadline passed: close without an answer, as Go does."""
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.close()

    def _check_duration(self) -> None:
        """The duration timer fired: the request in flight, if any, may have run too long."""
        self._duration_timer = None
        cycle = self.cycle
        if cycle is None or cycle.response_complete or self.transport.is_closing():
            return  # nothing in flight: the next request arms the timer again
        if self.loop.time() < self._request_deadline:  # armed for an earlier request: move on
            self._duration_timer = self.loop.call_at(self._request_deadline, self._check_duration)
            return
        self._too_long(cycle)

    def _too_long(self, cycle: Any) -> None:
        """max_request_duration passed: 503 if nothing was answered yet, and close."""
        if not cycle.response_started:
            try:
                self.transport.write(
                    self.conn.send(
                        h11.Response(
                            status_code=503,
                            reason=b"Service Unavailable",
                            headers=[
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(_TOO_LONG_BODY)).encode()),
                                (b"connection", b"close"),
                            ],
                        )
                    )
                    or b""
                )
                self.transport.write(self.conn.send(h11.Data(data=_TOO_LONG_BODY)) or b"")
                self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
            except h11.LocalProtocolError:
                pass  # h11 cannot answer in this state: the close below is the answer
        # The handler goes on; what it sends now is dropped and its reads see a disconnect.
        cycle.response_started = cycle.response_complete = cycle.disconnected = True
        cycle.message_event.set()
        self._cancel_timers()
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._read_timer, self._duration_timer):
            self._cancel(timer)
        self._header_timer = self._read_timer = self._duration_timer = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()


def protocol_class(limits: ListenerLimits) -> type[LimitedH11Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)``, with ``limits``."""

    class ListenerProtocol(LimitedH11Protocol):
        pass

    ListenerProtocol.limits = limits
    return ListenerProtocol
