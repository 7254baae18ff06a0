/* compile.h: a profile compiled with libseccomp the way runc compiles it, and what the result
 * does to memfd-based execution.
 *
 * runc: one filter with the profile's default action and architectures; for each rule and
 * name, one rule with all its conditions ANDed, except that conditions on the same argument
 * index become separate rules (ORed); names libseccomp does not know are skipped (reported
 * here). The verdict comes from running the compiled BPF on memfd_create calls for every
 * architecture in the profile, so it sees what the kernel will see, absorbed rules included. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/buf.h"
#include "firebreak/profile.h"

struct fb_seccomp_filter; /* wraps libseccomp's scmp_filter_ctx */

/* Compiles p. Unknown syscall names go to unknown (a ", "-joined list, may be NULL). Returns 0,
 * -EINVAL with err, or -ENOMEM. */
int fb_seccomp_compile(const struct fb_seccomp_profile *p, struct fb_seccomp_filter **ret,
                       struct fb_buf *unknown, char *err, size_t err_len);
void fb_seccomp_filter_free(struct fb_seccomp_filter *f);

/* Loads the filter into the calling thread (sets no_new_privs first). Returns 0 or -errno. */
int fb_seccomp_load(struct fb_seccomp_filter *f);

/* Writes the filter as raw BPF (sock_filter array) or libseccomp's pseudo-filter code. */
int fb_seccomp_export(struct fb_seccomp_filter *f, bool pfc, int fd);

enum fb_memfd_verdict {
        FB_MEMFD_STRICT,  /* every memfd without MFD_NOEXEC_SEAL is refused */
        FB_MEMFD_COMPAT,  /* MFD_EXEC refused; unflagged allowed: needs vm.memfd_noexec >= 1 */
        FB_MEMFD_EXPOSED, /* an executable memfd can be created */
        FB_MEMFD_UNKNOWN, /* the filter could not be evaluated */
};

struct fb_memfd_check {
        enum fb_memfd_verdict verdict;
        char detail[1024]; /* per architecture and flag: what the filter does */
};

/* Runs the compiled filter on memfd_create(flags) for each architecture of the profile. */
int fb_seccomp_check_memfd(struct fb_seccomp_filter *f, const struct fb_seccomp_profile *p,
                           struct fb_memfd_check *out);

/* What the BPF program returns for one call (the kernel's seccomp_data). For tests and fuzzing;
 * prog is an array of struct sock_filter. Returns 0 and *ret_action, or -EINVAL for a program
 * that is malformed or runs off its end. */
int fb_bpf_run(const void *prog, size_t n_insns, uint32_t arch, int nr, const uint64_t args[6],
               uint32_t *ret_action);
