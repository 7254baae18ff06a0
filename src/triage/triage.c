/* triage.c: verdict, field-grounded analysis, MITRE mapping and safe commands for one alert. */
#define _GNU_SOURCE
#include "firebreak/triage.h"

#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "firebreak/cleanup.h"
#include "firebreak/engine.h"
#include "firebreak/limits.h"
#include "firebreak/strutil.h"

static const char *const confidence_names[] = { "high", "medium", "low" };
static const char *const severity_names[] = { "critical", "high", "medium", "low", "info" };

const char *fb_confidence_to_string(enum fb_confidence c) {
        return (unsigned)c < FB_ELEMENTSOF(confidence_names) ? confidence_names[c] : "unknown";
}

const char *fb_severity_to_string(enum fb_severity s) {
        return (unsigned)s < FB_ELEMENTSOF(severity_names) ? severity_names[s] : "unknown";
}

const char *fb_verdict_phrase(enum fb_verdict v) {
        switch (v) {
        case FB_VERDICT_MALICIOUS:
                return "malicious";
        case FB_VERDICT_SUSPICIOUS:
                return "suspicious";
        case FB_VERDICT_LIKELY_TEST:
                return "likely a detection test";
        case FB_VERDICT_BENIGN:
                return "benign";
        }
        return "unknown";
}

void fb_report_init(struct fb_report *r) {
        *r = (struct fb_report){ .forms = FB_REPORT_MD | FB_REPORT_JSON };
        fb_buf_init(&r->arena, FB_REPORT_MAX_BYTES);
        fb_buf_init(&r->scratch, FB_REPORT_MAX_BYTES);
}

void fb_report_done(struct fb_report *r) {
        fb_buf_free(&r->arena);
        fb_buf_free(&r->scratch);
}

/* ---- building texts ---------------------------------------------------------------------- */

static size_t text_begin(struct fb_report *r) {
        return r->arena.len;
}

static struct fb_text text_end(struct fb_report *r, size_t start) {
        struct fb_text t = { .off = start, .len = r->arena.len - start };

        fb_buf_putc(&r->arena, '\0');
        return t;
}

static void put(struct fb_report *r, const char *s) {
        fb_buf_puts(&r->arena, s);
}

static void put_int(struct fb_report *r, int64_t v) {
        char num[24];

        fb_buf_put(&r->arena, num, fb_format_int64(num, v));
}

/* An untrusted value, as a code span. */
static void val(struct fb_report *r, const char *s, size_t len) {
        fb_md_code(&r->arena, s, len, false);
}

static void val_s(struct fb_report *r, const char *s) {
        val(r, s, strlen(s));
}

#define ITEM(r, arr) ((r)->n_##arr < FB_REPORT_MAX_ITEMS ? &(r)->arr[(r)->n_##arr++] : NULL)

static void add_text(struct fb_report *r, struct fb_text *slot, size_t start) {
        struct fb_text t = text_end(r, start);

        if (slot)
                *slot = t;
}

/* ---- reading fields ---------------------------------------------------------------------- */

/* The field for key, through the per-alert cache: triage asks for the same few keys again and
 * again, always as string literals, so the literal's address identifies the key. The readers
 * take the key's length, which their macros give as strlen(key): for a literal that is a
 * constant, so no lookup measures its key. */
static const struct fb_field *field_n(struct fb_report *r, const char *key, size_t klen) {
        size_t i = ((uintptr_t)key >> 3) % FB_ELEMENTSOF(r->lookup);

        if (r->lookup[i].gen != r->gen || r->lookup[i].key != key) {
                r->lookup[i].key = key;
                r->lookup[i].f = fb_alert_field_n(r->alert, key, klen);
                r->lookup[i].gen = r->gen;
        }
        return r->lookup[i].f;
}
#define field(r, key) field_n(r, key, strlen(key))

/* A non-empty string field, or NULL. */
static const char *str_n(struct fb_report *r, const char *key, size_t klen, size_t *len) {
        const struct fb_field *f = field_n(r, key, klen);

        if (len)
                *len = 0;
        if (!f || f->type != FB_VALUE_STRING || f->len == 0)
                return NULL;
        if (len)
                *len = f->len;
        return f->str;
}
#define str(r, key, len) str_n(r, key, strlen(key), len)

static bool str_eq_n(struct fb_report *r, const char *key, size_t klen, const char *want,
                     size_t want_len) {
        size_t l;
        const char *s = str_n(r, key, klen, &l);

        return s && l == want_len && memcmp(s, want, l) == 0;
}
#define str_eq(r, key, want) str_eq_n(r, key, strlen(key), want, strlen(want))

/* An integer field (or a string holding one). Returns 0 or -ENOENT. */
static int int_field_n(struct fb_report *r, const char *key, size_t klen, int64_t *ret) {
        const struct fb_field *f = field_n(r, key, klen);

        if (f && f->type == FB_VALUE_INT) {
                *ret = f->i;
                return 0;
        }
        if (f && f->type == FB_VALUE_STRING && fb_parse_int64(f->str, f->len, ret) >= 0)
                return 0;
        return -ENOENT;
}
#define int_field(r, key, ret) int_field_n(r, key, strlen(key), ret)

