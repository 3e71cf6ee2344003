import sys, json, time, threading, sqlite3
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
DB = sys.argv[2]; lock = threading.Lock()
con = sqlite3.connect(DB, check_same_thread=False)
con.execute("create table if not exists hits(t real, path text, eid text, attempt int, code int)")
seen = {}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        eid = self.headers.get("X-Webhook-Id"); att = int(self.headers.get("X-Webhook-Attempt", 0))
        p = self.path; code = 200
        with lock:
            n = seen.get((p, eid), 0); seen[(p, eid)] = n + 1
        if p.startswith("/slow"): time.sleep(float(p.split("=")[1]))
        if p.startswith("/hang"): time.sleep(3600)
        if p.startswith("/flaky") and n == 0: code = 500
        if p.startswith("/500"): code = 500
        with lock:
            con.execute("insert into hits values(?,?,?,?,?)", (time.time(), p, eid, att, code)); con.commit()
        out = b"ok"
        self.send_response(code); self.send_header("Content-Length", str(len(out)))
        if p.startswith("/closehdr"): self.send_header("Connection", "close")
        self.end_headers(); self.wfile.write(out); self.wfile.flush()
        if p.startswith("/rudeclose"):  # close without telling
            self.close_connection = True
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
