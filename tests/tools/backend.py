#!/usr/bin/env python3
"""backend.py -- a controllable HTTP(S) backend for the health-check integration tests.

    backend.py --addr 127.0.0.2 --port P --mode-file F [--tls CERT KEY]

Every request reads the mode from F (its first word), so a test changes the backend's behaviour by
rewriting one file:

    ok         200, body "OK"
    502        502, body "bad gateway"
    wrongbody  200, body "NOPE"
    hang       accept the request and never answer (until the backend stops)
    close      close the connection without answering

A mode file that cannot be read, or an unknown mode, gets 500 with the reason in the body, so a
broken test shows up as a failing check rather than as a healthy one. The TCP listener stays open
in every mode: a tcp check stays up while HTTP says 502. With --tls the TLS handshake happens in
the connection's own thread, so a client that connects and never speaks TLS blocks nobody.

Prints "listening ADDR PORT" on stdout once bound (PORT is the real port, also with --port 0),
logs no requests, and exits 0 on SIGTERM or SIGINT. Standard library only.
"""

import argparse
import signal
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOPPING = threading.Event()

REPLIES = {
    "ok": (200, b"OK"),
    "502": (502, b"bad gateway"),
    "wrongbody": (200, b"NOPE"),
}


def read_mode(path):
    """The first word of the mode file, or None with the reason."""
    try:
        with open(path, encoding="utf-8") as f:
            words = f.read().split()
    except OSError as e:
        return None, f"mode file {path}: {e.strerror}"
    if not words:
        return None, f"mode file {path} is empty"
    return words[0].lower(), None


class Handler(BaseHTTPRequestHandler):
    server_version = "meridian-test-backend"
    sys_version = ""

    def setup(self):
        tls = self.server.tls
        if tls is not None:
            self.request.settimeout(10)
            self.request = tls.wrap_socket(self.request, server_side=True)
            self.request.settimeout(None)
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 -- the base class's signature
        pass

    def answer(self, with_body):
        mode, problem = read_mode(self.server.mode_file)
        if mode == "hang":
            STOPPING.wait()
            self.close_connection = True
            return
        if mode == "close":
            self.close_connection = True
            return
        if mode in REPLIES:
            status, body = REPLIES[mode]
        else:
            status, body = 500, (problem or f"unknown mode {mode!r}").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):  # noqa: N802 -- http.server's naming
        self.answer(True)

    def do_HEAD(self):  # noqa: N802
        self.answer(False)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, port, mode_file, tls):
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.mode_file = mode_file
        self.tls = tls
        super().__init__((addr, port), Handler)

    def handle_error(self, request, client_address):
        pass  # clients that hang up, fail the handshake or time out are part of the tests


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    ap = argparse.ArgumentParser(description="controllable HTTP(S) backend for health-check tests")
    ap.add_argument("--addr", required=True, help="address to listen on (127.0.0.x or ::1)")
    ap.add_argument("--port", type=int, required=True, help="port, 0 for any free one")
    ap.add_argument("--mode-file", required=True, help="file whose first word is the mode")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    args = ap.parse_args()

    try:
        tls = tls_context(*args.tls) if args.tls else None
        server = Server(args.addr, args.port, args.mode_file, tls)
    except (OSError, ssl.SSLError) as e:
        print(f"backend.py: {args.addr} port {args.port}: {e}", file=sys.stderr)
        return 1

    # The signals are blocked before any thread starts (threads inherit the mask) and taken with
    # sigwait, so a stop is immediate however busy or idle the server threads are.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    print(f"listening {args.addr} {server.server_address[1]}", flush=True)
    signal.sigwait(stop_signals)
    STOPPING.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
