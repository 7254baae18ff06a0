#!/usr/bin/env python3
"""hook-rx: a webhook receiver on 127.0.0.1 for tests, behaving badly on purpose.

Usage: hook-rx.py PORT MODE LOG
MODE redirect: answers every POST with 307 to http://127.0.0.1:PORT+1/stolen (where a second
listener of this script, mode record, would take the body and headers); record: answers 200;
silent: reads the request and never answers. Each request is logged to LOG as one JSON line
(path and headers). Runs until killed.
"""
import json, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, mode, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        with lock, open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers)}) + "\n")
        if mode == "silent":
            time.sleep(3600)
            return
        if mode == "redirect":
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:%d/stolen" % (port + 1))
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class S(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True


S(("127.0.0.1", port), H).serve_forever()
