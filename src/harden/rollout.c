/* rollout.c: harden plan/apply/verify/rollback/audit for a Docker host, and vm.memfd_noexec
 * for one running container. Only this module includes <systemd/sd-bus.h>. */
#define _GNU_SOURCE
#include "firebreak/rollout.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/buf.h"
#include "firebreak/cleanup.h"
#include "firebreak/compile.h"
#include "firebreak/fileio.h"
#include "firebreak/strutil.h"

#define DAEMON_JSON_MAX (1u << 20)
#define BACKUP_SUFFIX ".firebreak-backup"
#define SYSCTL_FILE "60-firebreak-memfd.conf"

enum { EXIT_OK = 0, EXIT_NOT = 1, EXIT_USAGE = 2, EXIT_OUTPUT = 3, EXIT_ENGINE = 4 };

/* What plan learns; apply, rollback and audit reuse it. */
struct facts {
        char kernel[128];
        int memfd_noexec;       /* -1 when the kernel has no such sysctl (before 6.3) */
        pid_t dockerd;          /* 0 when unknown */
        char unit[256];         /* "docker.service" when dockerd is a systemd unit, else "" */
        char in_unit[256];      /* the unit dockerd runs inside without being its main process */
        char config_flag[4096]; /* dockerd's --config-file, "" when not given */
        bool seccomp_flag;      /* dockerd has --seccomp-profile on its command line */
        double dockerd_started; /* epoch seconds, 0 when unknown */
        char daemon_json[4096];
        bool daemon_json_exists;
        char current_profile[4096]; /* daemon.json's seccomp-profile, "" when unset */
        char info_profile[4096];    /* /info: the profile dockerd runs with ("default", a path) */
        char server_version[64];
        bool live_restore;
        long running;
        char profile_path[4096]; /* what apply installs */
};

static int read_int_file(const char *path) {
        int64_t v;

        return fb_read_int_file(path, &v) < 0 ? -1 : (int)v;
}

/* The engine's pid, from the unix socket's peer credentials. */
static pid_t peer_pid(const char *sock) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (fd < 0 || strlen(sock) >= sizeof(sa.sun_path))
                return 0;
        memcpy(sa.sun_path, sock, strlen(sock) + 1);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return 0;
        return cred.pid;
}

/* Process start time in epoch seconds: /proc/PID/stat's starttime plus the boot time. */
static double started_at(pid_t pid) {
        _cleanup_free_ char *stat = NULL, *pstat = NULL;
        char path[64];
        const char *p;
        uint64_t ticks = 0, btime = 0;
        size_t len;
        int field;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (fb_read_file(path, 4096, &pstat, &len) < 0 || !(p = strrchr(pstat, ')')))
                return 0;
        /* field 3 starts after ") "; starttime is field 22 */
        for (field = 2, p++; *p && field < 22; p++)
                if (*p == ' ')
                        field++;
        if (fb_parse_uint64_prefix(p, &ticks, NULL) < 0)
                return 0;
        if (fb_read_file("/proc/stat", 1 << 16, &stat, &len) < 0 ||
            !(p = strstr(stat, "\nbtime ")) || fb_parse_uint64_prefix(p + 7, &btime, NULL) < 0)
                return 0;
        return (double)btime + (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* The main pid of a service, from systemd; 0 when it has none or systemd does not answer. */
static pid_t unit_main_pid(const char *unit) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus *bus = NULL;
        uint32_t pid = 0;

        if (sd_bus_open_system(&bus) >= 0 &&
            sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) >= 0)
                (void)sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
                                                  "org.freedesktop.systemd1.Service", "MainPID",
                                                  &error, 'u', &pid);
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return (pid_t)pid;
}

/* Under socket activation (Debian's docker.socket) the socket's peer is systemd itself: the
 * daemon is the main process of the service that the socket unit listening on sock
 * triggers. 0 when there is none. */
static pid_t activated_pid(const char *sock) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *units = NULL;
        const char *upath, *type, *addr;
        char want[PATH_MAX], got[PATH_MAX];
        sd_bus *bus = NULL;
        pid_t pid = 0;
        int r;

        if (!realpath(sock, want) || sd_bus_open_system(&bus) < 0)
                goto out;
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "ListUnitsByPatterns", &error,
                               &units, "asas", 0, 1, "*.socket");
        if (r < 0 || sd_bus_message_enter_container(units, 'a', "(ssssssouso)") < 0)
                goto out;
        while (!pid && sd_bus_message_read(units, "(ssssssouso)", NULL, NULL, NULL, NULL, NULL,
                                           NULL, &upath, NULL, NULL, NULL) > 0) {
                sd_bus_message *listen = NULL;
                char **triggers = NULL;

                if (sd_bus_get_property(bus, "org.freedesktop.systemd1", upath,
                                        "org.freedesktop.systemd1.Socket", "Listen", &error,
                                        &listen, "a(ss)") >= 0 &&
                    sd_bus_message_enter_container(listen, 'a', "(ss)") >= 0)
                        while (sd_bus_message_read(listen, "(ss)", &type, &addr) > 0)
                                if (strcmp(type, "Stream") == 0 && realpath(addr, got) &&
                                    strcmp(got, want) == 0 &&
                                    sd_bus_get_property_strv(bus, "org.freedesktop.systemd1", upath,
                                                             "org.freedesktop.systemd1.Unit",
                                                             "Triggers", &error, &triggers) >= 0)
                                        break;
                for (size_t i = 0; triggers && triggers[i] && !pid; i++)
                        pid = unit_main_pid(triggers[i]);
                for (size_t i = 0; triggers && triggers[i]; i++)
                        free(triggers[i]);
                free(triggers);
                sd_bus_message_unref(listen);
                sd_bus_error_free(&error);
        }
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(units);
        sd_bus_flush_close_unref(bus);
        return pid;
}

