/* analyze.c: the analysis grounded in an alert's fields: process, lineage, session, timing,
 * result, files and connections. */
#define _GNU_SOURCE
#include <stdio.h>
#include "triage_impl.h"

static void analyze_process(struct fb_report *r) {
        const char *name, *exe, *cmd, *user;
        size_t nl, el, cl, ul, start;
        int64_t uid;

        name = str(r, "proc.name", &nl);
        exe = str(r, "proc.exepath", &el);
        cmd = str(r, "proc.cmdline", &cl);
        user = str(r, "user.name", &ul);
        if (r->container_event) {
                start = text_begin(r);
                put(r, "**A container started.** The event is the container's start, not a "
                       "process: Falco fills the process fields of such an event with "
                       "placeholders (");
                if (cmd) {
                        put(r, "the command line ");
                        val(r, cmd, cl);
                        put(r, " is the container's id, ");
                }
                put(r, "the user is root with login uid 0 or -1). They name no program and no "
                       "person. Who started the container is in the runtime's records: the "
                       "steps below show them.");
                analysis_item(r, start);
                return;
        }
        if (!name && !exe && !cmd)
                return;
        start = text_begin(r);
        put(r, "**Process.** ");
        if (name) {
                put(r, "Process ");
                val(r, name, nl);
        } else
                put(r, "A process");
        if (exe) {
                put(r, " (executable ");
                val(r, exe, el);
                put(r, ")");
        }
        if (cmd) {
                put(r, " ran the command line ");
                val(r, cmd, cl);
        }
        if (user || int_field(r, "user.uid", &uid) >= 0) {
                put(r, " as user ");
                if (user)
                        val(r, user, ul);
                if (int_field(r, "user.uid", &uid) >= 0) {
                        put(r, user ? " (uid " : "(uid ");
                        put_int(r, uid);
                        put(r, ")");
                }
        }
        put(r, ".");
        if (int_field(r, "user.uid", &uid) >= 0 && uid == 0) {
                if (r->in_container)
                        put(r, " It runs as root inside the container. Whether that is root on "
                               "the host depends on the container's user namespace, privileges "
                               "and capabilities: the inspection step below shows them.");
                else if (r->on_host)
                        put(r, " It runs as root on the host.");
        }
        analysis_item(r, start);

        if (name && all_digits(name, nl) && nl <= 4) {
                start = text_begin(r);
                put(r, "**");
                val(r, name, nl);
                put(r, " is a name, not a PID.** Linux sets a process's name from the last part "
                       "of the path it executed, so the name ");
                val(r, name, nl);
                put(r, " means the program was run as `/proc/self/fd/");
                fb_buf_put(&r->arena, name, nl); /* digits only: safe inside the span */
                put(r, "` (or `/dev/fd/");
                fb_buf_put(&r->arena, name, nl);
                put(r, "`), through an open file descriptor rather than a path on disk. The alert "
                       "carries no process id.");
                analysis_item(r, start);
        }
}

