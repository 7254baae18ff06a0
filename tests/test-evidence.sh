#!/bin/sh
# test-evidence: a real fileless attack in a container on a private dockerd. firebreak gets the
# alert, pauses the container, captures the payload (its sha256 must equal the binary that was
# run from the memfd), writes a bundle that `evidence verify` accepts and that fails once a byte
# changes; and tells a real HTTP receiver on loopback, with retries, without blocking. Evidence
# leaves the last 5% of its filesystem to the store.
set -u
FB=${FIREBREAK:-build/firebreak}
PROBE=${BUILD:-build}/tests/memfd-exec
. tests/lib-dockerd.sh
. tests/lib-test.sh
RPID=
stop_receiver() {
        [ -z "$RPID" ] || { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; }
        RPID=
}
finish() {
        stop_receiver
        dockerd_stop
        [ -z "${W:-}" ] || umount "$W/state-f" 2>/dev/null
        rm -rf "${W:-}"
        summary
        exit $?
}
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
        skip "test-evidence: needs root and dockerd (run .ci/install-deps test as root)"
        finish
fi
if [ ! -x "$PROBE" ]; then
        bad "the static probe $PROBE is missing (make check builds it)"
        finish
fi
W=$(mktemp -d /tmp/fb-evidence.XXXXXX)
# start_receiver DIR [ARGS]: a webhook receiver; its port lands in DIR/port
start_receiver() {
        mkdir -p "$1"
        python3 tests/webhook-receiver.py "$@" &
        RPID=$!
        i=0
        while [ ! -s "$1/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        PORT=$(cat "$1/port" 2>/dev/null)
}
dockerd_start || { bad "start a private dockerd"; finish; }
log="$W/docker-cli.log"
cp "$PROBE" "$W/probe"
want=$(sha256sum "$W/probe" | cut -c1-64)
# the attacker: PID 1 copies the probe into a memfd and runs it from /proc/self/fd/3
attacker=$(docker run -d --name attacker -v "$W/probe:/probe:ro" fb-busybox:test \
        /probe /probe --sleep 2>>"$log")
bystander=$(docker run -d --name bystander fb-busybox:test sleep 600 2>>"$log")
sleep 0.5
apid=$(docker inspect --format '{{.State.Pid}}' "$attacker")
if [ -n "$apid" ] && readlink "/proc/$apid/exe" | grep -q '^/memfd:program'; then
        ok "the attack runs: the container's process executes from a memfd"
else
        bad "attack setup" "$(readlink "/proc/$apid/exe" 2>&1)" "$(docker logs "$attacker" 2>&1)"
        finish
fi

# alert FULL_ID HOSTNAME: a fresh memfd alert for that container, as Falco sends it
alert() {
        printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","hostname":"%s","tags":["T1620","mitre_defense_evasion"],"output_fields":{"container.id":"%s","container.name":"attacker","container.image.repository":"nginx","proc.name":"3","proc.exepath":"memfd:program","evt.type":"execve"}}\n' \
                "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" "$2" "$(echo "$1" | cut -c1-12)"
}

start_receiver "$W/rx" --fail-first 1
printf 'Bearer s3cret-token-value\n' > "$W/token"
printf 'http://127.0.0.1:%s/slack/T000/B000/s3cret-slack-path\n' "$PORT" > "$W/slack-url"
chmod 600 "$W/token" "$W/slack-url"
cat > "$W/policy.yaml" <<EOF
mode: enforce
guards: { max_disruptive_actions: 5, window: 10m, max_alert_age: 5m }
notifiers:
  - name: oncall
    format: webhook
    url: http://127.0.0.1:$PORT/hook
    headers: { X-Team: security }
    header_files: { Authorization: $W/token }
    timeout: 2s
    retries: 2
    backoff: 200ms
  - name: chat
    format: slack
    url_file: $W/slack-url
    timeout: 2s
    retries: 2
    backoff: 200ms
rules:
  - name: contain-fileless-exec
    match: { rule: ["Fileless execution via memfd_create"] }
    actions: [pause, capture, inspect, notify]
EOF
alert "$attacker" 'node-1 <!channel>' > "$W/a.json"
id=$("$FB" triage -f json "$W/a.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"]["id"])')
"$FB" respond -p "$W/policy.yaml" -s "$W/state" -f json -o "$W/reports" "$W/a.json" \
        > "$W/out" 2>"$W/err"; rc=$?
