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
        if (exe && el == 32 && memcmp(exe, "memfd:runc_cloned:/proc/self/exe", 32) == 0 && name &&
            nl == 4 && memcmp(name, "runc", 4) == 0) {
                size_t pl;
                const char *pname = str(r, "proc.pname", &pl);

                sig->runc_self = true;
                sig->runc_lineage = is_shim(pname, pl) ||
                                    (pname && ((pl == 4 && memcmp(pname, "runc", 4) == 0) ||
                                               (pl == 10 && memcmp(pname, "containerd", 10) == 0) ||
                                               (pl == 7 && memcmp(pname, "dockerd", 7) == 0)));
                start = text_begin(r);
                put(r, "**runc re-executing itself.** runc copies its own binary into a sealed "
                       "memfd and re-executes it from there (`runc_cloned:/proc/self/exe`), so a "
                       "container can never overwrite the host's runc binary (the fix for "
                       "CVE-2019-5736). Falco's own rule excludes this case through the "
                       "`known_memfd_execution_binaries` list, which holds `runc`.");
                if (!sig->runc_lineage)
                        put(r, " Here, though, runc's parent is not a container runtime, and both "
                               "the process name and the memfd name can be chosen by an "
                               "attacker: check the lineage.");
                analysis_item(r, start);
        }
}

void fb_triage_drill(struct fb_report *r, struct fb_signals *sig) {
        static const struct lit lineage[] = { LIT("proc.pname"), LIT("proc.sname"),
                                              LIT("proc.aname[2]"), LIT("proc.aname[3]") };
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
                put(r, " An `event-generator` process is in the lineage.");
        if (str(r, "proc.cmdline", NULL)) {
                size_t cl;
                const char *cmd = str(r, "proc.cmdline", &cl);

                if (memmem(cmd, cl, " run helper.", 12)) {
                        put(r, " The command line ");
                        val(r, cmd, cl);
                        put(r, " is one of its helper actions.");
                }
        }
        put(r, " An attacker can name an image or a process anything: confirm the image digest "
               "and whether anyone runs Falco drills on this host.");
        analysis_item(r, start);
}
