#!/bin/sh
# test-harden: roll the memfd profile out to a private dockerd and back. apply edits the
# daemon's real daemon.json (--config-file), a real restart loads it, verify runs the static
# probe in a canary (the attack succeeds before, fails after), audit tells protected from
# unprotected containers, rollback restores the file byte for byte. Then memfd-noexec on one
# running container blocks the attack there and nowhere else.
set -u
FB=${FIREBREAK:-build/firebreak}
PROBE=$PWD/${BUILD:-build}/firebreak-probe
. tests/lib-dockerd.sh
. tests/lib-test.sh
finish() {
        dockerd_stop
        rm -rf "${W:-}"
        summary
        exit $?
}
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
        skip "test-harden: needs root and dockerd (run .ci/install-deps test as root)"
        finish
fi
W=$(mktemp -d /tmp/fb-harden.XXXXXX)
printf '{\n  "debug": false,\n  "labels": ["site=test"],\n  "log-level": "info"\n}\n' > "$W/daemon.json"
cp "$W/daemon.json" "$W/daemon.json.orig"
DOCKERD_EXTRA="--config-file $W/daemon.json"
dockerd_start || { bad "start a private dockerd"; finish; }
H="--profile-dir $W/profiles --image fb-busybox:test --probe $PROBE"
# vm.memfd_noexec (Linux 6.3): "none" on an older kernel. At 2 every memfd attack fails on this
# host whatever the profile, so the tests that show an attack getting through cannot run.
host_noexec=$(cat /proc/sys/vm/memfd_noexec 2>/dev/null || echo none)
echo "kernel $(uname -r): vm.memfd_noexec $host_noexec"
open_host() {
        [ "$host_noexec" != 2 ] && return 0
        skip "$1: vm.memfd_noexec=2 on this host blocks every memfd attack whatever the profile"
        return 1
}

# before: the default profile lets the attack through
"$FB" harden verify $H > "$W/v0" 2>&1; rc=$?
if ! open_host "verify before apply"; then :
elif [ $rc -eq 1 ] && grep -q 'memfd attack SUCCEEDED' "$W/v0"; then
        ok "verify before apply: the canary's attack succeeds (exit 1)"
else bad "verify before" "exit $rc" "$(cat "$W/v0")"; fi
"$FB" harden plan $H > "$W/plan" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "daemon.json: $W/daemon.json (dockerd's --config-file)" "$W/plan" &&
        grep -q 'live-restore: off: restarting dockerd stops every running container' "$W/plan" &&
        grep -q 'not a systemd unit' "$W/plan" && grep -q "set \"seccomp-profile\": \"$W/profiles/memfd-strict.json\"" "$W/plan"; then
        ok "plan: finds daemon.json from dockerd's command line, warns about live-restore, lists the change"
else bad "plan" "exit $rc" "$(cat "$W/plan")"; fi
"$FB" harden apply $H > "$W/dry" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q 'dry run: nothing was changed' "$W/dry" && cmp -s "$W/daemon.json" "$W/daemon.json.orig" &&
        [ ! -e "$W/profiles" ]; then
        ok "apply without --yes changes nothing"
else bad "apply dry run" "exit $rc" "$(cat "$W/dry")"; fi
# invalid JSON is refused and left alone
printf '{"debug": false,,}' > "$W/bad.json"
"$FB" harden apply --yes --daemon-json "$W/bad.json" $H > "$W/badout" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q 'not valid JSON' "$W/badout" && [ "$(cat "$W/bad.json")" = '{"debug": false,,}' ]; then
        ok "apply refuses an invalid daemon.json (exit 2) and leaves it as it was"
else bad "invalid daemon.json" "exit $rc" "$(cat "$W/badout")"; fi

# apply for real, then restart the daemon as the operator would
running_before=$(docker run -d --name before fb-busybox:test sleep 600)
"$FB" harden apply --yes $H > "$W/apply" 2>&1; rc=$?
if [ $rc -eq 0 ] && python3 - "$W/daemon.json" "$W/profiles/memfd-strict.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"debug": False, "labels": ["site=test"], "log-level": "info", "seccomp-profile": sys.argv[2]}, d
PY
then ok "apply --yes: seccomp-profile set, every other key kept"
else bad "apply" "exit $rc" "$(cat "$W/apply")" "$(cat "$W/daemon.json")"; fi
if cmp -s "$W/daemon.json.firebreak-backup" "$W/daemon.json.orig" &&
        cmp -s "$W/profiles/memfd-strict.json" policies/seccomp/memfd-strict.json &&
        grep -q 'not restarted (not a systemd unit)' "$W/apply"; then
        ok "apply: backup is the original, installed profile is the shipped one, says to restart"
else bad "apply backup/profile" "$(cat "$W/apply")"; fi
"$FB" harden verify $H > "$W/v1" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q 'restart dockerd to load it' "$W/v1"; then
        ok "verify before the restart: not yet (the daemon still runs the old default)"
