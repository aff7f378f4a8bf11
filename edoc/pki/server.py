"""``edoc pki serve``: the CRLs, the CA certificates, OCSP and RFC 3161 time-stamping over HTTP.

Paths (all under ``pki.base_url``, which the certificates point at):

========================  ====================================================================
``GET  /crl/issuing.crl``  the issuing CA's latest CRL (DER, ``application/pkix-crl``)
``GET  /crl/root.crl``     the root's latest CRL
``GET  /ca/issuing.crt``   the issuing CA's certificate (DER, ``application/pkix-cert``)
``GET  /ca/root.crt``      the root's certificate
``POST /ocsp``             OCSP (``application/ocsp-request``), also ``GET /ocsp/<base64>``
``POST /tsa``              RFC 3161 (``application/timestamp-query``)
``GET  /health``           ``ok``
========================  ====================================================================

It binds to 127.0.0.1 unless told otherwise; put a reverse proxy in front to publish it. The
server holds no database code: the office gives it a :class:`Service` whose callables read the
register. :class:`PkiServer` runs it in a background thread (tests, the demo, in-process
signing) or in the foreground (the CLI).
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from edoc.pki.ocsp import Responder
from edoc.pki.tsa import TimeStamper

log = logging.getLogger("edoc.pki.server")

MAX_REQUEST = 64 * 1024
"""Bigger OCSP or time-stamp requests are refused (413)."""


@dataclass(frozen=True)
class Service:
    """What the server answers with; built by the office with the service keys unlocked."""

    responder: Responder
    """OCSP responder of the issuing CA."""
    stamper: TimeStamper
    """The time-stamping authority."""
    crl: Callable[[str], bytes | None]
    """``"issuing"`` or ``"root"`` -> the latest CRL (DER), read from the register per request."""
    ca_certificates: dict[str, bytes]
    """``"issuing"`` and ``"root"`` -> certificate DER."""
    now: Callable[[], datetime]
    """The clock (aware UTC)."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, *, cache: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if cache is not None:
            self.send_header("Cache-Control", f"max-age={cache}, public")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _fail(self, status: int, text: str) -> None:
        self._send(status, (text + "\n").encode(), "text/plain; charset=utf-8")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        service = self.server.service
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == "/health":
                self._send(200, b"ok\n", "text/plain")
            elif path in ("/crl/issuing.crl", "/crl/root.crl"):
                which = "issuing" if path.endswith("issuing.crl") else "root"
                data = service.crl(which)
                if data is None:
                    self._fail(404, f"no {which} CRL has been published")
                else:
                    self._send(200, data, "application/pkix-crl", cache=300)
            elif path in ("/ca/issuing.crt", "/ca/root.crt"):
                which = "issuing" if path.endswith("issuing.crt") else "root"
                self._send(200, service.ca_certificates[which], "application/pkix-cert", cache=86400)
            elif path.startswith("/ocsp/"):
                encoded = urllib.parse.unquote(path[len("/ocsp/") :])
                try:
                    request = base64.b64decode(encoded, validate=True)
                except (binascii.Error, ValueError):
                    self._fail(400, "the OCSP GET path is not base64")
                    return
                self._send(200, service.responder.respond(request, service.now()), "application/ocsp-response")
            else:
                self._fail(404, "not found")
        except Exception:  # a bug must not kill the server, nor leak a traceback to the client
            log.exception("GET %s failed", path)
            self._fail(500, "internal error")

    def do_POST(self) -> None:
        service = self.server.service
        path = urllib.parse.urlsplit(self.path).path
        try:
            length = int(self.headers.get("Content-Length", "-1"))
        except ValueError:
            length = -1
        if length < 0:
            self._fail(411, "Content-Length is required")
            return
        if length > MAX_REQUEST:
            self._fail(413, "request too large")
            self.close_connection = True
            return
        body = self.rfile.read(length)
        try:
            if path == "/ocsp":
                self._send(200, service.responder.respond(body, service.now()), "application/ocsp-response")
            elif path == "/tsa":
                self._send(200, service.stamper.respond(body, service.now()), "application/timestamp-reply")
            else:
                self._fail(404, "not found")
        except Exception:
            log.exception("POST %s failed", path)
            self._fail(500, "internal error")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], service: Service) -> None:
        super().__init__(address, _Handler)
        self.service = service


class PkiServer:
    """The HTTP server; ``start()`` runs it in a daemon thread, ``serve_forever()`` in this one.

    Use as a context manager::

        with office.pki_server() as server:
            print(server.url)   # http://127.0.0.1:8080
    """

    def __init__(self, service: Service, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = _Server((host, port), service)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> PkiServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="edoc-pki-serve", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> PkiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
