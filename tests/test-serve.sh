#!/bin/sh
# test-serve: `firebreak serve` with a real SQLite store, HTTP ingest (curl, wrk and a load
# client) and a FIFO: acknowledgement only after commit, dedup, auth, bad bodies, reports,
# history and show, metrics, SIGHUP with a broken policy, SIGTERM, a flood under which the
# pipeline yields to ingest, and kill -9 in the middle of a 10,000-alert burst (with another
# process opening and closing the store): after a restart every acknowledged alert is processed
# exactly once. FIFO lines keep their order, and a full FIFO does not keep SIGTERM waiting;
# --stdin reads a pipe or a file and, as the only source, stops the service once it ends and is
# processed (a service for each alert, as Falco's program_output starts one), and hints at
# compacting a pretty-printed alert; a second service on the same state directory is refused.
set -u
FB=${FIREBREAK:-build/firebreak}
. tests/lib-test.sh
W=$(mktemp -d /tmp/fb-serve.XXXXXX)
S=$(mktemp -d /tmp/fb-sock.XXXXXX) # for the unix socket: a directory others may enter
chmod 755 "$S"
SPID=
stop_serve() { # by pid: SIGTERM, then wait
        [ -n "$SPID" ] || return 0
        kill "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
        SPID=
}
finish() {
        [ -z "$SPID" ] || kill -9 "$SPID" 2>/dev/null
        [ -n "${KEEP:-}" ] || rm -rf "$W" "$S"
        summary
        exit $?
}
PORT=$((20000 + $$ % 20000))
head -c 24 /dev/urandom | base64 > "$W/token"
T=$(cat "$W/token")
head -c 24 /dev/urandom | base64 > "$W/mtoken"
MT=$(cat "$W/mtoken")
mkfifo "$W/alerts.fifo"
cp policies/policy.yaml "$W/policy.yaml"
cat > "$W/fb.yaml" <<EOF
state_dir: $W/state
reports_dir: $W/reports
policy: $W/policy.yaml
dry_run: true
engine: docker
docker_socket: $W/no-docker.sock
sources:
  fifo: $W/alerts.fifo
  http:
    listen: 127.0.0.1:$PORT
    token_file: $W/token
    metrics_token_file: $W/mtoken
    max_body: 65536
EOF
start_serve() {
        "$FB" serve -c "$W/fb.yaml" >>"$W/serve.log" 2>&1 &
        SPID=$!
        i=0
        until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
                i=$((i + 1))
                if [ $i -gt 100 ] || ! kill -0 "$SPID" 2>/dev/null; then
                        bad "serve did not start" "$(tail -5 "$W/serve.log")"; SPID=; finish
                fi
                sleep 0.05
        done
}
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; } # not a zombie
post() { curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $T" --data-binary "$@" "http://127.0.0.1:$PORT/"; }
pending_zero() { # waits for the pipeline to empty the queue
        i=0
        while [ $i -lt 600 ]; do
                if "$FB" history -c "$W/fb.yaml" > "$W/h.tmp" 2>/dev/null &&
                        ! grep -q '"status":"pending"' "$W/h.tmp"; then return 0; fi
                sleep 0.1; i=$((i + 1))
        done
        return 1
}
A=tests/data/alerts/memfd-modest_brahmagupta.json
# serve --check: what a start would refuse, found without starting anything (the token file is
# mode 644 here: a warning, not an error)
chmod 644 "$W/token"
"$FB" serve --check -c "$W/fb.yaml" >"$W/check.out" 2>"$W/check.err" && rc=0 || rc=$?
if [ $rc = 0 ] && grep -q "fb.yaml: valid; the service would run in dry-run mode (dry_run: true)" "$W/check.out" &&
        grep -q "policy $W/policy.yaml: mode enforce; 5 rules" "$W/check.out" &&
        grep -q "http 127.0.0.1:$PORT (token of 32 characters: bearer, or Basic auth password); fifo $W/alerts.fifo" "$W/check.out" &&
        grep -q "readable by others than its owner (mode 0644)" "$W/check.err" && [ ! -e "$W/state" ] &&
        ! curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
        ok "serve --check: a valid configuration summarised, the token's mode warned of; nothing created or bound"
else bad "serve --check on a valid configuration" "exit $rc" "$(cat "$W/check.out" "$W/check.err")"; fi
sed -e "s|policy: .*|policy: $PWD/tests/data/policy-invalid/bad-action.yaml|" \
        -e "s|token_file: .*|token_file: $W/no-such-token|" -e "s|fifo: .*|fifo: $W/fb.yaml|" \
        "$W/fb.yaml" > "$W/check.yaml"
"$FB" serve --check -c "$W/check.yaml" >"$W/check.out" 2>"$W/check.err" && rc=0 || rc=$?
if [ $rc = 2 ] && [ ! -s "$W/check.out" ] &&
        grep -q "bad-action.yaml:4:15: unknown action" "$W/check.err" &&
        grep -q "no-such-token: the HTTP token: No such file or directory" "$W/check.err" &&
        grep -q "sources.fifo: $W/fb.yaml: not a FIFO" "$W/check.err"; then
        ok "serve --check: a broken policy, a missing token file and a FIFO that is a file: all three named, exit 2"
else bad "serve --check on a broken setup" "exit $rc" "$(cat "$W/check.out" "$W/check.err")"; fi
sed -e "s|listen: .*|listen: localhost:$PORT|" "$W/fb.yaml" > "$W/check.yaml"
e1=$("$FB" serve --check -c "$W/check.yaml" 2>&1); e2=$("$FB" serve -c "$W/check.yaml" 2>&1)
case "$e1|$e2" in
*"check.yaml:10:13: sources.http.listen: 'localhost:$PORT' is neither IPv4-address:port"*"|"*"check.yaml:10:13: sources.http.listen"*)
        ok "a listen address that is not IPv4:port: refused with its line and column, by --check and at start" ;;
