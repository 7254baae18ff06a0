#!/bin/sh
# test-systemd: the service end to end under a real systemd. A container runs systemd as PID 1
# with journald (a Debian 12 rootfs from debootstrap), firebreak installed into it by
# `make install`, and the test dockerd's socket bind-mounted in, so the service acts on its
# sibling containers. It checks: the units start (Type=notify: active only after READY=1),
# alerts written to the journal by a `falco` unit are processed (report, audit entries in the
# journal, the sibling paused), the same alert from any other unit or from outside a unit is
# ignored, HTTP ingest through firebreak.socket, a restart resumes from the journal cursor
# without processing anything twice, reload, the shipped logrotate file (the service writes on
# into the new audit log), the dry-run audit unit, and a clean stop.
#
# The harness (tests/lib-systemd.sh) builds the rootfs once and keeps it in build/test-cache.
set -u
. tests/lib-test.sh
. tests/lib-dockerd.sh
. tests/lib-systemd.sh
BUILD=${BUILD:-build}
W=$(mktemp -d /tmp/fb-systemd.XXXXXX)

finish() { systemd_finish; }
trap finish INT TERM HUP # an interrupted run still stops what it started

systemd_require "systemd end to end"

# the service's configuration; the image's own dockerd stays off (the test dockerd's socket
# is bind-mounted where it would listen)
setup() {
        for u in docker.service docker.socket containerd.service; do
                ln -sf /dev/null "$1/etc/systemd/system/$u"
        done
        if [ "$BUILD" != build ]; then
                # LeakSanitizer stops the process with ptrace at exit, which the units'
                # SystemCallFilter forbids (the stop then hangs until TimeoutStopSec); leaks are
                # checked by every other suite of `make asan`, outside these units
                for u in firebreak.service firebreak-audit.service; do
                        mkdir -p "$1/etc/systemd/system/$u.d"
                        printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
                                >"$1/etc/systemd/system/$u.d/sanitizer.conf"
                done
        fi
        mkdir -p "$1/etc/firebreak"
        cp policies/policy.yaml "$1/etc/firebreak/policy.yaml"
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1/etc/firebreak/http-token"
        chmod 600 "$1/etc/firebreak/http-token"
        TOKEN=$(cat "$1/etc/firebreak/http-token")
        printf '%s\n' "engine: docker" "sources:" "  journal:" "    units: [falco.service]" \
                "  http:" "    listen: 127.0.0.1:9999" \
                "    token_file: /etc/firebreak/http-token" >"$1/etc/firebreak/firebreak.yaml"
}
systemd_image "$W" setup || finish
systemd_start --cap-add SYS_ADMIN -v "$DT/docker.sock:/run/docker.sock" || finish

# sibling containers, one per case; alerts name them by their 12-digit short id
sibling() { docker run -d fb-busybox:test sleep 600 2>/dev/null; }
alert() { # alert SHORT_ID PROC_NAME
        printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","hostname":"test","tags":["T1620","mitre_defense_evasion"],"output_fields":{"container.id":"%s","container.name":"x","container.image.repository":"nginx","proc.name":"%s","proc.exepath":"memfd:x","evt.type":"execve"}}\n' \
                "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$1" "$2"
}
put() { # put FILE: copies stdin into the container
        cat >"$W/put" && docker cp "$W/put" "$SD:$1" >/dev/null
}
# journal writers: a transient service whose stdout is the journal, as Falco's is
journal_from() { # journal_from UNIT FILE
        sdx systemd-run --unit="$1" -q -p SyslogIdentifier=falco cat "$2"
}
status_of() { docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
wait_status() { # wait_status ID STATUS: up to 15 s
        i=0
        while [ "$(status_of "$1")" != "$2" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
        [ "$(status_of "$1")" = "$2" ]
}
processed() { sdx firebreak history 2>/dev/null | grep -c "\"id\":\"$1\".*\"status\":\"done\""; }

# ---- start ---------------------------------------------------------------------------------
if sdx systemctl enable --now firebreak.socket firebreak.service >"$W/enable.log" 2>&1; then
        ok "systemctl enable --now firebreak.socket firebreak.service"
else
        bad "systemctl enable --now" "$(cat "$W/enable.log")" \
                "$(sdx journalctl -u firebreak --no-pager -o cat | tail -5)"
        finish
fi
st=$(sdx systemctl show -p ActiveState -p SubState -p StatusText firebreak.service | sort | tr '\n' ' ')
case "$st" in
"ActiveState=active StatusText="*processed*" SubState=running ")
        ok "Type=notify: active (running) after READY=1, with its STATUS= line" ;;
*) bad "firebreak.service active (running)" "$st" ;;
esac

