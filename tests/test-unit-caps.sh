#!/bin/sh
# test-unit-caps: each capability that firebreak.service keeps is needed by an action, and the
# actions work with nothing more. A container runs a real systemd as PID 1 with Debian's
# docker.io as docker.service, so that firebreak.service (installed by `make install`) and the
# containers it acts on share one pid namespace, as on a host. Real fileless attacks run in
# containers of that dockerd (the static probe copies itself into a memfd and runs from it),
# as root and as uid 1000. Under the unit as shipped, capture copies both payloads (sha256 of
# the probe) and memfd-noexec sets the container's vm.memfd_noexec to 2. Then, one at a time, a
# drop-in takes one capability out of the bounding set and the action that needs it fails,
# saying why: CAP_SYS_PTRACE (the kernel shows /proc/PID/exe and opens /proc/PID/ns/pid of a
# process with other credentials only with it), CAP_SYS_ADMIN (setns into the container's pid
# namespace). The shipped set has nothing else: CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE were
# in it once, and the run under the shipped unit shows no action needs them.
set -u
. tests/lib-test.sh
. tests/lib-dockerd.sh
. tests/lib-systemd.sh
BUILD=${BUILD:-build}
PROBE=$BUILD/tests/memfd-exec
W=$(mktemp -d /tmp/fb-unit-caps.XXXXXX)
finish() { systemd_finish; }
trap finish INT TERM HUP # an interrupted run still stops what it started

systemd_require "unit capabilities" busybox
[ -x "$PROBE" ] || { bad "the static probe $PROBE is missing (make check builds it)"; finish; }
if [ ! -e /proc/sys/vm/memfd_noexec ]; then
        # memfd-noexec answers "not supported" before Linux 6.3: nothing there needs a capability
        skip "unit capabilities: kernel $(uname -r) has no vm.memfd_noexec (Linux 6.3 added it)"
        finish
fi
echo "kernel $(uname -r): vm.memfd_noexec $(cat /proc/sys/vm/memfd_noexec) on the host"
if [ "$(cat /proc/sys/vm/memfd_noexec)" = 2 ]; then
        # inherited by every pid namespace below: no memfd can run, so there is nothing to capture
        skip "unit capabilities: vm.memfd_noexec=2 on this host: no memfd payload can run to be captured"
        finish
fi

# the inner dockerd (no networking, vfs: no overlay inside a container), an image holding
# busybox and the probe, the service's configuration and policy
setup() {
        mkdir -p "$1/etc/docker" "$W/img/bin" "$1/etc/firebreak"
        printf '%s\n' '{' '  "storage-driver": "vfs",' '  "iptables": false,' \
                '  "ip-forward": false,' '  "ip-masq": false,' '  "bridge": "none",' \
                '  "log-level": "warn"' '}' >"$1/etc/docker/daemon.json"
        cp "$(command -v busybox)" "$W/img/bin/busybox"
        ln -sf busybox "$W/img/bin/sh"
        ln -sf busybox "$W/img/bin/cat"
        cp "$PROBE" "$W/img/probe"
        tar -C "$W/img" -cf "$1/opt/attacker.tar" .
        sha256sum "$PROBE" | cut -c1-64 >"$W/want"
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1/etc/firebreak/http-token"
        chmod 600 "$1/etc/firebreak/http-token"
        TOKEN=$(cat "$1/etc/firebreak/http-token")
        printf '%s\n' "engine: docker" "sources:" "  http:" "    listen: 127.0.0.1:9999" \
                "    token_file: /etc/firebreak/http-token" >"$1/etc/firebreak/firebreak.yaml"
        printf '%s\n' "mode: enforce" "rules:" "  - name: caps" \
                "    match: { rule: [\"Fileless execution via memfd_create\"] }" \
                "    actions: [capture, memfd-noexec]" >"$1/etc/firebreak/policy.yaml"
        if [ "$BUILD" != build ]; then # as in test-systemd: LeakSanitizer's ptrace at exit
                mkdir -p "$1/etc/systemd/system/firebreak.service.d"
                printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
                        >"$1/etc/systemd/system/firebreak.service.d/sanitizer.conf"
        fi
}
systemd_image "$W" setup || finish
WANT=$(cat "$W/want")
# what --privileged gives, but for CAP_SYS_RESOURCE, which this sandbox does not have to give
systemd_start --cap-add ALL --cap-drop SYS_RESOURCE --device-cgroup-rule "a *:* rwm" \
        --security-opt apparmor=unconfined || finish
