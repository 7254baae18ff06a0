/* probe.c: attack and legitimate probes for memfd execution, each in its own child. Only libc:
 * the static firebreak-probe links this file alone. */
#define _GNU_SOURCE
#include "firebreak/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD_STATUS 42
#define MFD_CLOEXEC_ 0x1u
#define MFD_ALLOW_SEALING_ 0x2u
#define MFD_NOEXEC_SEAL_ 0x8u
#define MFD_EXEC_ 0x10u

#if defined(__x86_64__)
/* ELF64 header, one PT_LOAD, then: mov edi, 42; mov eax, 60 (exit); syscall */
static void payload(uint8_t out[132]) {
        static const uint8_t code[] = {
                0xbf, PAYLOAD_STATUS, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05
        };
        uint64_t base = 0x400000, v;
        int i;

        memset(out, 0, 132);
        memcpy(out, "\177ELF\2\1\1", 7);
        out[16] = 2;  /* ET_EXEC */
        out[18] = 62; /* EM_X86_64 */
        out[20] = 1;  /* EV_CURRENT */
        v = base + 120;
        memcpy(out + 24, &v, 8);         /* e_entry */
        out[32] = 64;                    /* e_phoff */
        out[52] = 64;                    /* e_ehsize */
        out[54] = 56;                    /* e_phentsize */
        out[56] = 1;                     /* e_phnum */
        out[64] = 1;                     /* PT_LOAD */
        out[68] = 5;                     /* PF_R | PF_X */
        memcpy(out + 64 + 16, &base, 8); /* p_vaddr */
        memcpy(out + 64 + 24, &base, 8); /* p_paddr */
        v = 132;
        memcpy(out + 64 + 32, &v, 8); /* p_filesz */
        memcpy(out + 64 + 40, &v, 8); /* p_memsz */
        v = 0x1000;
        memcpy(out + 64 + 48, &v, 8); /* p_align */
        for (i = 0; i < (int)sizeof(code); i++)
                out[120 + i] = code[i];
}
#endif

/* The child reports why it stopped through a pipe; an exec that works reports nothing. */
static int report_fd = -1;

static void say(const char *what, int err) {
        char msg[160];
        int n = snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));

        if (n > 0 && write(report_fd, msg, (size_t)n) < 0)
                _exit(3);
}

/* FIREBREAK_PROBE_FAULT=no-int80: use vector 0x81, which no kernel serves (probe.h) */
static bool fault_no_int80;

#if defined(__x86_64__)
/* A 32-bit system call: through `int 0x80`, or the unserved 0x81 under the fault injection. */
static long syscall32(long nr, long a, long b) {
        long r;

        if (fault_no_int80)
                __asm__ volatile("int $0x81" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory");
        else
                __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory");
        return r;
}
#endif

static int make_memfd(unsigned flags, bool int80) {
        int fd;

#if defined(__x86_64__)
        if (int80) {
                /* the 32-bit entry truncates pointers: the name must live below 4 GiB */
                char *name = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
                long r;

                if (name == MAP_FAILED)
                        return -1;
                memcpy(name, "program", 8);
                r = syscall32(356L, (long)(uintptr_t)name, (long)flags);
                if (r < 0) {
                        errno = (int)-r;
                        return -1;
                }
                return (int)r;
        }
#else
        (void)int80;
#endif
        fd = (int)syscall(SYS_memfd_create, "program", flags);
        return fd;
}

static int write_payload(int fd) {
#if defined(__x86_64__)
        uint8_t p[132];

        payload(p);
        return write(fd, p, sizeof(p)) == (ssize_t)sizeof(p) ? 0 : -1;
#else
        (void)fd;
        errno = ENOEXEC;
        return -1;
#endif
}

static char *const no_env[] = { NULL };

/* attack: memfd, payload, exec by fd or path */
static void attack(unsigned flags, bool by_path, bool int80) {
        char path[64], *argv[] = { "3", NULL };
        int fd;

        /* a fault is reported as the kernel's signal, not as an inherited handler's exit */
        signal(SIGSEGV, SIG_DFL);
        fd = make_memfd(flags, int80);

        if (fd < 0) {
                say(int80 ? "memfd_create (int 0x80)" : "memfd_create", errno);
                _exit(1);
        }
        if (write_payload(fd) < 0) {
                say("write", errno);
                _exit(1);
        }
        if (by_path) {
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                execve(path, argv, no_env);
                say("execve(/proc/self/fd/N)", errno);
        } else {
                syscall(SYS_execveat, fd, "", argv, no_env, AT_EMPTY_PATH);
                say("execveat(AT_EMPTY_PATH)", errno);
        }
        _exit(1);
}

static void shm(void) {
        int fd = make_memfd(MFD_NOEXEC_SEAL_ | MFD_CLOEXEC_, false);
        char *p, back[6] = "";

        if (fd < 0) {
                say("memfd_create(MFD_NOEXEC_SEAL)", errno);
                _exit(1);
        }
        if (ftruncate(fd, 4096) < 0) {
                say("ftruncate", errno);
                _exit(1);
        }
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                say("mmap", errno);
                _exit(1);
        }
        memcpy(p, "hello", 6);
        if (pread(fd, back, 6, 0) != 6 || strcmp(back, "hello") != 0) {
                say("pread", EIO);
                _exit(1);
        }
        _exit(0);
}

