/* profile.c: Docker and OCI seccomp profiles: parse (resolving Docker's includes/excludes the
 * way Docker does for an amd64 host and its default capabilities) and generate the hardened
 * variants. */
#define _GNU_SOURCE
#include "firebreak/profile.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "firebreak/cleanup.h"
#include "firebreak/fileio.h"
#include "firebreak/strutil.h"

extern const char fb_seccomp_base[], fb_seccomp_base_end[];

const char *fb_profile_builtin_base(size_t *len) {
        /* two symbols of one .incbin blob: the assembler placed them in order */
        *len = (size_t)((uintptr_t)fb_seccomp_base_end - (uintptr_t)fb_seccomp_base);
        return fb_seccomp_base;
}

/* Docker's default capabilities (moby oci/caps/defaults.go). */
static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static const char *const known_ops[] = { "SCMP_CMP_NE",       "SCMP_CMP_LT", "SCMP_CMP_LE",
                                         "SCMP_CMP_EQ",       "SCMP_CMP_GE", "SCMP_CMP_GT",
                                         "SCMP_CMP_MASKED_EQ" };
static const char *const known_actions[] = { "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
                                             "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                             "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
                                             "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG" };

static bool in_list(const char *s, const char *const *v, size_t n) {
        size_t i;

        for (i = 0; i < n; i++)
                if (strcmp(s, v[i]) == 0)
                        return true;
        return false;
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static void free_strv(char **v, size_t n) {
        size_t i;

        for (i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

void fb_profile_free(struct fb_seccomp_profile *p) {
        size_t i;

        if (!p)
                return;
        free_strv(p->arches, p->n_arches);
        for (i = 0; i < p->n_rules; i++)
                free_strv(p->rules[i].names, p->rules[i].n_names);
        free(p->rules);
        free(p);
}
FB_DEFINE_CLEANUP(struct fb_seccomp_profile *, fb_profile_free)

static int add_arch(struct fb_seccomp_profile *p, const char *a) {
        char **v;

        if (in_list(a, (const char *const *)p->arches, p->n_arches))
                return 0;
        v = realloc(p->arches, (p->n_arches + 1) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        p->arches = v;
        p->arches[p->n_arches] = strdup(a);
        if (!p->arches[p->n_arches])
                return -ENOMEM;
        p->n_arches++;
        return 0;
}

static bool string_array(const json_t *a, size_t max) {
        size_t i;
        json_t *v;

        if (!json_is_array(a) || json_array_size(a) > max)
                return false;
        json_array_foreach(a, i, v) if (!json_is_string(v) || json_string_length(v) == 0 ||
                                        json_string_length(v) > 64) return false;
        return true;
}

static bool array_has(const json_t *a, const char *s) {
        size_t i;
        json_t *v;

        json_array_foreach(a, i, v) if (json_is_string(v) &&
                                        strcmp(json_string_value(v), s) == 0) return true;
        return false;
}

/* "major.minor" at the start of s (a kernel release goes on: "6.1.0-18-amd64"); minor 0
 * when s is only "major". */
static int major_minor(const char *s, uint64_t *x, uint64_t *y) {
        const char *p;

        *y = 0;
        if (fb_parse_uint64_prefix(s, x, &p) < 0)
                return -EINVAL;
        return *p == '.' ? fb_parse_uint64_prefix(p + 1, y, NULL) : 0;
}

/* "5.8" <= this kernel? An entry whose minKernel cannot be read applies, as before. */
static bool kernel_at_least(const char *min) {
        struct utsname u;
        uint64_t a, b, x, y;

        if (uname(&u) < 0 || major_minor(u.release, &x, &y) < 0 || major_minor(min, &a, &b) < 0)
                return true;
        return x > a || (x == a && y >= b);
}

/* Docker's rule: includes must all hold, excludes must all fail, for GOARCH amd64 and the
 * default capabilities. */
static bool entry_applies(const json_t *e) {
        const json_t *inc = json_object_get(e, "includes"), *exc = json_object_get(e, "excludes");
        const json_t *v;
        size_t i;

        if (json_is_object(inc)) {
                v = json_object_get(inc, "arches");
                if (json_is_array(v) && json_array_size(v) > 0 && !array_has(v, "amd64"))
                        return false;
                v = json_object_get(inc, "caps");
                for (i = 0; json_is_array(v) && i < json_array_size(v); i++)
                        if (!json_is_string(json_array_get(v, i)) ||
                            !in_list(json_string_value(json_array_get(v, i)), default_caps,
                                     FB_ELEMENTSOF(default_caps)))
                                return false;
                v = json_object_get(inc, "minKernel");
                if (json_is_string(v) && !kernel_at_least(json_string_value(v)))
                        return false;
        }
        if (json_is_object(exc)) {
                v = json_object_get(exc, "arches");
                if (json_is_array(v) && array_has(v, "amd64"))
                        return false;
                v = json_object_get(exc, "caps");
                for (i = 0; json_is_array(v) && i < json_array_size(v); i++)
                        if (json_is_string(json_array_get(v, i)) &&
                            in_list(json_string_value(json_array_get(v, i)), default_caps,
                                    FB_ELEMENTSOF(default_caps)))
                                return false;
        }
        return true;
}

static int parse_args(struct fb_seccomp_rule *r, const json_t *args, size_t idx, char *err,
                      size_t len) {
        size_t i;
        json_t *a;

        if (!args || json_is_null(args))
                return 0;
        if (!json_is_array(args) || json_array_size(args) > FB_PROFILE_MAX_ARGS)
                return fail(err, len, "syscalls[%zu].args must be a list of at most %u", idx,
                            FB_PROFILE_MAX_ARGS);
        json_array_foreach(args, i, a) {
                json_t *ix = json_object_get(a, "index"), *v = json_object_get(a, "value"),
                       *v2 = json_object_get(a, "valueTwo"), *op = json_object_get(a, "op");
                struct fb_seccomp_arg *x = &r->args[r->n_args];

                if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
                    json_integer_value(ix) > 5 || !json_is_integer(v) ||
                    (v2 && !json_is_integer(v2)) || !json_is_string(op) ||
                    !in_list(json_string_value(op), known_ops, FB_ELEMENTSOF(known_ops)))
                        return fail(err, len,
                                    "syscalls[%zu].args[%zu] needs index 0-5, an integer value "
                                    "(and valueTwo) and a known op",
                                    idx, i);
                x->index = (unsigned)json_integer_value(ix);
                /* JSON integers are signed 64-bit in jansson; values are unsigned in seccomp */
                x->value = (unsigned long long)json_integer_value(v);
                x->value_two = v2 ? (unsigned long long)json_integer_value(v2) : 0;
                snprintf(x->op, sizeof(x->op), "%s", json_string_value(op));
                r->n_args++;
        }
        return 0;
}

static int parse_action(const json_t *a, const json_t *ret, char *out, int *errno_ret) {
        if (!json_is_string(a) ||
            !in_list(json_string_value(a), known_actions, FB_ELEMENTSOF(known_actions)))
                return -EINVAL;
        snprintf(out, 24, "%s", json_string_value(a));
        *errno_ret = json_is_integer(ret) ? (int)json_integer_value(ret) : -1;
        return 0;
}

int fb_profile_parse(const char *data, size_t len, struct fb_seccomp_profile **ret, char *err,
                     size_t err_len) {
        _cleanup_(json_decrefp) json_t *root = NULL;
        _cleanup_(fb_profile_freep) struct fb_seccomp_profile *p = NULL;
        json_t *arches, *calls, *e;
        json_error_t jerr;
        size_t i, j;
        int k;

        if (len > FB_PROFILE_MAX_BYTES)
                return fail(err, err_len, "larger than %u bytes", FB_PROFILE_MAX_BYTES);
        root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return fail(err, err_len, "line %d, column %d: %s", jerr.line, jerr.column,
                            jerr.text);
        if (!json_is_object(root))
                return fail(err, err_len, "a profile is a JSON object");
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        if (parse_action(json_object_get(root, "defaultAction"),
                         json_object_get(root, "defaultErrnoRet"), p->default_action,
                         &p->default_errno) < 0)
                return fail(err, err_len, "defaultAction must be a known SCMP_ACT_* action");
        if ((arches = json_object_get(root, "archMap"))) {
                p->format = FB_PROFILE_DOCKER;
                if (!json_is_array(arches))
                        return fail(err, err_len, "archMap must be a list");
                json_array_foreach(arches, i, e) {
                        json_t *a = json_object_get(e, "architecture"),
                               *sub = json_object_get(e, "subArchitectures");

                        if (!json_is_string(a) || (sub && !string_array(sub, 16)))
                                return fail(err, err_len,
                                            "archMap[%zu] needs architecture and a list of "
                                            "subArchitectures",
                                            i);
                        /* Docker passes runc the host's entry only */
                        if (strcmp(json_string_value(a), "SCMP_ARCH_X86_64") != 0)
                                continue;
                        if ((k = add_arch(p, json_string_value(a))) < 0)
                                return k;
                        for (j = 0; sub && j < json_array_size(sub); j++)
                                if ((k = add_arch(p, json_string_value(json_array_get(sub, j)))) <
                                    0)
                                        return k;
                }
        } else if ((arches = json_object_get(root, "architectures"))) {
                p->format = FB_PROFILE_OCI;
                if (!string_array(arches, 32))
                        return fail(err, err_len, "architectures must be a list of names");
                for (i = 0; i < json_array_size(arches); i++)
                        if ((k = add_arch(p, json_string_value(json_array_get(arches, i)))) < 0)
                                return k;
        } else
                p->format = json_object_get(root, "syscalls") ? FB_PROFILE_OCI : FB_PROFILE_DOCKER;
        calls = json_object_get(root, "syscalls");
        if (calls && !json_is_array(calls))
                return fail(err, err_len, "syscalls must be a list");
        if (json_array_size(calls) > FB_PROFILE_MAX_RULES)
                return fail(err, err_len, "more than %u syscalls entries", FB_PROFILE_MAX_RULES);
        p->rules = calloc(json_array_size(calls) + 1, sizeof(*p->rules));
        if (!p->rules)
                return -ENOMEM;
        json_array_foreach(calls, i, e) {
                struct fb_seccomp_rule *r = &p->rules[p->n_rules];
                json_t *names = json_object_get(e, "names"), *name = json_object_get(e, "name");

                *r = (struct fb_seccomp_rule){ 0 }; /* a skipped entry may have filled it */
                if (!json_is_object(e))
                        return fail(err, err_len, "syscalls[%zu] must be an object", i);
                if (names ? !string_array(names, FB_PROFILE_MAX_NAMES)
                          : !(json_is_string(name) && json_string_length(name) <= 64))
                        return fail(err, err_len,
                                    "syscalls[%zu] needs names (a list of syscall "
                                    "names)",
                                    i);
                if (parse_action(json_object_get(e, "action"), json_object_get(e, "errnoRet"),
                                 r->action, &r->errno_ret) < 0)
                        return fail(err, err_len,
                                    "syscalls[%zu].action must be a known SCMP_ACT_* action", i);
                if ((k = parse_args(r, json_object_get(e, "args"), i, err, err_len)) < 0)
                        return k;
                if (p->format == FB_PROFILE_DOCKER && !entry_applies(e))
                        continue;
                r->source = (unsigned)i;
                r->n_names = names ? json_array_size(names) : 1;
                r->names = calloc(r->n_names + 1, sizeof(char *));
                if (!r->names)
                        return -ENOMEM;
                p->n_rules++; /* counted before the names, so that free sees them */
                for (j = 0; j < r->n_names; j++) {
                        r->names[j] =
                                strdup(json_string_value(names ? json_array_get(names, j) : name));
                        if (!r->names[j]) {
                                r->n_names = j;
                                return -ENOMEM;
                        }
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int fb_profile_load(const char *path, struct fb_seccomp_profile **ret, char *err, size_t err_len) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = fb_read_file(path, FB_PROFILE_MAX_BYTES, &data, &len);
        if (r < 0)
                return r == -EFBIG
                               ? fail(err, err_len, "larger than %u bytes", FB_PROFILE_MAX_BYTES)
                               : r;
        return fb_profile_parse(data, len, ret, err, err_len);
}

/* ---- generate ---------------------------------------------------------------------------- */

static bool allows(const char *action) {
        return strcmp(action, "SCMP_ACT_ALLOW") == 0 || strcmp(action, "SCMP_ACT_LOG") == 0 ||
               strcmp(action, "SCMP_ACT_TRACE") == 0;
}

static json_t *memfd_rule(enum fb_profile_mode mode) {
        json_t *arg = json_pack(
                "{s:i, s:I, s:I, s:s}", "index", 1, "value",
                (json_int_t)(mode == FB_PROFILE_STRICT ? FB_MFD_NOEXEC_SEAL : FB_MFD_EXEC),
                "valueTwo", (json_int_t)(mode == FB_PROFILE_STRICT ? FB_MFD_NOEXEC_SEAL : 0), "op",
                "SCMP_CMP_MASKED_EQ");

        return json_pack("{s:[s], s:s, s:[o], s:s}", "names", "memfd_create", "action",
                         "SCMP_ACT_ALLOW", "args", arg, "comment",
                         mode == FB_PROFILE_STRICT
                                 ? "firebreak: memfd_create only with MFD_NOEXEC_SEAL (0x8), so "
                                   "no memfd can be executed"
                                 : "firebreak: memfd_create without MFD_EXEC (0x10); pair with "
                                   "vm.memfd_noexec >= 1 so unflagged memfds are not executable");
}

/* The resolved profile in the OCI runtime-spec format. */
static json_t *to_oci(const struct fb_seccomp_profile *p) {
        json_t *root = json_object(), *arches = json_array(), *calls = json_array();
        size_t i, j;

        if (!root || !arches || !calls) {
                json_decref(root);
                json_decref(arches);
                json_decref(calls);
                return NULL;
        }
        json_object_set_new(root, "defaultAction", json_string(p->default_action));
        if (p->default_errno >= 0)
                json_object_set_new(root, "defaultErrnoRet", json_integer(p->default_errno));
        for (i = 0; i < p->n_arches; i++)
                json_array_append_new(arches, json_string(p->arches[i]));
        json_object_set_new(root, "architectures", arches);
        for (i = 0; i < p->n_rules; i++) {
                const struct fb_seccomp_rule *r = &p->rules[i];
                json_t *e = json_object(), *names = json_array(), *args = json_array();

                for (j = 0; j < r->n_names; j++)
                        json_array_append_new(names, json_string(r->names[j]));
                json_object_set_new(e, "names", names);
                json_object_set_new(e, "action", json_string(r->action));
                if (r->errno_ret >= 0)
                        json_object_set_new(e, "errnoRet", json_integer(r->errno_ret));
                for (j = 0; j < r->n_args; j++)
                        json_array_append_new(
                                args,
                                json_pack("{s:i, s:I, s:I, s:s}", "index", r->args[j].index,
                                          "value", (json_int_t)r->args[j].value, "valueTwo",
                                          (json_int_t)r->args[j].value_two, "op", r->args[j].op));
                if (r->n_args)
                        json_object_set_new(e, "args", args);
                else
                        json_decref(args);
                json_array_append_new(calls, e);
        }
        json_object_set_new(root, "syscalls", calls);
        return root;
}

int fb_profile_generate(const char *base, size_t base_len, enum fb_profile_mode mode,
                        enum fb_profile_format format, struct fb_buf *out, char *err,
                        size_t err_len) {
        _cleanup_(json_decrefp) json_t *root = NULL, *oci = NULL;
        _cleanup_(fb_profile_freep) struct fb_seccomp_profile *check = NULL;
        json_t *calls, *e, *rule;
        _cleanup_free_ char *text = NULL;
        json_error_t jerr;
        size_t i;
        int k;

        if (!base)
                base = fb_profile_builtin_base(&base_len);
        /* validate it fully first: the same parser check and test use */
        k = fb_profile_parse(base, base_len, &check, err, err_len);
        if (k < 0)
                return k;
        if (check->format != FB_PROFILE_DOCKER)
                return fail(err, err_len, "--base must be a Docker-format profile (with archMap)");
        root = json_loadb(base, base_len, JSON_REJECT_DUPLICATES, &jerr);
        calls = root ? json_object_get(root, "syscalls") : NULL;
        if (!calls) {
                calls = json_array();
                if (!root || !calls || json_object_set_new(root, "syscalls", calls) < 0)
                        return -ENOMEM;
        }
        /* take memfd_create out of every entry that lets it through, whatever its conditions:
         * an allow there would absorb or bypass the conditional rule */
        for (i = 0; i < json_array_size(calls);) {
                json_t *names;
                size_t j;

                e = json_array_get(calls, i);
                names = json_object_get(e, "names");
                if (!allows(json_string_value(json_object_get(e, "action")))) {
                        i++;
                        continue;
                }
                if (json_is_string(json_object_get(e, "name")) &&
                    strcmp(json_string_value(json_object_get(e, "name")), "memfd_create") == 0) {
                        json_array_remove(calls, i);
                        continue;
                }
                for (j = 0; json_is_array(names) && j < json_array_size(names);)
                        if (strcmp(json_string_value(json_array_get(names, j)), "memfd_create") ==
                            0)
                                json_array_remove(names, j);
                        else
                                j++;
                if (json_is_array(names) && json_array_size(names) == 0)
                        json_array_remove(calls, i);
                else
                        i++;
        }
        rule = memfd_rule(mode);
        if (!rule || json_array_append_new(calls, rule) < 0)
                return -ENOMEM;
        if (format == FB_PROFILE_OCI) {
                _cleanup_free_ char *docker = json_dumps(root, JSON_COMPACT);
                _cleanup_(fb_profile_freep) struct fb_seccomp_profile *p = NULL;

                if (!docker)
                        return -ENOMEM;
                k = fb_profile_parse(docker, strlen(docker), &p, err, err_len);
                if (k < 0)
                        return k;
                oci = to_oci(p);
                if (!oci)
                        return -ENOMEM;
        }
        text = json_dumps(oci ? oci : root, JSON_INDENT(2));
        if (!text)
                return -ENOMEM;
        fb_buf_puts(out, text);
        fb_buf_putc(out, '\n');
        return fb_buf_error(out);
}
