#!/usr/bin/env python3
"""http-hold: connections that never finish their headers, against firebreak serve's HTTP source,
and authenticated posts measured through them.

Usage: http-hold.py PORT TOKEN HOLD POSTS [--slow] [--reopen]
Opens HOLD connections to 127.0.0.1:PORT that send the start of a POST and never finish its
headers (--slow: one more header line on each, every 0.2 s, so that no idle timeout ends them;
--reopen: a connection the server closes is opened again at once, as an attacker who holds the
service off would). Then sends POSTS authenticated alerts, each on a new connection as Falco's
http_output may, one after the other, and prints one line:
  "posts P ok O; ack ms: median M max X; held H; closed by the server C; reopened R"
Exits 0 when every post got its 200 within 5 s (the client's timeout), 1 otherwise.
Run with no HOLD (0) it measures the same posts without an attacker: the baseline.
"""
import http.client, json, socket, statistics, sys, threading, time, uuid

port, token, hold, posts = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
slow, reopen = "--slow" in sys.argv, "--reopen" in sys.argv
silent = "--silent" in sys.argv
stop = threading.Event()
lock = threading.Lock()
socks, stats = [], {"closed": 0, "reopened": 0}


def open_one():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if not silent:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
    s.setblocking(False)
    return s


def holder():
    n = 0
    while not stop.is_set():
        time.sleep(0.005)
        n += 1
        with lock:
            for i, s in enumerate(socks):
                if s is None:
                    continue
                gone = False
                try:
                    gone = s.recv(4096) == b""
                except BlockingIOError:
                    pass
                except OSError:
                    gone = True
                if not gone and slow and n % 40 == 0:
                    try:
                        s.send(b"X-Slow: 1\r\n")
                    except OSError:
                        gone = True
                if gone:
                    stats["closed"] += 1
                    s.close()
                    if reopen:
                        try:
                            socks[i] = open_one()
                            stats["reopened"] += 1
                        except OSError:
                            socks[i] = None
                    else:
                        socks[i] = None


for _ in range(hold):
    socks.append(open_one())
t = threading.Thread(target=holder, daemon=True)
t.start()
time.sleep(0.5)
lat, good = [], 0
for k in range(posts):
    body = json.dumps({"uuid": str(uuid.uuid4()), "rule": "Terminal shell in container",
                       "priority": "Notice", "source": "syscall",
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()),
                       "output_fields": {"container.id": "host", "proc.name": "sh"}})
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("POST", "/", body, {"Authorization": "Bearer " + token,
                                      "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        good += r.status == 200
        c.close()
    except OSError:
        pass
    lat.append((time.monotonic() - t0) * 1000)
    time.sleep(0.05)
stop.set()
t.join()
with lock:
    for s in socks:
        if s is not None:
            s.close()
print("posts %d ok %d; ack ms: median %.1f max %.1f; held %d; closed by the server %d; reopened %d"
      % (posts, good, statistics.median(lat), max(lat), hold, stats["closed"], stats["reopened"]))
sys.exit(0 if good == posts else 1)