static const char *regular_file; /* the payload on disk, made by the parent */

static void exec_file(bool by_fd) {
        char *argv[] = { "payload", NULL };

        if (by_fd) {
                int fd = open(regular_file, O_RDONLY | O_CLOEXEC);

                if (fd < 0) {
                        say("open", errno);
                        _exit(1);
                }
                syscall(SYS_execveat, fd, "", argv, no_env, AT_EMPTY_PATH);
                say("execveat(AT_EMPTY_PATH) of a regular file", errno);
        } else {
                execve(regular_file, argv, no_env);
                say("execve of a regular file", errno);
        }
        _exit(1);
}

enum what { ATTACK_FD, ATTACK_PATH, ATTACK_INT80, SHM, EXEC_PATH, EXEC_FD };

static const struct probe {
        const char *name;
        enum fb_probe_kind kind;
        enum what what;
        unsigned flags;
} probes[] = {
        { "memfd_create(0) + fexecve", FB_PROBE_ATTACK, ATTACK_FD, 0 },
        { "memfd_create(0) + execve /proc/self/fd/N", FB_PROBE_ATTACK, ATTACK_PATH, 0 },
        { "memfd_create(MFD_CLOEXEC) + fexecve", FB_PROBE_ATTACK, ATTACK_FD, MFD_CLOEXEC_ },
        { "memfd_create(MFD_CLOEXEC) + execve /proc/self/fd/N", FB_PROBE_ATTACK, ATTACK_PATH,
          MFD_CLOEXEC_ },
        { "memfd_create(MFD_ALLOW_SEALING) + fexecve", FB_PROBE_ATTACK, ATTACK_FD,
          MFD_ALLOW_SEALING_ },
        { "memfd_create(MFD_ALLOW_SEALING) + execve /proc/self/fd/N", FB_PROBE_ATTACK, ATTACK_PATH,
          MFD_ALLOW_SEALING_ },
        { "memfd_create(MFD_EXEC) + fexecve", FB_PROBE_ATTACK, ATTACK_FD, MFD_EXEC_ },
        { "memfd_create(MFD_EXEC) + execve /proc/self/fd/N", FB_PROBE_ATTACK, ATTACK_PATH,
          MFD_EXEC_ },
        { "memfd_create(MFD_EXEC|MFD_CLOEXEC) + fexecve", FB_PROBE_ATTACK, ATTACK_FD,
          MFD_EXEC_ | MFD_CLOEXEC_ },
        { "memfd_create(MFD_EXEC|MFD_CLOEXEC) + execve /proc/self/fd/N", FB_PROBE_ATTACK,
          ATTACK_PATH, MFD_EXEC_ | MFD_CLOEXEC_ },
        { "int 0x80 memfd_create(0) + execve /proc/self/fd/N", FB_PROBE_ATTACK, ATTACK_INT80, 0 },
        { "memfd_create(MFD_NOEXEC_SEAL) as shared memory", FB_PROBE_LEGIT, SHM, 0 },
        { "exec of a regular file by path", FB_PROBE_LEGIT, EXEC_PATH, 0 },
        { "fexecve of a regular file", FB_PROBE_LEGIT, EXEC_FD, 0 },
};