rep="$W/reports/$id.json"
if [ $rc -eq 0 ] && [ "$(state "$attacker")" = paused ] && [ -s "$rep" ]; then
        ok "respond: exit 0, container paused, report written"
else bad "respond" "exit $rc, state $(state "$attacker")" "$(cat "$W/err")"; fi
ev="$W/state/evidence/$id"
got=$(sha256sum "$ev"/memfd-*.exe 2>/dev/null | head -n 1 | cut -c1-64)
if [ -n "$got" ] && [ "$got" = "$want" ]; then
        ok "capture: the payload's sha256 equals the binary run from the memfd ($want)"
else bad "capture sha256" "want $want, got '${got:-nothing}'" "$(ls "$ev" 2>&1)"; fi
if python3 - "$rep" "$ev" "$want" <<'PY'
import glob, json, os, sys
rep, ev, want = sys.argv[1:]
r = json.load(open(rep))["response"]
c = r["captures"]
assert len(c) == 1 and c[0]["sha256"] == want, c
assert c[0]["exe"].startswith("/memfd:program"), c
assert c[0]["elf"].startswith("ELF64 LSB executable, x86-64") and "static" in c[0]["elf"], c
d = json.load(open(os.path.join(ev, "memfd-%d.json" % c[0]["pid"])))
assert d["sha256"] == want and d["elf"]["class"] == "ELF64" and d["elf"]["interpreter"] is None, d
assert any(f["target"].startswith("/memfd:program") for f in d["fds"]), d["fds"]
cmd = open(os.path.join(ev, "memfd-%d.cmdline" % c[0]["pid"]), "rb").read()
assert cmd == b"3\0--sleep\0", cmd
assert os.path.getsize(os.path.join(ev, "memfd-%d.maps" % c[0]["pid"])) > 0
m = json.load(open(os.path.join(ev, "manifest.json")))
assert m["alert_id"] and m["engine"] == "docker" and m["firebreak"] and m["completed"], m
names = {f["name"] for f in m["files"]}
assert {"alert.json", "inspect.json", "memfd-%d.exe" % c[0]["pid"]} <= names, names
assert r["manifest_sha256"] and r["evidence_dir"] == ev, r
PY
then ok "report and bundle: ELF summary, cmdline, maps, fds, manifest with every file"
else bad "report/bundle contents"; fi
mh=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["response"]["manifest_sha256"])' "$rep")

# evidence verify: intact, then one byte changed, then a file added, then a forged manifest
if "$FB" evidence verify --manifest-sha256 "$mh" "$ev" > "$W/v.out" 2>&1 && grep -q '^intact' "$W/v.out"; then
        ok "evidence verify: intact bundle passes"
else bad "verify intact" "$(cat "$W/v.out")"; fi
exe=$(ls "$ev"/memfd-*.exe | head -n 1)
cp "$exe" "$W/exe.orig"
printf 'X' | dd of="$exe" bs=1 seek=4096 count=1 conv=notrunc 2>/dev/null
"$FB" evidence verify "$ev" > "$W/v.out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "$(basename "$exe"): changed" "$W/v.out"; then
        ok "evidence verify: one changed byte fails (exit 1) and names the file"
else bad "verify tampered" "exit $rc" "$(cat "$W/v.out")"; fi
cp "$W/exe.orig" "$exe"
echo extra > "$ev/planted.txt"
"$FB" evidence verify "$ev" > "$W/v.out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q 'planted.txt: present, but not in the manifest' "$W/v.out"; then
        ok "evidence verify: a file added afterwards fails"
