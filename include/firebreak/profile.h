/* profile.h: seccomp profiles that deny memfd-based execution. Docker's format (defaultAction,
 * archMap, syscalls with includes/excludes) and the OCI runtime-spec format (defaultAction,
 * architectures, syscalls), as kubelet and containerd read it.
 *
 * Appending a deny rule for memfd_create to a profile that allows it unconditionally does
 * nothing: libseccomp and runc let the unconditional allow absorb it. So generate removes
 * memfd_create from every allow entry and adds it back with a condition on its flags:
 *   strict  allowed only with MFD_NOEXEC_SEAL (callers passing no flag break);
 *   compat  allowed unless MFD_EXEC; to be paired with vm.memfd_noexec >= 1, which makes
 *           unflagged memfds non-executable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "firebreak/buf.h"

#define FB_PROFILE_MAX_BYTES (4u << 20)
#define FB_PROFILE_MAX_RULES 4096u
#define FB_PROFILE_MAX_NAMES 4096u /* syscall names in one entry */
#define FB_PROFILE_MAX_ARGS 6u

#define FB_MFD_CLOEXEC 0x1u
#define FB_MFD_ALLOW_SEALING 0x2u
#define FB_MFD_NOEXEC_SEAL 0x8u
#define FB_MFD_EXEC 0x10u

enum fb_profile_mode { FB_PROFILE_STRICT, FB_PROFILE_COMPAT };
enum fb_profile_format { FB_PROFILE_DOCKER, FB_PROFILE_OCI };

struct fb_seccomp_arg {
        unsigned index;
        unsigned long long value, value_two;
        char op[24]; /* SCMP_CMP_EQ, ... */
};

/* One rule after Docker's includes/excludes are resolved: what runc is given. */
struct fb_seccomp_rule {
        char **names;
        size_t n_names;
        char action[24]; /* SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, ... */
        int errno_ret;   /* for SCMP_ACT_ERRNO; -1: EPERM */
        struct fb_seccomp_arg args[FB_PROFILE_MAX_ARGS];
        size_t n_args;
        unsigned source; /* index of the entry in the file */
};

/* A profile as runc receives it: for Docker's format, entries whose includes/excludes do not
 * hold for an amd64 host and a container with Docker's default capabilities are left out,
 * as Docker leaves them out. */
struct fb_seccomp_profile {
        enum fb_profile_format format;
        char default_action[24];
        int default_errno;
        char **arches; /* SCMP_ARCH_X86_64, ... (archMap flattened) */
        size_t n_arches;
        struct fb_seccomp_rule *rules;
        size_t n_rules;
};

/* Parses a Docker or OCI profile (told apart by archMap / architectures). On -EINVAL, err
 * (at least 256 bytes) says what is wrong. */
int fb_profile_parse(const char *data, size_t len, struct fb_seccomp_profile **ret, char *err,
                     size_t err_len);
int fb_profile_load(const char *path, struct fb_seccomp_profile **ret, char *err, size_t err_len);
void fb_profile_free(struct fb_seccomp_profile *p);

/* The built-in base profile (Docker 20.10's default). */
const char *fb_profile_builtin_base(size_t *len);

/* Writes the hardened profile: base (Docker format; NULL = built-in) with memfd_create taken
 * out of every entry that allows it and added back conditionally for mode, in format. Output
 * is deterministic. Returns 0, -EINVAL with err, or -ENOMEM. */
int fb_profile_generate(const char *base, size_t base_len, enum fb_profile_mode mode,
                        enum fb_profile_format format, struct fb_buf *out, char *err,
                        size_t err_len);
