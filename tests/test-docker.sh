#!/bin/sh
# test-docker: the engine layer and `firebreak container` against a real dockerd started here.
set -u
FB=${FIREBREAK:-build/firebreak}
BUILD=${BUILD:-build}
. tests/lib-dockerd.sh
. tests/lib-test.sh
finish() {
        dockerd_stop
        summary
        exit $?
}
trap 'dockerd_stop' INT TERM

if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
        skip "test-docker: needs root and dockerd (run .ci/install-deps test as root)"
        finish
fi
dockerd_start || { bad "start a private dockerd"; finish; }
ok "private dockerd is up"

# the docker CLI warns about disabled networking on every run: keep that in a log
cli_log="$DT/docker-cli.log"
running=$(docker run -d --name fb-test-running fb-busybox:test \
        sh -c 'echo to-stdout; echo to-stderr >&2; touch /tmp/dropped; exec sleep 600' 2>>"$cli_log")
decoy=$(docker run -d --name "$(echo "$running" | cut -c1-12)" fb-busybox:test sleep 600 2>>"$cli_log")
created=$(docker create --name fb-test-created fb-busybox:test sleep 600 2>>"$cli_log")
victim=$(docker run -d --name fb-test-victim fb-busybox:test sleep 600 2>>"$cli_log")
victim2=$(docker run -d --name fb-test-victim2 fb-busybox:test sleep 600 2>>"$cli_log")
# enough containers that two must share a first hex digit
for i in $(seq 1 16); do docker create fb-busybox:test true >/dev/null 2>>"$cli_log"; done
ambiguous=$(docker ps -aq --no-trunc | cut -c1 | sort | uniq -d | head -n 1)
sleep 1

FB_TEST_DOCKER_SOCK="$DT/docker.sock" FB_TEST_RUNNING=$running FB_TEST_DECOY=$decoy \
        FB_TEST_CREATED=$created FB_TEST_AMBIGUOUS=$ambiguous FB_TEST_VICTIM=$victim \
        FB_TEST_VICTIM2=$victim2 "$BUILD/tests/docker-engine" > "$DT/unit.log" 2>&1
cat "$DT/unit.log" | grep -v 'passed, '
line=$(grep -E '^[0-9]+ passed' "$DT/unit.log")
passed=$((passed + ${line%% passed*})); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
failed=$((failed + ${f:-1}))

short=$(echo "$running" | cut -c1-12)

if "$FB" container pause "$short" > "$DT/out" 2>&1 && [ "$(state "$running")" = paused ] &&
        [ "$(state "$decoy")" = running ]; then
        ok "container pause <12 hex> pauses that id, not the container named like it"
else bad "container pause by short id" "$(cat "$DT/out")" "running: $(state "$running"), decoy: $(state "$decoy")"; fi
if "$FB" container pause "$short" | grep -q "^already paused $running"; then ok "pause again: already paused, exit 0"
else bad "pause is idempotent"; fi
if "$FB" container inspect "$short" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["state"]=="paused" and d["name"]=="fb-test-running"'; then
        ok "container inspect prints JSON"; else bad "container inspect prints JSON"; fi
if "$FB" container unpause "$short" >/dev/null && [ "$(state "$running")" = running ]; then
        ok "container unpause"; else bad "container unpause"; fi
"$FB" container pause ffffffffffff00 2>"$DT/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "no container has an id starting with" "$DT/err"; then ok "unknown id: exit 1, clear message"
else bad "unknown id" "exit $rc: $(cat "$DT/err")"; fi
"$FB" container pause "$ambiguous" 2>"$DT/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "more than one container" "$DT/err"; then ok "ambiguous id refused: exit 1"
else bad "ambiguous id" "exit $rc: $(cat "$DT/err")"; fi
"$FB" container pause "$(echo "$created" | cut -c1-12)" 2>"$DT/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "is not running" "$DT/err"; then ok "pausing a stopped container: exit 1, engine's reason"
else bad "pause a created container" "exit $rc: $(cat "$DT/err")"; fi
"$FB" container pause 'x$(id)' 2>"$DT/err"; rc=$?
if [ $rc -eq 2 ]; then ok "a non-hex id is a usage error"; else bad "non-hex id" "exit $rc"; fi

# the engine goes away mid-run: a clear error, no crash
saved_sock="$DT/docker.sock"
dockerd_stop
err=$(mktemp)
"$FB" container --docker-socket "$saved_sock" inspect "$short" 2>"$err" >/dev/null; rc=$?
if [ $rc -eq 4 ] && grep -q "cannot reach Docker at $saved_sock or containerd at .*: Connection refused" "$err"; then
        ok "engine stopped: exit 4, a clear message naming the sockets tried"
else bad "engine stopped" "exit $rc: $(cat "$err")"; fi
rm -f "$err"

# An engine whose Api-Version is not a version. A stand-in, since a real dockerd cannot be made
# to send one: the header becomes the prefix of every request path, so "1.41/../../x" would
# have steered the calls before the check (any header starting with a digit and holding a dot
# was taken).
fake=$(mktemp -d /tmp/fb-fake-docker.XXXXXX)
python3 - "$fake/docker.sock" <<'PY' &
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Api-Version", "1.41/../../evil")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")
    def log_message(self, *a): pass
class S(socketserver.UnixStreamServer):
    def get_request(self):
        r, _ = super().get_request(); return r, ("local", 0)
s = S(sys.argv[1], H); s.timeout = 10
for _ in range(4): s.handle_request()
PY
fpid=$!
i=0; while [ ! -S "$fake/docker.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
"$FB" container --engine docker --docker-socket "$fake/docker.sock" inspect "$short" >/dev/null 2>"$fake/err"; rc=$?
if [ $rc -eq 4 ] && grep -q "Api-Version header is not a version" "$fake/err"; then
        ok "an engine's Api-Version that is not major.minor is refused (exit 4), never put in a path"
else bad "bad Api-Version" "exit $rc: $(cat "$fake/err")"; fi
kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
rm -rf "$fake"
finish