else bad "verify before restart" "exit $rc" "$(cat "$W/v1")"; fi
dockerd_restart || { bad "restart dockerd"; finish; }
"$FB" harden verify $H > "$W/v2" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q 'every memfd attack was blocked' "$W/v2" &&
        grep -q "/info: the engine runs with $W/profiles/memfd-strict.json" "$W/v2"; then
        ok "verify after the restart: canary's attacks blocked, /info names the profile"
else bad "verify after restart" "exit $rc" "$(cat "$W/v2")" "$(tail -5 "$DT/dockerd.log")"; fi
if [ -z "$(docker ps -aq --filter label=firebreak.canary)" ]; then
        ok "verify removes its canary"; else bad "canary left behind"; fi

# audit: default (hardened now), unconfined, own naive profile, one from before the restart
docker start before >/dev/null 2>&1 # started again after the restart: gets the new default
hard=$(docker run -d --name hardened fb-busybox:test sleep 600)
unc=$(docker run -d --name loose --security-opt seccomp=unconfined fb-busybox:test sleep 600)
python3 - "$W/naive.json" <<'PY'
import json, sys
p = json.load(open("policies/seccomp/base.json"))
p["syscalls"].append({"names": ["memfd_create"], "action": "SCMP_ACT_ERRNO"})
json.dump(p, open(sys.argv[1], "w"))
PY
own=$(docker run -d --name own --security-opt seccomp="$W/naive.json" fb-busybox:test sleep 600)
"$FB" harden audit --json $H > "$W/audit.json" 2>"$W/audit.err"; rc=$?
if [ $rc -eq 1 ] && python3 - "$W/audit.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
c = {x["name"].lstrip("/"): x for x in a["containers"]}
assert c["hardened"]["protected_now"] and c["hardened"]["protected_after_restart"], c["hardened"]
assert c["before"]["protected_now"], c["before"]
assert c["loose"]["seccomp"] == "unconfined" and not c["loose"]["protected_now"], c["loose"]
assert c["own"]["seccomp"] == "its own profile" and c["own"]["profile"] == "does not deny memfd exec", c["own"]
assert a["unprotected_running"] == 2, a["unprotected_running"]
PY
then ok "audit: hardened default, unconfined and an own naive profile told apart; exit 1 for 2 unprotected"
else bad "audit" "exit $rc" "$(cat "$W/audit.json" "$W/audit.err")"; fi
docker rm -f "$unc" "$own" >/dev/null 2>&1
"$FB" harden audit $H > "$W/audit.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q '^0 running containers unprotected' "$W/audit.txt"; then
        ok "audit: all running containers protected (exit 0), table output"
else bad "audit text" "exit $rc" "$(cat "$W/audit.txt")"; fi

# memfd-noexec on one running container: the attack fails there and still works next door
a=$(docker run -d --name target -v "$PROBE:/probe:ro" --security-opt seccomp=unconfined fb-busybox:test sleep 600)
b=$(docker run -d --name neighbour -v "$PROBE:/probe:ro" --security-opt seccomp=unconfined fb-busybox:test sleep 600)
docker exec "$a" /probe > "$W/pa0" 2>&1; rca0=$?
printf 'rules:\n  - name: harden-it\n    match: {}\n    actions: [memfd-noexec]\n' > "$W/noexec.yaml"
printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","output_fields":{"container.id":"%s","proc.name":"3"}}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" "$(echo "$a" | cut -c1-12)" > "$W/alert.json"
"$FB" respond -p "$W/noexec.yaml" -s "$W/state" "$W/alert.json" > "$W/resp.md" 2>&1; rc=$?
docker exec "$a" /probe > "$W/pa1" 2>&1; rca1=$?
docker exec "$b" /probe > "$W/pb1" 2>&1; rcb1=$?
if [ "$host_noexec" = none ]; then
        if [ $rc -ne 0 ] && grep -q 'this kernel has no vm.memfd_noexec (Linux 6.3 added it): nothing was changed' "$W/resp.md" &&
                [ $rca1 -eq 1 ]; then
                ok "memfd-noexec on a kernel without the sysctl: fails, says why, changes nothing"
        else bad "memfd-noexec without the sysctl" "respond $rc, after $rca1" "$(grep -A4 '## Response' "$W/resp.md")"; fi
elif ! open_host "memfd-noexec on one container"; then :
elif [ $rca0 -eq 1 ] && [ $rc -eq 0 ] && grep -q 'vm.memfd_noexec = 2 in the container.s pid namespace (read back: 2)' "$W/resp.md" &&
        [ $rca1 -eq 0 ] && [ $rcb1 -eq 1 ]; then
        ok "memfd-noexec: the attack worked in the container, now fails there, still works in its neighbour"
