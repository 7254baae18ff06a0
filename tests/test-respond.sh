#!/bin/sh
# test-respond: `firebreak respond` against a real dockerd: the policy decides, the engine acts,
# the report and the audit log say exactly what happened.
set -u
FB=${FIREBREAK:-build/firebreak}
. tests/lib-dockerd.sh
. tests/lib-test.sh
finish() {
        dockerd_stop
        rm -rf "${W:-}"
        summary
        exit $?
}
dockerd_suite respond
victim=$(sleeper --name web-victim)
prot_name=$(sleeper --name firebreak-agent)
prot_label=$(sleeper --name labelled --label firebreak.protect=true)
b1=$(sleeper --name b1); b2=$(sleeper --name b2); b3=$(sleeper --name b3)

# alert FULL_ID [TIME]: a fresh memfd alert for that container, as Falco sends it
alert() {
        t=${2:-$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)}
        printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","hostname":"test","tags":["T1620","mitre_defense_evasion"],"output_fields":{"container.id":"%s","container.name":"x","container.image.repository":"nginx","proc.name":"3","proc.exepath":"memfd:x","evt.type":"execve"}}\n' \
                "$t" "$(echo "$1" | cut -c1-12)"
}
P=tests/data/policy/test.yaml

# dry-run: decided and recorded, nothing touched
alert "$victim" > "$W/a.json"
"$FB" respond -p $P -s "$W/state" --dry-run "$W/a.json" > "$W/dry.md" 2>"$W/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(state "$victim")" = running ] && grep -q "would pause $victim" "$W/dry.md"; then
        ok "dry-run: report says would pause <full id>, container still running"
else bad "dry-run" "exit $rc, state $(state "$victim")" "$(cat "$W/err")"; fi
if grep -q '"result":"would"' "$W/state/audit.jsonl" && [ ! -d "$W/state/evidence" ]; then
        ok "dry-run: audit records would, no evidence written"; else bad "dry-run audit"; fi

# enforce: paused, evidence with verifiable hashes, audit lines
"$FB" respond -p $P -s "$W/state" "$W/a.json" > "$W/enf.md" 2>"$W/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(state "$victim")" = paused ] && grep -q '`pause`: \*\*done\*\*' "$W/enf.md"; then
        ok "enforce: container paused, Response says done"
