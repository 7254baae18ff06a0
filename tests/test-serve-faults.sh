#!/bin/sh
# test-serve-faults: the service under faults a real system produces: the store's filesystem
# full (a small tmpfs) or read-only (remounted), and the container engine stopped while
# alerts arrive. Nothing acknowledged is lost; nothing unacknowledged is claimed; the service
# keeps answering and recovers when the fault goes.
set -u
FB=${FIREBREAK:-build/firebreak}
. tests/lib-dockerd.sh
. tests/lib-test.sh
W=$(mktemp -d /tmp/fb-serve-faults.XXXXXX)
SPID=
finish() {
        [ -z "$SPID" ] || { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
        mountpoint -q "$W/small" 2>/dev/null && umount "$W/small"
        mountpoint -q "$W/ro" 2>/dev/null && umount "$W/ro"
        dockerd_stop
        rm -rf "$W"
        summary
        exit $?
}
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
        skip "test-serve-faults: needs root (tmpfs mounts) and dockerd"
        finish
fi
mkdir -p "$W/small"
mount -t tmpfs -o size=600k tmpfs "$W/small" || { bad "mount a small tmpfs"; finish; }
dockerd_start || { bad "start a private dockerd"; finish; }
victim=$(docker run -d --name victim fb-busybox:test sleep 600)
PORT=$((20000 + ($$ + 7) % 20000))
T=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
echo "$T" > "$W/token"
printf 'rules:\n  - name: pause-all\n    match: {}\n    actions: [pause]\nguards: {max_disruptive_actions: 2}\n' > "$W/policy.yaml"
cat > "$W/fb.yaml" <<EOF
state_dir: $W/small/state
reports_dir: $W/reports
policy: $W/policy.yaml
engine: docker
docker_socket: $DT/docker.sock
sources:
  http:
    listen: 127.0.0.1:$PORT
    token_file: $W/token
EOF
start_serve() { # and wait until it answers
        "$FB" serve -c "$W/fb.yaml" >> "$W/serve.log" 2>&1 &
        SPID=$!
        i=0
        until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
                i=$((i + 1)); [ $i -gt 100 ] && { bad "serve did not start" "$(tail -5 "$W/serve.log")"; finish; }
                sleep 0.05
        done
}
start_serve
# alert UUID CONTAINER: an alert for that container, fresh
alert() {
        printf '{"uuid":"%s","rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","output_fields":{"container.id":"%s","proc.name":"3"}}' \
                "$1" "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" "$(echo "$2" | cut -c1-12)"
}
post() { curl -s -o "$W/body" -w '%{http_code}' -H "Authorization: Bearer $T" --data-binary "$1" "http://127.0.0.1:$PORT/"; }
uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }

