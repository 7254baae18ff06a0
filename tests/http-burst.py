#!/usr/bin/env python3
"""http-burst: POST N distinct alerts to firebreak serve over keep-alive connections.

Usage: http-burst.py PORT TOKEN_FILE N ACKED_FILE [THREADS]
Every alert gets its own uuid. The id of each alert the service acknowledged (200) is
appended to ACKED_FILE as soon as the answer arrives, so that a crash test knows exactly what
was promised. Stops quietly when the service goes away. Prints "sent S acked A" at the end.
"""
import http.client
import json
import sys
import threading
import uuid

port, token_file, n, acked_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
token = open(token_file).read().strip()
lock = threading.Lock()
counter = {"next": 0, "sent": 0, "acked": 0}
out = open(acked_file, "a")


def alert(u):
    return json.dumps({
        "uuid": u, "rule": "Fileless execution via memfd_create", "priority": "Critical",
        "source": "syscall", "time": "2026-11-22T16:00:00.000000000Z", "hostname": "node-1",
        "tags": ["T1620"], "output_fields": {"container.id": "0123456789ab", "proc.name": "3",
                                            "proc.exepath": "memfd:program"}})


def worker():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        with lock:
            if counter["next"] >= n:
                return
            counter["next"] += 1
        u = str(uuid.uuid4())
        try:
            conn.request("POST", "/", alert(u), {"Authorization": "Bearer " + token,
                                                 "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            return
        with lock:
            counter["sent"] += 1
            if r.status == 200:
                counter["acked"] += 1
                out.write(u + "\n")
                out.flush()


ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("sent %d acked %d" % (counter["sent"], counter["acked"]))
