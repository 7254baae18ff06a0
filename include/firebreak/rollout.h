/* rollout.h: hardening a Docker host, and one running container.
 *
 * plan     reads the engine and the host: kernel, vm.memfd_noexec, the engine's default
 *          seccomp profile (/info), dockerd's daemon.json (its --config-file when given),
 *          live-restore, whether dockerd is a systemd unit; prints what apply would change.
 * apply    installs the profile, sets daemon.json's "seccomp-profile" (every other key kept,
 *          the original kept for rollback, invalid JSON refused, written atomically), restarts
 *          dockerd through systemd when it is a unit (else says how), and optionally writes and
 *          applies vm.memfd_noexec and installs the OCI profile for kubelet. Nothing changes
 *          without yes.
 * verify   runs the static probe in a canary container under the engine's default profile and
 *          checks /info names the installed profile.
 * rollback restores the original daemon.json and restarts.
 * audit    every container: which profile it runs with and would run with after a restart.
 *
 * dockerd reads daemon.json's seccomp-profile only when it starts, and applies it to
 * containers started afterwards without their own seccomp option. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "firebreak/engine.h"
#include "firebreak/profile.h"

struct fb_harden_config {
        struct fb_engine *engine;
        const char *daemon_json; /* NULL: dockerd's --config-file, else /etc/docker/daemon.json */
        const char *profile_dir; /* default /etc/firebreak/seccomp */
        enum fb_profile_mode mode;
        bool sysctl;            /* also vm.memfd_noexec (1 for strict, 2 for compat... see .c) */
        const char *sysctl_dir; /* default /etc/sysctl.d */
        bool kubernetes;
        const char *kubelet_dir; /* default /var/lib/kubelet/seccomp */
        bool yes;                /* apply and rollback change nothing without it */
        bool no_restart;         /* leave restarting dockerd to the operator */
        const char *image;       /* verify: the canary's image */
        const char *probe;       /* verify: the static firebreak-probe on this host */
        bool json;               /* audit: JSON output */
};

/* Each returns an exit code (0 done or hardened, 1 not hardened / something refused, 2 usage
 * or invalid input, 3 a file could not be written, 4 the engine failed) and prints to out. */
int fb_harden_plan(const struct fb_harden_config *c, FILE *out);
int fb_harden_apply(const struct fb_harden_config *c, FILE *out);
int fb_harden_verify(const struct fb_harden_config *c, FILE *out);
int fb_harden_rollback(const struct fb_harden_config *c, FILE *out);
int fb_harden_audit(const struct fb_harden_config *c, FILE *out);

/* Sets vm.memfd_noexec in the pid namespace of process pid, which must be in the cgroup of
 * container_id (fork after setns: the setting is per pid namespace), and reads it back there.
 * Returns 0 and *readback; -EPERM when the process shares firebreak's pid namespace (that
 * would change the host) or the kernel refuses (a value below the parent namespace's); -ESRCH
 * when the pid is not the container's; -EACCES when firebreak may not open the namespace
 * (CAP_SYS_PTRACE) or enter it (CAP_SYS_ADMIN); -EOPNOTSUPP when the kernel has no such sysctl
 * (before Linux 6.3); other -errno. */
int fb_memfd_noexec_set(pid_t pid, const char *container_id, int value, int *readback);