static void dockerd_facts(struct facts *f, const char *sock) {
        _cleanup_free_ char *cmd = NULL, *unit = NULL;
        char path[64];
        size_t len, i;

        f->dockerd = peer_pid(sock);
        if (f->dockerd == 1 && sd_booted() > 0)
                f->dockerd = activated_pid(sock);
        if (!f->dockerd)
                return;
        f->dockerd_started = started_at(f->dockerd);
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)f->dockerd);
        if (fb_read_file(path, 1 << 16, &cmd, &len) >= 0)
                for (i = 0; i < len; i += strlen(cmd + i) + 1) {
                        const char *a = cmd + i;

                        if (strncmp(a, "--config-file=", 14) == 0)
                                snprintf(f->config_flag, sizeof(f->config_flag), "%s", a + 14);
                        else if (strcmp(a, "--config-file") == 0 && i + strlen(a) + 1 < len)
                                snprintf(f->config_flag, sizeof(f->config_flag), "%s",
                                         a + strlen(a) + 1);
                        else if (strncmp(a, "--seccomp-profile", 17) == 0)
                                f->seccomp_flag = true;
                }
        /* systemd's own reading of the pid's cgroup: right on cgroup v1, hybrid and v2 alike
         * (the first line of /proc/PID/cgroup names a unit on v2 only) */
        if (sd_booted() <= 0 || sd_pid_get_unit(f->dockerd, &unit) < 0 || strlen(unit) <= 8 ||
            strcmp(unit + strlen(unit) - 8, ".service") != 0)
                return;
        /* a dockerd started from inside some other service (a CI job, a shell in a unit) is
         * not that unit: restarting it would restart the wrong thing */
        if (unit_main_pid(unit) == f->dockerd)
                snprintf(f->unit, sizeof(f->unit), "%s", unit);
        else
                snprintf(f->in_unit, sizeof(f->in_unit), "%s", unit);
}

/* daemon.json: parsed, or an empty object when absent. */
static int load_daemon_json(const char *path, json_t **ret, bool *exists, char *err, size_t n) {
        _cleanup_free_ char *data = NULL;
        json_error_t jerr;
        size_t len;
        int r;

        r = fb_read_file(path, DAEMON_JSON_MAX, &data, &len);
        *exists = r >= 0;
        if (r == -ENOENT) {
                *ret = json_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0) {
                snprintf(err, n, "%s: %s", path, strerror(-r));
                return r;
        }
        *ret = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!*ret || !json_is_object(*ret)) {
                snprintf(err, n,
                         "%s: not valid JSON (line %d, column %d: %s): refusing to change it; "
                         "dockerd would not start with it either",
                         path, jerr.line, jerr.column, *ret ? "not an object" : jerr.text);
                json_decref(*ret);
                *ret = NULL;
                return -EINVAL;
        }
        return 0;
}

static void info_facts(struct facts *f, struct fb_engine *e) {
        struct fb_buf b;
        json_error_t jerr;
        json_t *j, *v;
        size_t i;

        fb_buf_init(&b, 1 << 20);
        if (fb_engine_info(e, &b) < 0) {
                fb_buf_free(&b);
                return;
        }
        j = json_loadb(b.data, b.len, 0, &jerr);
        fb_buf_free(&b);
        if (!j)
                return;
        f->live_restore = json_is_true(json_object_get(j, "LiveRestoreEnabled"));
        f->running = (long)json_integer_value(json_object_get(j, "ContainersRunning"));
        if (json_is_string(json_object_get(j, "ServerVersion")))
                snprintf(f->server_version, sizeof(f->server_version), "%s",
                         json_string_value(json_object_get(j, "ServerVersion")));
        json_array_foreach(json_object_get(j, "SecurityOptions"), i, v) {
                const char *s = json_string_value(v), *p;

                if (s && strncmp(s, "name=seccomp", 12) == 0 && (p = strstr(s, "profile=")))
                        snprintf(f->info_profile, sizeof(f->info_profile), "%s", p + 8);
        }
        json_decref(j);
}

