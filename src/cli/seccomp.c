/* seccomp.c: `firebreak seccomp generate|check|test`: a profile that really denies memfd exec,
 * the check that it does, and the live proof. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/buf.h"
#include "firebreak/cleanup.h"
#include "firebreak/cli.h"
#include "firebreak/compile.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/probe.h"
#include "firebreak/profile.h"
#include "firebreak/strutil.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: firebreak seccomp generate --mode strict|compat [--base FILE]\n"
                "                                  [--format docker|oci] -o FILE\n"
                "       firebreak seccomp check [--export bpf|pfc -o FILE] PROFILE\n"
                "       firebreak seccomp test [--none] PROFILE\n"
                "\n"
                "generate  writes a seccomp profile that denies memfd-based execution: strict\n"
                "          allows memfd_create only with MFD_NOEXEC_SEAL; compat refuses MFD_EXEC\n"
                "          and needs vm.memfd_noexec >= 1. memfd_create is taken out of every\n"
                "          entry that allows it (an unconditional allow would absorb the rule)\n"
                "          and added back with the condition. Without --base, the built-in base\n"
                "          (Docker 20.10's default profile) is used. --format oci writes the\n"
                "          runtime-spec form for kubelet (amd64, default capabilities).\n"
                "check     compiles a Docker or OCI profile with libseccomp the way runc does,\n"
                "          reports unknown syscall names, runs the compiled filter on\n"
                "          memfd_create for each architecture and says whether memfd exec is\n"
                "          denied. --export writes the compiled filter (raw BPF or libseccomp's\n"
                "          pseudo-code).\n"
                "test      forks a child per probe, loads the profile, and tries memfd attacks\n"
                "          and legitimate uses; prints the matrix. --none runs the probes with no\n"
                "          profile, to show what the attacks do unprotected.\n"
                "\n"
                "Options:\n"
                "  -m, --mode strict|compat   what generate denies\n"
                "  -b, --base FILE            a Docker-format profile to harden\n"
                "  -F, --format docker|oci    generate's output format (default docker)\n"
                "  -o, --output FILE          where generate or --export writes\n"
                "  -e, --export bpf|pfc       check: also write the compiled filter\n"
                "      --none                 test: no profile\n"
                "  -h, --help                 show this help\n"
                "\n"
                "Exit status: 0 memfd exec is denied (check, test) or the profile was written;\n"
                "1 an attack succeeds or the profile lets memfd exec through; 2 usage or an\n"
                "invalid profile; 3 the output could not be written.\n");
}

static double ms_since(const struct timespec *t0) {
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int load(const char *path, struct fb_seccomp_profile **p) {
        char err[512] = "";
        int r = fb_profile_load(path, p, err, sizeof(err));

        if (r == -EINVAL)
                log_error("%s: not a usable seccomp profile: %s", path, err);
        else if (r < 0)
                log_error_errno(r, "%s: %m", path);
        return r;
}

static int compile(const char *path, const struct fb_seccomp_profile *p,
                   struct fb_seccomp_filter **f, struct fb_buf *unknown) {
        char err[512] = "";
        int r = fb_seccomp_compile(p, f, unknown, err, sizeof(err));

        if (r == -EINVAL)
                log_error("%s: %s", path, err);
        else if (r < 0)
                log_error_errno(r, "%s: %m", path);
        return r;
}

static int memfd_noexec(void) {
        int64_t v;

        return fb_read_int_file("/proc/sys/vm/memfd_noexec", &v) < 0 ? -1 : (int)v;
}

/* Entries that refuse memfd_create conditionally while another allows it unconditionally:
 * libseccomp keeps the allow, so the refusal does nothing. */
static void absorbed(const char *path, const struct fb_seccomp_profile *p) {
        size_t i, j, k, l;

        for (i = 0; i < p->n_rules; i++) {
                const struct fb_seccomp_rule *d = &p->rules[i];

                if (strcmp(d->action, "SCMP_ACT_ALLOW") == 0)
                        continue;
                for (j = 0; j < d->n_names; j++) {
                        if (strcmp(d->names[j], "memfd_create") != 0)
                                continue;
                        for (k = 0; k < p->n_rules; k++) {
                                const struct fb_seccomp_rule *a = &p->rules[k];

                                if (strcmp(a->action, "SCMP_ACT_ALLOW") != 0 || a->n_args)
                                        continue;
                                for (l = 0; l < a->n_names; l++)
                                        if (strcmp(a->names[l], "memfd_create") == 0)
                                                printf("%s: syscalls[%u] refuses memfd_create, but "
                                                       "syscalls[%u] allows it unconditionally: "
                                                       "libseccomp keeps the allow and the refusal "
                                                       "has no effect\n",
                                                       path, d->source, a->source);
                        }
                }
        }
}