i=0
until sdx docker info >/dev/null 2>&1 || [ $i -gt 150 ]; do sleep 0.2; i=$((i + 1)); done
if sdx docker import /opt/attacker.tar attacker:test >/dev/null 2>"$W/import.log"; then
        ok "docker.service runs inside, beside firebreak.service; the attacker image is imported"
else
        bad "docker.service runs" "$(cat "$W/import.log")" \
                "$(sdx journalctl -u docker.service --no-pager -o cat | tail -5)"
        finish
fi

# attacker [docker run options]: a container whose PID 1 runs the probe from a memfd; its id
attacker() {
        a=$(sdx docker run -d "$@" attacker:test /probe /probe --sleep 2>>"$W/run.log")
        i=0
        while [ $i -lt 50 ]; do
                p=$(sdx docker inspect -f '{{.State.Pid}}' "$a" 2>/dev/null)
                case "$(sdx readlink "/proc/$p/exe" 2>/dev/null)" in /memfd:program*) break ;; esac
                sleep 0.1; i=$((i + 1))
        done
        echo "$a"
}
# respond_to ID: posts a memfd alert for the container and waits until its actions are audited;
# the audit lines for that container are in $W/audit.ID
respond_to() {
        printf '{"rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"%s","hostname":"test","output_fields":{"container.id":"%s","proc.name":"3","proc.exepath":"memfd:program","evt.type":"execve"}}\n' \
                "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$(echo "$1" | cut -c1-12)" >"$W/alert"
        docker cp "$W/alert" "$SD:/tmp/alert.json" >/dev/null
        sdx curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" --data-binary @/tmp/alert.json \
                http://127.0.0.1:8765/
        i=0
        while [ $i -lt 100 ]; do
                sdx cat /var/lib/firebreak/audit.jsonl 2>/dev/null | grep "\"container_id\":\"$1\"" \
                        >"$W/audit.$1"
                grep -q '"action":"memfd-noexec"' "$W/audit.$1" && break
                sleep 0.1; i=$((i + 1))
        done
}
# result ID ACTION: "RESULT DETAIL" of that action
result() {
        python3 - "$W/audit.$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["action"] == sys.argv[2]:
        print(a["result"], a["detail"])
PY
}
captured() { # captured ID: the sha256 of the payload capture copied, if any
        sdx sh -c "sha256sum /var/lib/firebreak/evidence/*/memfd-*.exe" 2>/dev/null |
                while read -r sum f; do
                        pid=${f##*/memfd-}
                        pid=${pid%.exe}
                        sdx grep -qs "$(echo "$1" | cut -c1-64)" "/proc/$pid/cgroup" && echo "$sum"
                done | head -n 1
}
noexec_of() { sdx docker exec "$1" cat /proc/sys/vm/memfd_noexec 2>/dev/null; }
# with_caps NAME DROPIN: firebreak.service restarted with that drop-in (empty: as shipped)
with_caps() {
        sdx rm -f /etc/systemd/system/firebreak.service.d/caps.conf
        if [ -n "$2" ]; then
                printf '[Service]\n%s\n' "$2" >"$W/caps.conf"
                sdx mkdir -p /etc/systemd/system/firebreak.service.d
                docker cp "$W/caps.conf" "$SD:/etc/systemd/system/firebreak.service.d/caps.conf" >/dev/null
        fi
        sdx systemctl daemon-reload
        if ! sdx systemctl restart firebreak.service >"$W/start.log" 2>&1; then
                bad "firebreak.service starts ($1)" "$(cat "$W/start.log")" \
                        "$(sdx journalctl -u firebreak --no-pager -o cat | tail -5)"
                return 1
        fi
        mp=$(sdx systemctl show -p MainPID --value firebreak.service)
        echo "firebreak.service ($1): $(sdx grep -E '^Cap(Eff|Bnd)' "/proc/$mp/status" | tr '\t\n' '  ')"
}

# ---- as shipped ------------------------------------------------------------------------------
bnd=$(sdx systemctl show -p CapabilityBoundingSet --value firebreak.service)
case "$bnd" in
"cap_sys_ptrace cap_sys_admin" | "cap_sys_admin cap_sys_ptrace")
        ok "the shipped unit keeps two capabilities: $bnd" ;;