static int gather(const struct fb_harden_config *c, struct facts *f, char *err, size_t n) {
        struct utsname u;
        json_t *dj = NULL;
        int r;

        memset(f, 0, sizeof(*f));
        if (uname(&u) == 0)
                snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
        f->memfd_noexec = read_int_file("/proc/sys/vm/memfd_noexec");
        dockerd_facts(f, fb_engine_endpoint(c->engine));
        info_facts(f, c->engine);
        snprintf(f->daemon_json, sizeof(f->daemon_json), "%s",
                 c->daemon_json      ? c->daemon_json
                 : f->config_flag[0] ? f->config_flag
                                     : "/etc/docker/daemon.json");
        snprintf(f->profile_path, sizeof(f->profile_path), "%s/memfd-%s.json",
                 c->profile_dir ? c->profile_dir : "/etc/firebreak/seccomp",
                 c->mode == FB_PROFILE_STRICT ? "strict" : "compat");
        /* without dockerd's command line, /etc/docker/daemon.json may not be the file it
         * reads (another pid namespace, or --config-file elsewhere): never guess */
        if (!c->daemon_json && !f->dockerd) {
                snprintf(err, n,
                         "cannot see dockerd's process (another pid namespace?), so not which "
                         "daemon.json it reads: pass --daemon-json");
                return -EINVAL;
        }
        r = load_daemon_json(f->daemon_json, &dj, &f->daemon_json_exists, err, n);
        if (r < 0)
                return r;
        if (json_is_string(json_object_get(dj, "seccomp-profile")))
                snprintf(f->current_profile, sizeof(f->current_profile), "%s",
                         json_string_value(json_object_get(dj, "seccomp-profile")));
        json_decref(dj);
        return 0;
}

/* What a profile file does to memfd exec; "" when it cannot be read. */
static enum fb_memfd_verdict profile_verdict(const char *data, size_t len) {
        struct fb_seccomp_profile *p = NULL;
        struct fb_seccomp_filter *flt = NULL;
        struct fb_memfd_check chk = { .verdict = FB_MEMFD_UNKNOWN };
        char err[256];

        if (fb_profile_parse(data, len, &p, err, sizeof(err)) == 0 &&
            fb_seccomp_compile(p, &flt, NULL, err, sizeof(err)) == 0)
                (void)fb_seccomp_check_memfd(flt, p, &chk);
        fb_seccomp_filter_free(flt);
        fb_profile_free(p);
        return chk.verdict;
}

static enum fb_memfd_verdict file_verdict(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t len;

        if (!path[0] || fb_read_file(path, FB_PROFILE_MAX_BYTES, &data, &len) < 0)
                return FB_MEMFD_UNKNOWN;
        return profile_verdict(data, len);
}

static bool protects(enum fb_memfd_verdict v, int memfd_noexec) {
        return v == FB_MEMFD_STRICT || (v == FB_MEMFD_COMPAT && memfd_noexec >= 1);
}

static const char *verdict_word(enum fb_memfd_verdict v) {
        return v == FB_MEMFD_STRICT    ? "strict"
               : v == FB_MEMFD_COMPAT  ? "compat"
               : v == FB_MEMFD_EXPOSED ? "does not deny memfd exec"
                                       : "unreadable";
}

static int sysctl_value(const struct fb_harden_config *c) {
        /* compat relies on it; strict does not need it, 1 adds depth without refusing MFD_EXEC */
        return c->mode == FB_PROFILE_COMPAT ? 2 : 1;
}

static void print_facts(FILE *out, const struct fb_harden_config *c, const struct facts *f) {
        fprintf(out, "host: kernel %s, vm.memfd_noexec = %d%s\n", f->kernel, f->memfd_noexec,
                f->memfd_noexec < 0 ? " (no such sysctl: kernel before 6.3)" : "");
        fprintf(out, "engine: docker %s (API %s) at %s", f->server_version,
                fb_engine_api_version(c->engine), fb_engine_endpoint(c->engine));
        if (f->dockerd)
                fprintf(out, ", dockerd pid %d, %s%s%s", (int)f->dockerd,
                        f->unit[0]      ? "systemd unit "
                        : f->in_unit[0] ? "not a systemd unit's main process (it runs inside "
                                        : "not a systemd unit",
                        f->unit[0] ? f->unit : f->in_unit, f->in_unit[0] ? ")" : "");
        fprintf(out, "\nengine default seccomp profile now: %s\n",
                f->info_profile[0] ? f->info_profile : "(not reported)");
        fprintf(out, "daemon.json: %s%s, seccomp-profile %s%s\n", f->daemon_json,
                f->config_flag[0] && !c->daemon_json ? " (dockerd's --config-file)" : "",
                f->current_profile[0] ? "= " : "not set", f->current_profile);
        fprintf(out, "live-restore: %s\n",
                f->live_restore ? "on: running containers survive the restart"
                                : "off: restarting dockerd stops every running container");
        fprintf(out, "running containers: %ld\n", f->running);
}

