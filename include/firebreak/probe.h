/* probe.h: live proof that memfd execution is denied. Each probe runs in a forked child,
 * after an optional setup (loading a seccomp profile), and tries one thing:
 *   attacks     memfd_create with each flag combination, then fexecve (execveat with
 *               AT_EMPTY_PATH) or execve("/proc/self/fd/N"); and memfd_create through
 *               `int 0x80` (the 32-bit entry, which a profile must map too);
 *   legitimate  memfd_create(MFD_NOEXEC_SEAL) as shared memory; exec of a regular file by path
 *               and by fd.
 * The executed payload is a 132-byte static x86-64 program that exits 42, so a probe proves
 * execution by its exit status alone. Needs only libc: the static firebreak-probe runs the same
 * probes inside containers.
 *
 * A probe whose kernel feature is missing here is not applicable, never "blocked": before the
 * probes run, a child each checks the 32-bit entry (a harmless getpid through `int 0x80`; a
 * kernel without usable IA32 emulation kills it with SIGSEGV), MFD_EXEC and MFD_NOEXEC_SEAL
 * (Linux 6.3; older kernels answer EINVAL). Those checks run without the setup, so they see
 * the kernel, not the profile under test; in a container they run under its profile, where a
 * profile's refusal (an errno, SIGSYS) still shows the feature is there.
 *
 * FIREBREAK_PROBE_FAULT=no-int80 in the environment is a fault injection for the tests: the
 * check and the attack use vector 0x81, which no kernel serves, as a kernel without the 32-bit
 * entry does. It exists because a machine whose entry works cannot be made to lose it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fb_probe_kind { FB_PROBE_ATTACK, FB_PROBE_LEGIT };

struct fb_probe_result {
        const char *name;
        enum fb_probe_kind kind;
        bool succeeded;   /* the attack executed / the legitimate use worked */
        bool applicable;  /* false: this kernel lacks what the probe needs (detail says what) */
        char detail[160]; /* what happened: "executed", "memfd_create: Operation not permitted" */
};

#define FB_PROBE_MAX 16u

/* Runs every probe. setup (may be NULL) runs in each child first; a non-zero return fails the
 * probe with "setup failed". Returns the number of probes, or -errno. */
int fb_probe_run_all(int (*setup)(void *u), void *u, struct fb_probe_result *out, size_t max);

/* What a run found, counted by fb_probe_print. */
struct fb_probe_counts {
        size_t attacks;    /* attacks that executed */
        size_t total;      /* attacks tried */
        size_t applicable; /* attacks that can run on this kernel */
        size_t na;         /* probes (attacks or legitimate uses) that cannot run here */
        size_t bad;        /* applicable results not as a hardened system gives them */
};

/* Prints the matrix (a probe that cannot run here says n/a and why) and returns how many
 * results are not what a hardened system gives: applicable attacks that executed plus
 * applicable legitimate uses that failed. counts (may be NULL) receives the figures. */
size_t fb_probe_print(FILE *f, const struct fb_probe_result *r, size_t n,
                      struct fb_probe_counts *counts);

/* The summary line that firebreak-probe and `seccomp test` print, without a newline:
 * "N attacks succeeded, N results unexpected, N not applicable here (N of N attacks can run on
 * this kernel)". */
void fb_probe_summary(FILE *f, const struct fb_probe_counts *c);
