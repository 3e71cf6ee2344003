"""A webhook receiver on loopback that answers from a script and keeps what it received."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"


class Receiver:
    """Answers each POST with the next scripted status (then `default`); HANG never answers."""

    def __init__(self, script=(), default=200, delay=0.0):
        self.script, self.default, self.delay = list(script), default, delay
        self.received = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.received.append({"headers": dict(self.headers), "body": body,
                                              "answer": answer})
                if answer == HANG:
                    receiver.release.wait(30)
                    return
                time.sleep(receiver.delay)
                self.send_response(answer)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def bodies(self):
        """Return the bodies received so far."""
        with self.lock:
            return [r["body"] for r in self.received]