static void print_steps(FILE *out, const struct fb_harden_config *c, const struct facts *f) {
        int n = 1;

        fprintf(out, "apply %s:\n", c->yes ? "does" : "would");
        fprintf(out, "  %d. write %s (%s: %s)\n", n++, f->profile_path,
                c->mode == FB_PROFILE_STRICT ? "strict" : "compat",
                c->mode == FB_PROFILE_STRICT ? "memfd_create only with MFD_NOEXEC_SEAL"
                                             : "memfd_create without MFD_EXEC");
        fprintf(out,
                "  %d. set \"seccomp-profile\": \"%s\" in %s (now: %s); keep the original as "
                "%s" BACKUP_SUFFIX "\n",
                n++, f->profile_path, f->daemon_json,
                f->current_profile[0]   ? f->current_profile
                : f->daemon_json_exists ? "unset"
                                        : "no daemon.json",
                f->daemon_json);
        if (c->no_restart)
                fprintf(out,
                        "  %d. not restart dockerd (--no-restart): the profile applies from "
                        "its next start\n",
                        n++);
        else if (f->unit[0])
                fprintf(out, "  %d. restart %s through systemd%s\n", n++, f->unit,
                        f->live_restore ? "" : ": running containers stop (live-restore is off)");
        else
                fprintf(out,
                        "  %d. not restart dockerd: it is not a systemd unit here; restart it "
                        "yourself (it reads daemon.json only at start)%s\n",
                        n++, f->live_restore ? "" : "; running containers stop then");
        if (c->sysctl)
                fprintf(out,
                        "  %d. write %s/" SYSCTL_FILE " (vm.memfd_noexec = %d) and apply it "
                        "now; host-wide: programs that execute memfds they created without "
                        "MFD_EXEC break (verify afterwards)\n",
                        n++, c->sysctl_dir ? c->sysctl_dir : "/etc/sysctl.d", sysctl_value(c));
        if (c->kubernetes)
                fprintf(out, "  %d. write %s/firebreak-memfd-%s.json (OCI format) for kubelet\n",
                        n++, c->kubelet_dir ? c->kubelet_dir : "/var/lib/kubelet/seccomp",
                        c->mode == FB_PROFILE_STRICT ? "strict" : "compat");
        fprintf(out, "containers started afterwards without their own seccomp option get the "
                     "profile; check with: firebreak harden verify --image IMAGE\n");
}

int fb_harden_plan(const struct fb_harden_config *c, FILE *out) {
        struct facts f;
        char err[512];

        if (gather(c, &f, err, sizeof(err)) < 0) {
                fprintf(stderr, "firebreak: %s\n", err);
                return EXIT_USAGE;
        }
        print_facts(out, c, &f);
        if (f.seccomp_flag) {
                fprintf(out,
                        "dockerd runs with --seccomp-profile on its command line: daemon.json "
                        "cannot set it too (dockerd refuses to start); change the flag to "
                        "%s instead\n",
                        f.profile_path);
                return EXIT_NOT;
        }
        print_steps(out, c, &f);
        return EXIT_OK;
}

/* ---- apply / rollback --------------------------------------------------------------------- */

static int wait_engine(struct fb_engine *e, unsigned seconds) {
        struct fb_buf b;
        unsigned i;
        int r = -ETIMEDOUT;

        fb_buf_init(&b, 1 << 20);
        for (i = 0; i < seconds * 5; i++) {
                fb_buf_reset(&b);
                r = fb_engine_info(e, &b);
                if (r >= 0)
                        break;
                usleep(200000);
        }
        fb_buf_free(&b);
        return r;
}

/* Restarts the unit through systemd's D-Bus API and waits for the engine to answer. */
static int restart(const struct fb_harden_config *c, const struct facts *f, FILE *out) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        int r;

        if (c->no_restart || !f->unit[0]) {
                fprintf(out,
                        "dockerd was not restarted%s: restart it to load the profile "
                        "(it reads daemon.json only at start)\n",
                        c->no_restart ? " (--no-restart)" : " (not a systemd unit)");
                return 0;
        }
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "RestartUnit", &error,
                                       &reply, "ss", f->unit, "replace");
        if (r < 0)
                fprintf(out, "could not restart %s through systemd: %s\n", f->unit,
                        error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        if (r < 0)
                return r;
        fprintf(out, "restarting %s...\n", f->unit);
        r = wait_engine(c->engine, 60);
        fprintf(out, "%s\n",
                r < 0 ? "the engine did not answer within 60 s" : "the engine is back");
        return r;
}