*) bad "listen: localhost" "$e1" "$e2" ;;
esac
start_serve
code=$(post @$A)
if [ "$code" = 200 ] && grep -q '"status":"stored"' "$W/body"; then ok "POST: 200 after the commit, stored"
else bad "POST" "$code $(cat "$W/body")"; fi
code=$(post @$A)
if [ "$code" = 200 ] && grep -q '"status":"duplicate"' "$W/body"; then ok "the same alert again: duplicate, stored once"
else bad "duplicate" "$code $(cat "$W/body")"; fi
code=$(curl -s -o "$W/body" -w '%{http_code}' --data-binary @$A "http://127.0.0.1:$PORT/")
[ "$code" = 401 ] && ok "no token: 401" || bad "no token" "$code"
code=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer ${T}x" --data-binary @$A "http://127.0.0.1:$PORT/")
[ "$code" = 403 ] && ok "wrong token: 403" || bad "wrong token" "$code"
# Falco's http_output sends no header of ours; libcurl makes Basic auth of the URL's user and
# password, so the token goes there, percent-encoded (the same alert again: a duplicate)
TU=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$T")
code=$(curl -s -o "$W/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @$A "http://falco:$TU@127.0.0.1:$PORT/")
if [ "$code" = 200 ] && grep -q '"status":"duplicate"' "$W/body"; then
        ok "the token as the password of Basic auth (Falco's http_output, url: http://falco:TOKEN@...): 200"
else bad "Basic auth" "$code $(cat "$W/body")"; fi
code=$(curl -s -o "$W/body" -w '%{http_code}' --data-binary @$A "http://falco:${TU}x@127.0.0.1:$PORT/")
c2=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $(printf '%s' "$T" | base64)" --data-binary @$A "http://127.0.0.1:$PORT/")
[ "$code" = 403 ] && [ "$c2" = 403 ] && ok "Basic auth with a wrong password, or with no user part: 403" ||
        bad "Basic auth, wrong" "$code $c2"
code=$(post '{"rule": 3}')
if [ "$code" = 400 ] && python3 -c 'import json,sys; assert "error" in json.load(open(sys.argv[1]))' "$W/body"; then
        ok "bad body: 400 with a JSON error"; else bad "bad body" "$code $(cat "$W/body")"; fi
head -c 70000 /dev/zero | tr '\0' ' ' > "$W/big"
code=$(post @"$W/big")
[ "$code" = 413 ] && ok "body past max_body: 413" || bad "too big" "$code"
printf '%s\n' "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); a["uuid"]="11111111-2222-4333-8444-555555555555"; print(json.dumps(a))' $A)" > "$W/alerts.fifo"
pending_zero
if [ -s "$W/reports/60df1444-1e4a-43f1-bcaa-67f76c3b5294.md" ] && [ -s "$W/reports/11111111-2222-4333-8444-555555555555.md" ]; then
        ok "reports written for the HTTP and the FIFO alert"
else bad "reports" "$(ls "$W/reports" 2>&1)" "$(tail -5 "$W/serve.log")"; fi
# a second service on the same state directory is refused (another port, no FIFO): the two
# would process the same pending alerts, each action twice, each with a breaker of its own
sed -e "s|listen: 127.0.0.1:$PORT|listen: 127.0.0.1:$((PORT + 1))|" -e '/fifo:/d' "$W/fb.yaml" > "$W/second.yaml"
"$FB" serve -c "$W/second.yaml" > "$W/second.log" 2>&1 &
P2=$!
i=0
while alive "$P2" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if alive "$P2"; then
        bad "a second service on the same state directory: still running after 5 s"
        kill "$P2"; wait "$P2" 2>/dev/null
else
        wait "$P2"; rc=$?
        if [ $rc = 2 ] && grep -q "$W/state is in use by another firebreak serve (pid $SPID)" "$W/second.log"; then
                ok "a second service on the same state directory: refused, naming the first one's pid"
        else bad "second service" "exit $rc" "$(cat "$W/second.log")"; fi
fi
"$FB" show -c "$W/fb.yaml" 60df1444-1e4a-43f1-bcaa-67f76c3b5294 > "$W/show.json"; rc=$?
if [ $rc -eq 0 ] && python3 - "$W/show.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "done" and s["source"] == "http" and s["verdict"] == "likely-test", s
assert json.loads(s["body"])["uuid"] == s["id"]
# no engine: the drill exemption (engine facts) cannot hold, so the containment rule applies
assert [a["action"] for a in s["actions"]] == ["pause", "capture", "inspect"], s["actions"]
PY
then ok "show: status, source, verdict, the body as received, the actions"
else bad "show" "exit $rc" "$(cat "$W/show.json")"; fi
"$FB" show -c "$W/fb.yaml" nope > /dev/null 2>&1; [ $? -eq 1 ] && ok "show an unknown id: exit 1" || bad "show unknown"
"$FB" show -c "$W/fb.yaml" 60DF1444 > "$W/show-prefix.json"; rc=$?
if [ $rc -eq 0 ] && cmp -s "$W/show.json" "$W/show-prefix.json"; then
        ok "show by the start of an id, in any case: the same alert"
else bad "show by the start of an id" "exit $rc" "$(cat "$W/show-prefix.json")"; fi
# history --since takes a duration as the policy writes one; everything here is seconds old,
# and nothing arrives meanwhile: 2h keeps every alert, 1s (two seconds later) none
"$FB" history -c "$W/fb.yaml" > "$W/h-all"
"$FB" history -c "$W/fb.yaml" --since 2h > "$W/h-2h"; rc=$?
sleep 2
"$FB" history -c "$W/fb.yaml" --since 1s > "$W/h-1s"; rc1=$?
"$FB" history -c "$W/fb.yaml" --since 2x > /dev/null 2> "$W/h-bad"; rc2=$?
if [ $rc = 0 ] && [ -s "$W/h-all" ] && cmp -s "$W/h-all" "$W/h-2h" && [ $rc1 = 0 ] &&
        [ ! -s "$W/h-1s" ] && [ $rc2 = 2 ] && grep -q "a duration such as 15m" "$W/h-bad"; then
        ok "history --since 2h: every alert of the last two hours; 1s: none; 2x: a usage error"
else bad "history --since" "exit $rc, $rc1, $rc2" "$(cat "$W/h-1s" "$W/h-bad")"; fi
# /metrics tells when containment is off (the breaker): never without a token. /healthz says
# "ok" and nothing more. The metrics token (a scraper's) reads metrics and cannot post alerts.
m0=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
m1=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-token-0123456789" "http://127.0.0.1:$PORT/metrics")
m2=$(curl -s -o "$W/m-mt" -w '%{http_code}' -H "Authorization: Bearer $MT" "http://127.0.0.1:$PORT/metrics")
m3=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $MT" --data-binary @tests/data/alerts/memfd-modest_brahmagupta.json "http://127.0.0.1:$PORT/")
hz=$(curl -s "http://127.0.0.1:$PORT/healthz")
if [ "$m0" = 401 ] && [ "$m1" = 403 ] && [ "$m2" = 200 ] && grep -q '^firebreak_breaker_open ' "$W/m-mt" &&
        [ "$m3" = 403 ] && [ "$hz" = ok ]; then
        ok "metrics: 401 without a token, 403 with a wrong one, 200 with the metrics token (which cannot post: 403); /healthz just ok"
else bad "metrics authentication" "no token $m0, wrong $m1, metrics token $m2, post with it $m3, healthz '$hz'"; fi
curl -s -H "Authorization: Bearer $T" "http://127.0.0.1:$PORT/metrics" > "$W/metrics"
if grep -q '^firebreak_alerts_received_total{source="http"} 1$' "$W/metrics" &&
        grep -q '^firebreak_alerts_duplicate_total{source="http"} 2$' "$W/metrics" &&
        grep -q '^firebreak_alerts_received_total{source="stream"} 1$' "$W/metrics" &&
        grep -q '^firebreak_alerts_rejected_total{source="http"} 1$' "$W/metrics" &&
        grep -q '^firebreak_alerts_processed_total{source="http"} 1$' "$W/metrics" &&
        grep -q '^firebreak_alerts_processed_total{source="stream"} 1$' "$W/metrics" &&
        grep -q '^firebreak_alerts_failed_total{source="http"} 0$' "$W/metrics" &&
        grep -q '^firebreak_queue_depth 0$' "$W/metrics" &&
        grep -q '^firebreak_breaker_open 0$' "$W/metrics"; then
        ok "metrics: received, duplicate, rejected, processed and failed by source; queue depth; breaker"
else bad "metrics" "$(grep -v '^#' "$W/metrics")"; fi
# MHD's buffer per connection is small (source_http.c): a request with 6 KB of headers (a
# proxy's, a long cookie) still gets through whole (a duplicate of the alert above)
code=$(curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $T" \
        -H "X-Padding: $(head -c 6000 /dev/zero | tr '\0' p)" --data-binary @$A "http://127.0.0.1:$PORT/")
if [ "$code" = 200 ] && grep -q '"status":"duplicate"' "$W/body"; then
        ok "6 KB of request headers: 200"; else bad "6 KB of headers" "$code $(cat "$W/body")"; fi
# Connections that never finish their headers cannot hold alerts off. 400 of them (more than
# the 256 firebreak keeps), dribbling a header line now and then and reopened as soon as the
# service closes one: ten authenticated posts, each on a new connection, all answered 200
# within the client's 5 s. Before, MHD's connection limit was the only one: a post waited in
# the kernel's backlog until an idle connection timed out (10 s), and these timed out.
# (make bench measures the time to acknowledge with and without them.)
for how in "--slow --reopen" "--silent --reopen"; do
        if out=$(python3 tests/http-hold.py "$PORT" "$T" 400 10 $how 2>&1); then
                ok "400 connections without headers ($how): $out"
        else bad "connections without headers ($how)" "$out"; fi
done
ev=$(curl -s -H "Authorization: Bearer $T" "http://127.0.0.1:$PORT/metrics" | sed -n 's/^firebreak_http_connections_evicted_total //p')
mhd=$(grep -c '^firebreak: sources.http: [A-Z]' "$W/serve.log")
if [ "${ev:-0}" -gt 0 ] && [ "$mhd" -le 10 ]; then
        ok "metrics count the $ev connections closed to make room; libmicrohttpd's messages about them are capped"
else bad "evictions counted, log capped" "evicted ${ev:-?}; $mhd lines from libmicrohttpd"; fi
# SIGHUP with a broken policy keeps the old one; a good one takes over
printf 'rules: [\n' > "$W/policy.yaml"
kill -HUP "$SPID"; sleep 0.3
if kill -0 "$SPID" 2>/dev/null && grep -q 'reload: keeping the configuration and the policy in force' "$W/serve.log"; then
        ok "SIGHUP with an invalid policy: logged, the old policy stays, still serving"
else bad "SIGHUP invalid" "$(tail -3 "$W/serve.log")"; fi
cp policies/policy.yaml "$W/policy.yaml"
kill -HUP "$SPID"; sleep 0.3
grep -q 'reload: policy .* in force' "$W/serve.log" && ok "SIGHUP with a valid policy: reloaded" || bad "SIGHUP valid" "$(tail -3 "$W/serve.log")"
# SIGHUP rereads the configuration: format and reports_dir change at once, a new listen
# address waits for a restart (and says so), a broken file changes nothing
cp "$W/fb.yaml" "$W/fb.yaml.orig"
sed -e "s|^reports_dir: .*|reports_dir: $W/reports2\nformat: json|" \
        -e "s|listen: 127.0.0.1:$PORT|listen: 127.0.0.1:$((PORT + 1))|" "$W/fb.yaml.orig" >"$W/fb.yaml"
kill -HUP "$SPID"; sleep 0.3
printf '{"uuid":"77777777-0000-4000-8000-000000000001","rule":"Terminal shell in container","priority":"Notice","source":"syscall","time":"%s","output_fields":{"container.id":"host"}}' \
        "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" >"$W/after.json"
code=$(post @"$W/after.json")
i=0; while [ ! -f "$W/reports2/77777777-0000-4000-8000-000000000001.json" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ "$code" = 200 ] && [ -f "$W/reports2/77777777-0000-4000-8000-000000000001.json" ] &&
        grep -q "reload: sources.http.listen changed: it takes effect at the next restart" "$W/serve.log"; then
        ok "SIGHUP rereads the configuration: a JSON report in the new reports_dir; the listener waits for a restart"
else bad "SIGHUP config reload" "code $code" "$(tail -3 "$W/serve.log")"; fi
printf 'format: [\n' >"$W/fb.yaml"
kill -HUP "$SPID"; sleep 0.3
if kill -0 "$SPID" 2>/dev/null && grep -q "fb.yaml:2:1: did not find expected node content" "$W/serve.log" &&
        [ "$(grep -c 'keeping the configuration' "$W/serve.log")" = 2 ]; then
        ok "SIGHUP with a broken configuration: logged, everything in force stays"
else bad "SIGHUP broken config" "$(tail -3 "$W/serve.log")"; fi
cp "$W/fb.yaml.orig" "$W/fb.yaml"
stop_serve
if ! curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then ok "SIGTERM: stopped"; else bad "SIGTERM"; fi

# a flood: while ingest commits, the pipeline yields (PIPELINE_SHARE in serve.c) and still
# makes progress: the processed count grows during the flood, and the backlog drains after it.
# wrk, since a Python client is slower than the pipeline and never makes a backlog.
start_serve
metric() { curl -s -H "Authorization: Bearer $T" "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"; }
FB_TOKEN=$T wrk -t2 -c32 -d3s -s tests/wrk-post.lua "http://127.0.0.1:$PORT/" > "$W/wrk.out" 2>&1 &
BPID=$!
sleep 1
p1=$(metric 'firebreak_alerts_processed_total{source="http"}'); sleep 1
p2=$(metric 'firebreak_alerts_processed_total{source="http"}'); y2=$(metric firebreak_pipeline_yields_total)
q2=$(metric firebreak_queue_depth)
kill -0 "$BPID" 2>/dev/null && during=yes || during=no
wait "$BPID"
pending_zero && drained=yes || drained=no
if [ "$during" = yes ] && [ "${y2:-0}" -gt 0 ] && [ "${p2:-0}" -gt "${p1:-0}" ] && [ $drained = yes ]; then
        ok "a flood: the pipeline yields to ingest ($y2 pauses) yet processes during it ($p1 -> $p2 in 1 s), then drains"
else bad "pipeline under a flood" "during=$during yields=$y2 processed $p1 -> $p2 drained=$drained" "$(tail -3 "$W/serve.log")" "$(cat "$W/wrk.out")"; fi
q3=$(metric firebreak_queue_depth)
if [ "${q2:-0}" -gt 0 ] && [ "$q3" = 0 ]; then
        ok "metrics: queue depth $q2 during the flood, 0 once drained"
else bad "queue depth gauge" "during=$q2 after=$q3"; fi
stop_serve

# kill -9 in the middle of a burst; restart; every acknowledged alert exactly once. Halfway, an
# operator opens the store and closes it again (as `sqlite3 state.db` would): that must not take
# the WAL from the service, or what it acknowledges after is lost with the kill.
start_serve
: > "$W/acked"
python3 tests/http-burst.py "$PORT" "$W/token" 10000 "$W/acked" 4 > "$W/burst.out" 2>&1 &
BPID=$!
i=0
while [ "$(wc -l < "$W/acked" 2>/dev/null || echo 0)" -lt 1000 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("SELECT count(*) FROM alerts").fetchone(); db.close()' "$W/state/state.db"
if [ -e "$W/state/state.db-wal" ]; then ok "another process opened and closed the store: the service's WAL is still there"
else bad "another process's close deleted the service's WAL"; fi
while [ "$(wc -l < "$W/acked" 2>/dev/null || echo 0)" -lt 2000 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$SPID"; wait "$SPID" 2>/dev/null; SPID=
wait "$BPID"
acked=$(wc -l < "$W/acked")
start_serve
pending_zero || bad "the queue did not drain after the restart"
"$FB" history -c "$W/fb.yaml" > "$W/history"
nd=$("$FB" history -c "$W/fb.yaml" --status done | grep -c '"status":"done"')
nn=$("$FB" history -c "$W/fb.yaml" --status done | grep -vc '"status":"done"')
np=$("$FB" history -c "$W/fb.yaml" --status pending | wc -l)
if [ "$nd" -gt 0 ] && [ "$nd" = "$(grep -c '"status":"done"' "$W/history")" ] && [ "$nn" = 0 ] && [ "$np" = 0 ]; then
        ok "history --status done: the $nd done alerts and nothing else; --status pending: none once drained"
else bad "history --status" "done $nd (others $nn), pending $np"; fi
if python3 - "$W/history" "$W/acked" "$W/reports" "$W/state/state.db" <<'PY'
import json, os, sqlite3, sys
hist = [json.loads(l) for l in open(sys.argv[1])]
acked = [l.strip() for l in open(sys.argv[2]) if l.strip()]
by_id = {h["id"]: h for h in hist}
missing = [a for a in acked if a not in by_id]
assert not missing, "%d acknowledged alerts lost, e.g. %s" % (len(missing), missing[:3])
notdone = [a for a in acked if by_id[a]["status"] != "done"]
assert not notdone, "%d not done" % len(notdone)
db = sqlite3.connect(sys.argv[4])
counts = dict(db.execute("SELECT alert_id, count(*) FROM actions GROUP BY alert_id").fetchall())
# the policy plans pause, capture, inspect: one set of three per alert, never two
dups = [(a, counts.get(a)) for a in acked if counts.get(a) != 3]
assert not dups, "alerts with other than one set of actions: %s" % dups[:3]
assert len(hist) == len(by_id), "an id stored twice"
for a in acked:
    assert os.path.exists(os.path.join(sys.argv[3], a + ".md")), a
print("%d acknowledged, %d stored, all done once" % (len(acked), len(hist)))
PY
then ok "kill -9 mid-burst ($acked acknowledged before the kill): after restart each is processed exactly once, none lost"
else bad "crash safety" "$(cat "$W/burst.out")" "$(tail -5 "$W/serve.log")"; fi
stop_serve

# the FIFO: the lines of a write are committed together, stored in their order, and a bad line
# among them is named by its number; a writer that keeps the FIFO full does not keep the service
# from its signals: SIGTERM is answered while it writes
start_serve
python3 - "$A" > "$W/fifo-lines" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
for i in range(300):
    if i == 150:
        print('{"rule": 3}')  # line 151
    a["uuid"] = "f1f00000-0000-4000-8000-%012x" % i
    print(json.dumps(a, separators=(",", ":")))
PY
cat "$W/fifo-lines" > "$W/alerts.fifo"
pending_zero || bad "the FIFO's alerts were not processed"
"$FB" history -c "$W/fb.yaml" > "$W/history"
if python3 - "$W/history" <<'PY'
import json, sys
ids = [h["id"] for h in map(json.loads, open(sys.argv[1])) if h["id"].startswith("f1f00000-")]
want = ["f1f00000-0000-4000-8000-%012x" % i for i in range(300)]
assert ids == want, "%d stored, first out of order at %s" % (len(ids), next((i for i, (x, y) in enumerate(zip(ids, want)) if x != y), None))
PY
then
        if grep -q "stream line 151: rejected" "$W/serve.log"; then
                ok "FIFO: 300 alerts in one write stored in their order; the bad line named (line 151)"
        else bad "FIFO bad line" "$(grep 'stream line' "$W/serve.log" | tail -3)"; fi
else bad "FIFO order" "$(tail -3 "$W/serve.log")"; fi
yes "$(sed -n 1p "$W/fifo-lines")" > "$W/alerts.fifo" &
YPID=$!
sleep 1
kill "$SPID"
i=0
while alive "$SPID" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if alive "$SPID"; then
        bad "SIGTERM while a writer keeps the FIFO full: still running after 10 s"
        kill -9 "$SPID"
else ok "SIGTERM while a writer keeps the FIFO full: the service stops (after $((i * 100)) ms at most)"; fi
wait "$SPID" 2>/dev/null; SPID=
kill "$YPID" 2>/dev/null; wait "$YPID" 2>/dev/null
# what the writer left in the FIFO goes with it
rm -f "$W/alerts.fifo"; mkfifo "$W/alerts.fifo"

# serve --stdin: from a pipe (Falco's program_output), and from a file, which epoll cannot
# watch and which is read a turn at a time to its end. Standard input as the only source: once
# it ends and what it brought is processed, the service stops by itself, exit 0 (Falco's
# program_output starts the program for each alert unless keep_alive is true, and waits for
# it to exit).
cat > "$W/stdin.yaml" <<EOF
state_dir: $W/stdin-state
reports_dir: $W/stdin-reports
policy: $W/policy.yaml
dry_run: true
engine: docker
docker_socket: $W/no-docker.sock
EOF
n=$(grep -c . tests/data/alerts/stable-rules.jsonl)
# waits up to 10 s for SPID to exit by itself; its status in rc (124: still running)
wait_exit() {
        i=0
        while [ $i -lt 100 ] && alive "$SPID"; do sleep 0.1; i=$((i + 1)); done
        if alive "$SPID"; then rc=124; stop_serve; else wait "$SPID"; rc=$?; SPID=; fi
}
for how in pipe file; do
        rm -rf "$W/stdin-state" "$W/stdin-reports"
        : > "$W/stdin.log"
        if [ $how = pipe ]; then
                cat tests/data/alerts/stable-rules.jsonl | "$FB" serve -c "$W/stdin.yaml" --stdin >> "$W/stdin.log" 2>&1 &
        else
                "$FB" serve -c "$W/stdin.yaml" --stdin < tests/data/alerts/stable-rules.jsonl >> "$W/stdin.log" 2>&1 &
        fi
        SPID=$!
        wait_exit
        d=$("$FB" history -c "$W/stdin.yaml" --status done 2>/dev/null | wc -l)
        if [ "$d" = "$n" ] && [ $rc = 0 ] &&
                grep -q "standard input ended (alerts stored: $n, duplicates: 0, lines rejected: 0)" "$W/stdin.log"; then
                ok "serve --stdin from a $how: the $n alerts stored and processed, then exit 0 by itself"
        else bad "serve --stdin from a $how" "$d of $n done, exit $rc" "$(tail -3 "$W/stdin.log")"; fi
done
# program_output without keep_alive: a process for each alert, one after the other, each
# stopping once its alert is processed; the repeat of the first is a duplicate
rm -rf "$W/stdin-state" "$W/stdin-reports"
: > "$W/stdin.log"
k=0
for l in 1 2 3 1; do
        sed -n "${l}p" tests/data/alerts/stable-rules.jsonl > "$W/one.json"
        timeout 10 "$FB" serve -c "$W/stdin.yaml" --stdin < "$W/one.json" >> "$W/stdin.log" 2>&1 && k=$((k + 1))
done
d=$("$FB" history -c "$W/stdin.yaml" --status done 2>/dev/null | wc -l)
if [ $k = 4 ] && [ "$d" = 3 ] && [ "$(grep -c 'alerts stored: 1, duplicates: 0' "$W/stdin.log")" = 3 ] &&
        grep -q 'alerts stored: 0, duplicates: 1' "$W/stdin.log"; then
        ok "a service for each alert, as program_output starts it: each stops once its alert is processed"
else bad "a service for each alert" "$k exited 0, $d done" "$(tail -3 "$W/stdin.log")"; fi
# a pretty-printed alert on standard input: its lines are rejected one by one, and the first
# error says once how to compact it
"$FB" serve -c "$W/stdin.yaml" --stdin < tests/data/alerts/memfd-modest_brahmagupta.json > "$W/stdin.log" 2>&1 &
SPID=$!
wait_exit
if [ $rc = 0 ] && [ "$(grep -c 'jq -c . FILE' "$W/stdin.log")" = 1 ] &&
        grep -q '^firebreak: stream line 1: rejected: .*jq -c . FILE' "$W/stdin.log"; then
        ok "a pretty-printed alert on standard input: rejected, and the first error says how to compact it"
else bad "pretty-printed alert on standard input" "exit $rc" "$(head -3 "$W/stdin.log")"; fi
# beside another source (here the FIFO), the end of standard input stops nothing
sed -e "s|^state_dir: .*|state_dir: $W/stdin-state2|" "$W/stdin.yaml" > "$W/stdin2.yaml"
printf 'sources:\n  fifo: %s\n' "$W/stdin.fifo" >> "$W/stdin2.yaml"
mkfifo "$W/stdin.fifo"
"$FB" serve -c "$W/stdin2.yaml" --stdin < "$W/one.json" > "$W/stdin.log" 2>&1 &
SPID=$!
i=0
while [ $i -lt 100 ] && ! "$FB" history -c "$W/stdin2.yaml" --status done 2>/dev/null | grep -q .; do
        sleep 0.1; i=$((i + 1))
done
sleep 1
d=$("$FB" history -c "$W/stdin2.yaml" --status done 2>/dev/null | wc -l)
if [ "$d" = 1 ] && alive "$SPID" && ! grep -q 'standard input ended' "$W/stdin.log"; then
        ok "serve --stdin beside a FIFO: its alert processed, standard input ends, the service goes on"
else bad "serve --stdin beside a FIFO" "$d done" "$(tail -3 "$W/stdin.log")"; fi
stop_serve
rm -f "$W/stdin.fifo"

# retention: processed alerts older than it go, with their actions and reports; the id is then
# new again (an alert is a duplicate for as long as it is stored). The policy's breaker window
# is kept whatever the retention, so this policy's is 1 s.
printf 'guards: {window: 1s}\nrules:\n  - name: look\n    match: {}\n    actions: [inspect]\n' > "$W/rpolicy.yaml"
sed -e "s|^policy: .*|policy: $W/rpolicy.yaml|" -e "s|^state_dir: .*|state_dir: $W/rstate|" \
        -e "s|^reports_dir: .*|reports_dir: $W/rreports|" "$W/fb.yaml" > "$W/rfb.yaml"
echo 'retention: 2s' >> "$W/rfb.yaml"
mv "$W/fb.yaml" "$W/fb.yaml.main"; cp "$W/rfb.yaml" "$W/fb.yaml"
start_serve
code=$(post @$A)
ID=60df1444-1e4a-43f1-bcaa-67f76c3b5294
i=0; while [ ! -s "$W/rreports/$ID.md" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$W/rreports/$ID.md" ] && had=yes || had=no
i=0; while "$FB" history -c "$W/fb.yaml" | grep -q "$ID" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pruned=$(metric firebreak_alerts_pruned_total)
if [ "$code" = 200 ] && [ $had = yes ] && ! "$FB" history -c "$W/fb.yaml" | grep -q "$ID" &&
        [ ! -e "$W/rreports/$ID.md" ] && [ "$pruned" = 1 ] && grep -q 'retention: deleted 1 alerts' "$W/serve.log"; then
        ok "retention 2s: the processed alert, its actions and its report are deleted (pruned_total 1)"
else bad "retention" "code $code report $had pruned $pruned" "$(tail -3 "$W/serve.log")"; fi
code=$(post @$A)
grep -q '"status":"stored"' "$W/body" && ok "retention: the same alert after it is new again (stored, not a duplicate)" ||
        bad "retention: dedup window" "$code $(cat "$W/body")"
stop_serve
mv "$W/fb.yaml.main" "$W/fb.yaml"

# a unix socket instead of a token: the peer's uid (SO_PEERCRED) decides, root only by default
sed -e "s|^state_dir: .*|state_dir: $W/ustate|" -e "s|^reports_dir: .*|reports_dir: $W/ureports|" \
        -e "s|listen: .*|listen: unix:$S/ingest.sock|" -e '/fifo:/d' -e '/token_file:/d' \
        "$W/fb.yaml" > "$W/unix.yaml"
ustart() {
        "$FB" serve -c "$1" >>"$W/userve.log" 2>&1 &
        SPID=$!
        i=0
        until curl -sf --unix-socket "$S/ingest.sock" http://localhost/healthz >/dev/null 2>&1; do
                i=$((i + 1))
                if [ $i -gt 100 ] || ! kill -0 "$SPID" 2>/dev/null; then
                        bad "serve on a unix socket did not start" "$(tail -5 "$W/userve.log")"; SPID=; finish
                fi
                sleep 0.05
        done
}
upost() { curl -s -o "$W/body" -w '%{http_code}' --unix-socket "$S/ingest.sock" --data-binary @$A http://localhost/; }
# configuration errors name the key, the line and the column
cfgerr() { printf 'sources:\n  http:\n%s\n' "$1" > "$W/bad.yaml"; "$FB" serve -c "$W/bad.yaml" 2>&1; }
e1=$(cfgerr '    listen: unix:relative/ingest.sock'); e2=$(cfgerr '    listen: 127.0.0.1:9')
e3=$(cfgerr "    listen: unix:$S/x.sock
    peer_uids: [root]")
case "$e1|$e2|$e3" in
*"bad.yaml:3:5: sources.http.listen: unix: needs an absolute path"*"|"*"bad.yaml:3:5: sources.http needs 'token_file'"*"|"*"bad.yaml:4:17: peer_uids[0]: not a numeric uid"*)
        ok "configuration: a relative socket path, TCP without a token, a uid by name: each refused with its place" ;;
*) bad "unix socket configuration errors" "$e1" "$e2" "$e3" ;;
esac
: > "$S/ingest.sock" # a regular file where the socket goes is refused, never removed
"$FB" serve -c "$W/unix.yaml" >"$W/ufail.log" 2>&1 && urc=0 || urc=$?
if [ $urc = 2 ] && grep -q "ingest.sock: File exists" "$W/ufail.log" && [ -f "$S/ingest.sock" ]; then
        ok "unix socket: a regular file at its path is refused, and left alone"
else bad "unix socket over a file" "exit $urc" "$(cat "$W/ufail.log")"; fi
rm -f "$S/ingest.sock"
ustart "$W/unix.yaml"
code=$(upost)
mode=$(stat -c %a "$S/ingest.sock")
if [ "$code" = 200 ] && grep -q '"status":"stored"' "$W/body" && [ "$mode" = 660 ]; then
        ok "unix socket (mode 660): root posts without a token, 200 after the commit"
else bad "unix socket as root" "$code mode $mode $(cat "$W/body")"; fi
# (a state directory of its own: the first one's is locked)
sed -e "s|^state_dir: .*|state_dir: $W/ustate2|" "$W/unix.yaml" > "$W/unix2.yaml"
"$FB" serve -c "$W/unix2.yaml" >"$W/ufail.log" 2>&1 && urc=0 || urc=$?
if [ $urc = 2 ] && grep -q "ingest.sock: Address already in use" "$W/ufail.log" && [ "$(upost)" = 200 ]; then
        ok "unix socket: a second service on a socket in use refuses to start; the first keeps it"
else bad "unix socket in use" "exit $urc" "$(cat "$W/ufail.log")"; fi
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
        # the file mode keeps others out; opened up to all, the peer check still refuses them
        nobody curl -s -o /dev/null --unix-socket "$S/ingest.sock" http://localhost/healthz && c0=yes || c0=no
        chmod 666 "$S/ingest.sock"
        code=$(nobody curl -s -o - -w '%{http_code}' --unix-socket "$S/ingest.sock" --data-binary @$A http://localhost/)
        if [ $c0 = no ] && case "$code" in *'uid 65534 may not post alerts here'*403) true ;; *) false ;; esac; then
                ok "unix socket: another uid cannot connect (660), and with the file opened to all gets 403 from the peer check"
        else bad "unix socket peer check" "connect as nobody: $c0; post: $code"; fi
        stop_serve
        [ ! -e "$S/ingest.sock" ] && ok "unix socket: removed at stop" || bad "socket left after stop"
        # the same uid, listed in peer_uids, is accepted: the 403 was the peer check's
        # (the socket is then 0666: a listed uid must be able to connect)
        printf '    peer_uids: [0, 65534]\n' >> "$W/unix.yaml"
        ustart "$W/unix.yaml"
        code=$(nobody curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S/ingest.sock" --data-binary @$A http://localhost/)
        mode=$(stat -c %a "$S/ingest.sock")
        [ "$code" = 200 ] && [ "$mode" = 666 ] && ok "unix socket: uid 65534 in peer_uids posts (200; socket 666)" ||
                bad "peer_uids listed" "$code mode $mode"
else
        skip "unix socket peer check: needs root and setpriv to post as another uid"
fi
# a socket file left by a killed run is replaced at the next start
kill -9 "$SPID"; wait "$SPID" 2>/dev/null; SPID=
[ -S "$S/ingest.sock" ] && left=yes || left=no
ustart "$W/unix.yaml"
[ $left = yes ] && [ "$(upost)" = 200 ] && ok "unix socket: the file a killed run left is replaced at the next start" ||
        bad "stale socket" "left: $left"
stop_serve
finish