static void explain_exe_flags(struct fb_report *r) {
        static const struct {
                const char *flag, *meaning;
        } known[] = {
                { "EXE_FROM_MEMFD",
                  "the executable image is an anonymous in-memory file (memfd), not a file on "
                  "disk" },
                { "EXE_WRITABLE",
                  "the executable file is writable by the user who runs it, so it can be "
                  "rewritten in place" },
                { "EXE_UPPER_LAYER",
                  "the executable lives in the container's writable (upper) overlay layer: it "
                  "was created or modified after the container started, it is not part of the "
                  "image" },
                { "EXE_LOWER_LAYER", "the executable comes from the image's read-only layers" },
        };
        const char *flags, *type;
        size_t fl, tl, i, start;
        bool any = false;

        flags = str(r, "evt.arg.flags", &fl);
        type = str(r, "evt.type", &tl);
        /* evt.arg.flags means exe flags only on execve/execveat; elsewhere it is open flags */
        if (!flags || !type ||
            !(str_eq(r, "evt.type", "execve") || str_eq(r, "evt.type", "execveat")))
                return;
        start = text_begin(r);
        put(r, "**Executable flags ");
        val(r, flags, fl);
        put(r, ".**");
        for (i = 0; i < FB_ELEMENTSOF(known); i++) {
                const char *p = flags, *end = flags + fl;
                size_t kl = strlen(known[i].flag);

                /* exact tokens of the '|'-separated list */
                while (p < end) {
                        const char *bar = memchr(p, '|', (size_t)(end - p));
                        size_t tok = (size_t)((bar ? bar : end) - p);

                        if (tok == kl && memcmp(p, known[i].flag, kl) == 0) {
                                put(r, " `");
                                put(r, known[i].flag);
                                put(r, "`: ");
                                put(r, known[i].meaning);
                                put(r, ".");
                                any = true;
                                break;
                        }
                        p += tok + 1;
                }
        }
        if (!any)
                put(r, " None of these flags is one firebreak knows.");
        analysis_item(r, start);
}

static void analyze_lineage(struct fb_report *r) {
        const char *name, *pname, *gp, *sname, *pcmd;
        size_t nl, pl, gl, sl, pcl, start;
        static const struct lit ancestors[] = { LIT("proc.aname[7]"), LIT("proc.aname[6]"),
                                                LIT("proc.aname[5]"), LIT("proc.aname[4]"),
                                                LIT("proc.aname[3]") };
        size_t i;

        name = str(r, "proc.name", &nl);
        pname = str(r, "proc.pname", &pl);
        gp = str(r, "proc.aname[2]", &gl);
        sname = str(r, "proc.sname", &sl);
        pcmd = str(r, "proc.pcmdline", &pcl);
        if (!pname && !gp)
                return;
        start = text_begin(r);
        put(r, "**Lineage.** ");
        for (i = 0; i < FB_ELEMENTSOF(ancestors); i++) {
                size_t l;
                const char *s = str_n(r, ancestors[i].s, ancestors[i].len, &l);

                if (s) {
                        val(r, s, l);
                        put(r, " → ");
                }
        }
        if (gp) {
                val(r, gp, gl);
                put(r, " → ");
        }
        if (pname) {
                val(r, pname, pl);
                put(r, " → ");
        }
        if (name)
                val(r, name, nl);
        else
                put(r, "this process");
        put(r, ".");
        if (pname && is_shim(gp, gl)) {
                put(r, " Its parent ");
                val(r, pname, pl);
                put(r, " is a child of containerd-shim, which makes the parent the container's "
                       "main process: the container's own entrypoint started this process.");
        } else if (r->in_container &&
                   (is_shim(pname, pl) || (pname && pl == 4 && memcmp(pname, "runc", 4) == 0))) {
                put(r, " The container runtime started it directly: it is either the container's "
                       "entrypoint or a command run with `docker exec` / `kubectl exec`.");
        }
        if (pname && is_shell(pname, pl)) {
                put(r, " A shell started it, so a script or a person at a shell ran it.");
        }
        if (pcmd) {
                put(r, " The parent's command line is ");
                val(r, pcmd, pcl);
                put(r, ".");
        }
        if (sname) {
                put(r, " The session leader is ");
                val(r, sname, sl);
                put(r, ".");
        }
        analysis_item(r, start);
}