# ---- journal: a trusted alert --------------------------------------------------------------
A=$(sibling)
alert "$(echo "$A" | cut -c1-12)" trusted | put /tmp/a.json
journal_from falco /tmp/a.json
if wait_status "$A" paused; then ok "an alert from the falco unit's journal pauses the sibling"
else bad "journal alert pauses the sibling" "status: $(status_of "$A")" \
        "$(sdx journalctl -u firebreak --no-pager -o cat | tail -5)"; fi
AID=$(sdx firebreak history 2>/dev/null | grep '"source":"journal"' | head -1 |
        sed -E 's/.*"id":"([0-9a-f]+)".*/\1/')
if [ -n "$AID" ] && sdx test -s "/var/lib/firebreak/reports/$AID.md"; then
        ok "its report is written"
else bad "report written" "id: '$AID'"; fi
i=0
until sdx journalctl FB_ALERT_ID="$AID" FB_ACTION=pause -o json --no-pager 2>/dev/null |
        grep -q '"FB_RESULT":"done"' || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
aud=$(sdx journalctl FB_ALERT_ID="$AID" FB_ACTION=pause -o json --no-pager 2>/dev/null)
case "$aud" in
*'"MESSAGE_ID":"'*'"FB_RESULT":"done"'* | *'"FB_RESULT":"done"'*'"MESSAGE_ID":"'*)
        case "$aud" in
        *"\"FB_CONTAINER_ID\":\"$A\""*) ok "the pause is an audit entry in the journal (MESSAGE_ID, FB_*)" ;;
        *) bad "audit entry names the container" "$aud" ;;
        esac ;;
*) bad "audit entry in the journal" "$aud" ;;
esac

# ---- journal: the same shape from anyone else is ignored ------------------------------------
B=$(sibling)
alert "$(echo "$B" | cut -c1-12)" forged | put /tmp/b.json
journal_from evil /tmp/b.json
sdx systemd-cat -t falco cat /tmp/b.json # outside any unit
# a trusted alert after them: once it is done, the two before it have been read
C=$(sibling)
alert "$(echo "$C" | cut -c1-12)" after | put /tmp/c.json
journal_from falco /tmp/c.json
wait_status "$C" paused
if [ "$(status_of "$B")" = running ] && ! sdx firebreak history | grep -q forged; then
        ok "the same alert from another unit, or from outside a unit, is ignored"
else bad "untrusted journal entries ignored" "status: $(status_of "$B")"; fi
m=$(sdx curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8765/metrics)
case "$m" in
*'firebreak_alerts_rejected_total{source="journal"} 2'*) ok "both are counted as rejected" ;;
*) bad "rejected journal entries counted" "$(echo "$m" | grep rejected)" ;;
esac

