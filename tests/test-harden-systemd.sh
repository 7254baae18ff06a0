#!/bin/sh
# test-harden-systemd: `firebreak harden` where dockerd is a systemd unit. A container runs a
# real systemd as PID 1 with Debian's docker.io, so docker.service is a real unit with its own
# dockerd; firebreak is installed by `make install`. plan names the unit; verify fails before
# apply (the attack succeeds under the stock default); apply --yes writes the profile and
# daemon.json and restarts docker.service through systemd's D-Bus API (a new main pid); verify
# then passes (the attack fails, /info names the profile); rollback --yes restores daemon.json
# and restarts again, and verify fails again. The container has every capability (it runs
# dockerd and containers of its own); nothing here writes the host's sysctls.
set -u
. tests/lib-test.sh
. tests/lib-dockerd.sh
. tests/lib-systemd.sh
BUILD=${BUILD:-build}
W=$(mktemp -d /tmp/fb-harden-sd.XXXXXX)
finish() { systemd_finish; }
trap finish INT TERM HUP # an interrupted run still stops what it started

systemd_require "harden under systemd" busybox

# the inner dockerd: no networking, vfs (no overlay inside a container), a canary image with
# no /tmp, as minimal images have none (verify gives the canary one)
setup() {
        mkdir -p "$1/etc/docker" "$W/canary/bin"
        printf '%s\n' '{' '  "storage-driver": "vfs",' '  "iptables": false,' \
                '  "ip-forward": false,' '  "ip-masq": false,' '  "bridge": "none",' \
                '  "log-level": "warn"' '}' >"$1/etc/docker/daemon.json"
        cp "$(command -v busybox)" "$W/canary/bin/busybox"
        ln -sf busybox "$W/canary/bin/sh"
        tar -C "$W/canary" -cf "$1/opt/canary.tar" .
        cp "$1/etc/docker/daemon.json" "$W/daemon.json.orig"
}
systemd_image "$W" setup || finish
# what --privileged gives, but for CAP_SYS_RESOURCE, which this sandbox does not have to give
systemd_start --cap-add ALL --cap-drop SYS_RESOURCE --device-cgroup-rule "a *:* rwm" \
        --security-opt apparmor=unconfined || finish

i=0
until sdx docker info >/dev/null 2>&1 || [ $i -gt 150 ]; do sleep 0.2; i=$((i + 1)); done
if [ "$(sdx systemctl is-active docker.service)" = active ] && sdx docker info >/dev/null 2>&1; then
        ok "docker.service runs as a systemd unit inside"
else
        bad "docker.service runs" "$(sdx journalctl -u docker.service --no-pager -o cat | tail -5)"
        finish
fi
sdx docker import /opt/canary.tar canary:test >/dev/null
mainpid() { sdx systemctl show -p MainPID --value docker.service; }

sdx firebreak harden plan >"$W/plan" 2>&1
if grep -q "systemd unit docker.service" "$W/plan" &&
        grep -q "restart docker.service through systemd" "$W/plan"; then
        ok "plan: dockerd is docker.service, and apply would restart it through systemd"
else bad "plan names the unit" "$(cat "$W/plan")"; fi

# vm.memfd_noexec=2, inherited by every pid namespace below the host's, blocks the attacks
# whatever the profile: then "the attack gets through" cannot be shown here
host_noexec=$(cat /proc/sys/vm/memfd_noexec 2>/dev/null || echo none)
echo "kernel $(uname -r): vm.memfd_noexec $host_noexec"
sdx firebreak harden verify --image canary:test >"$W/verify0" 2>&1
rc=$?
if [ "$host_noexec" = 2 ]; then
        skip "verify before apply: vm.memfd_noexec=2 on this host blocks every memfd attack whatever the profile"
elif [ "$rc" = 1 ] && grep -q "a memfd attack SUCCEEDED" "$W/verify0"; then
        ok "verify before apply fails: the stock default lets the attack through"
else bad "verify before apply" "exit $rc" "$(tail -5 "$W/verify0")"; fi

pid0=$(mainpid)
sdx firebreak harden apply --yes >"$W/apply" 2>&1
rc=$?
pid1=$(mainpid)
if [ "$rc" = 0 ] && grep -q "restarting docker.service" "$W/apply" &&
        grep -q "the engine is back" "$W/apply" && [ "$pid1" != "$pid0" ] && [ "$pid1" != 0 ]; then
        ok "apply --yes restarts docker.service through sd-bus (main pid $pid0 -> $pid1)"
else bad "apply restarts the unit" "exit $rc, pid $pid0 -> $pid1" "$(tail -5 "$W/apply")"; fi
sdx cat /etc/docker/daemon.json >"$W/daemon.json"
if grep -q '"seccomp-profile"' "$W/daemon.json" && grep -q '"storage-driver": *"vfs"' "$W/daemon.json"; then
        ok "daemon.json: seccomp-profile set, the other keys kept"
else bad "daemon.json after apply" "$(cat "$W/daemon.json")"; fi

sdx firebreak harden verify --image canary:test >"$W/verify1" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q "every memfd attack was blocked" "$W/verify1"; then
        ok "verify after apply: the attack fails in a canary, /info names the profile"
else bad "verify after apply" "exit $rc" "$(tail -8 "$W/verify1")"; fi

sdx firebreak harden rollback --yes >"$W/rollback" 2>&1
rc=$?
pid2=$(mainpid)
sdx cat /etc/docker/daemon.json >"$W/daemon.json"
if [ "$rc" = 0 ] && [ "$pid2" != "$pid1" ] && cmp -s "$W/daemon.json" "$W/daemon.json.orig"; then
        ok "rollback --yes: daemon.json restored byte for byte, docker.service restarted"
else bad "rollback" "exit $rc, pid $pid1 -> $pid2" "$(tail -5 "$W/rollback")"; fi
sdx firebreak harden verify --image canary:test >"$W/verify2" 2>&1
rc=$?
if [ "$host_noexec" = 2 ]; then
        skip "verify after rollback: vm.memfd_noexec=2 on this host blocks every memfd attack whatever the profile"
elif [ "$rc" = 1 ] && grep -q "a memfd attack SUCCEEDED" "$W/verify2"; then
        ok "verify after rollback fails again: the attack gets through"
else bad "verify after rollback" "exit $rc" "$(tail -3 "$W/verify2")"; fi
finish
