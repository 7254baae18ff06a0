/* probe.h: live proof that memfd execution is denied. Each probe runs in a forked child,
 * after an optional setup (loading a seccomp profile), and tries one thing:
 *   attacks     memfd_create with each flag combination, then fexecve (execveat with
 *               AT_EMPTY_PATH) or execve("/proc/self/fd/N"); and memfd_create through
 *               `int 0x80` (the 32-bit entry, which a profile must map too);
 *   legitimate  memfd_create(MFD_NOEXEC_SEAL) as shared memory; exec of a regular file by path
 *               and by fd.
 * The executed payload is a 132-byte static x86-64 program that exits 42, so a probe proves
 * execution by its exit status alone. Needs only libc: the static firebreak-probe runs the same
 * probes inside containers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fb_probe_kind { FB_PROBE_ATTACK, FB_PROBE_LEGIT };

struct fb_probe_result {
        const char *name;
        enum fb_probe_kind kind;
        bool succeeded;   /* the attack executed / the legitimate use worked */
        char detail[160]; /* what happened: "executed", "memfd_create: Operation not permitted" */
};

#define FB_PROBE_MAX 16u

/* Runs every probe. setup (may be NULL) runs in each child first; a non-zero return fails the
 * probe with "setup failed". Returns the number of probes, or -errno. */
int fb_probe_run_all(int (*setup)(void *u), void *u, struct fb_probe_result *out, size_t max);

/* Prints the matrix and returns how many results are not what a hardened system gives: attacks
 * that succeeded plus legitimate uses that failed. attacks (may be NULL) receives the number
 * of attacks that succeeded. */
size_t fb_probe_print(FILE *f, const struct fb_probe_result *r, size_t n, size_t *attacks);
