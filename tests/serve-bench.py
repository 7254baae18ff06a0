#!/usr/bin/env python3
"""serve-bench: `make bench` figures for firebreak serve.

Usage: serve-bench.py FIREBREAK N
Starts the service (dry-run, no engine) with HTTP ingest on loopback and a private
NOTIFY_SOCKET, and measures: time from exec to READY=1 (median of 5 starts); sustained
acknowledged ingest with durability (every 200 is a committed SQLite transaction), N alerts
over 8 keep-alive connections; the p50/p99 time to acknowledge at a paced 1,000 alerts/s; peak
RSS of the service (VmHWM). Stops the service by its pid and removes what it created.
"""
import http.client, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile
import threading, time, uuid

fb, n = sys.argv[1], int(sys.argv[2])
work = tempfile.mkdtemp(prefix="fb-serve-bench.")
port = 30000 + os.getpid() % 20000
token = "t" * 32
open(os.path.join(work, "token"), "w").write(token)
open(os.path.join(work, "fb.yaml"), "w").write(
    "state_dir: %s/state\nreports_dir: %s/reports\npolicy: policies/policy.yaml\ndry_run: true\n"
    "engine: docker\ndocker_socket: %s/none.sock\nsources:\n  http:\n    listen: 127.0.0.1:%d\n"
    "    token_file: %s/token\n" % (work, work, work, port, work))


def alert(u):
    return json.dumps({"uuid": u, "rule": "Fileless execution via memfd_create",
                       "priority": "Critical", "source": "syscall",
                       "time": "2026-11-22T16:00:00.000000000Z", "tags": ["T1620"],
                       "output_fields": {"container.id": "0123456789ab", "proc.name": "3"}})


def start():
    sock_path = os.path.join(work, "notify.sock")
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    t0 = time.monotonic()
    p = subprocess.Popen([fb, "serve", "-c", os.path.join(work, "fb.yaml")], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        msg = s.recv(4096).decode()
        if "READY=1" in msg.split("\n"):
            break
    ready = time.monotonic() - t0
    s.close()
    return p, ready


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def post(conn, body):
    conn.request("POST", "/", body, {"Authorization": "Bearer " + token})
    r = conn.getresponse()
    r.read()
    return r.status


try:
    readies = []
    for _ in range(5):
        p, r = start()
        readies.append(r)
        stop(p)
    p, _ = start()
    # sustained ingest
    bodies = [alert(str(uuid.uuid4())) for _ in range(n)]
    idx = {"i": 0}
    lock = threading.Lock()

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if idx["i"] >= n:
                    return
                b = bodies[idx["i"]]
                idx["i"] += 1
            assert post(c, b) == 200

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    rate = n / (time.monotonic() - t0)
    # paced 1,000/s for 3 s: time to acknowledge
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat = []
    start_t = time.monotonic()
    for k in range(3000):
        due = start_t + k / 1000.0
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        b = alert(str(uuid.uuid4()))
        t1 = time.monotonic()
        assert post(c, b) == 200
        lat.append((time.monotonic() - t1) * 1000)
    lat.sort()
    hwm = [l for l in open("/proc/%d/status" % p.pid) if l.startswith("VmHWM")][0].split()[1]
    # an authenticated post, each on a new connection, alone and behind 400 connections that
    # never finish their headers (dribbling, reopened when closed): tests/http-hold.py
    holds = []
    for hold, how in ((0, []), (400, ["--slow", "--reopen"])):
        out = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "http-hold.py"),
                              str(port), token, str(hold), "50"] + how,
                             capture_output=True, text=True).stdout.strip()
        holds.append(out)
    stop(p)
    print("bench: serve READY=1 after %.1f ms (median of 5 starts)" % (statistics.median(readies) * 1000))
    print("bench: serve ingest, durable (200 after the SQLite commit), 8 connections: %.0f alerts/s" % rate)
    print("bench: serve time to acknowledge at 1,000 alerts/s: p50 %.2f ms, p99 %.2f ms" %
          (lat[len(lat) // 2], lat[len(lat) * 99 // 100]))
    print("bench: serve peak RSS under that load: %s KiB" % hwm)
    med = [float(h.split("median ")[1].split()[0]) if "median " in h else 0 for h in holds]
    print("bench: serve time to acknowledge a post on a new connection (50 posts): alone: %s" % holds[0])
    print("bench: ... behind 400 connections without headers: %s; median %.2fx alone" %
          (holds[1], med[1] / med[0] if med[0] else 0))
finally:
    shutil.rmtree(work, ignore_errors=True)
