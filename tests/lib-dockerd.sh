# lib-dockerd.sh: start and stop a private dockerd for a test (sourced). The daemon gets its own
# socket, data root and exec root under a temporary directory, no networking, and the vfs
# storage driver (no mounts left behind); it is stopped by its pid and the directory removed.
#   dockerd_start      sets DT (the directory), DOCKER_HOST; imports fb-busybox:test
#   dockerd_stop       stops the daemon, removes DT

dockerd_start() {
        DT=$(mktemp -d /tmp/fb-dockerd.XXXXXX)
        dockerd --iptables=false --bridge=none --ip-forward=false --ip-masq=false \
                --storage-driver=vfs --host "unix://$DT/docker.sock" --data-root "$DT/data" \
                --exec-root "$DT/exec" --pidfile "$DT/docker.pid" >"$DT/dockerd.log" 2>&1 &
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
        # an image: static busybox, imported from a tar (there is no registry here)
        mkdir -p "$DT/rootfs/bin" "$DT/rootfs/tmp"
        cp "$(command -v busybox)" "$DT/rootfs/bin/busybox"
        for a in sh sleep echo cat ls ps touch; do ln -sf busybox "$DT/rootfs/bin/$a"; done
        tar -C "$DT/rootfs" -cf "$DT/rootfs.tar" . &&
                docker import "$DT/rootfs.tar" fb-busybox:test >/dev/null
}

dockerd_stop() {
        [ -n "${DPID:-}" ] || return 0
        docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
        kill "$DPID" 2>/dev/null
        i=0
        while kill -0 "$DPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
        rm -rf "$DT"
        DPID=
}
