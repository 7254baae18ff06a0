/* patterns.c: known patterns that change a verdict, each with what confirms it. */
#define _GNU_SOURCE
#include <stdio.h>
#include "firebreak/engine.h"
#include "triage_impl.h"

/* Falco publishes its event generator on Docker Hub only. The alert's repository, normalized
 * as Docker does ("falcosecurity/event-generator" is "docker.io/falcosecurity/event-generator"):
 * 1 for that repository, -1 for a look-alike (another registry or owner, the same last name),
 * 0 for anything else. */
static int event_generator_image(const char *s, size_t len) {
        static const char official[] = "docker.io/falcosecurity/event-generator";
        static const char last[] = "/event-generator";
        char ref[512], repo[600];
        size_t n;

        if (!s || len == 0 || len >= sizeof(ref))
                return 0;
        memcpy(ref, s, len);
        ref[len] = '\0';
        if (fb_image_repository(ref, repo, sizeof(repo)) < 0)
                return 0;
        if (strcmp(repo, official) == 0)
                return 1;
        n = strlen(repo);
        return n > sizeof(last) - 1 && strcmp(repo + n - (sizeof(last) - 1), last) == 0 ? -1 : 0;
}

/* The runtimes that start runc/crun: the shims, containerd, dockerd, conmon, runc itself. */
static bool is_runtime(const char *s, size_t len) {
        static const struct lit names[] = {
                LIT("runc"),   LIT("crun"),          LIT("containerd"),      LIT("dockerd"),
                LIT("conmon"), LIT("oci-add-hooks"), LIT("runc:[0:PARENT]"), LIT("runc:[1:CHILD]")
        };
        size_t i;

        if (is_shim(s, len))
                return true;
        for (i = 0; s && i < FB_ELEMENTSOF(names); i++)
                if (len == names[i].len && memcmp(s, names[i].s, len) == 0)
                        return true;
        return false;
}

/* runc or crun run from their own memfd copy: the memfd's name (as proc.exepath shows it) is
 * runc's or crun's, and the process name is the runtime's, a hidden copy's (".runc") or the
 * descriptor number that /proc/self/fd/N gives it. */
static bool runtime_memfd(const char *exe, size_t el, const char *name, size_t nl) {
        if (!exe || !(el >= 10 &&
                      (memcmp(exe, "memfd:runc", 10) == 0 || memcmp(exe, "memfd:crun", 10) == 0)))
                return false;
        if (!name)
                return true;
        return (nl == 4 && (memcmp(name, "runc", 4) == 0 || memcmp(name, "crun", 4) == 0)) ||
               (nl == 5 && memcmp(name, ".runc", 5) == 0) ||
               (nl == 3 && memcmp(name, "exe", 3) == 0) || (nl <= 4 && all_digits(name, nl));
}