else bad "verify added file" "exit $rc" "$(cat "$W/v.out")"; fi
rm -f "$ev/planted.txt"
# forge: change a file, rewrite the manifest and manifest.sha256 to match
printf 'X' | dd of="$exe" bs=1 seek=4096 count=1 conv=notrunc 2>/dev/null
python3 - "$ev" "$(basename "$exe")" <<'PY'
import hashlib, json, os, sys
d, name = sys.argv[1:]
m = json.load(open(os.path.join(d, "manifest.json")))
for f in m["files"]:
    if f["name"] == name:
        f["sha256"] = hashlib.sha256(open(os.path.join(d, name), "rb").read()).hexdigest()
data = json.dumps(m).encode()
open(os.path.join(d, "manifest.json"), "wb").write(data)
open(os.path.join(d, "manifest.sha256"), "w").write(hashlib.sha256(data).hexdigest() + "  manifest.json\n")
PY
"$FB" evidence verify "$ev" > /dev/null 2>&1; rc1=$?
"$FB" evidence verify --manifest-sha256 "$mh" "$ev" > "$W/v.out" 2>&1; rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 1 ] && grep -q 'not the recorded' "$W/v.out"; then
        ok "evidence verify: a forged manifest passes alone, fails against the recorded hash"
else bad "verify forged manifest" "alone $rc1, with hash $rc2" "$(cat "$W/v.out")"; fi

# notifications: the first request got 503 and was retried; both notifiers delivered
i=0
while [ "$(grep -c '"result":"delivered"' "$W/state/audit.jsonl")" -lt 2 ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1)); done
if python3 - "$W/rx/requests.jsonl" "$id" "$rep" "$want" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
aid, rep, want = sys.argv[2:]
hooks = [r for r in reqs if r["path"] == "/hook"]
slack = [r for r in reqs if r["path"].startswith("/slack/")]
assert len(reqs) == 3 and len(hooks) + len(slack) == 3, [r["path"] for r in reqs]
h = json.loads(hooks[-1]["body"])
assert h["alert_id"] == aid and h["verdict"] == "malicious" and h["report"] == rep, h
assert all(r["report_exists"] for r in hooks), "the webhook arrived before its report was written"
assert h["captures"][0]["sha256"] == want, h
assert [a["action"] for a in h["actions"]] == ["pause", "capture", "inspect"], h["actions"]
assert hooks[-1]["headers"]["Authorization"] == "Bearer s3cret-token-value"
assert hooks[-1]["headers"]["X-Team"] == "security"
t = json.loads(slack[-1]["body"])["text"]
assert "<!channel>" not in t and "&lt;!channel&gt;" in t, t
assert want in t and aid in t, t
PY
then ok "notify: webhook (with headers from a secret file) and Slack bodies as specified, one retry after 503"
else bad "notify delivery" "$(cat "$W/rx/requests.jsonl" 2>&1 | head -c 3000)"; fi
if grep '"action":"notify"' "$W/state/audit.jsonl" | grep -q '"result":"delivered","attempts":2' &&
        [ "$(grep -c '"result":"delivered"' "$W/state/audit.jsonl")" -eq 2 ]; then
        ok "audit: one delivered line per notifier, with the attempts"
else bad "notify audit" "$(grep notify "$W/state/audit.jsonl")"; fi
if ! grep -rqs -e 's3cret' "$W/state" "$W/reports" "$W/out" "$W/err"; then
        ok "secrets (token, Slack URL) appear in no log, report or audit line"
else bad "secret leaked" "$(grep -rl s3cret "$W/state" "$W/reports" "$W/out" "$W/err")"; fi
stop_receiver

# capture refuses processes outside the container: the bystander has none from a memfd, while
# the attacker's still runs on the same host
docker unpause "$attacker" >/dev/null 2>&1
cat > "$W/capture-only.yaml" <<EOF
rules:
  - name: capture
    match: {}
    actions: [capture]