static int apply_sysctl(const struct fb_harden_config *c, FILE *out) {
        char line[64], path[4096];
        const char *dir = c->sysctl_dir ? c->sysctl_dir : "/etc/sysctl.d";
        int v = sysctl_value(c), back, r;

        /* a sysctl.d line for a key the kernel lacks fails systemd-sysctl at every boot */
        if (access("/proc/sys/vm/memfd_noexec", F_OK) < 0) {
                fprintf(out, "vm.memfd_noexec: this kernel has none (Linux 6.3 added it): nothing "
                             "written; use --mode strict, which needs no sysctl\n");
                return -EOPNOTSUPP;
        }
        snprintf(line, sizeof(line), "# firebreak harden\nvm.memfd_noexec = %d\n", v);
        r = fb_mkdir_p(dir, 0755);
        if (r >= 0)
                r = fb_write_file_atomic(dir, SYSCTL_FILE, line, strlen(line), 0644);
        if (r < 0) {
                fprintf(out, "%s/" SYSCTL_FILE ": %s\n", dir, strerror(-r));
                return r;
        }
        snprintf(line, sizeof(line), "%d\n", v);
        snprintf(path, sizeof(path), "/proc/sys/vm/memfd_noexec");
        {
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

                if (fd < 0 || write(fd, line, strlen(line)) < 0) {
                        r = -errno;
                        fprintf(out, "vm.memfd_noexec: cannot set it: %s\n", strerror(-r));
                        return r;
                }
        }
        back = read_int_file(path);
        fprintf(out, "wrote %s/" SYSCTL_FILE "; vm.memfd_noexec is now %d\n", dir, back);
        return back == v ? 0 : -EIO;
}

int fb_harden_apply(const struct fb_harden_config *c, FILE *out) {
        _cleanup_free_ char *orig = NULL, *text = NULL;
        char err[512], backup[4200];
        struct facts f;
        struct fb_buf prof;
        json_t *dj = NULL;
        size_t olen = 0;
        struct stat st;
        bool exists;
        int r;

        if (gather(c, &f, err, sizeof(err)) < 0) {
                fprintf(stderr, "firebreak: %s\n", err);
                return EXIT_USAGE;
        }
        print_facts(out, c, &f);
        if (f.seccomp_flag) {
                fprintf(out, "refused: dockerd runs with --seccomp-profile; change that flag "
                             "instead\n");
                return EXIT_NOT;
        }
        print_steps(out, c, &f);
        if (!c->yes) {
                fprintf(out, "dry run: nothing was changed; run again with --yes to apply\n");
                return EXIT_OK;
        }
        /* 1. the profile */
        fb_buf_init(&prof, 2 * FB_PROFILE_MAX_BYTES);
        r = fb_profile_generate(NULL, 0, c->mode, FB_PROFILE_DOCKER, &prof, err, sizeof(err));
        if (r >= 0)
                r = fb_write_path_atomic(f.profile_path, prof.data, prof.len, 0644);
        if (r >= 0 && c->kubernetes) {
                char kpath[4096];

                fb_buf_reset(&prof);
                snprintf(kpath, sizeof(kpath), "%s/firebreak-memfd-%s.json",
                         c->kubelet_dir ? c->kubelet_dir : "/var/lib/kubelet/seccomp",
                         c->mode == FB_PROFILE_STRICT ? "strict" : "compat");
                r = fb_profile_generate(NULL, 0, c->mode, FB_PROFILE_OCI, &prof, err, sizeof(err));
                if (r >= 0)
                        r = fb_write_path_atomic(kpath, prof.data, prof.len, 0644);
                if (r >= 0)
                        fprintf(out,
                                "wrote %s; in a pod:\n"
                                "  securityContext:\n"
                                "    seccompProfile:\n"
                                "      type: Localhost\n"
                                "      localhostProfile: firebreak-memfd-%s.json\n",
                                kpath, c->mode == FB_PROFILE_STRICT ? "strict" : "compat");
        }
        fb_buf_free(&prof);
        if (r < 0) {
                fprintf(out, "%s: %s\n", f.profile_path, r == -EINVAL ? err : strerror(-r));
                return EXIT_OUTPUT;
        }
        fprintf(out, "wrote %s\n", f.profile_path);
        /* 2. daemon.json, keeping the original once (a second apply keeps the first backup) */
        r = fb_read_file(f.daemon_json, DAEMON_JSON_MAX, &orig, &olen);
        if (r < 0 && r != -ENOENT) {
                fprintf(out, "%s: %s\n", f.daemon_json, strerror(-r));
                return EXIT_OUTPUT;
        }
        r = load_daemon_json(f.daemon_json, &dj, &exists, err, sizeof(err));
        if (r < 0) {
                fprintf(out, "%s\n", err);
                return EXIT_USAGE;
        }
        snprintf(backup, sizeof(backup), "%s" BACKUP_SUFFIX, f.daemon_json);
        if (access(backup, F_OK) != 0) {
                /* an empty backup records that there was no daemon.json */
                r = fb_write_path_atomic(backup, exists ? orig : "", exists ? olen : 0, 0600);
                if (r < 0) {
                        json_decref(dj);
                        fprintf(out, "%s: %s\n", backup, strerror(-r));
                        return EXIT_OUTPUT;
                }
                fprintf(out, "kept the original as %s\n", backup);
        }
        json_object_set_new(dj, "seccomp-profile", json_string(f.profile_path));
        text = json_dumps(dj, JSON_INDENT(4));
        json_decref(dj);
        if (!text)
                return EXIT_OUTPUT;
        r = fb_write_path_atomic(f.daemon_json, text, strlen(text),
                                 exists && stat(f.daemon_json, &st) == 0 ? st.st_mode & 0777
                                                                         : 0644);
        if (r < 0) {
                fprintf(out, "%s: %s\n", f.daemon_json, strerror(-r));
                return EXIT_OUTPUT;
        }
        fprintf(out, "set seccomp-profile in %s\n", f.daemon_json);
        /* 3. sysctl, 4. restart */
        if (c->sysctl && apply_sysctl(c, out) < 0)
                return EXIT_OUTPUT;
        if (restart(c, &f, out) < 0)
                return EXIT_ENGINE;
        fprintf(out, "done; check with: firebreak harden verify --image IMAGE\n");
        return EXIT_OK;
}