void fb_triage_memfd(struct fb_report *r, struct fb_signals *sig) {
        const char *exe, *name;
        size_t el, nl, start;

        exe = str(r, "proc.exepath", &el);
        name = str(r, "proc.name", &nl);
        if (exe && el > 6 && memcmp(exe, "memfd:", 6) == 0) {
                start = text_begin(r);
                put(r, "**How it ran.** The executable is ");
                val(r, exe, el);
                put(r, ": an anonymous in-memory file created with `memfd_create()`, named ");
                val(r, exe + 6, el - 6);
                put(r, " by whoever created it (the name is chosen freely). This is the classic "
                       "fileless pattern: `memfd_create()`, write an ELF image into it, then "
                       "`execve(\"/proc/self/fd/N\")` or `fexecve()`. No file ever touches the "
                       "disk, so there is nothing to scan or hash on disk; the payload lives "
                       "only as long as the process does.");
                analysis_item(r, start);
        }
        if (runtime_memfd(exe, el, name, nl)) {
                size_t pl, cl;
                const char *pname = str(r, "proc.pname", &pl), *cmd = str(r, "proc.cmdline", &cl);

                sig->runc_self = true;
                sig->runc_lineage = is_runtime(pname, pl);
                start = text_begin(r);
                put(r, "**A container runtime re-executing itself?** runc (and crun) copy their "
                       "own binary into a sealed memfd and run `init` from it when they start or "
                       "`exec` into a container, so that a container can never overwrite the "
                       "host's runtime binary (the fix for CVE-2019-5736). runc names the memfd "
                       "`runc_cloned:/proc/self/exe` (runc 1.0 to 1.1, again from 1.1.15 for "
                       "performance, and rootless runc 1.2); it runs it through "
                       "`/proc/self/fd/N`, so the process is named after the descriptor "
                       "(`5`, `6`) and its command line reads `5 init`; other builds show "
                       "`memfd:runc`, `.runc` or `exe init`. Falco's rule excludes only the "
                       "process name `runc` (`known_memfd_execution_binaries`, since 2025), so "
                       "these fire.");
                if (sig->runc_lineage)
                        put(r, " Here the parent is ");
                else
                        put(r, " Here, though, the parent ");
                if (pname)
                        val(r, pname, pl);
                else
                        put(r, "(not in the alert)");
                put(r, sig->runc_lineage
                               ? ", a container runtime, as it should be."
                               : " is not a container runtime, which runc's would be: the memfd "
                                 "name and the process name are chosen freely, so this can be "
                                 "a payload dressed as runc.");
                if (cmd) {
                        put(r, " The command line is ");
                        val(r, cmd, cl);
                        put(r, ".");
                }
                put(r, " An attacker can name a memfd anything: the Investigate steps confirm "
                       "that the installed runtime is the package's own and that the event lines "
                       "up with a container start or `exec`.");
                analysis_item(r, start);
        }
}

void fb_triage_drill(struct fb_report *r, struct fb_signals *sig) {
        /* the process itself and its ancestors, by name and by executable: the generator's
         * helpers rename themselves (httpd, ...) but run /bin/event-generator */
        static const struct lit lineage[] = { LIT("proc.name"),     LIT("proc.pname"),
                                              LIT("proc.sname"),    LIT("proc.aname[2]"),
                                              LIT("proc.aname[3]"), LIT("proc.aname[4]") };
        static const struct lit exes[] = { LIT("proc.exepath"), LIT("proc.pexepath"),
                                           LIT("proc.exe"), LIT("proc.pexe") };
        const char *repo;
        size_t rl, i, start;

        repo = str(r, "container.image.repository", &rl);
        {
                int gen = event_generator_image(repo, rl);

                sig->gen_image = gen > 0;
                sig->gen_lookalike = gen < 0;
        }
        for (i = 0; i < FB_ELEMENTSOF(lineage); i++)
                if (str_eq_n(r, lineage[i].s, lineage[i].len, "event-generator",
                             sizeof("event-generator") - 1))
                        sig->gen_process = true;
        for (i = 0; i < FB_ELEMENTSOF(exes); i++) {
                size_t l;
                const char *e = str_n(r, exes[i].s, exes[i].len, &l);

                if (e && l >= 16 && memcmp(e + l - 16, "/event-generator", 16) == 0)
                        sig->gen_process = true;
        }
        if (sig->gen_lookalike) {
                start = text_begin(r);
                put(r, "**Named like a test tool, but not one.** The image ");
                val(r, repo, rl);
                put(r, " is named like Falco's event generator, which Falco publishes only as "
                       "Docker Hub's `falcosecurity/event-generator`. Anyone can push an image "
                       "under that last name to another registry or account, so the name is no "
                       "sign of a drill, and neither is an `event-generator` process in it.");
                analysis_item(r, start);
                return;
        }
        if (!sig->gen_image && !sig->gen_process)
                return;
        start = text_begin(r);
        put(r, "**Why it may be a test.**");
        if (sig->gen_image)
                put(r, " The image is `falcosecurity/event-generator`, Falco's own tool that "
                       "deliberately triggers Falco rules.");
        if (sig->gen_process)
                put(r, " An `event-generator` process (by name or by executable) is this "
                       "process or one of its ancestors.");
        if (str(r, "proc.cmdline", NULL)) {
                size_t cl;
                const char *cmd = str(r, "proc.cmdline", &cl);

                if (memmem(cmd, cl, " run helper.", 12)) {
                        put(r, " The command line ");
                        val(r, cmd, cl);
                        put(r, " is one of its helper actions.");
                }
        }
        put(r, " An attacker can name an image or a process anything: confirm that the "
               "container's image digest is one Falco publishes on Docker Hub (the container "
               "inspection below shows the image; `docker image inspect --format "
               "'{{json .RepoDigests}}'` on it gives the digest), and that someone runs Falco "
               "drills on this host.");
        analysis_item(r, start);
}

