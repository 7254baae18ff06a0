#!/usr/bin/env python3
"""webhook-receiver: a real HTTP receiver on loopback for the notify tests.

Usage: webhook-receiver.py DIR [--fail-first N] [--hang SECONDS]
Listens on 127.0.0.1 (a free port, written to DIR/port), records every POST as one JSON line
in DIR/requests.jsonl (path, headers, body, time), and answers 204; the first N requests get
503, and with --hang it waits that long before answering. Stops on SIGTERM.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
args = sys.argv[2:]
FAIL_FIRST = int(args[args.index("--fail-first") + 1]) if "--fail-first" in args else 0
HANG = float(args[args.index("--hang") + 1]) if "--hang" in args else 0.0
lock = threading.Lock()
count = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        try:
            report = json.loads(body).get("report")
        except (ValueError, AttributeError):
            report = None
        # the message names the report: it must exist when the message arrives
        report_exists = bool(report) and os.path.exists(report)
        with lock:
            count += 1
            mine = count
            with open(os.path.join(DIR, "requests.jsonl"), "a") as f:
                f.write(json.dumps({"n": mine, "path": self.path, "time": time.time(),
                                    "headers": dict(self.headers), "body": body,
                                    "report_exists": report_exists}) + "\n")
        if HANG:
            time.sleep(HANG)
        self.send_response(503 if mine <= FAIL_FIRST else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
tmp = os.path.join(DIR, "port.tmp")
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, os.path.join(DIR, "port"))
srv.serve_forever()