static void analyze_session(struct fb_report *r) {
        int64_t tty, luid;
        bool has_tty = int_field(r, "proc.tty", &tty) >= 0;
        bool has_luid = int_field(r, "user.loginuid", &luid) >= 0;
        size_t start;

        if ((!has_tty && !has_luid) || r->container_event)
                return;
        start = text_begin(r);
        put(r, "**Session.**");
        if (has_tty && tty == 0)
                put(r, " No terminal is attached (`proc.tty` is 0): nobody typed this "
                       "interactively.");
        else if (has_tty) {
                put(r, " A terminal is attached (`proc.tty` is ");
                put_int(r, tty);
                if (r->in_k8s)
                        put(r, "): someone is working interactively, for example through "
                               "`kubectl exec -it`.");
                else if (r->in_container)
                        put(r, "): someone is working interactively, for example through "
                               "`docker exec -it`.");
                else
                        put(r, "): someone is working interactively at a terminal on the host "
                               "(an SSH session or the console).");
        }
        if (has_luid && (luid == -1 || luid == 4294967295))
                put(r, " The login uid is -1: the process does not descend from a login session, "
                       "which is normal for containers and services.");
        else if (has_luid) {
                put(r, " The login uid is ");
                put_int(r, luid);
                put(r, ": the process descends from a login session (SSH, console, or `su`/"
                       "`sudo` from one) of the user with that uid on the host, so a person's "
                       "session started it, directly or through what it ran");
                put(r, r->in_container ? " (for a container: the session that ran the "
                                         "container engine's command, such as `podman`)."
                                       : ".");
        }
        analysis_item(r, start);
}

static void analyze_timing_and_result(struct fb_report *r) {
        int64_t start_ts, evt_time;
        const char *res;
        size_t rl, start;

        if (r->in_container && int_field(r, "container.start_ts", &start_ts) >= 0 &&
            int_field(r, "evt.time", &evt_time) >= 0 && start_ts > 0 && evt_time >= start_ts) {
                int64_t d = evt_time - start_ts;

                start = text_begin(r);
                put(r, "**Timing.** The event came ");
                put_int(r, d / 1000000000);
                put(r, (d % 1000000000) / 10000000 < 10 ? ".0" : ".");
                put_int(r, (d % 1000000000) / 10000000);
                put(r, " s after the container started");
                if (d < 60 * (int64_t)1000000000)
                        put(r, ": the behaviour is part of the container's start-up (its "
                               "entrypoint or image), not something that arrived later.");
                else
                        put(r, ": it happened while the container was running, after start-up.");
                analysis_item(r, start);
        }
        res = str(r, "evt.res", &rl);
        if (res) {
                start = text_begin(r);
                put(r, "**Result.** ");
                if (str_eq(r, "evt.res", "SUCCESS"))
                        put(r, "The system call succeeded (`evt.res` is SUCCESS): the action "
                               "took place.");
                else {
                        put(r, "The system call failed with ");
                        val(r, res, rl);
                        put(r, ": the action was attempted but did not take effect.");
                }
                analysis_item(r, start);
        }
}

/* A connection as Falco's fd.name prints it: "CLIENT:PORT->SERVER:PORT" (IPv6 addresses hold
 * colons too); a path has no "->" after a ':' and a digit. */
static bool is_tuple(const char *s, size_t len) {
        const char *arrow = memmem(s, len, "->", 2);

        return arrow && s[0] != '/' && arrow > s + 2 && arrow[-1] >= '0' && arrow[-1] <= '9' &&
               memchr(s, ':', (size_t)(arrow - s)) != NULL;
}

static void analyze_files_and_net(struct fb_report *r) {
        const char *fd, *raw, *type;
        size_t fl, rl, tl, start;

        fd = str(r, "fd.name", &fl);
        raw = str(r, "fd.nameraw", &rl);
        type = str(r, "fd.type", &tl);
        if (!fd)
                return;
        start = text_begin(r);
        if ((type && (str_eq(r, "fd.type", "ipv4") || str_eq(r, "fd.type", "ipv6"))) ||
            (!type && is_tuple(fd, fl))) {
                put(r, "**Connection.** ");
                val(r, fd, fl);
                put(r, " (client address:port -> server address:port).");
        } else {
                put(r, "**File.** ");
                val(r, fd, fl);
                put(r, ".");
                if (raw && (rl != fl || memcmp(raw, fd, fl) != 0)) {
                        put(r, " The path as the process wrote it was ");
                        val(r, raw, rl);
                        put(r, ", which resolves to the path above.");
                }
        }
        analysis_item(r, start);
}