/* A package manager (or its helper) among the process and its parents. */
static bool package_manager(struct fb_report *r, const char **name, size_t *len) {
        static const struct lit keys[] = { LIT("proc.name"), LIT("proc.pname"),
                                           LIT("proc.aname[2]"), LIT("proc.aname[3]") };
        static const struct lit pms[] = { LIT("dpkg"),
                                          LIT("apt"),
                                          LIT("apt-get"),
                                          LIT("aptitude"),
                                          LIT("unattended-upgr"),
                                          LIT("rpm"),
                                          LIT("yum"),
                                          LIT("dnf"),
                                          LIT("microdnf"),
                                          LIT("zypper"),
                                          LIT("apk"),
                                          LIT("dpkg-preconfigu"),
                                          LIT("packagekitd") };
        size_t i, j;

        for (i = 0; i < FB_ELEMENTSOF(keys); i++) {
                const char *s = str_n(r, keys[i].s, keys[i].len, len);

                for (j = 0; s && j < FB_ELEMENTSOF(pms); j++)
                        if (*len == pms[j].len && memcmp(s, pms[j].s, *len) == 0) {
                                *name = s;
                                return true;
                        }
        }
        return false;
}

/* The identities of Kubernetes' control plane: they act for an owner, not for a person. */
static bool control_plane(const char *u, size_t n) {
        static const struct lit prefixes[] = { LIT("system:kube-controller-manager"),
                                               LIT("system:kube-scheduler"), LIT("system:node:"),
                                               LIT("system:serviceaccount:kube-system:") };
        size_t i;

        for (i = 0; i < FB_ELEMENTSOF(prefixes); i++)
                if (n >= prefixes[i].len && memcmp(u, prefixes[i].s, prefixes[i].len) == 0)
                        return i < 3 || (n > 11 && memcmp(u + n - 11, "-controller", 11) == 0);
        return false;
}

void fb_triage_benign_patterns(struct fb_report *r) {
        const char *s;
        size_t n, start;

        if (r->place == FB_PLACE_K8S_API && (s = str(r, "ka.user.name", &n)) &&
            control_plane(s, n)) {
                start = text_begin(r);
                put(r, "**A control-plane identity made the request.** ");
                val(r, s, n);
                put(r, " is one of Kubernetes' own controllers (or a node's kubelet): it acts for "
                       "an object someone else created or changed, as a ReplicaSet's controller "
                       "creates the pods its Deployment asks for. The actor to look for is "
                       "whoever created or changed that owner (see `ownerReferences` in the "
                       "saved object, and the owner's own audit events); this identity's "
                       "bindings must stay, or the cluster stops working.");
                analysis_item(r, start);
        }
        if ((r->in_container || r->on_host) && package_manager(r, &s, &n)) {
                start = text_begin(r);
                put(r, "**A package manager is involved.** ");
                val(r, s, n);
                put(r, " is this process or one of its parents: an install or upgrade writes "
                       "below `/etc`, binary and library directories by design. That is a "
                       "legitimate cause only if someone ran it: confirm in the package "
                       "manager's log for the alert time (`/var/log/dpkg.log`, "
                       "`/var/log/apt/history.log`, `dnf history`, `/var/log/yum.log`) and that "
                       "the written file belongs to a package (the Investigate steps). An "
                       "attacker can run a package manager too, to install tools.");
                analysis_item(r, start);
        }
}
