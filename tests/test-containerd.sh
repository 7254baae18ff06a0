#!/bin/sh
# test-containerd: the engine interface through containerd's gRPC API, against the real
# containerd that the private test dockerd runs (namespace moby). States are observed through
# containerd itself (ctr) and through Docker, which follows containerd's events.
set -u
FB=${FIREBREAK:-build/firebreak}
. tests/lib-dockerd.sh
. tests/lib-test.sh
finish() {
        [ -z "${CPID:-}" ] || kill -CONT "$CPID" 2>/dev/null
        dockerd_stop
        rm -rf "${W:-}"
        summary
        exit $?
}
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null || ! command -v ctr >/dev/null; then
        skip "test-containerd: needs root, dockerd and ctr (run .ci/install-deps test as root)"
        finish
fi
W=$(mktemp -d /tmp/fb-containerd.XXXXXX)
dockerd_start || { bad "start a private dockerd"; finish; }
S="$DT/exec/containerd/containerd.sock"
C="--engine containerd --containerd-socket $S"
ctr_status() { ctr -a "$S" -n moby task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
short() { echo "$1" | cut -c1-12; }
v=$(docker run -d --name victim fb-busybox:test sleep 600)
p=$(docker run -d --name keep fb-busybox:test sleep 600)
# Docker does not copy its labels into containerd's record; kubelet's labels are there. Label
# the record itself, as the protect guard reads containerd's labels
ctr -a "$S" -n moby containers label "$p" firebreak.protect=true >/dev/null

"$FB" container $C inspect "$(short "$v")" > "$W/i" 2>"$W/err"; rc=$?
if [ $rc -eq 0 ] && python3 - "$W/i" "$v" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["id"] == sys.argv[2] and j["engine"] == "containerd" and j["namespace"] == "moby", j
assert j["state"] == "running" and j["pid"] > 0, j
PY
then ok "inspect through containerd: full id, namespace moby, running, host pid"
else bad "inspect" "exit $rc" "$(cat "$W/i" "$W/err")"; fi
"$FB" container $C pause "$(short "$v")" > "$W/o" 2>&1; rc=$?
if [ $rc -eq 0 ] && [ "$(ctr_status "$v")" = PAUSED ] && [ "$(docker inspect -f '{{.State.Status}}' "$v")" = paused ]; then
        ok "pause through containerd: ctr says PAUSED, Docker says paused"
else bad "pause" "exit $rc, ctr $(ctr_status "$v")" "$(cat "$W/o")"; fi
"$FB" container $C pause "$(short "$v")" > "$W/o" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q '^already paused' "$W/o"; then ok "pause again: already paused (idempotent)"
else bad "pause twice" "exit $rc" "$(cat "$W/o")"; fi
"$FB" container $C unpause "$(short "$v")" > "$W/o" 2>&1; rc=$?
if [ $rc -eq 0 ] && [ "$(ctr_status "$v")" = RUNNING ]; then ok "unpause through containerd: RUNNING again"
else bad "unpause" "exit $rc" "$(cat "$W/o")"; fi
"$FB" container $C unpause "$(short "$v")" > "$W/o" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q '^already unpaused' "$W/o"; then ok "unpause again: already unpaused (idempotent)"
else bad "unpause twice" "exit $rc" "$(cat "$W/o")"; fi

# unknown, ambiguous, wrong namespace
"$FB" container $C inspect ffffffffffff > "$W/o" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q 'no container has an id starting with ffffffffffff' "$W/o"; then
        ok "unknown id: no such container (exit 1)"; else bad "unknown" "exit $rc" "$(cat "$W/o")"; fi
CONTAINERD_NAMESPACE=k8s.io "$FB" container $C inspect "$(short "$v")" > "$W/o" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q 'no container has an id starting with' "$W/o"; then
        ok "CONTAINERD_NAMESPACE=k8s.io: moby's container is not found there"
else bad "wrong namespace" "exit $rc" "$(cat "$W/o")"; fi
CONTAINERD_NAMESPACE='moby"x' "$FB" container $C inspect "$(short "$v")" > "$W/o" 2>&1; rc=$?
if [ $rc -eq 2 ]; then ok "a namespace that is not a DNS label is refused (exit 2)"
else bad "bad namespace" "exit $rc" "$(cat "$W/o")"; fi
# two ids sharing a first digit exist among at most 17 containers (pigeonhole)
i=0; digit=""
while [ -z "$digit" ] && [ $i -lt 17 ]; do
        docker run -d fb-busybox:test sleep 600 >/dev/null 2>&1; i=$((i + 1))
        digit=$(docker ps -q --no-trunc | cut -c1 | sort | uniq -d | head -n 1)
done
"$FB" container $C inspect "$digit" > "$W/o" 2>&1; rc=$?
if [ -n "$digit" ] && [ $rc -eq 1 ] && grep -q 'more than one container has an id starting with' "$W/o"; then
        ok "ambiguous prefix '$digit': refused, never guessed"
else bad "ambiguous" "digit '$digit' exit $rc" "$(cat "$W/o")"; fi

# respond through containerd: the policy, guards and evidence work the same
printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","tags":["T1620"],"output_fields":{"container.id":"%s","proc.name":"3"}}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" "$(short "$v")" > "$W/a.json"
printf 'rules:\n  - name: contain\n    match: {}\n    actions: [pause, capture, inspect]\nguards:\n  protect:\n    - container.label: "firebreak.protect=true"\n' > "$W/policy.yaml"
"$FB" respond $C -p "$W/policy.yaml" -s "$W/state" -f json "$W/a.json" > "$W/r.json" 2>"$W/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(ctr_status "$v")" = PAUSED ] && python3 - "$W/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["response"]
assert r["engine"] == "containerd" and r["engine_namespace"] == "moby", r
acts = {a["action"]: a for a in r["actions"]}
assert acts["pause"]["result"] == "done" and acts["inspect"]["result"] == "done", acts
PY
then ok "respond --engine containerd: paused, report names containerd and namespace moby"
else bad "respond containerd" "exit $rc" "$(cat "$W/r.json" "$W/err" | head -c 2000)"; fi
# kubelet's labels on the record become the report's Kubernetes context (escaped)
docker unpause "$v" >/dev/null 2>&1
ctr -a "$S" -n moby containers label "$v" io.kubernetes.pod.name='web-1`x' \
        io.kubernetes.pod.namespace=shop io.kubernetes.container.name=nginx >/dev/null