EOF
alert "$bystander" node-1 > "$W/b.json"
"$FB" respond -p "$W/capture-only.yaml" -s "$W/state-b" -f json "$W/b.json" > "$W/b.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q 'no process of the container runs from a memfd' "$W/b.out" &&
        ! ls "$W"/state-b/evidence/*/memfd-* >/dev/null 2>&1; then
        ok "capture on another container takes nothing, though a memfd process runs on the host"
else bad "capture bystander" "exit $rc" "$(head -c 2000 "$W/b.out")"; fi
# and works on a running container too (the payload keeps running)
alert "$attacker" node-1 > "$W/r.json"
"$FB" respond -p "$W/capture-only.yaml" -s "$W/state-r" -f json "$W/r.json" > "$W/r.out" 2>&1
if [ "$(sha256sum "$W"/state-r/evidence/*/memfd-*.exe 2>/dev/null | cut -c1-64)" = "$want" ]; then
        ok "capture without pause: same payload hash"
else bad "capture running" "$(head -c 2000 "$W/r.out")"; fi

# evidence keeps the last 5% of its filesystem free for the store: on a small tmpfs filled to
# 97%, capture (and the bundle) is skipped and says why; with the filler gone it is taken
mkdir -p "$W/state-f"
if mount -t tmpfs -o size=8m tmpfs "$W/state-f"; then
        head -c 8150000 /dev/zero > "$W/state-f/filler"
        "$FB" respond -p "$W/capture-only.yaml" -s "$W/state-f" -f json "$W/r.json" > "$W/f.out" 2>&1; rc=$?
        if [ $rc -eq 0 ] && grep -q 'no room for evidence: it would leave less than 5% of the filesystem' "$W/f.out" &&
                ! ls "$W"/state-f/evidence/*/memfd-* >/dev/null 2>&1; then
                ok "capture on a filesystem with less than 5% free: skipped, said why, nothing written"
        else bad "evidence floor" "exit $rc" "$(head -c 2000 "$W/f.out")" "$(df -k "$W/state-f" | tail -1)"; fi
        rm -f "$W/state-f/filler"
        rm -rf "$W/state-f/evidence"
        "$FB" respond -p "$W/capture-only.yaml" -s "$W/state-f" -f json "$W/r.json" > "$W/f.out" 2>&1
        if [ "$(sha256sum "$W"/state-f/evidence/*/memfd-*.exe 2>/dev/null | cut -c1-64)" = "$want" ]; then
                ok "... and with room again, the same capture is taken"
        else bad "capture with room" "$(head -c 2000 "$W/f.out")"; fi
        umount "$W/state-f"
else bad "mount a small tmpfs"; fi

# a receiver that hangs: notifications queue, the alert pipeline does not wait on them
start_receiver "$W/rx2" --hang 3
sed -e "s|http://127.0.0.1:[0-9]*/hook|http://127.0.0.1:$PORT/hook|" -e 's/timeout: 2s/timeout: 1s/' \
        -e 's/retries: 2/retries: 0/' "$W/policy.yaml" | sed '/name: chat/,/backoff/d' \
        | sed 's/actions: \[pause, capture, inspect, notify\]/actions: [notify]/' > "$W/hang.yaml"
for n in 1 2 3 4 5; do alert "$bystander" "n$n"; done > "$W/five.json"
"$FB" respond -p "$W/hang.yaml" -s "$W/state-h" -f json -o "$W/reports-h" "$W/five.json" \
        > /dev/null 2>"$W/h.err"; rc=$?
if python3 - "$W/state-h/audit.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
kinds = [("queued" if l["result"] == "done" else l["result"]) for l in lines if l.get("action") == "notify"]
# all five alerts were handled (queued) before the first delivery gave up
assert kinds[:5] == ["queued"] * 5 and kinds[5:] and all(k == "failed" for k in kinds[5:]), kinds
assert any("Operation timed out" in l["detail"] or "timed out" in l["detail"].lower() for l in lines if l["result"] == "failed"), lines
PY
then ok "notify never blocks: five alerts queued before the first timed-out delivery was given up"
else bad "notify blocking" "exit $rc" "$(cat "$W/state-h/audit.jsonl")" "$(cat "$W/h.err")"; fi
stop_receiver