static bool all_digits(const char *s, size_t len) {
        size_t i;

        if (len == 0)
                return false;
        for (i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* A string literal with its length, for tables that lookups go through for every alert. */
struct lit {
        const char *s;
        size_t len;
};
#define LIT(x)                                                                                     \
        { x, sizeof(x) - 1 }

static bool is_shell(const char *s, size_t len) {
        static const struct lit shells[] = { LIT("sh"),   LIT("bash"),   LIT("ash"), LIT("dash"),
                                             LIT("zsh"),  LIT("ksh"),    LIT("csh"), LIT("tcsh"),
                                             LIT("fish"), LIT("busybox") };
        size_t i;

        for (i = 0; s && i < FB_ELEMENTSOF(shells); i++)
                if (len == shells[i].len && memcmp(s, shells[i].s, len) == 0)
                        return true;
        return false;
}

static bool is_shim(const char *s, size_t len) {
        return s && len >= 15 && memcmp(s, "containerd-shim", 15) == 0;
}

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

/* DNS-1123 label (namespaces) or subdomain (pods). */
static bool is_dns_name(const char *s, size_t len, size_t max, bool dots) {
        size_t i;

        if (len == 0 || len > max || s[0] == '-' || s[0] == '.')
                return false;
        for (i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
                      (dots && s[i] == '.')))
                        return false;
        return true;
}

static bool is_ip(const char *s, size_t len) {
        size_t i;

        if (len == 0 || len > 45)
                return false;
        for (i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                      (s[i] >= 'A' && s[i] <= 'F') || s[i] == '.' || s[i] == ':'))
                        return false;
        return true;
}

/* The API object a k8s audit alert names: ka.target.name, or (for a create, whose request has
 * no name yet when generateName makes it) the response's ka.resp.name. */
static const char *ka_name(struct fb_report *r, size_t *len) {
        const char *s = str(r, "ka.target.name", len);

        return s ? s : str(r, "ka.resp.name", len);
}

/* A resource as the API names it: pods, clusterrolebindings. */
static bool is_resource(const char *s, size_t len) {
        size_t i;

        if (len == 0 || len > 63)
                return false;
        for (i = 0; i < len; i++)
                if (s[i] < 'a' || s[i] > 'z')
                        return false;
        return true;
}

/* ---- command templates ------------------------------------------------------------------- */

enum var {
        V_CID,
        V_NS,
        V_POD,
        V_FILE,
        V_EXEPATH,
        V_PNAME,
        V_ALERT8,
        V_SINCE,
        V_UNTIL,
        V_RPORT,
        V_SIP,
        V_KA_NS,
        V_KA_NAME,
        V_KA_RESOURCE,
        V_KA_USER,
        _V_MAX,
};

/* What a missing variable needs, for the "omitted" note. */
static const char *const var_needs[_V_MAX] = {
        [V_CID] = "`container.id` as a hex container id",
        [V_NS] = "`k8s.ns.name`",
        [V_POD] = "`k8s.pod.name`",
        [V_FILE] = "`fd.name` as an absolute path",
        [V_EXEPATH] = "`proc.exepath` as an absolute path",
        [V_PNAME] = "`proc.name`",
        [V_ALERT8] = "the alert id",
        [V_SINCE] = "the alert time",
        [V_UNTIL] = "the alert time",
        [V_RPORT] = "`fd.rport` as a port number",
        [V_SIP] = "`fd.sip` as an IP address",
        [V_KA_NS] = "`ka.target.namespace` as a namespace name",
        [V_KA_NAME] = "`ka.target.name` (or `ka.resp.name`) as an object name",
        [V_KA_RESOURCE] = "`ka.target.resource` as a resource name",
        [V_KA_USER] = "`ka.user.name`",
};

struct vars {
        struct fb_text v[_V_MAX]; /* in r->scratch; len 0 = unavailable */
        unsigned done;            /* bit v: v[v] has been computed */
};

static void set_var(struct fb_report *r, struct vars *vs, enum var v, const char *s, size_t len,
                    bool quote) {
        size_t start = r->scratch.len;

        if (!s || len == 0)
                return;
        if (quote) {
                if (fb_shell_quote(&r->scratch, s, len) < 0)
                        return;
        } else
                fb_buf_put(&r->scratch, s, len);
        vs->v[v] = (struct fb_text){ .off = start, .len = r->scratch.len - start };
        fb_buf_putc(&r->scratch, '\0');
}