"$FB" respond $C -p "$W/policy.yaml" -s "$W/state-k" "$W/a.json" > "$W/k.md" 2>&1
if grep -q 'Kubernetes: pod ``web-1`x`` in namespace `shop`, container `nginx`' "$W/k.md"; then
        ok "report: Kubernetes pod, namespace and container from kubelet's labels, escaped"
else bad "k8s context" "$(grep -A3 '## Response' "$W/k.md")"; fi
ev=$(ls -d "$W"/state/evidence/* 2>/dev/null | head -n 1)
if [ -n "$ev" ] && python3 - "$ev" <<'PY'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "manifest.json")))
assert m["engine"] == "containerd", m
files = {f["name"]: f for f in m["files"]}
assert "sha256" in files["inspect.json"] and "sha256" in files["pids.json"], files
assert "missing" in files["changes.json"] and "missing" in files["logs.txt"], files
assert json.load(open(os.path.join(sys.argv[1], "inspect.json")))["Namespace"] == "moby"
PY
then ok "evidence through containerd: inspect and pids kept, changes and logs recorded as missing"
else bad "evidence containerd" "$(cat "$ev/manifest.json" 2>&1)"; fi
"$FB" evidence verify "$ev" > /dev/null 2>&1 && ok "the containerd bundle verifies" || bad "verify containerd bundle"
printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","output_fields":{"container.id":"%s"}}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" "$(short "$p")" > "$W/p.json"
"$FB" respond $C -p "$W/policy.yaml" -s "$W/state" "$W/p.json" > "$W/p.md" 2>&1
if [ "$(ctr_status "$p")" = RUNNING ] && grep -q 'refused.*protected by guards.protect' "$W/p.md"; then
        ok "protect by label through containerd: refused, still running"
else bad "protect containerd" "$(grep -A4 '## Response' "$W/p.md")"; fi
docker unpause "$v" >/dev/null 2>&1

# auto: Docker first; with Docker unreachable, containerd owns the container
"$FB" respond --containerd-socket "$S" -p "$W/policy.yaml" -s "$W/state2" -f json "$W/a.json" > "$W/auto.json" 2>&1
if python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; assert r["engine"]=="docker", r' "$W/auto.json" 2>/dev/null; then
        ok "--engine auto: a Docker container is acted on through Docker"
else bad "auto docker" "$(head -c 1500 "$W/auto.json")"; fi
docker unpause "$v" >/dev/null 2>&1
"$FB" respond --docker-socket "$W/none.sock" --containerd-socket "$S" -p "$W/policy.yaml" \
        -s "$W/state3" -f json "$W/a.json" > "$W/auto2.json" 2>"$W/err"
if python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; assert r["engine"]=="containerd", r' "$W/auto2.json" 2>/dev/null &&
        [ "$(ctr_status "$v")" = PAUSED ]; then
        ok "--engine auto without Docker: containerd owns it, and the report says so"
else bad "auto containerd" "$(head -c 1500 "$W/auto2.json")" "$(cat "$W/err")"; fi
docker unpause "$v" >/dev/null 2>&1

# containerd stops answering mid-request (SIGSTOP), then is gone
CPID=$(cat "$DT/exec/containerd/containerd.pid")
kill -STOP "$CPID"
"$FB" container $C --timeout 1000 inspect "$(short "$v")" > "$W/o" 2>&1; rc=$?
kill -CONT "$CPID"
if [ $rc -eq 4 ] && grep -qi 'timed out' "$W/o"; then
        ok "containerd frozen mid-request: the deadline ends the call (exit 4, timed out)"
else bad "frozen containerd" "exit $rc" "$(cat "$W/o")"; fi
"$FB" container --engine containerd --containerd-socket "$W/gone.sock" inspect "$(short "$v")" > "$W/o" 2>&1; rc=$?
if [ $rc -eq 4 ] && grep -q "cannot reach containerd at $W/gone.sock: Connection refused" "$W/o"; then
        ok "no containerd at the socket: connection refused, the socket named (exit 4)"
else bad "no containerd" "exit $rc" "$(cat "$W/o")"; fi
CPID=
finish