# retention: under the service, an alert's evidence bundle goes with the alert (2 s here; the
# policy's breaker window, which is kept whatever the retention, is 1 s)
cat > "$W/serve-policy.yaml" <<EOF
mode: enforce
guards: { window: 1s }
rules:
  - name: look
    match: { rule: ["Fileless execution via memfd_create"] }
    actions: [inspect]
EOF
printf 's3rve-token-0123456789\n' > "$W/serve-token"
chmod 600 "$W/serve-token"
sport=$((30000 + $$ % 20000))
cat > "$W/serve.yaml" <<EOF
state_dir: $W/state-s
reports_dir: $W/reports-s
policy: $W/serve-policy.yaml
engine: docker
docker_socket: $DT/docker.sock
retention: 2s
sources:
  http:
    listen: 127.0.0.1:$sport
    token_file: $W/serve-token
EOF
"$FB" serve -c "$W/serve.yaml" > "$W/serve.log" 2>&1 &
SPID=$!
i=0
until curl -sf "http://127.0.0.1:$sport/healthz" >/dev/null 2>&1 || [ $i -ge 100 ]; do
        sleep 0.05; i=$((i + 1))
done
alert "$bystander" node-1 > "$W/s.json"
sid=$(curl -s -H 'Authorization: Bearer s3rve-token-0123456789' --data-binary @"$W/s.json" \
        "http://127.0.0.1:$sport/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)
i=0
while [ ! -s "$W/state-s/evidence/$sid/manifest.json" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ -n "$sid" ] && [ -s "$W/state-s/evidence/$sid/inspect.json" ] &&
        [ -s "$W/state-s/evidence/$sid/manifest.json" ]; then
        ok "serve: the alert's inspect writes an evidence bundle"
else bad "serve: evidence bundle" "id '$sid'" "$(tail -5 "$W/serve.log")"; fi
i=0
while [ -e "$W/state-s/evidence/$sid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -n "$sid" ] && [ ! -e "$W/state-s/evidence/$sid" ] && [ -d "$W/state-s/evidence" ] &&
        ! "$FB" history -c "$W/serve.yaml" | grep -q "$sid" &&
        grep -q 'retention: deleted 1 alerts older than 2 s (1 with evidence)' "$W/serve.log"; then
        ok "retention 2s: the alert's evidence bundle is deleted with the alert"
else bad "retention of evidence" "$(ls -la "$W/state-s/evidence/" 2>&1)" "$(tail -5 "$W/serve.log")"; fi
# keep_evidence: true (a reload takes it): the alert goes, its bundle stays for the operator
echo 'keep_evidence: true' >> "$W/serve.yaml"
kill -HUP "$SPID"
i=0; while ! grep -q 'reload: policy' "$W/serve.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 1.1 # a new second: a new alert time, a new id
alert "$bystander" node-1 > "$W/s2.json"
sid2=$(curl -s -H 'Authorization: Bearer s3rve-token-0123456789' --data-binary @"$W/s2.json" \
        "http://127.0.0.1:$sport/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)
i=0
while [ ! -s "$W/state-s/evidence/$sid2/manifest.json" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
i=0
while "$FB" history -c "$W/serve.yaml" | grep -q "$sid2" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -n "$sid2" ] && [ "$sid2" != "$sid" ] && ! "$FB" history -c "$W/serve.yaml" | grep -q "$sid2" &&
        [ -s "$W/state-s/evidence/$sid2/manifest.json" ] &&
        grep -q 'retention: deleted 1 alerts older than 2 s (0 with evidence)' "$W/serve.log"; then
        ok "retention with keep_evidence: true: the alert is deleted, its evidence bundle stays"
else bad "keep_evidence" "id '$sid2'" "$(ls -la "$W/state-s/evidence/" 2>&1)" "$(tail -5 "$W/serve.log")"; fi
kill "$SPID"; wait "$SPID" 2>/dev/null
finish
