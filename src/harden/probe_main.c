/* probe_main.c: firebreak-probe, the static probe for containers: the same attack and
 * legitimate probes as `firebreak seccomp test`, under whatever seccomp profile and
 * vm.memfd_noexec the container runs with. Exit status: 0 every attack was blocked and every
 * legitimate use worked; 1 an attack succeeded; 3 only legitimate uses failed; 2 it could not
 * run. */
#include <stdio.h>
#include <string.h>

#include "firebreak/probe.h"

int main(int argc, char **argv) {
        struct fb_probe_result r[FB_PROBE_MAX];
        struct fb_probe_counts c;
        int n;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: firebreak-probe\n\nTries memfd-based execution (which must be "
                       "blocked) and legitimate memfd and exec uses (which must work) in this\n"
                       "process's seccomp profile and pid namespace, and prints the matrix. A "
                       "probe\n"
                       "that this kernel cannot run (no 32-bit entry, no MFD_EXEC) says n/a and "
                       "counts as\nneither blocked nor executed.\n"
                       "Exit status: 0 as hardened; 1 an attack succeeded; 3 a legitimate use "
                       "failed; 2 error.\n");
                return 0;
        }
        n = fb_probe_run_all(NULL, NULL, r, FB_PROBE_MAX);
        if (n < 0) {
                fprintf(stderr, "firebreak-probe: cannot run: %s\n", strerror(-n));
                return 2;
        }
        fb_probe_print(stdout, r, (size_t)n, &c);
        fb_probe_summary(stdout, &c);
        putchar('\n');
        return c.attacks ? 1 : c.bad ? 3 : 0;
}