*) bad "the shipped unit's bounding set" "$bnd" ;;
esac
with_caps "as shipped" "" || finish
R=$(attacker)
U=$(attacker --user 1000:1000)
respond_to "$R"
respond_to "$U"
got=$(captured "$R")
if [ "$got" = "$WANT" ] && result "$R" capture | grep -q "^done captured 1"; then
        ok "as shipped: capture copies a root process's memfd payload (sha256 $WANT)"
else bad "capture as shipped (root)" "want $WANT, got '${got:-nothing}'" "$(result "$R" capture)"; fi
got=$(captured "$U")
if [ "$got" = "$WANT" ] && result "$U" capture | grep -q "^done captured 1"; then
        ok "as shipped: ... and a uid 1000 process's (no CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE needed)"
else bad "capture as shipped (uid 1000)" "got '${got:-nothing}'" "$(result "$U" capture)"; fi
if [ "$(noexec_of "$R")" = 2 ] && [ "$(noexec_of "$U")" = 2 ] &&
        result "$R" memfd-noexec | grep -q "^done vm.memfd_noexec = 2"; then
        ok "as shipped: memfd-noexec sets vm.memfd_noexec = 2 in both containers' pid namespaces"
else bad "memfd-noexec as shipped" "root: $(noexec_of "$R"), uid 1000: $(noexec_of "$U")" \
        "$(result "$R" memfd-noexec)"; fi

# ---- without CAP_SYS_PTRACE ----------------------------------------------------------------
if with_caps "without CAP_SYS_PTRACE" "CapabilityBoundingSet=~CAP_SYS_PTRACE"; then
        R=$(attacker)
        respond_to "$R"
        if result "$R" capture | grep -q "^failed .*CAP_SYS_PTRACE" && [ -z "$(captured "$R")" ]; then
                ok "without CAP_SYS_PTRACE: capture fails and says it needs CAP_SYS_PTRACE"
        else bad "capture without CAP_SYS_PTRACE" "$(result "$R" capture)"; fi
        if result "$R" memfd-noexec | grep -q "^failed .*CAP_SYS_PTRACE" && [ "$(noexec_of "$R")" = 0 ]; then
                ok "without CAP_SYS_PTRACE: memfd-noexec fails (/proc/PID/ns/pid), the container keeps 0"
        else bad "memfd-noexec without CAP_SYS_PTRACE" "$(noexec_of "$R")" "$(result "$R" memfd-noexec)"; fi
fi

# ---- without CAP_SYS_ADMIN -----------------------------------------------------------------
if with_caps "without CAP_SYS_ADMIN" "CapabilityBoundingSet=~CAP_SYS_ADMIN"; then
        R=$(attacker)
        respond_to "$R"
        if result "$R" memfd-noexec | grep -q "^failed .*CAP_SYS_ADMIN" && [ "$(noexec_of "$R")" = 0 ]; then
                ok "without CAP_SYS_ADMIN: memfd-noexec fails (setns), says so; the container keeps 0"
        else bad "memfd-noexec without CAP_SYS_ADMIN" "$(noexec_of "$R")" "$(result "$R" memfd-noexec)"; fi
        if [ "$(captured "$R")" = "$WANT" ]; then
                ok "without CAP_SYS_ADMIN: capture still works (it needs only CAP_SYS_PTRACE)"
        else bad "capture without CAP_SYS_ADMIN" "$(result "$R" capture)"; fi
fi

sdx systemctl stop firebreak.service firebreak.socket
finish