else bad "enforce pause" "exit $rc, state $(state "$victim")" "$(cat "$W/err")"; fi
ev=$(ls -d "$W"/state/evidence/* 2>/dev/null | head -n 1)
if [ -n "$ev" ] && python3 - "$ev" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
names = {f["name"] for f in m["files"]}
assert {"alert.json", "inspect.json", "pids.json", "changes.json", "logs.txt"} <= names, names
for f in m["files"]:
    data = open(os.path.join(d, f["name"]), "rb").read()
    assert hashlib.sha256(data).hexdigest() == f["sha256"], f["name"]
    assert len(data) == f["size"], f["name"]
assert json.load(open(os.path.join(d, "pids.json"))), "no pids for a paused container"
PY
then ok "evidence bundle: every file present, sha256 and size match the manifest"
else bad "evidence bundle" "$(ls "$ev" 2>&1)"; fi
mh=$(sha256sum "$ev/manifest.json" | cut -c1-64)
if grep -q "manifest SHA-256 \`$mh\`" "$W/enf.md" && grep -q "\"manifest_sha256\":\"$mh\"" "$W/state/audit.jsonl" &&
        [ "$(cut -c1-64 "$ev/manifest.sha256")" = "$mh" ]; then
        ok "report, audit log and manifest.sha256 name the manifest's sha256"
else bad "report names the manifest hash"; fi
if [ "$(grep -c '"mode":"enforce"' "$W/state/audit.jsonl")" -eq 2 ]; then
        ok "audit: one line per action"; else bad "audit lines" "$(cat "$W/state/audit.jsonl")"; fi
"$FB" respond -p $P -s "$W/state" "$W/a.json" > "$W/again.md" 2>&1
if grep -q '`pause`: \*\*already\*\*' "$W/again.md"; then ok "again: already paused"; else bad "already paused"; fi

# protected containers are never touched
for c in "$prot_name" "$prot_label"; do
        alert "$c" > "$W/p.json"
        "$FB" respond -p $P -s "$W/state2" "$W/p.json" > "$W/p.md" 2>&1
        if [ "$(state "$c")" = running ] && grep -q "refused.*protected by guards.protect" "$W/p.md"; then
                ok "protected ($(docker inspect --format '{{.Name}}' "$c")): refused, still running"
        else bad "protected $c" "$(grep -A3 '## Response' "$W/p.md")"; fi
done

# the breaker: 2 disruptive actions per window; the third alert's pause is skipped
{ alert "$b1"; alert "$b2"; alert "$b3"; } > "$W/b.jsonl"
"$FB" respond -p $P -s "$W/state3" "$W/b.jsonl" > "$W/b.md" 2>&1
if [ "$(state "$b1")" = paused ] && [ "$(state "$b2")" = paused ] && [ "$(state "$b3")" = running ] &&
        grep -q '`pause`: \*\*skipped\*\* — `breaker open' "$W/b.md"; then
        ok "breaker opens at max_disruptive_actions: third container untouched, recorded as skipped"
else bad "breaker" "b1 $(state "$b1") b2 $(state "$b2") b3 $(state "$b3")"; fi

# unknown container and stale alert: refused with the reason
alert "ffffffffffff0000000000000000000000000000000000000000000000000000" > "$W/u.json"
"$FB" respond -p $P -s "$W/state4" "$W/u.json" > "$W/u.md" 2>&1
if grep -q "refused.*no container has an id starting with ffffffffffff" "$W/u.md"; then
        ok "unknown id: refused, no guess"; else bad "unknown id" "$(grep -A3 '## Response' "$W/u.md")"; fi
docker unpause "$b1" >/dev/null 2>&1
alert "$b1" "2024-10-05T18:29:40Z" > "$W/s.json"
"$FB" respond -p $P -s "$W/state4" "$W/s.json" > "$W/s.md" 2>&1
if [ "$(state "$b1")" = running ] && grep -q "older than guards.max_alert_age" "$W/s.md"; then
        ok "stale alert: reported, not acted on"; else bad "stale alert"; fi

# an alert without a container (a host event) is reported, never acted on
printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","tags":["T1620"],"output_fields":{"container.id":"host","proc.name":"3"}}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$W/h.json"
"$FB" respond -p $P -s "$W/state4" "$W/h.json" > "$W/h.md" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "refused.*names no container" "$W/h.md" &&
        grep -q '"result":"refused"' "$W/state4/audit.jsonl"; then
        ok "host alert: refused with its reason, recorded"; else bad "host alert" "exit $rc"; fi

# the engine stops mid-run: the next alert is still reported, the action fails clearly
mkfifo "$W/fifo"
"$FB" respond -p $P -s "$W/state5" - < "$W/fifo" > "$W/mid.md" 2>"$W/mid.err" &
rpid=$!
exec 7>"$W/fifo"
alert "$b3" >&7
i=0; until [ "$(state "$b3")" = paused ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
sock="$DT/docker.sock"
dockerd_stop
alert "$b3" >&7
exec 7>&-
wait $rpid; rc=$?
if [ $rc -eq 4 ] && [ "$(grep -c '^# Alert Analysis Report' "$W/mid.md")" -eq 2 ] &&
        grep -q '`pause`: \*\*failed\*\*' "$W/mid.md"; then
        ok "engine stopped mid-run: both alerts reported, action failed, exit 4"
else bad "engine stopped mid-run" "exit $rc" "$(cat "$W/mid.err")"; fi
finish