static void set_time_var(struct fb_report *r, struct vars *vs, enum var v, int64_t offset_s) {
        time_t t = (time_t)(r->alert->time_ns / 1000000000) + offset_s;
        struct tm tm;
        char s[64];

        if (!gmtime_r(&t, &tm) || strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                return;
        set_var(r, vs, v, s, strlen(s), true);
}

static void vars_init(struct fb_report *r, struct vars *vs) {
        *vs = (struct vars){ 0 };
        fb_buf_reset(&r->scratch);
        fb_buf_putc(&r->scratch, '\0'); /* offset 0 stays unused */
}

/* Computes variable v from the alert, once: only what a template names costs anything. */
static const struct fb_text *get_var(struct fb_report *r, struct vars *vs, enum var v) {
        const struct fb_alert *a = r->alert;
        const char *s;
        size_t len;
        int64_t port;

        if (vs->done & (1u << v))
                return &vs->v[v];
        vs->done |= 1u << v;
        switch (v) {
        case V_CID:
                if (r->cid[0])
                        set_var(r, vs, V_CID, r->cid, strlen(r->cid), false);
                break;
        case V_NS:
                s = str(r, "k8s.ns.name", &len);
                if (s && is_dns_name(s, len, 63, false))
                        set_var(r, vs, V_NS, s, len, false);
                break;
        case V_POD:
                s = str(r, "k8s.pod.name", &len);
                if (s && is_dns_name(s, len, 253, true))
                        set_var(r, vs, V_POD, s, len, false);
                break;
        case V_FILE:
                s = str(r, "fd.name", &len);
                if (s && s[0] == '/')
                        set_var(r, vs, V_FILE, s, len, true);
                break;
        case V_EXEPATH:
                s = str(r, "proc.exepath", &len);
                if (s && s[0] == '/')
                        set_var(r, vs, V_EXEPATH, s, len, true);
                break;
        case V_PNAME:
                s = str(r, "proc.name", &len);
                if (s && s[0] != '-')
                        set_var(r, vs, V_PNAME, s, len, true);
                break;
        case V_ALERT8:
                set_var(r, vs, V_ALERT8, a->id, 8, false);
                break;
        case V_SINCE:
                set_time_var(r, vs, V_SINCE, -600);
                break;
        case V_UNTIL:
                set_time_var(r, vs, V_UNTIL, 600);
                break;
        case V_RPORT:
                if (int_field(r, "fd.rport", &port) >= 0 && port > 0 && port < 65536) {
                        char p[8];

                        set_var(r, vs, V_RPORT, p, fb_format_int64(p, port), false);
                }
                break;
        case V_SIP:
                s = str(r, "fd.sip", &len);
                if (s && is_ip(s, len))
                        set_var(r, vs, V_SIP, s, len, false);
                break;
        case V_KA_NS:
                s = str(r, "ka.target.namespace", &len);
                if (s && is_dns_name(s, len, 63, false))
                        set_var(r, vs, V_KA_NS, s, len, false);
                break;
        case V_KA_NAME:
                s = ka_name(r, &len);
                if (s && is_dns_name(s, len, 253, true))
                        set_var(r, vs, V_KA_NAME, s, len, false);
                break;
        case V_KA_RESOURCE:
                s = str(r, "ka.target.resource", &len);
                if (s && is_resource(s, len))
                        set_var(r, vs, V_KA_RESOURCE, s, len, false);
                break;
        case V_KA_USER:
                s = str(r, "ka.user.name", &len);
                if (s && s[0] != '-')
                        set_var(r, vs, V_KA_USER, s, len, true);
                break;
        case _V_MAX:
                break;
        }
        return &vs->v[v];
}

/* Expands a compiled command into the arena: raw (for Markdown) or JSON (pre-escaped literal
 * pieces, values escaped as they go in). Returns true, or false (rolling the arena back) and
 * sets the missing bits when a variable is unavailable. */
static bool expand(struct fb_report *r, struct vars *vs, const struct fb_kb_cmd *c, bool json,
                   unsigned *missing) {
        size_t mark = r->arena.len, i;
        bool ok = true;

        if (json)
                fb_buf_putc(&r->arena, '"');
        for (i = 0; i < c->n; i++) {
                const struct fb_kb_piece *x = &c->pieces[i];
                const struct fb_text *t;

                if (json)
                        fb_buf_put(&r->arena, x->lit_json, x->lit_json_len);
                else
                        fb_buf_put(&r->arena, x->lit, x->lit_len);
                if (x->var < 0)
                        continue;
                t = get_var(r, vs, (enum var)x->var);
                if (t->len == 0) {
                        *missing |= 1u << x->var;
                        ok = false; /* keep going: the note names every missing value */
                        continue;
                }
                if (json)
                        fb_json_escape_safe(&r->arena, r->scratch.data + t->off, t->len);
                else
                        fb_buf_put(&r->arena, r->scratch.data + t->off, t->len);
        }
        if (json)
                fb_buf_putc(&r->arena, '"');
        if (!ok) {
                r->arena.len = mark;
                if (r->arena.data)
                        r->arena.data[mark] = '\0';
        }
        return ok;
}

static bool step_applies(const struct fb_report *r, const struct fb_kb_step *st) {
        switch (st->when) {
        case FB_KB_WHEN_ANY:
                return true;
        case FB_KB_WHEN_K8S_AUDIT:
                return r->k8s_audit;
        case FB_KB_WHEN_CONTAINER:
                return r->in_container;
        case FB_KB_WHEN_DOCKER:
                return r->in_container && !r->in_k8s;
        case FB_KB_WHEN_K8S:
                return r->in_k8s;
        case FB_KB_WHEN_HOST:
                return r->on_host;
        }
        return false;
}

static struct fb_text kb_text(const struct fb_kb_text *t) {
        return (struct fb_text){
                .len = t->md_len, .ext = t->md, .ext_json = t->json, .ext_json_len = t->json_len
        };
}

/* A step's commands in one form, joined (Markdown: by newlines; JSON: as strings joined by
 * commas), of those in only (a bit per command) that have every value they need: those set their
 * bit in *included, the others theirs in *missing. An empty text when there is none. */
static struct fb_text commands(struct fb_report *r, struct vars *vs, const struct fb_kb_step *st,
                               bool json, uint64_t only, uint64_t *included, unsigned *missing) {
        size_t start = text_begin(r), j;
        uint64_t got = 0;

        for (j = 0; j < st->n_commands; j++) {
                size_t before = r->arena.len;

                if (!(only & (1ull << j)))
                        continue;
                if (got)
                        fb_buf_putc(&r->arena, json ? ',' : '\n');
                if (expand(r, vs, &st->compiled[j], json, missing)) {
                        got |= 1ull << j;
                } else {
                        r->arena.len = before;
                        if (r->arena.data)
                                r->arena.data[before] = '\0';
                }
        }
        *included = got;
        if (!got)
                return (struct fb_text){ 0 };
        return text_end(r, start);
}

static void add_steps(struct fb_report *r, struct vars *vs, const struct fb_kb_steps *steps,
                      struct fb_report_step *out, size_t *n) {
        size_t i;

        for (i = 0; i < steps->n && *n < FB_REPORT_MAX_ITEMS; i++) {
                const struct fb_kb_step *st = &steps->v[i];
                struct fb_report_step *o = &out[*n];
                unsigned missing = 0;
                uint64_t included = ~0ull; /* without the Markdown form: try every command */
                size_t start;

                if (!step_applies(r, st))
                        continue;
                (*n)++;
                *o = (struct fb_report_step){ .text = kb_text(&st->text) };
                /* the Markdown form (shell lines), then the JSON renderer's (from the
                 * pre-escaped templates), each only when the caller renders it; a command
                 * that lacks a value is left out of both */
                if (r->forms & FB_REPORT_MD)
                        o->commands = commands(r, vs, st, false, ~0ull, &included, &missing);
                if ((r->forms & FB_REPORT_JSON) && included)
                        o->commands_json = commands(r, vs, st, true, included, &included, &missing);
                if (missing) {
                        bool first = true;
                        int v;

                        start = text_begin(r);
                        put(r, "Some commands are left out: they need ");
                        for (v = 0; v < _V_MAX; v++) {
                                if (!(missing & (1u << v)) ||
                                    (v == V_UNTIL && (missing & (1u << V_SINCE))))
                                        continue;
                                if (!first)
                                        put(r, ", ");
                                put(r, var_needs[v]);
                                first = false;
                        }
                        put(r, ", which the alert lacks or holds in a form that is not safe to "
                               "put in a command.");
                        o->omitted = text_end(r, start);
                }
        }
}

/* ---- analysis ---------------------------------------------------------------------------- */

static void analysis_item(struct fb_report *r, size_t start) {
        add_text(r, ITEM(r, analysis), start);
}

static void reason(struct fb_report *r, size_t start) {
        add_text(r, ITEM(r, reasons), start);
}

/* A k8s audit alert is about a request to the API server, not a process: where is the object
 * it named (the name from the request, or else from the response, as Falco's k8s audit rules
 * print it). False when the alert has none of those fields. */
static bool k8s_audit_where(struct fb_report *r) {
        static const char *const keys[][3] = {
                { "ka.target.resource", NULL, "resource " },
                { "ka.target.name", "ka.resp.name", "name " },
                { "ka.target.namespace", NULL, "namespace " },
        };
        const char *sep = "the Kubernetes API (";
        size_t i, len;

        for (i = 0; i < FB_ELEMENTSOF(keys); i++) {
                const char *v = str(r, keys[i][0], &len);

                if (!v && keys[i][1])
                        v = str(r, keys[i][1], &len);
                if (!v)
                        continue;
                put(r, sep);
                put(r, keys[i][2]);
                val(r, v, len);
                sep = ", ";
        }
        if (sep[0] == ',')
                put(r, ")");
        return sep[0] == ',';
}

static void analyze_context(struct fb_report *r) {
        const char *cid, *name, *repo, *tag, *ns, *pod;
        size_t cl, nl, rl, tl, nsl, pl, start;

        cid = str(r, "container.id", &cl);
        name = str(r, "container.name", &nl);
        repo = str(r, "container.image.repository", &rl);
        tag = str(r, "container.image.tag", &tl);
        ns = str(r, "k8s.ns.name", &nsl);
        pod = str(r, "k8s.pod.name", &pl);

        r->on_host = cid && cl == 4 && memcmp(cid, "host", 4) == 0;
        r->in_container = cid && !r->on_host;
        if (r->in_container && (cl == 12 || cl == 64) && fb_is_lower_hex(cid, cl)) {
                memcpy(r->cid, cid, cl);
                r->cid[cl] = '\0';
        }
        r->in_k8s = ns && pod;
        /* a request to the API server, from the k8s audit plugins (k8saudit, -eks, -gke) */
        r->k8s_audit = !cid && ((r->alert->source && strcmp(r->alert->source, "k8s_audit") == 0) ||
                                str(r, "ka.user.name", NULL));

        start = text_begin(r);
        if (r->in_container) {
                put(r, "container ");
                if (name) {
                        val(r, name, nl);
                        put(r, " (");
                        val(r, cid, cl);
                        put(r, ")");
                } else
                        val(r, cid, cl);
                if (repo) {
                        put(r, ", image ");
                        if (tag) {
                                fb_buf_reset(&r->scratch);
                                fb_buf_put(&r->scratch, repo, rl);
                                fb_buf_putc(&r->scratch, ':');
                                fb_buf_put(&r->scratch, tag, tl);
                                val(r, r->scratch.data, r->scratch.len);
                        } else
                                val(r, repo, rl);
                }
                if (r->in_k8s) {
                        put(r, ", pod ");
                        val(r, pod, pl);
                        put(r, " in namespace ");
                        val(r, ns, nsl);
                }
        } else if (r->on_host)
                put(r, "the host itself, outside any container");
        else if (!k8s_audit_where(r))
                put(r, "an unknown place: the alert has no `container.id`");
        r->where = text_end(r, start);
}

static void analyze_process(struct fb_report *r) {
        const char *name, *exe, *cmd, *user;
        size_t nl, el, cl, ul, start;
        int64_t uid;

        name = str(r, "proc.name", &nl);
        exe = str(r, "proc.exepath", &el);
        cmd = str(r, "proc.cmdline", &cl);
        user = str(r, "user.name", &ul);
        if (!name && !exe && !cmd)
                return;
        start = text_begin(r);
        put(r, "**Process.** ");
        if (name) {
                put(r, "Process ");
                val(r, name, nl);
        } else
                put(r, "A process");
        if (exe) {
                put(r, " (executable ");
                val(r, exe, el);
                put(r, ")");
        }
        if (cmd) {
                put(r, " ran the command line ");
                val(r, cmd, cl);
        }
        if (user || int_field(r, "user.uid", &uid) >= 0) {
                put(r, " as user ");
                if (user)
                        val(r, user, ul);
                if (int_field(r, "user.uid", &uid) >= 0) {
                        put(r, user ? " (uid " : "(uid ");
                        put_int(r, uid);
                        put(r, ")");
                }
        }
        put(r, ".");
        if (int_field(r, "user.uid", &uid) >= 0 && uid == 0) {
                if (r->in_container)
                        put(r, " It runs as root inside the container. Whether that is root on "
                               "the host depends on the container's user namespace, privileges "
                               "and capabilities: the inspection step below shows them.");
                else if (r->on_host)
                        put(r, " It runs as root on the host.");
        }
        analysis_item(r, start);

        if (name && all_digits(name, nl) && nl <= 4) {
                start = text_begin(r);
                put(r, "**");
                val(r, name, nl);
                put(r, " is a name, not a PID.** Linux sets a process's name from the last part "
                       "of the path it executed, so the name ");
                val(r, name, nl);
                put(r, " means the program was run as `/proc/self/fd/");
                fb_buf_put(&r->arena, name, nl); /* digits only: safe inside the span */
                put(r, "` (or `/dev/fd/");
                fb_buf_put(&r->arena, name, nl);
                put(r, "`), through an open file descriptor rather than a path on disk. The alert "
                       "carries no process id.");
                analysis_item(r, start);
        }
}

static void explain_exe_flags(struct fb_report *r) {
        static const struct {
                const char *flag, *meaning;
        } known[] = {
                { "EXE_FROM_MEMFD",
                  "the executable image is an anonymous in-memory file (memfd), not a file on "
                  "disk" },
                { "EXE_WRITABLE",
                  "the executable file is writable by the user who runs it, so it can be "
                  "rewritten in place" },
                { "EXE_UPPER_LAYER",
                  "the executable lives in the container's writable (upper) overlay layer: it "
                  "was created or modified after the container started, it is not part of the "
                  "image" },
                { "EXE_LOWER_LAYER", "the executable comes from the image's read-only layers" },
        };
        const char *flags, *type;
        size_t fl, tl, i, start;
        bool any = false;

        flags = str(r, "evt.arg.flags", &fl);
        type = str(r, "evt.type", &tl);
        /* evt.arg.flags means exe flags only on execve/execveat; elsewhere it is open flags */
        if (!flags || !type ||
            !(str_eq(r, "evt.type", "execve") || str_eq(r, "evt.type", "execveat")))
                return;
        start = text_begin(r);
        put(r, "**Executable flags ");
        val(r, flags, fl);
        put(r, ".**");
        for (i = 0; i < FB_ELEMENTSOF(known); i++) {
                const char *p = flags, *end = flags + fl;
                size_t kl = strlen(known[i].flag);

                /* exact tokens of the '|'-separated list */
                while (p < end) {
                        const char *bar = memchr(p, '|', (size_t)(end - p));
                        size_t tok = (size_t)((bar ? bar : end) - p);

                        if (tok == kl && memcmp(p, known[i].flag, kl) == 0) {
                                put(r, " `");
                                put(r, known[i].flag);
                                put(r, "`: ");
                                put(r, known[i].meaning);
                                put(r, ".");
                                any = true;
                                break;
                        }
                        p += tok + 1;
                }
        }
        if (!any)
                put(r, " None of these flags is one firebreak knows.");
        analysis_item(r, start);
}

static void analyze_lineage(struct fb_report *r) {
        const char *name, *pname, *gp, *sname, *pcmd;
        size_t nl, pl, gl, sl, pcl, start;
        static const struct lit ancestors[] = { LIT("proc.aname[7]"), LIT("proc.aname[6]"),
                                                LIT("proc.aname[5]"), LIT("proc.aname[4]"),
                                                LIT("proc.aname[3]") };
        size_t i;

        name = str(r, "proc.name", &nl);
        pname = str(r, "proc.pname", &pl);
        gp = str(r, "proc.aname[2]", &gl);
        sname = str(r, "proc.sname", &sl);
        pcmd = str(r, "proc.pcmdline", &pcl);
        if (!pname && !gp)
                return;
        start = text_begin(r);
        put(r, "**Lineage.** ");
        for (i = 0; i < FB_ELEMENTSOF(ancestors); i++) {
                size_t l;
                const char *s = str_n(r, ancestors[i].s, ancestors[i].len, &l);

                if (s) {
                        val(r, s, l);
                        put(r, " → ");
                }
        }
        if (gp) {
                val(r, gp, gl);
                put(r, " → ");
        }
        if (pname) {
                val(r, pname, pl);
                put(r, " → ");
        }
        if (name)
                val(r, name, nl);
        else
                put(r, "this process");
        put(r, ".");
        if (pname && is_shim(gp, gl)) {
                put(r, " Its parent ");
                val(r, pname, pl);
                put(r, " is a child of containerd-shim, which makes the parent the container's "
                       "main process: the container's own entrypoint started this process.");
        } else if (is_shim(pname, pl) || (pname && pl == 4 && memcmp(pname, "runc", 4) == 0)) {
                put(r, " The container runtime started it directly: it is either the container's "
                       "entrypoint or a command run with `docker exec` / `kubectl exec`.");
        }
        if (pname && is_shell(pname, pl)) {
                put(r, " A shell started it, so a script or a person at a shell ran it.");
        }
        if (pcmd) {
                put(r, " The parent's command line is ");
                val(r, pcmd, pcl);
                put(r, ".");
        }
        if (sname) {
                put(r, " The session leader is ");
                val(r, sname, sl);
                put(r, ".");
        }
        analysis_item(r, start);
}

static void analyze_session(struct fb_report *r) {
        int64_t tty, luid;
        bool has_tty = int_field(r, "proc.tty", &tty) >= 0;
        bool has_luid = int_field(r, "user.loginuid", &luid) >= 0;
        size_t start;

        if (!has_tty && !has_luid)
                return;
        start = text_begin(r);
        put(r, "**Session.**");
        if (has_tty && tty == 0)
                put(r, " No terminal is attached (`proc.tty` is 0): nobody typed this "
                       "interactively.");
        else if (has_tty) {
                put(r, " A terminal is attached (`proc.tty` is ");
                put_int(r, tty);
                put(r, "): someone is working interactively, for example through `docker exec "
                       "-it` or `kubectl exec -it`.");
        }
        if (has_luid && luid == -1)
                put(r, " The login uid is -1: the process does not descend from a login session, "
                       "which is normal for containers and services.");
        else if (has_luid) {
                put(r, " The login uid is ");
                put_int(r, luid);
                put(r, ": the process descends from a login session of that user on the host, "
                       "so a person started it.");
        }
        analysis_item(r, start);
}

static void analyze_timing_and_result(struct fb_report *r) {
        int64_t start_ts, evt_time;
        const char *res;
        size_t rl, start;

        if (r->in_container && int_field(r, "container.start_ts", &start_ts) >= 0 &&
            int_field(r, "evt.time", &evt_time) >= 0 && start_ts > 0 && evt_time >= start_ts) {
                int64_t d = evt_time - start_ts;

                start = text_begin(r);
                put(r, "**Timing.** The event came ");
                put_int(r, d / 1000000000);
                put(r, (d % 1000000000) / 10000000 < 10 ? ".0" : ".");
                put_int(r, (d % 1000000000) / 10000000);
                put(r, " s after the container started");
                if (d < 60 * (int64_t)1000000000)
                        put(r, ": the behaviour is part of the container's start-up (its "
                               "entrypoint or image), not something that arrived later.");
                else
                        put(r, ": it happened while the container was running, after start-up.");
                analysis_item(r, start);
        }
        res = str(r, "evt.res", &rl);
        if (res) {
                start = text_begin(r);
                put(r, "**Result.** ");
                if (str_eq(r, "evt.res", "SUCCESS"))
                        put(r, "The system call succeeded (`evt.res` is SUCCESS): the action "
                               "took place.");
                else {
                        put(r, "The system call failed with ");
                        val(r, res, rl);
                        put(r, ": the action was attempted but did not take effect.");
                }
                analysis_item(r, start);
        }
}

static void analyze_files_and_net(struct fb_report *r) {
        const char *fd, *raw, *type;
        size_t fl, rl, tl, start;

        fd = str(r, "fd.name", &fl);
        raw = str(r, "fd.nameraw", &rl);
        type = str(r, "fd.type", &tl);
        if (!fd)
                return;
        start = text_begin(r);
        if (type && (str_eq(r, "fd.type", "ipv4") || str_eq(r, "fd.type", "ipv6"))) {
                put(r, "**Connection.** ");
                val(r, fd, fl);
                put(r, " (client address:port -> server address:port).");
        } else {
                put(r, "**File.** ");
                val(r, fd, fl);
                put(r, ".");
                if (raw && (rl != fl || memcmp(raw, fd, fl) != 0)) {
                        put(r, " The path as the process wrote it was ");
                        val(r, raw, rl);
                        put(r, ", which resolves to the path above.");
                }
        }
        analysis_item(r, start);
}

/* ---- memfd analyzer ---------------------------------------------------------------------- */

struct signals {
        bool runc_self;     /* runc re-executing itself from a memfd */
        bool runc_lineage;  /* ... started by the runtime, as runc is */
        bool gen_image;     /* image is Docker Hub's falcosecurity/event-generator */
        bool gen_lookalike; /* image is named .../event-generator, but not that one */
        bool gen_process;   /* lineage includes event-generator */
};

static void analyze_memfd(struct fb_report *r, struct signals *sig) {
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

static void detect_drill(struct fb_report *r, struct signals *sig) {
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

/* ---- verdict ----------------------------------------------------------------------------- */

static enum fb_severity severity_of(enum fb_priority p) {
        switch (p) {
        case FB_PRIO_EMERGENCY:
        case FB_PRIO_ALERT:
        case FB_PRIO_CRITICAL:
                return FB_SEVERITY_CRITICAL;
        case FB_PRIO_ERROR:
                return FB_SEVERITY_HIGH;
        case FB_PRIO_WARNING:
                return FB_SEVERITY_MEDIUM;
        case FB_PRIO_NOTICE:
                return FB_SEVERITY_LOW;
        default:
                return FB_SEVERITY_INFO;
        }
}

static void decide(struct fb_report *r, const struct signals *sig) {
        const struct fb_alert *a = r->alert;
        size_t start;

        r->severity = severity_of(a->priority);
        if (sig->runc_self) {
                r->verdict = FB_VERDICT_BENIGN;
                r->confidence = sig->runc_lineage ? FB_CONFIDENCE_HIGH : FB_CONFIDENCE_LOW;
                r->severity = FB_SEVERITY_INFO;
                start = text_begin(r);
                put(r, "The process is runc re-executing itself from a memfd "
                       "(`memfd:runc_cloned:/proc/self/exe`), a documented runc behaviour that "
                       "Falco's own rule excludes.");
                reason(r, start);
                start = text_begin(r);
                if (sig->runc_lineage)
                        put(r, "Its parent is a container runtime process, as it should be.");
                else
                        put(r, "Its parent is not a container runtime process, which runc's "
                               "would be: treat it as suspicious until the lineage is "
                               "explained.");
                reason(r, start);
                return;
        }
        if (!sig->gen_lookalike && (sig->gen_image || sig->gen_process)) {
                r->verdict = FB_VERDICT_LIKELY_TEST;
                r->confidence = sig->gen_image && sig->gen_process ? FB_CONFIDENCE_HIGH
                                                                   : FB_CONFIDENCE_MEDIUM;
                r->severity = FB_SEVERITY_LOW;
                start = text_begin(r);
                if (sig->gen_image && sig->gen_process)
                        put(r, "The image is Falco's event generator and its `event-generator` "
                               "process started the behaviour.");
                else if (sig->gen_image)
                        put(r, "The image is Falco's event generator, but no `event-generator` "
                               "process appears in the lineage.");
                else
                        put(r, "An `event-generator` process started the behaviour, but the "
                               "image is not Falco's event generator.");
                reason(r, start);
                start = text_begin(r);
                put(r, "If nobody on the team runs Falco drills on this host, treat it as "
                       "malicious and contain it.");
                reason(r, start);
                return;
        }
        r->verdict = r->entry->verdict;
        r->confidence = FB_CONFIDENCE_MEDIUM;
        start = text_begin(r);
        if (r->generic) {
                put(r, "firebreak has no specific knowledge of this rule; the verdict follows "
                       "from its priority and tags.");
                r->confidence = FB_CONFIDENCE_LOW;
        } else {
                if (sig->gen_lookalike)
                        put(r, "The image is named like Falco's event generator but is not "
                               "Docker Hub's `falcosecurity/event-generator`: that is no sign "
                               "of a drill. ");
                put(r, "Nothing in the alert points to a test tool or a known benign cause, so "
                       "the rule's default applies: ");
                put(r, fb_verdict_phrase(r->verdict));
                put(r, ".");
        }
        reason(r, start);
        if (str(r, "evt.res", NULL) && !str_eq(r, "evt.res", "SUCCESS")) {
                start = text_begin(r);
                put(r, "The system call failed, so the attempt did not take effect; the intent "
                       "remains.");
                reason(r, start);
                if (r->severity < FB_SEVERITY_LOW)
                        r->severity++;
        }
        if (r->verdict == FB_VERDICT_MALICIOUS && r->severity > FB_SEVERITY_HIGH)
                r->severity = FB_SEVERITY_HIGH;
}

/* ---- MITRE ------------------------------------------------------------------------------- */

static bool is_technique_tag(const char *t) {
        return t[0] == 'T' && t[1] >= '0' && t[1] <= '9';
}

static bool is_tactic_id_tag(const char *t) {
        return t[0] == 'T' && t[1] == 'A' && t[2] >= '0' && t[2] <= '9';
}

/* Techniques pair with the alert's first tactic (Falco tags each rule with one); tactic ids used
 * as tags (TA0003) and further tactics get entries of their own. */
static void map_mitre(struct fb_report *r) {
        const struct fb_alert *a = r->alert;
        const struct fb_kb_tactic *tactics[FB_ALERT_MAX_TAGS];
        size_t n_tactics = 0, i, j, start;
        bool used_first = false;

        for (i = 0; i < a->n_tags; i++) {
                const struct fb_kb_tactic *t = NULL;

                if (strncmp(a->tags[i], "mitre_", 6) == 0)
                        t = fb_kb_tactic(r->kb, a->tags[i]);
                else if (is_tactic_id_tag(a->tags[i]))
                        t = fb_kb_tactic_by_id(r->kb, a->tags[i]);
                for (j = 0; t && j < n_tactics; j++)
                        if (tactics[j] == t)
                                t = NULL;
                if (t)
                        tactics[n_tactics++] = t;
        }
        for (i = 0; i < a->n_tags; i++) {
                const struct fb_kb_technique *q;
                struct fb_report_mitre *m;

                if (!is_technique_tag(a->tags[i]))
                        continue;
                m = ITEM(r, mitre);
                if (!m)
                        break;
                q = fb_kb_technique(r->kb, a->tags[i]);
                *m = (struct fb_report_mitre){ .technique_id = a->tags[i],
                                               .technique = q ? q->name : NULL };
                if (n_tactics > 0) {
                        m->tactic_id = tactics[0]->id;
                        m->tactic = tactics[0]->name;
                        used_first = true;
                }
        }
        for (j = used_first ? 1 : 0; j < n_tactics; j++) {
                struct fb_report_mitre *m = ITEM(r, mitre);

                if (!m)
                        break;
                *m = (struct fb_report_mitre){ .tactic_id = tactics[j]->id,
                                               .tactic = tactics[j]->name };
        }
        for (i = 0; i < r->n_mitre; i++) {
                struct fb_report_mitre *m = &r->mitre[i];

                start = text_begin(r);
                if (m->tactic) {
                        put(r, m->tactic);
                        put(r, " (");
                        put(r, m->tactic_id);
                        put(r, ")");
                }
                if (m->tactic && m->technique_id)
                        put(r, " — ");
                if (m->technique_id) {
                        val_s(r, m->technique_id);
                        put(r, " ");
                        put(r,
                            m->technique ? m->technique : "(technique not in the knowledge base)");
                }
                m->text = text_end(r, start);
        }
        start = text_begin(r);
        for (i = 0; i < r->n_mitre; i++) {
                if (i > 0)
                        put(r, "; ");
                /* copies from the arena into itself: fb_buf_put allows that */
                fb_buf_put(&r->arena, fb_report_str(r, r->mitre[i].text), r->mitre[i].text.len);
        }
        if (r->n_mitre == 0)
                put(r, "no MITRE ATT&CK tags on this alert");
        r->mitre_line = text_end(r, start);
}

/* ---- the report -------------------------------------------------------------------------- */

static void headline(struct fb_report *r) {
        const struct fb_alert *a = r->alert;
        size_t start = text_begin(r);

        put(r, "At ");
        val_s(r, a->time);
        put(r, ", Falco");
        if (a->hostname) {
                put(r, " on host ");
                val(r, a->hostname, a->hostname_len);
        }
        if (r->generic)
                put(r, " raised an alert");
        else {
                put(r, " saw ");
                put(r, r->entry->detects);
        }
        put(r, r->on_host ? ", on " : ", in ");
        fb_buf_put(&r->arena, fb_report_str(r, r->where), r->where.len);
        put(r, ". The ");
        put(r, fb_priority_to_string(a->priority));
        put(r, " rule ");
        fb_buf_put(&r->arena, fb_report_str(r, r->title), r->title.len);
        put(r, " fired.");
        r->headline = text_end(r, start);
}

static void title(struct fb_report *r) {
        size_t start = text_begin(r);

        if (r->generic)
                val(r, r->alert->rule, r->alert->rule_len);
        else {
                put(r, "*");
                put(r, r->entry->rule);
                put(r, "*");
        }
        r->title = text_end(r, start);
}

static void copy_strings(const struct fb_kb_strings *s, struct fb_text *out, size_t *n) {
        size_t i;

        for (i = 0; i < s->n && *n < FB_REPORT_MAX_ITEMS; i++)
                out[(*n)++] = kb_text(&s->v[i]);
}

int fb_triage(const struct fb_kb *kb, const struct fb_alert *a, struct fb_report *r) {
        struct signals sig = { 0 };
        struct vars vs;
        size_t start;

        /* reset what triage fills; the item arrays are only read up to their counts */
        r->alert = a;
        r->kb = kb;
        r->response = NULL;
        r->generic = r->in_container = r->on_host = r->in_k8s = r->k8s_audit = false;
        r->gen++; /* forgets every cached lookup (gen 0 is never valid: it starts at 1) */
        if (r->gen == 0)
                r->gen = 1;
        r->cid[0] = '\0';
        r->title = r->headline = r->where = r->mitre_line = (struct fb_text){ 0 };
        r->n_reasons = r->n_analysis = r->n_mitre = r->n_investigate = r->n_contain = 0;
        r->n_prevent = r->n_not_covered = r->n_benign = 0;
        fb_buf_reset(&r->arena);
        fb_buf_putc(&r->arena, '\0'); /* offset 0 is the empty text */
        r->entry = fb_kb_find(kb, a->rule);
        if (!r->entry) {
                r->entry = fb_kb_generic(kb);
                r->generic = true;
        }

        analyze_context(r);
        title(r);
        r->analysis[r->n_analysis++] = kb_text(&r->entry->explain);
        analyze_process(r);
        if (r->entry->analyzer && strcmp(r->entry->analyzer, "memfd") == 0)
                analyze_memfd(r, &sig);
        explain_exe_flags(r);
        analyze_lineage(r);
        analyze_session(r);
        analyze_timing_and_result(r);
        analyze_files_and_net(r);
        detect_drill(r, &sig);
        if (r->in_container && !r->in_k8s && str(r, "k8s.ns.name", NULL) == NULL &&
            field(r, "k8s.ns.name")) {
                start = text_begin(r);
                put(r, "**Kubernetes.** `k8s.ns.name` and `k8s.pod.name` are not set: this "
                       "container is not part of a Kubernetes pod.");
                analysis_item(r, start);
        }

        decide(r, &sig);
        map_mitre(r);
        headline(r);

        vars_init(r, &vs);
        add_steps(r, &vs, fb_kb_common(kb, "investigate"), r->investigate, &r->n_investigate);
        add_steps(r, &vs, &r->entry->investigate, r->investigate, &r->n_investigate);
        add_steps(r, &vs, fb_kb_common(kb, "contain"), r->contain, &r->n_contain);
        add_steps(r, &vs, &r->entry->contain, r->contain, &r->n_contain);
        add_steps(r, &vs, &r->entry->prevent, r->prevent, &r->n_prevent);
        copy_strings(&r->entry->not_covered, r->not_covered, &r->n_not_covered);
        copy_strings(&r->entry->benign, r->benign, &r->n_benign);

        if (fb_buf_error(&r->arena) < 0)
                return fb_buf_error(&r->arena);
        return fb_buf_error(&r->scratch);
}