else bad "memfd-noexec" "before $rca0, respond $rc, after $rca1, neighbour $rcb1" "$(grep -A4 '## Response' "$W/resp.md")" "$(cat "$W/pa1")"; fi
# a container in the host's pid namespace: setting it there would set it for the whole host
hp=$(docker run -d --name hostpid --pid=host fb-busybox:test sleep 600)
printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","output_fields":{"container.id":"%s","proc.name":"3"}}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" "$(echo "$hp" | cut -c1-12)" > "$W/alert-hp.json"
"$FB" respond -p "$W/noexec.yaml" -s "$W/state" "$W/alert-hp.json" > "$W/resp-hp.md" 2>&1; rc=$?
if [ $rc -eq 4 ] && grep -q 'shares the host.s pid namespace' "$W/resp-hp.md"; then
        ok "memfd-noexec refuses a container in the host's pid namespace (exit 4, says why)"
else bad "memfd-noexec host pid" "exit $rc" "$(grep -A4 '## Response' "$W/resp-hp.md")"; fi
if [ "$(cat /proc/sys/vm/memfd_noexec 2>/dev/null || echo none)" = "$host_noexec" ]; then
        ok "memfd-noexec left the host's vm.memfd_noexec alone ($host_noexec)"
else bad "host sysctl changed"; fi

# --sysctl and --kubernetes, in a pid namespace of their own so the host keeps its value. From
# there dockerd's process is invisible, so its daemon.json cannot be found: refused unless named
etc_before=$(ls -la /etc/docker 2>&1; cat /etc/docker/daemon.json 2>&1)
unshare --pid --fork "$FB" harden apply --yes --no-restart $H > "$W/apply1" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q 'pass --daemon-json' "$W/apply1" &&
        [ "$etc_before" = "$(ls -la /etc/docker 2>&1; cat /etc/docker/daemon.json 2>&1)" ]; then
        ok "apply without a visible dockerd: refuses to guess daemon.json (exit 2), /etc/docker untouched"
else bad "apply blind" "exit $rc" "$(cat "$W/apply1")"; fi
unshare --pid --fork "$FB" harden apply --yes --no-restart --mode compat --sysctl \
        --daemon-json "$W/daemon.json" --sysctl-dir "$W/sysctl.d" --kubernetes \
        --kubelet-dir "$W/kubelet" $H > "$W/apply2" 2>&1; rc=$?
if [ "$host_noexec" = none ]; then
        if [ $rc -ne 0 ] && grep -q 'vm.memfd_noexec: this kernel has none (Linux 6.3 added it): nothing written' "$W/apply2" &&
                [ ! -e "$W/sysctl.d/60-firebreak-memfd.conf" ]; then
                ok "apply --sysctl on a kernel without the sysctl: refused, no sysctl.d line that would fail every boot"
        else bad "apply --sysctl without the sysctl" "exit $rc" "$(cat "$W/apply2")"; fi
elif [ $rc -eq 0 ] && grep -q 'vm.memfd_noexec is now 2' "$W/apply2" &&
        grep -q '^vm.memfd_noexec = 2$' "$W/sysctl.d/60-firebreak-memfd.conf" &&
        cmp -s "$W/kubelet/firebreak-memfd-compat.json" policies/seccomp/memfd-compat.oci.json &&
        grep -q 'localhostProfile: firebreak-memfd-compat.json' "$W/apply2" &&
        [ "$(cat /proc/sys/vm/memfd_noexec)" = "$host_noexec" ]; then
        ok "apply --sysctl --kubernetes: sysctl file, value read back, OCI profile and pod snippet"
else bad "apply --sysctl --kubernetes" "exit $rc" "$(cat "$W/apply2")"; fi

# rollback: the original file, byte for byte, and after a restart the attack works again
"$FB" harden rollback --yes $H > "$W/rb" 2>&1; rc=$?
if [ $rc -eq 0 ] && cmp -s "$W/daemon.json" "$W/daemon.json.orig" && [ ! -e "$W/daemon.json.firebreak-backup" ]; then
        ok "rollback: daemon.json restored byte for byte, backup removed"
else bad "rollback" "exit $rc" "$(cat "$W/rb")"; fi
dockerd_restart || { bad "restart dockerd"; finish; }
"$FB" harden verify $H > "$W/v3" 2>&1; rc=$?
if ! open_host "verify after rollback"; then :
elif [ $rc -eq 1 ] && grep -q 'memfd attack SUCCEEDED' "$W/v3"; then
        ok "verify after rollback and restart: the attack succeeds again"
else bad "verify after rollback" "exit $rc" "$(cat "$W/v3")"; fi
"$FB" harden rollback --yes $H > "$W/rb2" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q 'nothing to roll back' "$W/rb2"; then
        ok "rollback again: nothing to roll back (exit 1)"; else bad "rollback twice" "exit $rc" "$(cat "$W/rb2")"; fi
finish