/* put_int() of part per thousand of whole, as "14.6" */
static void put_permille(struct fb_report *r, int64_t part, int64_t whole) {
        int64_t pm = whole > 0 ? part * 1000 / whole : 0;

        put_int(r, pm / 10);
        put(r, ".");
        put_int(r, pm % 10);
}

/* Falco's drop counters: how much was lost and why (syscall event drop alerts, and the scap.*
 * counters of a metrics snapshot). */
static void analyze_falco(struct fb_report *r) {
        int64_t drops, evts, buf = -1, pf = -1, bug = -1, perc;
        const struct fb_field *f;
        size_t start;

        if (int_field(r, "n_drops", &drops) >= 0) {
                if (int_field(r, "n_drops_buffer", &buf) < 0)
                        int_field(r, "n_drops_buffer_total", &buf); /* Falco 0.3x's name */
                int_field(r, "n_drops_pf", &pf);
                int_field(r, "n_drops_bug", &bug);
                start = text_begin(r);
                put(r, "**What was lost.** ");
                put_int(r, drops);
                put(r, " events were dropped");
                if (int_field(r, "n_evts", &evts) >= 0 && evts > 0 && drops >= 0 && drops <= evts) {
                        put(r, " out of ");
                        put_int(r, evts);
                        put(r, " (");
                        put_permille(r, drops, evts);
                        put(r, "%)");
                }
                put(r, " in the last second.");
                if (int_field(r, "n_evts", &evts) >= 0 && drops > evts)
                        put(r, " More events were lost than Falco processed: for that second it "
                               "saw less than half of what happened.");
                if (buf == 0 && pf > 0 && bug <= 0)
                        put(r, " Every one is a page-fault drop (`n_drops_pf`): the driver "
                               "could not read some system call arguments from paged-out "
                               "memory. The buffer was not full, so Falco kept up with the "
                               "event rate; this is background on a busy host, not a blind "
                               "spot to fix.");
                else if (buf > 0)
                        put(r, " Buffer drops (`n_drops_buffer` > 0) mean the ring buffer was "
                               "full: Falco did not keep up with the event rate and missed "
                               "events it should have analysed. Look at what ran on the host in "
                               "that second.");
                if (bug > 0)
                        put(r, " `n_drops_bug` > 0 is a driver bug: report it to Falco with the "
                               "driver's version.");
                analysis_item(r, start);
        } else if ((f = field(r, "scap.n_drops_perc")) &&
                   (f->type == FB_VALUE_REAL || f->type == FB_VALUE_INT)) {
                double d = f->type == FB_VALUE_REAL ? f->d : (double)f->i;

                start = text_begin(r);
                put(r, "**Drops in this interval.** `scap.n_drops_perc` is ");
                if (d >= 0 && d <= 100) {
                        put_int(r, (int64_t)d);
                        put(r, ".");
                        put_int(r, (int64_t)(d * 10) % 10);
                }
                put(r, d > 0 ? "%: Falco lost events in this interval (see the *syscall event "
                               "drop* entry for why and what to change)."
                             : "%: Falco lost no events in this interval.");
                if (int_field(r, "falco.outputs_queue_num_drops", &perc) >= 0 && perc > 0)
                        put(r, " `falco.outputs_queue_num_drops` is above zero: alerts were lost "
                               "on their way to Falco's outputs.");
                analysis_item(r, start);
        }
}

void fb_triage_analyze(struct fb_report *r) {
        if (r->place == FB_PLACE_FALCO) {
                analyze_falco(r);
                return;
        }
        analyze_process(r);
        explain_exe_flags(r);
        analyze_lineage(r);
        analyze_session(r);
        analyze_timing_and_result(r);
        analyze_files_and_net(r);
}
