"""Real local receivers for notification tests: an HTTP server (webhooks, Apprise targets) and
an SMTP server (aiosmtpd), each in a thread on a loopback address, always stopped."""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Reply:
    """What the HTTP receiver answers to one request."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    trickle: float | None = None  # send the body one byte per this many seconds
    # Answer only once this is set: holds a sender mid-request for as long as a test needs.
    hold: threading.Event | None = None


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # Clients hanging up mid-answer (timeouts, size caps) is what several tests want.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class HttpReceiver:
    """An HTTP(S) server on `host` (a loopback address) whose answers are scripted.

    Each request takes the next `script()`ed Reply, then `default`. `requests` lists what
    arrived, `server_names` the TLS SNI names clients sent.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        default: Reply | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        self.host = host
        self.default = default or Reply()
        self.requests: list[Received] = []
        self.server_names: list[str | None] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = _Server((host, 0), self._handler_class())
        self.scheme = "http"
        if tls is not None:
            tls.sni_callback = self._record_sni
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.port = self._server.server_address[1]
        # A short poll interval: shutdown() waits for the next poll, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record_sni(
        self, _sock: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext
    ) -> None:
        self.server_names.append(server_name)

    def _next_reply(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self._script.popleft() if self._script else self.default

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = receiver._next_reply(
                    Received(self.command, self.path, dict(self.headers.items()), body)
                )
                time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(timeout=10)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.trickle is None:
                        self.wfile.write(reply.body)
                        return
                    for i in range(len(reply.body)):
                        self.wfile.write(reply.body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                except OSError:
                    pass  # the client gave up, which is what several tests want

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on 127.0.0.1. `messages` holds the raw messages accepted.

    `rcpt_reply` / `data_reply` (e.g. "550 5.1.1 No such user") make it refuse instead.
    """

    def __init__(self, *, rcpt_reply: str | None = None, data_reply: str | None = None):
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.messages: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self._controller = Controller(self, hostname=self.host, port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def __enter__(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()