static void run_child(const struct probe *p) {
        switch (p->what) {
        case ATTACK_FD:
                attack(p->flags, false, false);
                break;
        case ATTACK_PATH:
                attack(p->flags, true, false);
                break;
        case ATTACK_INT80:
                attack(p->flags, true, true);
                break;
        case SHM:
                shm();
                break;
        case EXEC_PATH:
                exec_file(false);
                break;
        case EXEC_FD:
                exec_file(true);
                break;
        }
        _exit(1);
}

/* Waits at most 10 s for a child: a probe never hangs the run. A pidfd wakes us when the child
 * exits; without one (before Linux 5.3), its status is polled every 10 ms. */
static void wait_child(pid_t pid, int *status) {
        struct timespec ts = { 0, 10 * 1000000 };
        int waited = 0, pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (pidfd >= 0) {
                struct pollfd p_ = { .fd = pidfd, .events = POLLIN };

                if (poll(&p_, 1, 10000) == 0)
                        kill(pid, SIGKILL);
                close(pidfd);
                waitpid(pid, status, 0);
                return;
        }
        while (waitpid(pid, status, WNOHANG) == 0) {
                if (++waited > 1000) {
                        kill(pid, SIGKILL);
                        waitpid(pid, status, 0);
                        return;
                }
                nanosleep(&ts, NULL);
        }
}

/* ---- what this kernel can do ------------------------------------------------------------- */

enum need { NEED_NOTHING, NEED_INT80, NEED_MFD_EXEC, NEED_NOEXEC_SEAL, NEED_COUNT };

#define CHECK_EINVAL 10 /* a check child's status: the kernel answered EINVAL */

