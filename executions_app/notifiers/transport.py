"""The connection layer under safe_http: an httpx transport over an httpcore connection pool
whose network backend is the only place a hostname becomes an address.

httpx's own HTTPTransport cannot take a network backend, so `GuardedTransport` is its
handle_request, kept short; `GuardedBackend` and `GuardedStream` implement httpcore's documented
NetworkBackend / NetworkStream interfaces around its SyncBackend.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import certifi
import httpcore
import httpx

from executions_app.notifiers.addresses import AddressPolicy, resolve_and_vet
from executions_app.notifiers.base import TargetRefused

_ssl_context: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    # Built once per process: loading the CA bundle costs tens of milliseconds.
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context(cafile=certifi.where())
    return _ssl_context


class GuardedStream(httpcore.NetworkStream):
    """A connection whose every operation also ends by the request's total deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float):
        self._inner = inner
        self._deadline = deadline

    def _bounded(self, timeout: float | None) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ReadTimeout("total timeout reached")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._bounded(timeout))
        return GuardedStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves and vets every host httpcore connects to, then connects to a vetted address."""

    def __init__(self, policy: AddressPolicy, deadline: float):
        self._policy = policy
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def _bounded(self, timeout: float | None) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ConnectTimeout("total timeout reached")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_and_vet(host, port, policy=self._policy, timeout=self._bounded(timeout))
        failure: Exception | None = None
        for ip in addresses:  # nothing has been sent yet, so the next address may be tried
            try:
                stream = self._inner.connect_tcp(
                    str(ip), port, self._bounded(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return GuardedStream(stream, self._deadline)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise TargetRefused("Refused target: unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.BaseTransport):
    """httpx's HTTPTransport, minus proxies, over a connection pool using our backend.

    HTTPTransport cannot take a network backend, so this is its handle_request, kept short.
    A fresh pool per request(): connections never outlive one delivery.
    """

    def __init__(self, backend: GuardedBackend, ssl_context: ssl.SSLContext):
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=backend, http1=True, http2=False
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_response = self._pool.handle_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response.stream),
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Any):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()