static const char *verdict_text(enum fb_memfd_verdict v) {
        switch (v) {
        case FB_MEMFD_STRICT:
                return "denied (strict): every memfd_create without MFD_NOEXEC_SEAL is refused";
        case FB_MEMFD_COMPAT:
                return "denied with vm.memfd_noexec >= 1 (compat): MFD_EXEC is refused, "
                       "unflagged memfds are allowed and the sysctl makes them non-executable";
        case FB_MEMFD_EXPOSED:
                return "NOT denied: memfd_create(MFD_EXEC) is allowed, so a process can create "
                       "an executable memfd and run it";
        default:
                return "unknown: the compiled filter could not be evaluated";
        }
}

static int verb_generate(const char *base_path, const char *mode, const char *format,
                         const char *out) {
        _cleanup_free_ char *base = NULL;
        struct fb_buf b;
        char err[512] = "";
        size_t len = 0;
        int r;

        if (!mode || (strcmp(mode, "strict") != 0 && strcmp(mode, "compat") != 0) || !out ||
            (format && strcmp(format, "docker") != 0 && strcmp(format, "oci") != 0)) {
                log_error("generate needs --mode strict|compat and -o FILE; --format is docker "
                          "or oci");
                return FB_EXIT_USAGE;
        }
        if (base_path) {
                r = fb_read_file(base_path, FB_PROFILE_MAX_BYTES, &base, &len);
                if (r < 0) {
                        log_error_errno(r, "%s: %m", base_path);
                        return FB_EXIT_USAGE;
                }
        }
        fb_buf_init(&b, 2 * FB_PROFILE_MAX_BYTES);
        r = fb_profile_generate(
                base, len, strcmp(mode, "strict") ? FB_PROFILE_COMPAT : FB_PROFILE_STRICT,
                format && strcmp(format, "oci") == 0 ? FB_PROFILE_OCI : FB_PROFILE_DOCKER, &b, err,
                sizeof(err));
        if (r == -EINVAL) {
                log_error("%s: %s", base_path ? base_path : "built-in base", err);
                fb_buf_free(&b);
                return FB_EXIT_USAGE;
        }
        if (r >= 0) {
                if (strcmp(out, "-") == 0)
                        r = fb_write_all(STDOUT_FILENO, b.data, b.len);
                else
                        r = fb_write_path_atomic(out, b.data, b.len, 0644);
        }
        fb_buf_free(&b);
        if (r < 0) {
                log_error_errno(r, "%s: %m", out);
                return FB_EXIT_OUTPUT;
        }
        if (strcmp(out, "-") != 0)
                fprintf(stderr, "%s: %s profile written (%s format)%s\n", out, mode,
                        format ? format : "docker",
                        strcmp(mode, "compat") == 0
                                ? "; pair it with vm.memfd_noexec=1 or 2 on the host"
                                : "");
        return FB_EXIT_OK;
}

static int verb_check(const char *path, const char *export, const char *out) {
        struct fb_seccomp_profile *p = NULL;
        struct fb_seccomp_filter *f = NULL;
        struct fb_memfd_check c;
        struct fb_buf unknown;
        struct timespec t0;
        double ms;
        size_t i;
        int r, rc = FB_EXIT_OK, sysctl;

        if (export && (!out || (strcmp(export, "bpf") != 0 && strcmp(export, "pfc") != 0))) {
                log_error("--export takes bpf or pfc, and needs -o FILE");
                return FB_EXIT_USAGE;
        }
        if (load(path, &p) < 0)
                return FB_EXIT_USAGE;
        fb_buf_init(&unknown, 65536);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = compile(path, p, &f, &unknown);
        ms = ms_since(&t0);
        if (r < 0) {
                fb_profile_free(p);
                fb_buf_free(&unknown);
                return FB_EXIT_USAGE;
        }
        printf("%s: %s format, default %s, %zu rules for runc (amd64, default capabilities), "
               "architectures",
               path, p->format == FB_PROFILE_DOCKER ? "Docker" : "OCI", p->default_action,
               p->n_rules);
        for (i = 0; i < p->n_arches; i++)
                printf(" %s", p->arches[i]);
        printf("%s; compiled in %.2f ms\n", p->n_arches ? "" : " (native only)", ms);
        if (unknown.len)
                printf("%s: syscall names this libseccomp does not know (skipped, as runc "
                       "skips them): %s\n",
                       path, fb_buf_cstr(&unknown));
        absorbed(path, p);
        r = fb_seccomp_check_memfd(f, p, &c);
        printf("%s: memfd exec %s\n%s\n", path, verdict_text(c.verdict), c.detail);
        sysctl = memfd_noexec();
        if (c.verdict == FB_MEMFD_COMPAT && sysctl < 0)
                printf("%s: this kernel has no vm.memfd_noexec (Linux 6.3 added it): unflagged "
                       "memfds stay executable here; use the strict profile\n",
                       path);
        else if (c.verdict == FB_MEMFD_COMPAT)
                printf("%s: this host has vm.memfd_noexec = %d%s\n", path, sysctl,
                       sysctl >= 1 ? ": unflagged memfds are not executable here"
                                   : ": set it to 1 or 2, or unflagged memfds stay executable");
        if (r < 0 || c.verdict == FB_MEMFD_EXPOSED || c.verdict == FB_MEMFD_UNKNOWN)
                rc = FB_EXIT_INPUT;
        if (export) {
                int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

                r = fd < 0 ? -errno : fb_seccomp_export(f, strcmp(export, "pfc") == 0, fd);
                if (fd >= 0)
                        close(fd);
                if (r < 0) {
                        log_error_errno(r, "%s: %m", out);
                        rc = FB_EXIT_OUTPUT;
                }
        }
        fb_seccomp_filter_free(f);
        fb_profile_free(p);
        fb_buf_free(&unknown);
        return rc;
}