# ---- HTTP through firebreak.socket ---------------------------------------------------------
D=$(sibling)
alert "$(echo "$D" | cut -c1-12)" http | put /tmp/d.json
code=$(sdx curl -s -o /dev/null -w '%{http_code}' --data-binary @/tmp/d.json http://127.0.0.1:8765/)
[ "$code" = 401 ] && ok "HTTP without the token: 401" || bad "HTTP without token" "code $code"
code=$(sdx curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        --data-binary @/tmp/d.json http://127.0.0.1:8765/)
if [ "$code" = 200 ] && wait_status "$D" paused; then
        ok "HTTP POST through the socket unit: 200, sibling paused"
else bad "HTTP through the socket unit" "code $code, status $(status_of "$D")"; fi
# the configuration says 9999; firebreak.socket listens on 8765: the 200 above came through the
# socket systemd passed, and the service opened no listener of its own
code=$(sdx curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9999/healthz)
[ "$code" = 000 ] && ok "socket activation: the listener is systemd's, the configured address stays closed" ||
        bad "socket activation" "127.0.0.1:9999 answered $code"

# ---- restart: resume from the cursor, nothing twice ----------------------------------------
sdx systemctl stop firebreak.service 2>/dev/null # the socket stays: it may start it again
E=$(sibling)
alert "$(echo "$E" | cut -c1-12)" while-down | put /tmp/e.json
journal_from falco /tmp/e.json
sleep 0.5
sdx systemctl start firebreak.service
if wait_status "$E" paused; then ok "after a restart, the alert written while it was down is processed"
else bad "resume from the cursor" "status $(status_of "$E")"; fi
n=$(sdx firebreak history | grep -c '"source":"journal"')
pauses=$(sdx journalctl FB_ACTION=pause FB_MODE=enforce -o cat --no-pager | wc -l)
if [ "$n" = 3 ] && [ "$(processed "$AID")" = 1 ] && [ "$pauses" = 4 ]; then
        ok "nothing read twice: 3 journal alerts, 4 pauses in store and journal alike"
else bad "exactly once across the restart" "journal alerts $n, pauses audited $pauses"; fi

# ---- a backlog: 1,500 alerts written while the service is down, read in slices ---------------
sdx systemctl stop firebreak.service 2>/dev/null
i=0
while [ $i -lt 1500 ]; do
        printf '{"uuid":"bbbbbbbb-0000-4000-8000-%012d","rule":"Terminal shell in container","priority":"Notice","source":"syscall","time":"%s","output_fields":{"container.id":"host"}}\n' \
                "$i" "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)"
        i=$((i + 1))
done | put /tmp/many.json
journal_from falco /tmp/many.json
sleep 1
sdx systemctl start firebreak.service
i=0
while [ "$(sdx firebreak history 2>/dev/null | grep -c '"id":"bbbbbbbb-.*"status":"done"')" -lt 1500 ] &&
        [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
n=$(sdx firebreak history 2>/dev/null | grep -c '"id":"bbbbbbbb-.*"status":"done"')
st=$(sdx systemctl is-active firebreak.service)
if [ "$n" = 1500 ] && [ "$st" = active ]; then
        ok "a backlog of 1,500 journal alerts from while it was down: each processed once, service up"
else bad "journal backlog" "$n of 1500 done, service $st" \
        "$(sdx journalctl SYSLOG_IDENTIFIER=falco -o cat --no-pager | grep -c bbbbbbbb) in the journal" \
        "$(sdx journalctl -u firebreak -u systemd-journald --no-pager -o cat | tail -6)"; fi

# ---- reload ---------------------------------------------------------------------------------
if sdx systemctl reload firebreak.service && [ "$(sdx systemctl is-active firebreak.service)" = active ] &&
        sdx journalctl -u firebreak.service -o cat --no-pager | grep -q "reload: policy .* in force"; then
        ok "systemctl reload re-reads the policy (SIGHUP, RELOADING=1, READY=1): still active"
else bad "reload" "$(sdx journalctl -u firebreak --no-pager -o cat | tail -3)"; fi
# a broken policy: ExecReload runs `serve --check` first, so the reload itself fails (no
# SIGHUP is sent), the journal says why, and the service keeps the policy it has
sdx cp /etc/firebreak/policy.yaml /etc/firebreak/policy.good
printf 'rules:\n  - name: a\n    match: {}\n    actions: [quarantine]\n' | put /etc/firebreak/policy.yaml
sdx systemctl reload firebreak.service >"$W/reload.log" 2>&1 && rrc=0 || rrc=$?
sleep 0.5
if [ $rrc != 0 ] && [ "$(sdx systemctl is-active firebreak.service)" = active ] &&
        sdx journalctl -u firebreak.service -o cat --no-pager | grep -q "policy.yaml:4:15: unknown action" &&
        ! sdx journalctl -u firebreak.service -o cat --no-pager | grep -q "reload: keeping"; then
        ok "systemctl reload with a broken policy fails (serve --check before SIGHUP), names the error; still active"
else bad "reload with a broken policy" "systemctl reload exit $rrc" "$(cat "$W/reload.log")" \
        "$(sdx journalctl -u firebreak --no-pager -o cat | tail -4)"; fi
# errors carry their priority (a "<3>" prefix on the journal's stream): before, every line was
# PRIORITY=6 and `journalctl -p err` found nothing
if sdx journalctl -u firebreak.service -p err -o cat --no-pager | grep -q "policy.yaml:4:15: unknown action" &&
        ! sdx journalctl -u firebreak.service -p err -o cat --no-pager | grep -q "READY\|started"; then
        ok "journalctl -p err finds the error, and only errors"
else bad "error priority in the journal" "$(sdx journalctl -u firebreak -p err --no-pager -o cat | tail -3)"; fi
sdx mv /etc/firebreak/policy.good /etc/firebreak/policy.yaml
if sdx systemctl reload firebreak.service; then ok "... and once the policy is fixed, the reload goes through"
else bad "reload after the fix" "$(sdx journalctl -u firebreak --no-pager -o cat | tail -4)"; fi

# ---- logrotate: the audit log rotates, and the service writes on into a new one ------------
# (the file make install put in /etc/logrotate.d; its postrotate reloads the unit, which
# reopens the log)
n0=$(sdx sh -c 'wc -l < /var/lib/firebreak/audit.jsonl')
if sdx logrotate -f /etc/logrotate.d/firebreak >"$W/logrotate.log" 2>&1; then
        G=$(sibling)
        alert "$(echo "$G" | cut -c1-12)" rotated | put /tmp/g.json
        journal_from falco /tmp/g.json
        wait_status "$G" paused
        n1=$(sdx sh -c 'wc -l < /var/lib/firebreak/audit.jsonl.1')
        if [ "$n0" -gt 0 ] && [ "$n1" = "$n0" ] &&
                sdx grep -q "$(echo "$G" | cut -c1-12)" /var/lib/firebreak/audit.jsonl; then
                ok "logrotate: audit.jsonl.1 keeps its $n0 lines, the next decision goes to a new audit.jsonl"
        else bad "logrotate" "before $n0 lines, audit.jsonl.1 has $n1" \
                "$(sdx sh -c 'ls -l /var/lib/firebreak; tail -2 /var/lib/firebreak/audit.jsonl*')"; fi
else bad "logrotate -f /etc/logrotate.d/firebreak" "$(cat "$W/logrotate.log")"; fi

# ---- the dry-run audit unit ----------------------------------------------------------------
sdx systemctl start firebreak-audit.service
if [ "$(sdx systemctl is-active firebreak.service)" != active ] &&
        [ "$(sdx systemctl is-active firebreak-audit.service)" = active ]; then
        ok "firebreak-audit.service replaces firebreak.service (Conflicts=)"
else bad "audit unit starts" "$(sdx systemctl status firebreak-audit --no-pager | tail -3)"; fi
F=$(sibling)
alert "$(echo "$F" | cut -c1-12)" audit | put /tmp/f.json
journal_from falco /tmp/f.json
i=0
until sdx journalctl FB_MODE=dry-run FB_ACTION=pause -o cat --no-pager 2>/dev/null | grep -q . ||
        [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
if sdx journalctl FB_MODE=dry-run FB_ACTION=pause -o cat --no-pager | grep -q . &&
        [ "$(status_of "$F")" = running ]; then
        ok "the audit unit decides and records (FB_MODE=dry-run) but touches nothing"
else bad "dry-run audit unit" "status $(status_of "$F")"; fi

# ---- stop -----------------------------------------------------------------------------------
sdx systemctl stop firebreak-audit.service
res=$(sdx systemctl show -p Result --value firebreak-audit.service)
[ "$res" = success ] && ok "SIGTERM: a clean stop (Result=success)" || bad "clean stop" "Result=$res"
finish
