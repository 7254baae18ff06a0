/* compile.c: libseccomp compilation as runc does it, a small classic-BPF interpreter to read
 * the result back, and the memfd verdict. Only this module includes <seccomp.h>. */
#define _GNU_SOURCE
#include "firebreak/compile.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "firebreak/cleanup.h"
#include "firebreak/fileio.h"
#include "firebreak/strutil.h"

struct fb_seccomp_filter {
        scmp_filter_ctx ctx;
        char *prog; /* the BPF libseccomp generates, made once: loading it per child is cheap */
        size_t prog_len;
};

/* libseccomp's BPF for the filter, into f->prog. */
static int export_prog(struct fb_seccomp_filter *f) {
        _cleanup_close_ int fd = memfd_create("fb-bpf", MFD_CLOEXEC);
        int k;

        if (f->prog)
                return 0;
        if (fd < 0)
                return -errno;
        k = seccomp_export_bpf(f->ctx, fd);
        if (k < 0)
                return k;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return fb_read_fd(fd, 1u << 20, &f->prog, &f->prog_len);
}

static const struct {
        const char *name;
        uint32_t token;
} arch_names[] = {
        { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
        { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
        { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
        { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
        { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
        { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
        { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
        { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
        { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
        { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
        { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
        { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
        { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
        { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
        { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
        { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
        { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
};

static int arch_token(const char *name, uint32_t *ret) {
        size_t i;

        for (i = 0; i < FB_ELEMENTSOF(arch_names); i++)
                if (strcmp(name, arch_names[i].name) == 0) {
                        *ret = arch_names[i].token;
                        return 0;
                }
        return -EINVAL;
}

static int action(const char *a, int errno_ret, uint32_t *ret) {
        if (strcmp(a, "SCMP_ACT_ALLOW") == 0)
                *ret = SCMP_ACT_ALLOW;
        else if (strcmp(a, "SCMP_ACT_ERRNO") == 0)
                *ret = SCMP_ACT_ERRNO(errno_ret >= 0 ? (uint16_t)errno_ret : EPERM);
        else if (strcmp(a, "SCMP_ACT_KILL") == 0 || strcmp(a, "SCMP_ACT_KILL_THREAD") == 0)
                *ret = SCMP_ACT_KILL_THREAD;
        else if (strcmp(a, "SCMP_ACT_KILL_PROCESS") == 0)
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (strcmp(a, "SCMP_ACT_TRAP") == 0)
                *ret = SCMP_ACT_TRAP;
        else if (strcmp(a, "SCMP_ACT_TRACE") == 0)
                *ret = SCMP_ACT_TRACE(errno_ret >= 0 ? (uint16_t)errno_ret : EPERM);
        else if (strcmp(a, "SCMP_ACT_LOG") == 0)
                *ret = SCMP_ACT_LOG;
        else
                return -EINVAL;
        return 0;
}

static enum scmp_compare cmp_op(const char *op) {
        if (strcmp(op, "SCMP_CMP_NE") == 0)
                return SCMP_CMP_NE;
        if (strcmp(op, "SCMP_CMP_LT") == 0)
                return SCMP_CMP_LT;
        if (strcmp(op, "SCMP_CMP_LE") == 0)
                return SCMP_CMP_LE;
        if (strcmp(op, "SCMP_CMP_GE") == 0)
                return SCMP_CMP_GE;
        if (strcmp(op, "SCMP_CMP_GT") == 0)
                return SCMP_CMP_GT;
        if (strcmp(op, "SCMP_CMP_MASKED_EQ") == 0)
                return SCMP_CMP_MASKED_EQ;
        return SCMP_CMP_EQ;
}

void fb_seccomp_filter_free(struct fb_seccomp_filter *f) {
        if (!f)
                return;
        if (f->ctx)
                seccomp_release(f->ctx);
        free(f->prog);
        free(f);
}

static int add_rule(scmp_filter_ctx ctx, uint32_t act, int nr, const struct fb_seccomp_rule *r,
                    char *err, size_t len, const char *name) {
        struct scmp_arg_cmp cmp[FB_PROFILE_MAX_ARGS];
        bool same_index = false;
        size_t i, j;
        int k;

        for (i = 0; i < r->n_args; i++) {
                cmp[i] = (struct scmp_arg_cmp){ .arg = r->args[i].index,
                                                .op = cmp_op(r->args[i].op),
                                                .datum_a = r->args[i].value,
                                                .datum_b = r->args[i].value_two };
                for (j = 0; j < i; j++)
                        same_index |= r->args[j].index == r->args[i].index;
        }
        if (!same_index)
                k = seccomp_rule_add_array(ctx, act, nr, (unsigned)r->n_args, cmp);
        else /* runc: conditions on one argument are alternatives */
                for (i = 0, k = 0; i < r->n_args && k >= 0; i++)
                        k = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
        /* an action equal to the default is refused by libseccomp; runc skips it too */
        if (k == -EACCES || k == -EEXIST)
                return 0;
        if (k < 0) {
                snprintf(err, len, "syscalls[%u] (%s): libseccomp refused the rule: %s", r->source,
                         name, strerror(-k));
                return -EINVAL;
        }
        return 0;
}

int fb_seccomp_compile(const struct fb_seccomp_profile *p, struct fb_seccomp_filter **ret,
                       struct fb_buf *unknown, char *err, size_t err_len) {
        struct fb_seccomp_filter *f;
        uint32_t def, act, tok;
        size_t i, j;
        int k;

        if (action(p->default_action, p->default_errno, &def) < 0) {
                snprintf(err, err_len, "unsupported default action %s", p->default_action);
                return -EINVAL;
        }
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->ctx = seccomp_init(def);
        if (!f->ctx) {
                free(f);
                return -ENOMEM;
        }
        /* runc leaves no_new_privs to the runtime spec; firebreak sets it when it loads */
        seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
        for (i = 0; i < p->n_arches; i++) {
                if (arch_token(p->arches[i], &tok) < 0) {
                        snprintf(err, err_len, "unknown architecture %s", p->arches[i]);
                        fb_seccomp_filter_free(f);
                        return -EINVAL;
                }
                k = seccomp_arch_add(f->ctx, tok);
                if (k < 0 && k != -EEXIST) {
                        snprintf(err, err_len, "architecture %s: %s", p->arches[i], strerror(-k));
                        fb_seccomp_filter_free(f);
                        return -EINVAL;
                }
        }
        for (i = 0; i < p->n_rules; i++) {
                const struct fb_seccomp_rule *r = &p->rules[i];

                if (action(r->action, r->errno_ret, &act) < 0)
                        continue;
                for (j = 0; j < r->n_names; j++) {
                        int nr = seccomp_syscall_resolve_name(r->names[j]);

                        if (nr == __NR_SCMP_ERROR) {
                                if (unknown) {
                                        /* the profile's text: escaped for the terminal */
                                        if (unknown->len)
                                                fb_buf_puts(unknown, ", ");
                                        fb_escape_display(unknown, r->names[j],
                                                          strlen(r->names[j]));
                                }
                                continue;
                        }
                        if (act == def)
                                continue;
                        k = add_rule(f->ctx, act, nr, r, err, err_len, r->names[j]);
                        if (k < 0) {
                                fb_seccomp_filter_free(f);
                                return k;
                        }
                }
        }
        k = export_prog(f);
        if (k < 0) {
                fb_seccomp_filter_free(f);
                return k;
        }
        *ret = f;
        return 0;
}

/* The program seccomp_load() would generate, made once at compile time. */
int fb_seccomp_load(struct fb_seccomp_filter *f) {
        struct sock_fprog prog = { .len = (unsigned short)(f->prog_len /
                                                           sizeof(struct sock_filter)),
                                   .filter = (struct sock_filter *)(void *)f->prog };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}

int fb_seccomp_export(struct fb_seccomp_filter *f, bool pfc, int fd) {
        return pfc ? seccomp_export_pfc(f->ctx, fd) : seccomp_export_bpf(f->ctx, fd);
}

/* ---- classic BPF, as the kernel runs a seccomp filter ------------------------------------ */

int fb_bpf_run(const void *prog, size_t n, uint32_t arch, int nr, const uint64_t args[6],
               uint32_t *ret_action) {
        const struct sock_filter *p = prog;
        struct seccomp_data d = { .nr = nr, .arch = arch };
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
        size_t pc = 0, steps = 0, i;

        for (i = 0; i < 6; i++)
                d.args[i] = args[i];
        while (pc < n && steps++ < 65536) {
                const struct sock_filter *in = &p[pc++];
                uint32_t k = in->k;

                switch (in->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (k > sizeof(d) - 4 || k % 4)
                                return -EINVAL;
                        memcpy(&a, (const char *)&d + k, 4);
                        break;
                case BPF_LD | BPF_IMM:
                        a = k;
                        break;
                case BPF_LDX | BPF_IMM:
                        x = k;
                        break;
                case BPF_LD | BPF_MEM:
                        if (k >= BPF_MEMWORDS)
                                return -EINVAL;
                        a = mem[k];
                        break;
                case BPF_LDX | BPF_MEM:
                        if (k >= BPF_MEMWORDS)
                                return -EINVAL;
                        x = mem[k];
                        break;
                case BPF_ST:
                        if (k >= BPF_MEMWORDS)
                                return -EINVAL;
                        mem[k] = a;
                        break;
                case BPF_STX:
                        if (k >= BPF_MEMWORDS)
                                return -EINVAL;
                        mem[k] = x;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= k;
                        break;
                case BPF_ALU | BPF_OR | BPF_K:
                        a |= k;
                        break;
                case BPF_ALU | BPF_ADD | BPF_K:
                        a += k;
                        break;
                case BPF_ALU | BPF_SUB | BPF_K:
                        a -= k;
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        a = k < 32 ? a >> k : 0;
                        break;
                case BPF_ALU | BPF_LSH | BPF_K:
                        a = k < 32 ? a << k : 0;
                        break;
                case BPF_MISC | BPF_TAX:
                        x = a;
                        break;
                case BPF_MISC | BPF_TXA:
                        a = x;
                        break;
                case BPF_JMP | BPF_JA:
                        if (k >= n - pc)
                                return -EINVAL;
                        pc += k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                case BPF_JMP | BPF_JGT | BPF_K:
                case BPF_JMP | BPF_JGE | BPF_K:
                case BPF_JMP | BPF_JSET | BPF_K:
                case BPF_JMP | BPF_JEQ | BPF_X:
                case BPF_JMP | BPF_JGT | BPF_X:
                case BPF_JMP | BPF_JGE | BPF_X: {
                        uint32_t v = BPF_SRC(in->code) == BPF_X ? x : k;
                        bool t;

                        switch (BPF_OP(in->code)) {
                        case BPF_JEQ:
                                t = a == v;
                                break;
                        case BPF_JGT:
                                t = a > v;
                                break;
                        case BPF_JGE:
                                t = a >= v;
                                break;
                        default:
                                t = (a & v) != 0;
                        }
                        if ((size_t)(t ? in->jt : in->jf) >= n - pc + 1)
                                return -EINVAL;
                        pc += t ? in->jt : in->jf;
                        break;
                }
                case BPF_RET | BPF_K:
                        *ret_action = k;
                        return 0;
                case BPF_RET | BPF_A:
                        *ret_action = a;
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        return -EINVAL;
}

/* ---- the memfd verdict -------------------------------------------------------------------- */

static const char *action_text(uint32_t act) {
        switch (act & SECCOMP_RET_ACTION_FULL) {
        case SECCOMP_RET_ALLOW:
                return "allowed";
        case SECCOMP_RET_ERRNO:
                return "refused (errno)";
        case SECCOMP_RET_KILL_THREAD:
        case SECCOMP_RET_KILL_PROCESS:
                return "killed";
        case SECCOMP_RET_TRAP:
                return "trapped";
        case SECCOMP_RET_LOG:
                return "allowed (logged)";
        case SECCOMP_RET_TRACE:
                return "left to a tracer";
        default:
                return "unknown";
        }
}

static bool lets_through(uint32_t act) {
        uint32_t a = act & SECCOMP_RET_ACTION_FULL;

        /* with no tracer attached, TRACE fails the call with ENOSYS */
        return a == SECCOMP_RET_ALLOW || a == SECCOMP_RET_LOG;
}

int fb_seccomp_check_memfd(struct fb_seccomp_filter *f, const struct fb_seccomp_profile *p,
                           struct fb_memfd_check *out) {
        static const struct {
                const char *name;
                uint32_t audit, token;
        } arches[] = {
                { "x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64 },
                { "x86 (int 0x80)", AUDIT_ARCH_I386, SCMP_ARCH_X86 },
                { "x32", AUDIT_ARCH_X86_64, SCMP_ARCH_X32 },
        };
        static const struct {
                const char *name;
                uint64_t flags;
        } flags[] = {
                { "0", 0 },
                { "MFD_CLOEXEC", FB_MFD_CLOEXEC },
                { "MFD_ALLOW_SEALING", FB_MFD_ALLOW_SEALING },
                { "MFD_EXEC", FB_MFD_EXEC },
                { "MFD_CLOEXEC|MFD_EXEC", FB_MFD_CLOEXEC | FB_MFD_EXEC },
                { "MFD_NOEXEC_SEAL", FB_MFD_NOEXEC_SEAL },
        };
        bool exec_flag_open = false, unflagged_open = false, any = false;
        size_t used = 0, i, j;
        int k;

        out->verdict = FB_MEMFD_UNKNOWN;
        out->detail[0] = '\0';
        k = export_prog(f);
        if (k < 0)
                return k;
        for (i = 0; i < FB_ELEMENTSOF(arches); i++) {
                bool listed = false;
                int nr;

                for (j = 0; j < p->n_arches; j++) {
                        uint32_t tok;

                        listed |= arch_token(p->arches[j], &tok) == 0 && tok == arches[i].token;
                }
                /* the native architecture is always in the filter */
                if (!listed && arches[i].token != SCMP_ARCH_X86_64)
                        continue;
                nr = seccomp_syscall_resolve_name_arch(arches[i].token, "memfd_create");
                if (nr == __NR_SCMP_ERROR)
                        continue;
                if (arches[i].token == SCMP_ARCH_X32)
                        nr |= 0x40000000; /* __X32_SYSCALL_BIT */
                used += (size_t)snprintf(out->detail + used,
                                         used < sizeof(out->detail) ? sizeof(out->detail) - used
                                                                    : 0,
                                         "%s%s:", used ? "\n" : "", arches[i].name);
                for (j = 0; j < FB_ELEMENTSOF(flags); j++) {
                        uint64_t args[6] = { 0x1000, flags[j].flags, 0, 0, 0, 0 };
                        uint32_t act;

                        if (fb_bpf_run(f->prog, f->prog_len / sizeof(struct sock_filter),
                                       arches[i].audit, nr, args, &act) < 0)
                                return -EINVAL;
                        any = true;
                        if (lets_through(act) && (flags[j].flags & FB_MFD_EXEC))
                                exec_flag_open = true;
                        if (lets_through(act) &&
                            !(flags[j].flags & (FB_MFD_EXEC | FB_MFD_NOEXEC_SEAL)))
                                unflagged_open = true;
                        used += (size_t)snprintf(
                                out->detail + used,
                                used < sizeof(out->detail) ? sizeof(out->detail) - used : 0,
                                " %s %s;", flags[j].name, action_text(act));
                }
        }
        if (!any)
                return 0;
        out->verdict = exec_flag_open   ? FB_MEMFD_EXPOSED
                       : unflagged_open ? FB_MEMFD_COMPAT
                                        : FB_MEMFD_STRICT;
        return 0;
}