int fb_harden_rollback(const struct fb_harden_config *c, FILE *out) {
        _cleanup_free_ char *orig = NULL;
        char err[512], backup[4200];
        struct facts f;
        size_t len;
        int r;

        if (gather(c, &f, err, sizeof(err)) < 0 && !f.daemon_json[0]) {
                fprintf(stderr, "firebreak: %s\n", err);
                return EXIT_USAGE;
        }
        snprintf(backup, sizeof(backup), "%s" BACKUP_SUFFIX, f.daemon_json);
        r = fb_read_file(backup, DAEMON_JSON_MAX, &orig, &len);
        if (r < 0) {
                fprintf(out, "%s: %s: nothing to roll back\n", backup, strerror(-r));
                return EXIT_NOT;
        }
        fprintf(out, "rollback %s: %s %s from %s, then %s\n", c->yes ? "does" : "would",
                len ? "restore" : "remove", f.daemon_json, backup,
                f.unit[0] && !c->no_restart ? "restart dockerd through systemd"
                                            : "leave restarting dockerd to you");
        if (!c->yes) {
                fprintf(out, "dry run: nothing was changed; run again with --yes\n");
                return EXIT_OK;
        }
        r = len ? fb_write_path_atomic(f.daemon_json, orig, len, 0644)
                : (unlink(f.daemon_json) < 0 && errno != ENOENT ? -errno : 0);
        if (r >= 0 && unlink(backup) < 0)
                r = -errno;
        if (r < 0) {
                fprintf(out, "%s: %s\n", f.daemon_json, strerror(-r));
                return EXIT_OUTPUT;
        }
        fprintf(out, "%s %s\n", len ? "restored" : "removed", f.daemon_json);
        return restart(c, &f, out) < 0 ? EXIT_ENGINE : EXIT_OK;
}

/* ---- verify ------------------------------------------------------------------------------- */

int fb_harden_verify(const struct fb_harden_config *c, FILE *out) {
        const char *cmd[] = { "/firebreak-probe", NULL };
        char bind[4200], err[512];
        const char *binds[] = { bind, NULL };
        struct fb_run_spec spec = { .image = c->image, .cmd = cmd, .binds = binds };
        struct fb_buf logs;
        struct facts f;
        int code = -1, r, rc = EXIT_OK;

        if (!c->image || !c->probe) {
                fprintf(stderr, "firebreak: verify needs --image and the static probe\n");
                return EXIT_USAGE;
        }
        if (gather(c, &f, err, sizeof(err)) < 0) {
                fprintf(stderr, "firebreak: %s\n", err);
                return EXIT_USAGE;
        }
        snprintf(bind, sizeof(bind), "%s:/firebreak-probe", c->probe);
        fb_buf_init(&logs, 1 << 20);
        r = fb_engine_run(c->engine, &spec, &code, &logs);
        if (r < 0) {
                struct fb_buf m;

                /* the engine's message can quote the image name: escaped */
                fb_buf_init(&m, 4096);
                fb_escape_display(&m, fb_engine_last_error(c->engine),
                                  strlen(fb_engine_last_error(c->engine)));
                fprintf(out, "canary: could not run it: %s%s%s\n", strerror(-r), m.len ? ": " : "",
                        fb_buf_cstr(&m) ? fb_buf_cstr(&m) : "");
                fb_buf_free(&m);
                fb_buf_free(&logs);
                return EXIT_ENGINE;
        }
        fprintf(out, "canary container (%s, the engine's default profile):\n", c->image);
        if (logs.len)
                (void)fb_write_all(fileno(out), logs.data, logs.len);
        fflush(out);
        fb_buf_free(&logs);
        if (code == 0)
                fprintf(out, "canary: every memfd attack was blocked, legitimate uses work\n");
        else {
                fprintf(out, "canary: %s (probe exit status %d)\n",
                        code == 1 ? "a memfd attack SUCCEEDED under the default profile"
                                  : "legitimate uses failed or the probe could not run",
                        code);
                rc = EXIT_NOT;
        }
        if (!f.current_profile[0] || strcmp(f.info_profile, f.current_profile) != 0) {
                fprintf(out, "/info: the engine runs with profile %s, daemon.json names %s%s\n",
                        f.info_profile[0] ? f.info_profile : "(unknown)",
                        f.current_profile[0] ? f.current_profile : "none",
                        f.current_profile[0] ? ": restart dockerd to load it" : "");
                rc = EXIT_NOT;
        } else
                fprintf(out, "/info: the engine runs with %s\n", f.info_profile);
        return rc;
}