static int load_filter(void *u) {
        int r = fb_seccomp_load(u);

        errno = r < 0 ? -r : 0;
        return r < 0;
}

static int verb_test(const char *path, bool none) {
        struct fb_probe_result res[FB_PROBE_MAX];
        struct fb_seccomp_profile *p = NULL;
        struct fb_seccomp_filter *f = NULL;
        struct timespec t0;
        struct fb_probe_counts c;
        double ms_compile = 0, ms_run;
        int n;

        if (!none) {
                if (load(path, &p) < 0)
                        return FB_EXIT_USAGE;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                if (compile(path, p, &f, NULL) < 0) {
                        fb_profile_free(p);
                        return FB_EXIT_USAGE;
                }
                ms_compile = ms_since(&t0);
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        n = fb_probe_run_all(none ? NULL : load_filter, f, res, FB_PROBE_MAX);
        ms_run = ms_since(&t0);
        fb_seccomp_filter_free(f);
        fb_profile_free(p);
        if (n < 0) {
                log_error_errno(n, "cannot run the probes: %m");
                return FB_EXIT_USAGE;
        }
        if (memfd_noexec() < 0)
                printf("seccomp test: %s (no vm.memfd_noexec here: Linux 6.3 added it)\n",
                       none ? "no profile" : path);
        else
                printf("seccomp test: %s (vm.memfd_noexec = %d)\n", none ? "no profile" : path,
                       memfd_noexec());
        fb_probe_print(stdout, res, (size_t)n, &c);
        fb_probe_summary(stdout, &c);
        printf("; %d probes in %.1f ms (profile compiled in %.2f ms)\n", n, ms_run, ms_compile);
        return c.bad ? FB_EXIT_INPUT : FB_EXIT_OK;
}

int fb_verb_seccomp(int argc, char **argv) {
        static const struct option opts[] = {
                { "mode", required_argument, NULL, 'm' },
                { "base", required_argument, NULL, 'b' },
                { "format", required_argument, NULL, 'F' },
                { "output", required_argument, NULL, 'o' },
                { "export", required_argument, NULL, 'e' },
                { "none", no_argument, NULL, 'N' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *mode = NULL, *base = NULL, *format = NULL, *out = NULL, *export = NULL;
        bool none = false;
        int opt;

        while ((opt = getopt_long(argc, argv, "m:b:F:o:e:h", opts, NULL)) >= 0) {
                switch (opt) {
                case 'm':
                        mode = optarg;
                        break;
                case 'b':
                        base = optarg;
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'e':
                        export = optarg;
                        break;
                case 'N':
                        none = true;
                        break;
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        if (optind < argc && strcmp(argv[optind], "generate") == 0 && argc - optind == 1)
                return verb_generate(base, mode, format, out);
        if (optind < argc && strcmp(argv[optind], "check") == 0 && argc - optind == 2)
                return verb_check(argv[optind + 1], export, out);
        if (optind < argc && strcmp(argv[optind], "test") == 0 && argc - optind == (none ? 1 : 2))
                return verb_test(none ? NULL : argv[optind + 1], none);
        usage(stderr);
        return FB_EXIT_USAGE;
}