# the engine stops while alerts arrive: stored, reported, the action fails and says why
code=$(post "$(alert "$(uuid)" "$victim")")
i=0; while [ "$(docker inspect -f '{{.State.Status}}' "$victim")" != paused ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$code" = 200 ] && [ "$(docker inspect -f '{{.State.Status}}' "$victim")" = paused ] &&
        ok "engine up: the alert's container is paused" || bad "pause through serve" "$code $(tail -3 "$W/serve.log")"
docker unpause "$victim" >/dev/null 2>&1
# the breaker gauge: closed after one pause of the two the policy allows, open after the second
metric() { curl -s -H "Authorization: Bearer $T" "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"; }
b1=$(metric firebreak_breaker_open)
code=$(post "$(alert "$(uuid)" "$victim")")
i=0; while [ "$(metric firebreak_breaker_open)" != 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
b2=$(metric firebreak_breaker_open)
if [ "$b1" = 0 ] && [ "$code" = 200 ] && [ "$b2" = 1 ] &&
        [ "$(metric 'firebreak_actions_total{action="pause",result="done"}')" = 2 ]; then
        ok "metrics: the breaker is closed after one pause, open after the second (max_disruptive_actions: 2)"
else bad "breaker gauge" "before $b1 after $b2 ($code)"; fi
docker unpause "$victim" >/dev/null 2>&1
# a restart does not reopen the breaker: it starts from the pauses the store recorded, so a
# third alert's pause is skipped (without that, a crash or restart would allow 2 more)
kill "$SPID"; wait "$SPID"; SPID=
start_serve
b3=$(metric firebreak_breaker_open)
u1=$(uuid)
code=$(post "$(alert "$u1" "$victim")")
i=0; while [ ! -s "$W/reports/$u1.md" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ "$b3" = 1 ] && [ "$code" = 200 ] && grep -q '`pause`: \*\*skipped\*\*.*breaker open' "$W/reports/$u1.md" &&
        [ "$(docker inspect -f '{{.State.Status}}' "$victim")" = running ]; then
        ok "after a restart the breaker is still open: the next pause is skipped, the container runs"
else bad "breaker across a restart" "gauge $b3, $code, $(docker inspect -f '{{.State.Status}}' "$victim")" "$(grep -A3 '## Response' "$W/reports/$u1.md" 2>&1)"; fi
saved_dt=$DT
dockerd_stop
DT=$saved_dt
u2=$(uuid)
code=$(post "$(alert "$u2" "$victim")")
i=0; while [ ! -s "$W/reports/$u2.md" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ "$code" = 200 ] && grep -q '`pause`: \*\*failed\*\*' "$W/reports/$u2.md" &&
        "$FB" show -c "$W/fb.yaml" "$u2" | grep -q '"status":"done"'; then
        ok "engine stopped: the alert is stored, reported, its action failed and recorded"
else bad "engine stopped" "$code" "$(grep -A4 '## Response' "$W/reports/$u2.md" 2>&1)"; fi

# the store's disk fills up: no acknowledgement without a commit; recovery when space returns
head -c 2000000 /dev/zero > "$W/small/filler" 2>/dev/null
n503=0; n200=0; acked=""
for k in $(seq 1 40); do
        u=$(uuid)
        code=$(post "$(alert "$u" "$victim")")
        case "$code" in
        200) n200=$((n200 + 1)); acked="$acked $u" ;;
        503) n503=$((n503 + 1)) ;;
        esac
done
if [ $n503 -gt 0 ] && grep -q 'could not commit' "$W/body"; then
        ok "disk full: $n503 of 40 refused with 503 (not acknowledged), $n200 acknowledged before it filled"
else bad "disk full" "200: $n200, 503: $n503" "$(cat "$W/body")"; fi
kill -0 "$SPID" 2>/dev/null && curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null &&
        ok "disk full: the service keeps running and answering" || bad "serve died on a full disk" "$(tail -5 "$W/serve.log")"
rm -f "$W/small/filler"
u3=$(uuid)
code=$(post "$(alert "$u3" "$victim")")
[ "$code" = 200 ] && ok "space back: acknowledged again" || bad "after disk full" "$code $(cat "$W/body")"
i=0
while "$FB" history -c "$W/fb.yaml" 2>/dev/null | grep -q '"status":"pending"' && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
missing=0
for u in $acked $u3; do
        "$FB" show -c "$W/fb.yaml" "$u" 2>/dev/null | grep -q '"status":"done"' || missing=$((missing + 1))
done
[ $missing -eq 0 ] && ok "every acknowledged alert was processed once the disk had room" ||
        bad "after disk full" "$missing acknowledged alerts not done"

kill "$SPID"; wait "$SPID"; rc=$?; SPID=
[ $rc -eq 0 ] && ok "SIGTERM after the faults: clean exit" || bad "exit after faults" "$rc"

# a store that cannot be written (read-only filesystem): refuse to start, say why. (A
# filesystem cannot be remounted read-only under SQLite's open files, so this is the start.)
mkdir -p "$W/ro"
mount -t tmpfs -o size=100k,ro tmpfs "$W/ro" || { bad "mount a read-only tmpfs"; finish; }
sed "s|state_dir: .*|state_dir: $W/ro/state|" "$W/fb.yaml" > "$W/ro.yaml"
"$FB" serve -c "$W/ro.yaml" > "$W/ro.log" 2>&1; rc=$?
umount "$W/ro"
if [ $rc -eq 2 ] && grep -qi 'read-only file system' "$W/ro.log"; then
        ok "unwritable store: the service refuses to start (exit 2) and says why"
else bad "unwritable store" "exit $rc" "$(cat "$W/ro.log")"; fi
finish