/* ---- audit -------------------------------------------------------------------------------- */

/* RFC 3339 to epoch seconds (fraction kept). */
static double rfc3339(const char *s) {
        struct tm tm = { 0 };
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        double frac = 0;

        if (!p)
                return 0;
        if (*p == '.')
                frac = strtod(p, NULL);
        return (double)timegm(&tm) + frac;
}

int fb_harden_audit(const struct fb_harden_config *c, FILE *out) {
        enum fb_memfd_verdict now_default, next_default;
        json_t *list = NULL, *item, *report = json_array();
        struct fb_buf b;
        json_error_t jerr;
        struct facts f;
        char err[512];
        size_t i, unprotected = 0;
        int r;

        if (gather(c, &f, err, sizeof(err)) < 0) {
                fprintf(stderr, "firebreak: %s\n", err);
                json_decref(report);
                return EXIT_USAGE;
        }
        now_default = strcmp(f.info_profile, "default") == 0 || !f.info_profile[0]
                              ? FB_MEMFD_EXPOSED /* Docker's built-in profile allows memfd */
                              : file_verdict(f.info_profile);
        next_default = f.current_profile[0] ? file_verdict(f.current_profile) : FB_MEMFD_EXPOSED;
        fb_buf_init(&b, 16u << 20);
        r = fb_engine_list(c->engine, &b);
        if (r >= 0)
                list = json_loadb(b.data, b.len, 0, &jerr);
        if (r < 0 || !json_is_array(list)) {
                fprintf(stderr, "firebreak: cannot list containers: %s\n",
                        r < 0 ? strerror(-r) : "unexpected answer");
                fb_buf_free(&b);
                json_decref(report);
                json_decref(list);
                return EXIT_ENGINE;
        }
        json_array_foreach(list, i, item) {
                const char *id = json_string_value(json_object_get(item, "Id"));
                json_t *ins, *hc, *opt, *v;
                const char *source = "engine default", *own = NULL;
                enum fb_memfd_verdict now, next;
                bool running, privileged;
                double started;
                size_t k;

                if (!id || strlen(id) != FB_CONTAINER_ID_LEN)
                        continue;
                fb_buf_reset(&b);
                if (fb_engine_inspect(c->engine, id, &(struct fb_container){ 0 }, &b) < 0)
                        continue;
                ins = json_loadb(b.data, b.len, 0, &jerr);
                hc = json_object_get(ins, "HostConfig");
                running = json_is_true(json_object_get(json_object_get(ins, "State"), "Running"));
                started = rfc3339(json_string_value(json_object_get(json_object_get(ins, "State"),
                                                                    "StartedAt"))
                                          ?: "");
                privileged = json_is_true(json_object_get(hc, "Privileged"));
                opt = json_object_get(hc, "SecurityOpt");
                json_array_foreach(opt, k, v) {
                        const char *s = json_string_value(v);

                        if (s && (strncmp(s, "seccomp=", 8) == 0 || strncmp(s, "seccomp:", 8) == 0))
                                own = s + 8;
                }
                if (privileged || (own && strcmp(own, "unconfined") == 0)) {
                        source = "unconfined";
                        now = next = FB_MEMFD_EXPOSED;
                } else if (own) {
                        source = "its own profile";
                        now = next = profile_verdict(own, strlen(own));
                } else {
                        /* the default it got at its start: the current one if it started after
                         * dockerd did */
                        now = started >= f.dockerd_started && f.dockerd_started > 0
                                      ? now_default
                                      : FB_MEMFD_UNKNOWN;
                        next = next_default;
                }
                if (running && !protects(now, f.memfd_noexec))
                        unprotected++;
                json_array_append_new(
                        report,
                        json_pack("{s:s, s:s, s:b, s:s, s:s, s:b, s:b}", "id", id, "name",
                                  json_string_value(json_object_get(ins, "Name")) ?: "", "running",
                                  running, "seccomp", source, "profile", verdict_word(now),
                                  "protected_now", protects(now, f.memfd_noexec),
                                  "protected_after_restart", protects(next, f.memfd_noexec)));
                json_decref(ins);
        }
        json_decref(list);
        fb_buf_free(&b);
        if (c->json) {
                json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:o, s:I}", "engine_default_now",
                                        f.info_profile, "engine_default_after_restart",
                                        f.current_profile[0] ? f.current_profile : "default",
                                        "engine_default_verdict", verdict_word(now_default),
                                        "memfd_noexec", f.memfd_noexec, "containers", report,
                                        "unprotected_running", (json_int_t)unprotected);
                char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;

                if (text)
                        fprintf(out, "%s\n", text);
                free(text);
                json_decref(doc);
        } else {
                struct fb_buf name;

                fb_buf_init(&name, 4096);
                fprintf(out, "engine default now: %s (%s); after a restart: %s\n",
                        f.info_profile[0] ? f.info_profile : "unknown", verdict_word(now_default),
                        f.current_profile[0] ? f.current_profile : "Docker's built-in");
                fprintf(out, "%-12s %-24s %-8s %-16s %-24s %-5s %s\n", "container", "name", "state",
                        "seccomp", "memfd exec", "now", "after restart");
                json_array_foreach(report, i, item) {
                        fb_buf_reset(&name);
                        /* names are the creator's text */
                        fb_escape_display(&name, json_string_value(json_object_get(item, "name")),
                                          strlen(json_string_value(json_object_get(item, "name"))));
                        fprintf(out, "%-12.12s %-24.24s %-8s %-16s %-24s %-5s %s\n",
                                json_string_value(json_object_get(item, "id")),
                                fb_buf_cstr(&name) ?: "?",
                                json_is_true(json_object_get(item, "running")) ? "running"
                                                                               : "stopped",
                                json_string_value(json_object_get(item, "seccomp")),
                                json_string_value(json_object_get(item, "profile")),
                                json_is_true(json_object_get(item, "protected_now")) ? "yes" : "no",
                                json_is_true(json_object_get(item, "protected_after_restart"))
                                        ? "yes"
                                        : "no");
                }
                fprintf(out, "%zu running container%s unprotected\n", unprotected,
                        unprotected == 1 ? "" : "s");
                fb_buf_free(&name);
                json_decref(report);
        }
        return unprotected ? EXIT_NOT : EXIT_OK;
}

