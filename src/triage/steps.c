/* steps.c: investigate, contain and prevent steps, their commands filled from validated or
 * shell-quoted alert values. */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>

#include "firebreak/limits.h"
#include "triage_impl.h"

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
        V_KA_AS_GROUPS,
        V_SINCE_ISO,
        V_UNTIL_ISO,
        V_CT_USER,
        V_CT_REGION,
        V_CT_SRCIP,
        V_GCP_PROJECT,
        V_GCP_USER,
        V_GH_REPO,
        V_GH_ORG,
        V_GH_USER,
        V_OKTA_USER,
        V_OKTA_TARGET,
        V_KA_N,
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
        [V_KA_AS_GROUPS] = "`ka.user.groups` as group names",
        [V_SINCE_ISO] = "the alert time",
        [V_UNTIL_ISO] = "the alert time",
        [V_CT_USER] = "`ct.user` as an AWS identity name",
        [V_CT_REGION] = "`ct.region` as an AWS region",
        [V_CT_SRCIP] = "`ct.srcip` as an IP address",
        [V_GCP_PROJECT] = "`gcp.projectId` as a project id",
        [V_GCP_USER] = "`gcp.user`",
        [V_GH_REPO] = "`github.owner` and `github.repo.name` as GitHub names",
        [V_GH_ORG] = "`github.org` as a GitHub name",
        [V_GH_USER] = "`github.user` as a GitHub name",
        [V_OKTA_USER] = "`okta.actor.name`",
        [V_OKTA_TARGET] = "`okta.target.user.name`",
        [V_KA_N] = "`ka.target.namespace` as a namespace name",
};