static void check_child(enum need n) {
        int fd;

        switch (n) {
        case NEED_INT80:
#if defined(__x86_64__)
                /* a SIGSEGV here must kill the child as the kernel sends it: a handler (a
                 * sanitizer's) would turn it into an exit, which reads as "the entry works".
                 * And it must cost no core dump. */
                signal(SIGSEGV, SIG_DFL);
                signal(SIGBUS, SIG_DFL);
                (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
                (void)syscall32(20L /* getpid */, 0, 0);
#endif
                _exit(0);
        case NEED_MFD_EXEC:
        case NEED_NOEXEC_SEAL:
                fd = (int)syscall(SYS_memfd_create, "fb-check",
                                  (n == NEED_MFD_EXEC ? MFD_EXEC_ : MFD_NOEXEC_SEAL_) |
                                          MFD_CLOEXEC_);
                _exit(fd < 0 && errno == EINVAL ? CHECK_EINVAL : 0);
        default:
                _exit(0);
        }
}

/* Whether the kernel has what n needs; when it has not, why in why[]. A refusal by a seccomp
 * profile (an errno other than EINVAL, or SIGSYS) shows that the feature is there. */
static bool kernel_has(enum need n, char *why, size_t len) {
        int status = 0;
        pid_t pid;

#if !defined(__x86_64__)
        if (n == NEED_INT80) {
                snprintf(why, len, "the int 0x80 entry is x86's, and this is not x86-64");
                return false;
        }
#endif
        pid = fork();
        if (pid < 0)
                return true; /* cannot tell: run the probe, as before the checks */
        if (pid == 0)
                check_child(n);
        wait_child(pid, &status);
        if (n == NEED_INT80 && WIFSIGNALED(status) && WTERMSIG(status) != SIGSYS) {
                snprintf(why, len,
                         "no usable 32-bit entry here (getpid through int 0x80 was "
                         "killed by signal %d, %s)",
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
                return false;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == CHECK_EINVAL) {
                snprintf(why, len, "this kernel does not know %s (Linux 6.3 added it)",
                         n == NEED_MFD_EXEC ? "MFD_EXEC" : "MFD_NOEXEC_SEAL");
                return false;
        }
        return true;
}

static enum need need_of(const struct probe *p) {
        if (p->what == ATTACK_INT80)
                return NEED_INT80;
        if (p->flags & MFD_EXEC_)
                return NEED_MFD_EXEC;
        return p->what == SHM ? NEED_NOEXEC_SEAL : NEED_NOTHING;
}

/* ---- running the probes ------------------------------------------------------------------ */

static int one(const struct probe *p, int (*setup)(void *), void *u, struct fb_probe_result *r) {
        int pfd[2], status = 0;
        pid_t pid;
        ssize_t n;

        *r = (struct fb_probe_result){ .name = p->name, .kind = p->kind, .applicable = true };
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(pfd[0]);
                close(pfd[1]);
                return -errno;
        }
        if (pid == 0) {
                close(pfd[0]);
                report_fd = pfd[1];
                if (setup && setup(u) != 0) {
                        say("setup (loading the profile)", errno ? errno : EINVAL);
                        _exit(100);
                }
                run_child(p);
        }
        close(pfd[1]);
        wait_child(pid, &status);
        n = read(pfd[0], r->detail, sizeof(r->detail) - 1);
        close(pfd[0]);
        r->detail[n > 0 ? n : 0] = '\0';
        if (WIFEXITED(status)) {
                int code = WEXITSTATUS(status);

                r->succeeded = p->what == SHM ? code == 0 : code == PAYLOAD_STATUS;
                if (r->succeeded)
                        snprintf(r->detail, sizeof(r->detail), "%s",
                                 p->what == SHM ? "works" : "executed (the payload ran)");
                else if (!r->detail[0])
                        snprintf(r->detail, sizeof(r->detail), "exit status %d", code);
        } else if (WIFSIGNALED(status))
                snprintf(r->detail, sizeof(r->detail), "killed by signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
        return 0;
}

int fb_probe_run_all(int (*setup)(void *), void *u, struct fb_probe_result *out, size_t max) {
        char path[] = "/tmp/fb-probe-XXXXXX";
        const char *tmp = getenv("TMPDIR"), *fault = getenv("FIREBREAK_PROBE_FAULT");
        char dyn[4096], why[NEED_COUNT][160];
        bool has[NEED_COUNT];
        size_t i, n = 0;
        int fd, r = 0;

        fault_no_int80 = fault && strcmp(fault, "no-int80") == 0;
        for (i = 0; i < NEED_COUNT; i++)
                has[i] = i == NEED_NOTHING || kernel_has((enum need)i, why[i], sizeof(why[i]));
        if (tmp && *tmp && strlen(tmp) < sizeof(dyn) - 32)
                snprintf(dyn, sizeof(dyn), "%s/fb-probe-XXXXXX", tmp);
        else
                snprintf(dyn, sizeof(dyn), "%s", path);
        fd = mkstemp(dyn);
        if (fd < 0)
                return -errno;
        if (write_payload(fd) < 0 || fchmod(fd, 0700) < 0)
                r = -errno;
        close(fd); /* an fd open for writing would make exec fail with ETXTBSY */
        regular_file = dyn;
        for (i = 0; r >= 0 && i < sizeof(probes) / sizeof(probes[0]) && n < max; i++) {
                enum need need = need_of(&probes[i]);

                if (!has[need]) {
                        out[n] = (struct fb_probe_result){ .name = probes[i].name,
                                                           .kind = probes[i].kind };
                        snprintf(out[n].detail, sizeof(out[n].detail), "%s", why[need]);
                        n++;
                        continue;
                }
                r = one(&probes[i], setup, u, &out[n]);
                if (r >= 0)
                        n++;
        }
        unlink(dyn);
        return r < 0 ? r : (int)n;
}

size_t fb_probe_print(FILE *f, const struct fb_probe_result *r, size_t n,
                      struct fb_probe_counts *counts) {
        struct fb_probe_counts c = { 0 };
        size_t i;

        fprintf(f, "  %-6s %-9s %-61s %s\n", "", "expect", "probe", "what happened");
        for (i = 0; i < n; i++) {
                bool attack = r[i].kind == FB_PROBE_ATTACK;
                bool ok = attack ? !r[i].succeeded : r[i].succeeded;
                const char *mark = ok ? "ok" : "FAIL";

                if (attack)
                        c.total++;
                if (!r[i].applicable) {
                        c.na++;
                        mark = "n/a";
                } else {
                        if (attack)
                                c.applicable++;
                        if (attack && r[i].succeeded)
                                c.attacks++;
                        if (!ok)
                                c.bad++;
                }
                fprintf(f, "  %-6s %-9s %-61s %s\n", mark, attack ? "blocked" : "works", r[i].name,
                        r[i].detail);
        }
        if (counts)
                *counts = c;
        return c.bad;
}

void fb_probe_summary(FILE *f, const struct fb_probe_counts *c) {
        fprintf(f,
                "%zu attacks succeeded, %zu results unexpected, %zu not applicable here (%zu of "
                "%zu attacks can run on this kernel)",
                c->attacks, c->bad, c->na, c->applicable, c->total);
}