/* ---- one running container ---------------------------------------------------------------- */

int fb_memfd_noexec_set(pid_t pid, const char *container_id, int value, int *readback) {
        _cleanup_close_ int dir = -1, ns = -1, self = -1;
        char path[64], val[8];
        int pfd[2], status = 0, got = -1, r;
        struct stat a, b;
        pid_t child;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        /* the directory pins the process: its cgroup must name the container, so a pid reused
         * since the engine reported it is not mistaken for the container's */
        dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        r = fb_proc_in_container(dir, container_id);
        if (r < 0)
                return r;
        if (r == 0)
                return -ESRCH;
        ns = openat(dir, "ns/pid", O_RDONLY | O_CLOEXEC);
        if (ns < 0)
                return errno == EPERM ? -EACCES : -errno; /* no CAP_SYS_PTRACE */
        self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        /* a container sharing the host's pid namespace would change the host */
        if (fstat(ns, &a) < 0 || fstat(self, &b) < 0)
                return -errno;
        if (a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                return -EPERM;
        if (access("/proc/sys/vm/memfd_noexec", F_OK) < 0)
                return -EOPNOTSUPP; /* before Linux 6.3 */
        snprintf(val, sizeof(val), "%d\n", value);
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        child = fork();
        if (child < 0) {
                close(pfd[0]);
                close(pfd[1]);
                return -errno;
        }
        if (child == 0) {
                /* setns(CLONE_NEWPID) places only later children in the namespace */
                pid_t g;
                int st = 0;

                close(pfd[0]);
                if (setns(ns, CLONE_NEWPID) < 0)
                        _exit(10);
                g = fork();
                if (g == 0) {
                        int fd = open("/proc/sys/vm/memfd_noexec", O_RDWR | O_CLOEXEC);
                        char buf[8] = "";

                        if (fd < 0)
                                _exit(11);
                        if (write(fd, val, strlen(val)) < 0)
                                _exit(12);
                        if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
                                _exit(13);
                        if (write(pfd[1], buf, strlen(buf)) < 0)
                                _exit(14);
                        _exit(0);
                }
                if (g < 0 || waitpid(g, &st, 0) < 0)
                        _exit(15);
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 16);
        }
        close(pfd[1]);
        {
                char buf[8] = "";

                int64_t v;

                n = read(pfd[0], buf, sizeof(buf) - 1);
                while (n > 0 && buf[n - 1] == '\n')
                        n--;
                if (n > 0 && fb_parse_int64(buf, (size_t)n, &v) == 0)
                        got = (int)v;
        }
        close(pfd[0]);
        if (waitpid(child, &status, 0) < 0)
                return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 10)
                return -EACCES; /* setns refused: no CAP_SYS_ADMIN */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return WIFEXITED(status) && WEXITSTATUS(status) == 12 ? -EPERM : -EIO;
        *readback = got;
        return got == value ? 0 : -EIO;
}