struct vars {
        struct fb_text v[_V_MAX]; /* in r->scratch; len 0 = unavailable */
        unsigned done;            /* bit v: v[v] has been computed */
        unsigned empty;           /* bit v: v[v] is available and empty (len 0) */
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

static void set_time_var(struct fb_report *r, struct vars *vs, enum var v, int64_t offset_s,
                         bool iso) {
        time_t t = (time_t)(r->alert->time_ns / 1000000000) + offset_s;
        struct tm tm;
        char s[64];

        if (!gmtime_r(&t, &tm) ||
            strftime(s, sizeof(s), iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                return;
        set_var(r, vs, v, s, strlen(s), !iso);
}

/* Only bytes in set (plus ASCII letters and digits), at most max of them, and not a leading
 * '-' (it would read as an option). */
static bool is_word(const char *s, size_t len, size_t max, const char *set) {
        size_t i;

        if (len == 0 || len > max || s[0] == '-')
                return false;
        for (i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || (s[i] && strchr(set, s[i]))))
                        return false;
        return true;
}

/* " --as-group=GROUP" per entry of ka.user.groups (a list, or a string as some plugins print
 * it: "[system:masters system:authenticated]"), each shell-quoted; at most 16. Empty, not
 * missing, when the alert has no groups: the step's text says what that leaves out. */
static void set_groups_var(struct fb_report *r, struct vars *vs) {
        const struct fb_field *f = field(r, "ka.user.groups");
        size_t begin = r->scratch.len, n = 0, i;

        vs->empty |= 1u << V_KA_AS_GROUPS;
        if (!f)
                return;
        if (f->type == FB_VALUE_LIST) {
                for (i = 0; i < f->len && n < 16; i++) {
                        struct fb_field x = fb_field_item(f, i);

                        if (x.type != FB_VALUE_STRING || x.len == 0 || x.len > 253)
                                continue;
                        n++;
                        fb_buf_puts(&r->scratch, " --as-group=");
                        fb_shell_quote(&r->scratch, x.str, x.len);
                }
        } else if (f->type == FB_VALUE_STRING) {
                const char *p = f->str, *end = f->str + f->len;

                while (p < end && n < 16) {
                        const char *q;

                        while (p < end && (*p == '[' || *p == ']' || *p == ' ' || *p == ','))
                                p++;
                        q = p;
                        while (q < end && *q != ' ' && *q != ',' && *q != ']' && *q != '[')
                                q++;
                        if (q > p && q - p <= 253) {
                                n++;
                                fb_buf_puts(&r->scratch, " --as-group=");
                                fb_shell_quote(&r->scratch, p, (size_t)(q - p));
                        }
                        p = q;
                }
        }
        if (n == 0) {
                r->scratch.len = begin;
                return;
        }
        vs->empty &= ~(1u << V_KA_AS_GROUPS);
        vs->v[V_KA_AS_GROUPS] = (struct fb_text){ .off = begin, .len = r->scratch.len - begin };
        fb_buf_putc(&r->scratch, '\0');
}

/* Resources that belong to no namespace. */
static bool cluster_scoped(const char *s, size_t len) {
        static const struct lit names[] = {
                LIT("namespaces"),
                LIT("nodes"),
                LIT("clusterroles"),
                LIT("clusterrolebindings"),
                LIT("persistentvolumes"),
                LIT("storageclasses"),
                LIT("customresourcedefinitions"),
                LIT("priorityclasses"),
                LIT("validatingwebhookconfigurations"),
                LIT("mutatingwebhookconfigurations"),
                LIT("certificatesigningrequests"),
                LIT("runtimeclasses"),
                LIT("ingressclasses"),
                LIT("apiservices"),
        };
        size_t i;

        for (i = 0; s && i < FB_ELEMENTSOF(names); i++)
                if (len == names[i].len && memcmp(s, names[i].s, len) == 0)
                        return true;
        return false;
}

/* OWNER/NAME: the GitHub plugin's github.repo.name is already that (the URL's path); older
 * alerts give the owner apart. Each part a GitHub name. */
static void set_repo_var(struct fb_report *r, struct vars *vs) {
        size_t ol, nl, begin = r->scratch.len;
        const char *o = str(r, "github.owner", &ol), *n = str(r, "github.repo.name", &nl);
        const char *slash = n ? memchr(n, '/', nl) : NULL;

        if (slash) {
                o = n;
                ol = (size_t)(slash - n);
                nl -= ol + 1;
                n = slash + 1;
        }
        if (!o || !n || !is_word(o, ol, 100, "-_.") || !is_word(n, nl, 100, "-_."))
                return;
        fb_buf_put(&r->scratch, o, ol);
        fb_buf_putc(&r->scratch, '/');
        fb_buf_put(&r->scratch, n, nl);
        vs->v[V_GH_REPO] = (struct fb_text){ .off = begin, .len = r->scratch.len - begin };
        fb_buf_putc(&r->scratch, '\0');
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
                set_time_var(r, vs, V_SINCE, -600, false);
                break;
        case V_UNTIL:
                set_time_var(r, vs, V_UNTIL, 600, false);
                break;
        case V_SINCE_ISO:
                set_time_var(r, vs, V_SINCE_ISO, -600, true);
                break;
        case V_UNTIL_ISO:
                set_time_var(r, vs, V_UNTIL_ISO, 600, true);
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
        case V_KA_AS_GROUPS:
                set_groups_var(r, vs);
                break;
        case V_KA_N: /* a cluster-scoped object needs no -n; a namespaced one without its
                      * namespace would be looked for in the reader's own: left out */
                s = str(r, "ka.target.namespace", &len);
                if (!s) {
                        s = str(r, "ka.target.resource", &len);
                        if (cluster_scoped(s, len))
                                vs->empty |= 1u << V_KA_N;
                        break;
                }
                if (is_dns_name(s, len, 63, false)) {
                        size_t begin = r->scratch.len;

                        fb_buf_puts(&r->scratch, " -n ");
                        fb_buf_put(&r->scratch, s, len);
                        vs->v[V_KA_N] =
                                (struct fb_text){ .off = begin, .len = r->scratch.len - begin };
                        fb_buf_putc(&r->scratch, '\0');
                }
                break;
        case V_CT_USER: /* IAM names: letters, digits and +=,.@_- ; assumed roles add : and / */
                s = str(r, "ct.user", &len);
                if (s && is_word(s, len, 256, "+=,.@_-:/"))
                        set_var(r, vs, V_CT_USER, s, len, true);
                break;
        case V_CT_REGION:
                s = str(r, "ct.region", &len);
                if (s && is_dns_name(s, len, 32, false))
                        set_var(r, vs, V_CT_REGION, s, len, false);
                break;
        case V_CT_SRCIP:
                s = str(r, "ct.srcip", &len);
                if (s && is_ip(s, len))
                        set_var(r, vs, V_CT_SRCIP, s, len, false);
                break;
        case V_GCP_PROJECT:
                s = str(r, "gcp.projectId", &len);
                if (s && is_dns_name(s, len, 30, false))
                        set_var(r, vs, V_GCP_PROJECT, s, len, false);
                break;
        case V_GCP_USER: /* an email address, as the audit log's principalEmail */
                s = str(r, "gcp.user", &len);
                if (s && is_word(s, len, 254, "@._+-"))
                        set_var(r, vs, V_GCP_USER, s, len, false);
                break;
        case V_GH_REPO:
                set_repo_var(r, vs);
                break;
        case V_GH_ORG:
                s = str(r, "github.org", &len);
                if (s && is_word(s, len, 100, "-_."))
                        set_var(r, vs, V_GH_ORG, s, len, false);
                break;
        case V_GH_USER:
                s = str(r, "github.user", &len);
                if (s && is_word(s, len, 100, "-_.[]")) /* bots: "dependabot[bot]" */
                        set_var(r, vs, V_GH_USER, s, len, true);
                break;
        case V_OKTA_USER:
                s = str(r, "okta.actor.name", &len);
                if (s)
                        set_var(r, vs, V_OKTA_USER, s, len, true);
                break;
        case V_OKTA_TARGET:
                s = str(r, "okta.target.user.name", &len);
                if (s)
                        set_var(r, vs, V_OKTA_TARGET, s, len, true);
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
                if (t->len == 0 && (vs->empty & (1u << x->var)))
                        continue;
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
        case FB_KB_WHEN_CLOUD:
                return r->place == FB_PLACE_CLOUD;
        case FB_KB_WHEN_SAAS:
                return r->place == FB_PLACE_SAAS;
        case FB_KB_WHEN_FALCO:
                return r->place == FB_PLACE_FALCO;
        case FB_KB_WHEN_AWS:
                return r->source == FB_KB_SOURCE_AWS_CLOUDTRAIL;
        case FB_KB_WHEN_GCP:
                return r->source == FB_KB_SOURCE_GCP_AUDITLOG;
        case FB_KB_WHEN_GITHUB:
                return r->source == FB_KB_SOURCE_GITHUB;
        case FB_KB_WHEN_OKTA:
                return r->source == FB_KB_SOURCE_OKTA;
        }
        return false;
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
                                    (v == V_UNTIL && (missing & (1u << V_SINCE))) ||
                                    (v == V_UNTIL_ISO && (missing & (1u << V_SINCE_ISO))))
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

void fb_triage_steps(struct fb_report *r) {
        struct vars vs;

        vars_init(r, &vs);
        add_steps(r, &vs, fb_kb_common(r->kb, "investigate"), r->investigate, &r->n_investigate);
        add_steps(r, &vs, &r->entry->investigate, r->investigate, &r->n_investigate);
        /* a benign pattern or Falco's own health calls for no containment of the common kind */
        if (r->verdict != FB_VERDICT_BENIGN && r->verdict != FB_VERDICT_OPERATIONAL)
                add_steps(r, &vs, fb_kb_common(r->kb, "contain"), r->contain, &r->n_contain);
        add_steps(r, &vs, &r->entry->contain, r->contain, &r->n_contain);
        add_steps(r, &vs, &r->entry->prevent, r->prevent, &r->n_prevent);
}
