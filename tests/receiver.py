"""A scripted HTTP peer on loopback (a webhook receiver, a CRM endpoint) that keeps what it got.

Each POST gets the next answer of the script, then `default`. An answer is a status (with
the body `ok`), a (status, body) pair (a body that is not bytes is sent as JSON), or one of:
HANG (never answers), NOT_HTTP (garbage instead of HTTP), TRICKLE (a valid 200 with a JSON
id, one byte every `trickle_seconds`), or a function given the request's record (headers,
body) that returns one of those.

By default each connection is closed after one answer, without saying so (no `Connection:
close`), as a peer's idle timeout would. With keep_alive, a connection serves the next
request too, up to `requests_per_connection` (then it is closed the same way, `close_delay`
seconds after the answer, during which the client may already be sending the next request).
`connections` counts the connections accepted; each request records its connection's number.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"
NOT_HTTP = "not http"
TRICKLE = "trickle"


class Receiver:
    """Answers each POST from the script; `delay` seconds pass before each answer."""

    def __init__(self, script=(), default=200, delay=0.0, trickle_seconds=0.2, path="/hooks",
                 keep_alive=False, requests_per_connection=None, close_delay=0.0):
        self.script, self.default, self.delay = list(script), default, delay
        self.trickle_seconds = trickle_seconds
        self.keep_alive, self.requests_per_connection = keep_alive, requests_per_connection
        self.close_delay = close_delay
        self.connections = 0
        self.received = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections += 1
                    self.number, self.served = receiver.connections, 0

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                    record = {"headers": dict(self.headers), "body": body, "answer": answer,
                              "connection": self.number}
                    receiver.received.append(record)
                if callable(answer):
                    answer = record["answer"] = answer(record)
                self.served += 1
                self.close_connection = not receiver.keep_alive or (
                    self.served == receiver.requests_per_connection)
                if answer == HANG:
                    receiver.release.wait(30)
                    return
                time.sleep(receiver.delay)
                if answer == NOT_HTTP:
                    self.wfile.write(b"HELLO THERE\r\n\r\n")
                elif answer == TRICKLE:
                    receiver.trickle(self.wfile)
                else:
                    status, payload = answer if isinstance(answer, tuple) else (answer, b"ok")
                    receiver.answer(self, status, payload)
                if receiver.keep_alive and self.close_connection:
                    time.sleep(receiver.close_delay)  # the answer is out; the close comes later

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @staticmethod
    def answer(handler, status, payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        if 300 <= status < 400:
            handler.send_header("Location", "http://127.0.0.1:9/elsewhere")
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def trickle(self, stream):
        text = b'{"id": "slow"}'
        raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(text), text))
        try:
            for byte in raw:
                stream.write(bytes([byte]))
                stream.flush()
                time.sleep(self.trickle_seconds)
        except OSError:
            pass  # the sender gave up at its deadline

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def requests(self):
        """Return what was received so far: [{"headers", "body", "answer"}]."""
        with self.lock:
            return list(self.received)

    def bodies(self):
        """Return the bodies received so far."""
        with self.lock:
            return [r["body"] for r in self.received]
