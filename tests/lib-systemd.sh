# lib-systemd.sh: a container running a real systemd as PID 1 (with journald and D-Bus) on the
# test dockerd, with firebreak installed into it by `make install` (sourced, after
# lib-test.sh and lib-dockerd.sh; the suite defines finish).
#   systemd_require    skips the suite unless root with the tools; starts the test dockerd
#   systemd_image      builds the image fb-systemd:test: a Debian 12 rootfs from debootstrap
#                      (cached as a tar in build/test-cache, which `make clean` removes; about a
#                      minute the first time), firebreak installed, SD_SETUP run on the rootfs
#                      directory given as $1 (a function name, may be empty)
#   systemd_start ARGS starts it (extra docker run ARGS), sets SD, waits for the system to run
#   sdx CMD...         runs CMD inside it
#   systemd_stop       halts systemd (SIGRTMIN+3), removes the container and its cgroups
#   systemd_finish     systemd_stop, dockerd_stop, removes $W, the summary, exit
# The rootfs carries firebreak's runtime libraries, curl, procps (the inner dockerd runs ps
# for /top), and docker.io (for a dockerd that is a systemd unit: harden's restart through
# sd-bus).
SD=
SD_PKGS=systemd,systemd-sysv,dbus,curl,procps,logrotate,libjansson4,libyaml-0-2,libcurl4,libseccomp2,libprotobuf-c1,libsqlite3-0,libmicrohttpd12,docker.io
SD_CACHE=$(pwd)/build/test-cache/systemd-rootfs-$(echo "$SD_PKGS" | cksum | cut -d' ' -f1).tar

# systemd_require WHAT CMD...: the suite (through its finish) is skipped, with the reason, unless
# this is root and every CMD is installed; then the private dockerd starts
systemd_require() {
        what=$1
        shift
        if [ "$(id -u)" != 0 ]; then skip "$what: needs root (dockerd)"; finish; fi
        for c in dockerd docker debootstrap "$@"; do
                command -v "$c" >/dev/null 2>&1 || { skip "$what: no $c"; finish; }
        done
        # the host's cgroup hierarchy, which the container's systemd shares: said, not assumed
        case $(stat -fc %T /sys/fs/cgroup 2>/dev/null) in
        cgroup2fs) echo "cgroup v2 (unified) at /sys/fs/cgroup" ;;
        tmpfs) if [ -d /sys/fs/cgroup/unified ]; then echo "cgroup v1 with a v2 hierarchy (hybrid)"
               else echo "cgroup v1 (legacy)"; fi ;;
        *) skip "$what: no cgroup hierarchy at /sys/fs/cgroup for systemd"; finish ;;
        esac
        dockerd_start || { bad "private dockerd starts"; finish; }
}

systemd_image() { # systemd_image WORKDIR [SETUP_FUNCTION]
        sd_w=$1
        if [ ! -s "$SD_CACHE" ]; then
                echo "building a Debian 12 rootfs with systemd (about a minute)"
                mkdir -p "$(dirname "$SD_CACHE")"
                if ! debootstrap --variant=minbase --include="$SD_PKGS" bookworm "$sd_w/base" \
                        http://deb.debian.org/debian >"$sd_w/debootstrap.log" 2>&1 ||
                        ! tar -C "$sd_w/base" -cf "$SD_CACHE.tmp" . ||
                        ! mv "$SD_CACHE.tmp" "$SD_CACHE"; then
                        bad "debootstrap a systemd rootfs" "$(tail -5 "$sd_w/debootstrap.log")"
                        rm -rf "$SD_CACHE.tmp" "$sd_w/base"
                        return 1
                fi
                ok "debootstrap a systemd rootfs"
                rm -rf "$sd_w/base"
        fi
        sd_r=$sd_w/rootfs
        mkdir -p "$sd_r" && tar -C "$sd_r" -xf "$SD_CACHE" || return 1
        if ! make -s install DESTDIR="$sd_r" BUILD="${BUILD:-build}" >"$sd_w/install.log" 2>&1; then
                bad "make install into the image" "$(tail -5 "$sd_w/install.log")"
                return 1
        fi
        ok "make install into the image"
        if [ "${BUILD:-build}" != build ]; then
                # a sanitizer build needs its runtime in the image: the host's (same Debian)
                for l in $(ldd "$sd_r/usr/local/sbin/firebreak" | awk '/lib(a|ub)san/ {print $3}'); do
                        cp -L "$l" "$sd_r/usr/lib/x86_64-linux-gnu/"
                done
        fi
        [ -z "${2:-}" ] || "$2" "$sd_r" || return 1
        if ! tar -C "$sd_r" -c . | docker import - fb-systemd:test >/dev/null 2>"$sd_w/import.log"; then
                bad "import the image" "$(cat "$sd_w/import.log")"
                return 1
        fi
        rm -rf "$sd_r"
}

systemd_start() {
        SD=$(docker run -d --stop-signal SIGRTMIN+3 --security-opt seccomp=unconfined \
                --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:rw "$@" \
                fb-systemd:test /sbin/init 2>"$DT/systemd-run.log")
        [ -n "$SD" ] || { bad "systemd container starts" "$(cat "$DT/systemd-run.log")"; return 1; }
        i=0
        while :; do # systemctl answers once PID 1 has set up its bus
                state=$(sdx systemctl is-system-running --wait 2>&1)
                case "$state" in running | degraded) break ;; esac
                [ $i -lt 100 ] || break
                sleep 0.2; i=$((i + 1))
        done
        case "$state" in
        running | degraded) ok "systemd runs as PID 1 ($state)" ;;
        *) bad "systemd runs as PID 1" "state: $state" "$(docker logs "$SD" 2>&1 | tail -8)"
           return 1 ;;
        esac
}

sdx() { docker exec "$SD" "$@"; }

systemd_stop() {
        [ -n "$SD" ] || return 0
        # the inner dockerd's containers, when one runs there: their cgroups are the host's too
        sd_inner=$(sdx docker ps -aq --no-trunc 2>/dev/null)
        # systemd halts on SIGRTMIN+3 (the container's stop signal) and removes its cgroups;
        # then the container goes, and any cgroup left of it or of the inner containers
        docker stop -t 20 "$SD" >/dev/null 2>&1
        docker rm -f "$SD" >/dev/null 2>&1
        for id in "$SD" $sd_inner; do
                for d in /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/docker/"$id"; do
                        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
                done
        done
        SD=
}

# systemd_finish: stops everything the suite started, removes W, prints the summary, exits
systemd_finish() {
        systemd_stop
        dockerd_stop
        [ -n "${KEEP:-}" ] || rm -rf "$W"
        summary
        exit $?
}
