# lib-dockerd.sh: start and stop a private dockerd for a test (sourced). The daemon gets its own
# socket, data root and exec root under a temporary directory, no networking, and the vfs
# storage driver (no mounts left behind); it is stopped by its pid and the directory removed.
#   dockerd_start      sets DT (the directory), DOCKER_HOST; imports fb-busybox:test
#                      (DOCKERD_EXTRA: more dockerd arguments, e.g. --config-file)
#   dockerd_restart    stops the daemon by its pid and starts it again on the same data
#   dockerd_stop       stops the daemon, removes DT

dockerd_run() {
        # shellcheck disable=SC2086
        dockerd --iptables=false --bridge=none --ip-forward=false --ip-masq=false \
                --storage-driver=vfs --host "unix://$DT/docker.sock" --data-root "$DT/data" \
                --exec-root "$DT/exec" --pidfile "$DT/docker.pid" ${DOCKERD_EXTRA:-} \
                >>"$DT/dockerd.log" 2>&1 &
        DPID=$!
        export DOCKER_HOST="unix://$DT/docker.sock"
        i=0
        until curl -sf --unix-socket "$DT/docker.sock" http://x/_ping >/dev/null 2>&1; do
                i=$((i + 1))
                if [ $i -gt 150 ] || ! kill -0 "$DPID" 2>/dev/null; then
                        echo "dockerd did not start:"; tail -n 20 "$DT/dockerd.log"; return 1
                fi
                sleep 0.2
        done
}

dockerd_restart() {
        cpid=$(cat "$DT/exec/containerd/containerd.pid" 2>/dev/null)
        stop_pid "$DPID"
        wait "$DPID" 2>/dev/null || true
        [ -z "$cpid" ] || stop_pid "$cpid"
        dockerd_run
}

dockerd_start() {
        DT=$(mktemp -d /tmp/fb-dockerd.XXXXXX)
        if ! dockerd_run; then
                dockerd_stop # leaves nothing behind, also when the daemon never answered
                return 1
        fi
        # an image: static busybox, imported from a tar (there is no registry here)
        mkdir -p "$DT/rootfs/bin" "$DT/rootfs/tmp"
        cp "$(command -v busybox)" "$DT/rootfs/bin/busybox"
        for a in sh sleep echo cat ls ps touch; do ln -sf busybox "$DT/rootfs/bin/$a"; done
        tar -C "$DT/rootfs" -cf "$DT/rootfs.tar" . &&
                docker import "$DT/rootfs.tar" fb-busybox:test >/dev/null
}

# stop_pid PID: SIGTERM, up to 15 s, then SIGKILL
stop_pid() {
        kill "$1" 2>/dev/null || return 0
        i=0
        while kill -0 "$1" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$1" 2>/dev/null || true
}

dockerd_stop() {
        [ -n "${DPID:-}" ] || return 0
        # paused containers would hold up the daemon's shutdown: thaw, then remove them all
        paused=$(docker ps -q --filter status=paused 2>/dev/null)
        [ -z "$paused" ] || docker unpause $paused >/dev/null 2>&1
        all=$(docker ps -aq 2>/dev/null)
        [ -z "$all" ] || docker rm -f $all >/dev/null 2>&1
        cpid=$(cat "$DT/exec/containerd/containerd.pid" 2>/dev/null)
        stop_pid "$DPID"
        wait "$DPID" 2>/dev/null || true
        # dockerd stops its containerd; if it could not, stop it by its pid file
        [ -z "$cpid" ] || stop_pid "$cpid"
        # anything still mounted below our directory (container shm) must go before rm
        grep -o " $DT/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null; done
        rm -rf "$DT"
        DPID=
}

# dockerd_suite NAME: the opening of a suite that needs the private dockerd. Skips the suite
# (through its finish) unless root with dockerd; else makes W (/tmp/fb-NAME.XXXXXX), starts the
# daemon and sets log (where the docker CLI's warnings go)
dockerd_suite() {
        if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
                skip "test-$1: needs root and dockerd (run .ci/install-deps test as root)"
                finish
        fi
        W=$(mktemp -d "/tmp/fb-$1.XXXXXX")
        dockerd_start || { bad "start a private dockerd"; finish; }
        log="$W/docker-cli.log"
}
# sleeper [docker run options]: a detached fb-busybox:test that sleeps 600 s; prints its id
sleeper() { docker run -d "$@" fb-busybox:test sleep 600 2>>"$log"; }
# state ID: the container's status (running, paused, exited, ...)
state() { docker inspect --format '{{.State.Status}}' "$1"; }
