/* kb.c: loads and validates the knowledge base (built-in YAML plus user files); kb_index.c finds
 * what it holds. */
#define _GNU_SOURCE
#include "firebreak/kb.h"

#include "kb_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "firebreak/buf.h"
#include "firebreak/cleanup.h"
#include "firebreak/fileio.h"
#include "firebreak/limits.h"
#include "firebreak/strutil.h"

/* The built-in data, linked in by kb_builtin.S: {name, start, end}, up to a zero entry. */
struct builtin_file {
        const char *name, *start, *end;
};
extern const struct builtin_file fb_kb_builtin_files[];

const char *const fb_kb_template_vars[] = {
        "cid",          /* container.id: 12 or 64 lowercase hex digits */
        "ns",           /* k8s.ns.name: a DNS label */
        "pod",          /* k8s.pod.name: a DNS subdomain */
        "file",         /* fd.name: an absolute path, shell-quoted */
        "exepath",      /* proc.exepath: an absolute path, shell-quoted */
        "pname",        /* proc.name: shell-quoted, for ps -C / pgrep -x */
        "alert8",       /* the first 8 characters of the alert id */
        "since",        /* event time - 10 min, "YYYY-MM-DD HH:MM:SS UTC" */
        "until",        /* event time + 10 min */
        "rport",        /* fd.rport: a port number */
        "sip",          /* fd.sip: an IP address */
        "ka_ns",        /* ka.target.namespace: a DNS label */
        "ka_name",      /* ka.target.name, else ka.resp.name: a DNS subdomain */
        "ka_resource",  /* ka.target.resource: lowercase letters, such as pods */
        "ka_user",      /* ka.user.name: shell-quoted */
        "ka_as_groups", /* a --as-group=GROUP word per ka.user.groups entry, shell-quoted */
        "since_iso",    /* event time - 10 min, "YYYY-MM-DDTHH:MM:SSZ" */
        "until_iso",    /* event time + 10 min */
        "ct_user",      /* ct.user: an AWS identity name, shell-quoted */
        "ct_region",    /* ct.region: an AWS region name */
        "ct_srcip",     /* ct.srcip: an IP address */
        "gcp_project",  /* gcp.projectId: a GCP project id */
        "gcp_user",     /* gcp.user: shell-quoted */
        "gh_repo",      /* github.owner/github.repo.name: OWNER/NAME */
        "gh_org",       /* github.org: a GitHub login */
        "gh_user",      /* github.user: a GitHub login */
        "okta_user",    /* okta.actor.name: shell-quoted */
        "okta_target",  /* okta.target.user.name: shell-quoted */
        "ka_n",         /* " -n NAMESPACE" from ka.target.namespace; empty for cluster objects */
        NULL,
};

static const char *const source_names[] = {
        [FB_KB_SOURCE_SYSCALL] = "syscall",
        [FB_KB_SOURCE_K8S_AUDIT] = "k8s_audit",
        [FB_KB_SOURCE_AWS_CLOUDTRAIL] = "aws_cloudtrail",
        [FB_KB_SOURCE_GCP_AUDITLOG] = "gcp_auditlog",
        [FB_KB_SOURCE_GITHUB] = "github",
        [FB_KB_SOURCE_OKTA] = "okta",
        [FB_KB_SOURCE_INTERNAL] = "internal",
};

const char *fb_kb_source_to_string(enum fb_kb_source s) {
        return (unsigned)s < FB_ELEMENTSOF(source_names) ? source_names[s] : "unknown";
}

int fb_kb_source_from_string(const char *s, size_t len, enum fb_kb_source *ret) {
        size_t i;

        for (i = 0; i < FB_ELEMENTSOF(source_names); i++)
                if (strlen(source_names[i]) == len && memcmp(s, source_names[i], len) == 0) {
                        *ret = (enum fb_kb_source)i;
                        return 0;
                }
        return -EINVAL;
}

static const char *const verdict_names[] = {
        [FB_VERDICT_MALICIOUS] = "malicious",     [FB_VERDICT_SUSPICIOUS] = "suspicious",
        [FB_VERDICT_LIKELY_TEST] = "likely-test", [FB_VERDICT_BENIGN] = "benign",
        [FB_VERDICT_OPERATIONAL] = "operational",
};

const char *fb_verdict_to_string(enum fb_verdict v) {
        return (unsigned)v < FB_ELEMENTSOF(verdict_names) ? verdict_names[v] : "unknown";
}

int fb_verdict_from_string(const char *s, enum fb_verdict *ret) {
        size_t i;

        for (i = 0; i < FB_ELEMENTSOF(verdict_names); i++)
                if (strcmp(s, verdict_names[i]) == 0) {
                        *ret = (enum fb_verdict)i;
                        return 0;
                }
        return -EINVAL;
}

static void text_free(struct fb_kb_text *t) {
        free(t->md);
        free(t->json);
        *t = (struct fb_kb_text){ 0 };
}

static void strings_free(struct fb_kb_strings *s) {
        size_t i;

        for (i = 0; i < s->n; i++)
                text_free(&s->v[i]);
        free(s->v);
        *s = (struct fb_kb_strings){ 0 };
}

static void steps_free(struct fb_kb_steps *s) {
        size_t i, j;

        for (i = 0; i < s->n; i++) {
                text_free(&s->v[i].text);
                for (j = 0; j < s->v[i].n_commands; j++) {
                        free(s->v[i].commands[j]);
                        if (s->v[i].commands_json)
                                free(s->v[i].commands_json[j]);
                }
                for (j = 0; s->v[i].compiled && j < s->v[i].n_commands; j++)
                        free(s->v[i].compiled[j].pieces);
                free(s->v[i].commands);
                free(s->v[i].commands_json);
                free(s->v[i].compiled);
        }
        free(s->v);
        *s = (struct fb_kb_steps){ 0 };
}

static void names_free(char **v, size_t n) {
        size_t i;

        for (i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void rule_free(struct fb_kb_rule *r) {
        free(r->rule);
        names_free(r->aliases, r->n_aliases);
        names_free(r->mitre, r->n_mitre);
        free(r->detects);
        text_free(&r->explain);
        free(r->analyzer);
        free(r->origin);
        strings_free(&r->benign);
        strings_free(&r->not_covered);
        steps_free(&r->investigate);
        steps_free(&r->contain);
        steps_free(&r->prevent);
        *r = (struct fb_kb_rule){ 0 };
}

void fb_kb_free(struct fb_kb *kb) {
        size_t i;

        if (!kb)
                return;
        for (i = 0; i < kb->n_rules; i++)
                rule_free(&kb->rules[i]);
        free(kb->rules);
        for (i = 0; i < kb->n_retired; i++) {
                free(kb->retired[i].rule);
                text_free(&kb->retired[i].note);
        }
        free(kb->retired);
        free(kb->rule_index);
        rule_free(&kb->generic);
        steps_free(&kb->common_investigate);
        steps_free(&kb->common_contain);
        for (i = 0; i < kb->n_tactics; i++) {
                free(kb->tactics[i].tag);
                free(kb->tactics[i].id);
                free(kb->tactics[i].name);
        }
        free(kb->tactics);
        for (i = 0; i < kb->n_techniques; i++) {
                free(kb->techniques[i].id);
                free(kb->techniques[i].name);
        }
        free(kb->techniques);
        free(kb->technique_index);
        free(kb->version);
        free(kb);
}
FB_DEFINE_CLEANUP(struct fb_kb *, fb_kb_free)
FB_DEFINE_CLEANUP(struct fb_yaml_doc *, fb_yaml_free)
FB_DEFINE_CLEANUP(DIR *, closedir)

/* A non-empty scalar, copied. */
static int get_text(const struct fb_yaml_node *n, const char *what, char **ret,
                    struct fb_yaml_error *err) {
        char *s;

        if (!n || n->kind != FB_YAML_SCALAR || fb_yaml_is_null(n))
                return fb_yaml_errorf(err, n, "'%s' must be a non-empty string", what);
        s = strdup(n->value);
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

/* A non-empty scalar as a text in both forms (reports copy the JSON literal as is); -EINVAL
 * with *err as get_text(). */
static int get_kb_text(const struct fb_yaml_node *n, const char *what, struct fb_kb_text *ret,
                       struct fb_yaml_error *err) {
        struct fb_buf b;
        int r;

        r = get_text(n, what, &ret->md, err);
        if (r < 0)
                return r;
        ret->md_len = strlen(ret->md);
        free(ret->json);
        fb_buf_init(&b, FB_YAML_MAX_BYTES * 7);
        fb_json_str(&b, ret->md, ret->md_len);
        ret->json = fb_buf_steal(&b, &ret->json_len);
        return ret->json ? 0 : -ENOMEM;
}

static int get_opt_text(const struct fb_yaml_node *map, const char *key, char **ret,
                        struct fb_yaml_error *err) {
        const struct fb_yaml_node *n = fb_yaml_get(map, key);

        if (!n)
                return 0;
        return get_text(n, key, ret, err);
}

static int get_strings(const struct fb_yaml_node *n, const char *what, struct fb_kb_strings *ret,
                       struct fb_yaml_error *err) {
        size_t i;
        int r;

        if (!n)
                return 0;
        if (n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'%s' must be a list of strings", what);
        strings_free(ret);
        ret->v = calloc(n->n ? n->n : 1, sizeof(*ret->v));
        if (!ret->v)
                return -ENOMEM;
        for (i = 0; i < n->n; i++) {
                ret->n++;
                r = get_kb_text(n->items[i], what, &ret->v[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every @{name} must be a known variable, and every '@{' must close. */
static int check_template(const struct fb_yaml_node *n, struct fb_yaml_error *err) {
        const char *p = n->value;

        while ((p = strstr(p, "@{"))) {
                const char *end = strchr(p + 2, '}');
                const char *const *v;
                bool ok = false;

                if (!end)
                        return fb_yaml_errorf(err, n, "unterminated @{ in command");
                for (v = fb_kb_template_vars; *v && !ok; v++)
                        ok = strlen(*v) == (size_t)(end - p - 2) &&
                             strncmp(*v, p + 2, (size_t)(end - p - 2)) == 0;
                if (!ok)
                        return fb_yaml_errorf(err, n, "unknown template variable '%.*s'",
                                              (int)(end - p - 2 > 40 ? 40 : end - p - 2), p + 2);
                p = end + 1;
        }
        return 0;
}

static int var_index(const char *name, size_t len) {
        size_t i;

        for (i = 0; fb_kb_template_vars[i]; i++)
                if (strlen(fb_kb_template_vars[i]) == len &&
                    memcmp(fb_kb_template_vars[i], name, len) == 0)
                        return (int)i;
        return -1;
}

/* Splits raw and its JSON form at the same @{var} placeholders (check_template() has made sure
 * each is known; JSON escaping leaves "@{name}" unchanged). */
static int compile_cmd(const char *raw, const char *json, struct fb_kb_cmd *ret) {
        size_t n = 1, k = 0;
        const char *p;

        for (p = raw; (p = strstr(p, "@{")); p += 2)
                n++;
        ret->pieces = calloc(n, sizeof(*ret->pieces));
        if (!ret->pieces)
                return -ENOMEM;
        for (;;) {
                const char *q = strstr(raw, "@{"), *qj = strstr(json, "@{"), *end, *endj;
                struct fb_kb_piece *x = &ret->pieces[k++];

                x->lit = raw;
                x->lit_json = json;
                x->var = -1;
                if (!q || !qj) {
                        x->lit_len = strlen(raw);
                        x->lit_json_len = strlen(json);
                        break;
                }
                end = strchr(q + 2, '}');
                endj = strchr(qj + 2, '}');
                if (!end || !endj)
                        return -EINVAL;
                x->lit_len = (size_t)(q - raw);
                x->lit_json_len = (size_t)(qj - json);
                x->var = var_index(q + 2, (size_t)(end - q - 2));
                raw = end + 1;
                json = endj + 1;
        }
        ret->n = k;
        return 0;
}

/* A step's 'when' (n: NULL when it has none), as triage tests it for every alert. */
static int get_when(const struct fb_yaml_node *n, enum fb_kb_when *ret, struct fb_yaml_error *err) {
        static const char *const names[] = {
                [FB_KB_WHEN_CONTAINER] = "container",
                [FB_KB_WHEN_DOCKER] = "docker",
                [FB_KB_WHEN_K8S] = "k8s",
                [FB_KB_WHEN_HOST] = "host",
                [FB_KB_WHEN_K8S_AUDIT] = "k8s-audit",
                [FB_KB_WHEN_CLOUD] = "cloud",
                [FB_KB_WHEN_SAAS] = "saas",
                [FB_KB_WHEN_FALCO] = "falco",
                [FB_KB_WHEN_AWS] = "aws",
                [FB_KB_WHEN_GCP] = "gcp",
                [FB_KB_WHEN_GITHUB] = "github",
                [FB_KB_WHEN_OKTA] = "okta",
        };
        size_t i;

        *ret = FB_KB_WHEN_ANY;
        if (!n)
                return 0;
        for (i = 1; n->kind == FB_YAML_SCALAR && !fb_yaml_is_null(n) && i < FB_ELEMENTSOF(names);
             i++)
                if (strcmp(n->value, names[i]) == 0) {
                        *ret = (enum fb_kb_when)i;
                        return 0;
                }
        return fb_yaml_errorf(
                err, n,
                "'when' must be container, docker, k8s, host, k8s-audit, cloud, saas, falco, "
                "aws, gcp, github or okta");
}

static int get_steps(const struct fb_yaml_node *n, const char *what, struct fb_kb_steps *ret,
                     struct fb_yaml_error *err) {
        static const char *const keys[] = { "text", "commands", "when", NULL };
        size_t i, j;
        int r;

        if (!n)
                return 0;
        if (n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'%s' must be a list of steps", what);
        steps_free(ret);
        ret->v = calloc(n->n ? n->n : 1, sizeof(*ret->v));
        if (!ret->v)
                return -ENOMEM;
        for (i = 0; i < n->n; i++) {
                const struct fb_yaml_node *s = n->items[i], *cmds;
                struct fb_kb_step *st = &ret->v[i];

                ret->n++;
                r = fb_yaml_check_keys(s, keys, err);
                if (r < 0)
                        return r;
                r = get_kb_text(fb_yaml_get(s, "text"), "text", &st->text, err);
                if (r < 0)
                        return r == -EINVAL ? fb_yaml_errorf(err, s, "a step needs 'text'") : r;
                r = get_when(fb_yaml_get(s, "when"), &st->when, err);
                if (r < 0)
                        return r;
                cmds = fb_yaml_get(s, "commands");
                if (!cmds)
                        continue;
                if (cmds->kind != FB_YAML_SEQUENCE)
                        return fb_yaml_errorf(err, cmds, "'commands' must be a list of strings");
                if (cmds->n > 64)
                        return fb_yaml_errorf(err, cmds, "at most 64 commands in a step");
                st->commands = calloc(cmds->n ? cmds->n : 1, sizeof(char *));
                st->commands_json = calloc(cmds->n ? cmds->n : 1, sizeof(char *));
                st->compiled = calloc(cmds->n ? cmds->n : 1, sizeof(*st->compiled));
                if (!st->commands || !st->commands_json || !st->compiled)
                        return -ENOMEM;
                for (j = 0; j < cmds->n; j++) {
                        r = get_text(cmds->items[j], "commands", &st->commands[j], err);
                        if (r < 0)
                                return r;
                        st->n_commands++;
                        r = check_template(cmds->items[j], err);
                        if (r < 0)
                                return r;
                        {
                                struct fb_buf jb;

                                fb_buf_init(&jb, FB_YAML_MAX_BYTES * 7);
                                fb_json_escape_safe(&jb, st->commands[j], strlen(st->commands[j]));
                                fb_buf_putc(&jb, '\0');
                                st->commands_json[j] = fb_buf_steal(&jb, NULL);
                                if (!st->commands_json[j])
                                        return -ENOMEM;
                        }
                        r = compile_cmd(st->commands[j], st->commands_json[j], &st->compiled[j]);
                        if (r < 0)
                                return r == -EINVAL ? fb_yaml_errorf(err, cmds->items[j],
                                                                     "cannot split the command")
                                                    : r;
                }
        }
        return 0;
}

/* A list of names (n: NULL when absent), each non-empty and at most max bytes. */
static int get_names(const struct fb_yaml_node *n, const char *what, size_t max, char ***ret,
                     size_t *ret_n, struct fb_yaml_error *err) {
        size_t i;
        int r;

        if (!n)
                return 0;
        if (n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'%s' must be a list of strings", what);
        *ret = calloc(n->n ? n->n : 1, sizeof(char *));
        if (!*ret)
                return -ENOMEM;
        for (i = 0; i < n->n; i++) {
                r = get_text(n->items[i], what, &(*ret)[i], err);
                if (r < 0)
                        return r;
                (*ret_n)++;
                if (strlen((*ret)[i]) > max)
                        return fb_yaml_errorf(err, n->items[i], "'%s' entry is too long", what);
        }
        return 0;
}

static int parse_rule(const struct fb_kb *kb, const struct fb_yaml_node *n, bool named,
                      const char *file, struct fb_kb_rule *r, struct fb_yaml_error *err) {
        static const char *const keys[] = { "rule",        "aliases",     "source",  "mitre",
                                            "detects",     "explain",     "verdict", "analyzer",
                                            "benign",      "investigate", "contain", "prevent",
                                            "not_covered", NULL };
        size_t i;
        const struct fb_yaml_node *v;
        char origin[512];
        int k;

        k = fb_yaml_check_keys(n, keys, err);
        if (k < 0)
                return k;
        if (named) {
                k = get_text(fb_yaml_get(n, "rule"), "rule", &r->rule, err);
                if (k < 0)
                        return k == -EINVAL ? fb_yaml_errorf(err, n, "an entry needs 'rule'") : k;
                if (strlen(r->rule) > FB_ALERT_MAX_NAME_LEN)
                        return fb_yaml_errorf(err, n, "'rule' is too long");
        } else if (fb_yaml_get(n, "rule"))
                return fb_yaml_errorf(err, fb_yaml_get(n, "rule"), "'generic' takes no 'rule'");
        k = get_names(fb_yaml_get(n, "aliases"), "aliases", FB_ALERT_MAX_NAME_LEN, &r->aliases,
                      &r->n_aliases, err);
        if (k < 0)
                return k;
        v = fb_yaml_get(n, "source");
        if (v && (v->kind != FB_YAML_SCALAR ||
                  fb_kb_source_from_string(v->value, strlen(v->value), &r->source) < 0))
                return fb_yaml_errorf(err, v,
                                      "'source' must be syscall, k8s_audit, aws_cloudtrail, "
                                      "gcp_auditlog, github, okta or internal");
        k = get_names(fb_yaml_get(n, "mitre"), "mitre", 16, &r->mitre, &r->n_mitre, err);
        if (k < 0)
                return k;
        for (i = 0; i < r->n_mitre; i++)
                if (!fb_kb_technique_n(kb, r->mitre[i], strlen(r->mitre[i])))
                        return fb_yaml_errorf(err, fb_yaml_get(n, "mitre")->items[i],
                                              "technique '%s' is not in the knowledge base's "
                                              "mitre list",
                                              r->mitre[i]);
        k = get_text(fb_yaml_get(n, "detects"), "detects", &r->detects, err);
        if (k < 0)
                return k == -EINVAL && !fb_yaml_get(n, "detects")
                               ? fb_yaml_errorf(err, n, "an entry needs 'detects'")
                               : k;
        k = get_kb_text(fb_yaml_get(n, "explain"), "explain", &r->explain, err);
        if (k < 0)
                return k == -EINVAL && !fb_yaml_get(n, "explain")
                               ? fb_yaml_errorf(err, n, "an entry needs 'explain'")
                               : k;
        r->verdict = FB_VERDICT_SUSPICIOUS;
        v = fb_yaml_get(n, "verdict");
        if (v && (v->kind != FB_YAML_SCALAR || fb_verdict_from_string(v->value, &r->verdict) < 0))
                return fb_yaml_errorf(err, v,
                                      "'verdict' must be malicious, suspicious, likely-test, "
                                      "benign or operational");
        k = get_opt_text(n, "analyzer", &r->analyzer, err);
        if (k < 0)
                return k;
        if (r->analyzer && strcmp(r->analyzer, "memfd") != 0)
                return fb_yaml_errorf(err, fb_yaml_get(n, "analyzer"), "unknown analyzer '%s'",
                                      r->analyzer);
        if ((k = get_strings(fb_yaml_get(n, "benign"), "benign", &r->benign, err)) < 0 ||
            (k = get_strings(fb_yaml_get(n, "not_covered"), "not_covered", &r->not_covered, err)) <
                    0 ||
            (k = get_steps(fb_yaml_get(n, "investigate"), "investigate", &r->investigate, err)) <
                    0 ||
            (k = get_steps(fb_yaml_get(n, "contain"), "contain", &r->contain, err)) < 0 ||
            (k = get_steps(fb_yaml_get(n, "prevent"), "prevent", &r->prevent, err)) < 0)
                return k;
        snprintf(origin, sizeof(origin), "%s:%u", file, n->line);
        r->origin = strdup(origin);
        return r->origin ? 0 : -ENOMEM;
}

static int parse_mitre_lists(struct fb_kb *kb, const struct fb_yaml_node *m,
                             struct fb_yaml_error *err) {
        static const char *const keys[] = { "tactics", "techniques", NULL };
        static const char *const tkeys[] = { "tag", "id", "name", NULL };
        static const char *const qkeys[] = { "id", "name", NULL };
        const struct fb_yaml_node *t;
        size_t i;
        int r;

        r = fb_yaml_check_keys(m, keys, err);
        if (r < 0)
                return r;
        t = fb_yaml_get(m, "tactics");
        if (t) {
                struct fb_kb_tactic *a;

                if (t->kind != FB_YAML_SEQUENCE)
                        return fb_yaml_errorf(err, t, "'tactics' must be a list");
                a = realloc(kb->tactics, (kb->n_tactics + t->n + 1) * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                kb->tactics = a;
                for (i = 0; i < t->n; i++) {
                        struct fb_kb_tactic *x = &kb->tactics[kb->n_tactics];

                        *x = (struct fb_kb_tactic){ 0 };
                        kb->n_tactics++;
                        if ((r = fb_yaml_check_keys(t->items[i], tkeys, err)) < 0 ||
                            (r = get_text(fb_yaml_get(t->items[i], "tag"), "tag", &x->tag, err)) <
                                    0 ||
                            (r = get_text(fb_yaml_get(t->items[i], "id"), "id", &x->id, err)) < 0 ||
                            (r = get_text(fb_yaml_get(t->items[i], "name"), "name", &x->name,
                                          err)) < 0)
                                return r;
                }
        }
        t = fb_yaml_get(m, "techniques");
        if (t) {
                struct fb_kb_technique *a;

                if (t->kind != FB_YAML_SEQUENCE)
                        return fb_yaml_errorf(err, t, "'techniques' must be a list");
                a = realloc(kb->techniques, (kb->n_techniques + t->n + 1) * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                kb->techniques = a;
                for (i = 0; i < t->n; i++) {
                        struct fb_kb_technique *x = &kb->techniques[kb->n_techniques];

                        *x = (struct fb_kb_technique){ 0 };
                        kb->n_techniques++;
                        if ((r = fb_yaml_check_keys(t->items[i], qkeys, err)) < 0 ||
                            (r = get_text(fb_yaml_get(t->items[i], "id"), "id", &x->id, err)) < 0 ||
                            (r = get_text(fb_yaml_get(t->items[i], "name"), "name", &x->name,
                                          err)) < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_mitre(struct fb_kb *kb, const struct fb_yaml_node *m, struct fb_yaml_error *err) {
        int r = parse_mitre_lists(kb, m, err), k = fb_kb_index_techniques(kb);

        return r < 0 ? r : k;
}

static int add_rule(struct fb_kb *kb, struct fb_kb_rule *nr) {
        struct fb_kb_rule *a;
        size_t i;

        for (i = 0; i < kb->n_rules; i++)
                if (strcmp(kb->rules[i].rule, nr->rule) == 0) {
                        rule_free(&kb->rules[i]);
                        kb->rules[i] = *nr;
                        return 0;
                }
        if (kb->n_rules >= FB_KB_MAX_RULES)
                return -E2BIG;
        a = realloc(kb->rules, (kb->n_rules + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        kb->rules = a;
        kb->rules[kb->n_rules++] = *nr;
        return 0;
}

/* renamed: [{old: NAME, rule: CURRENT}]: an earlier name of a rule loaded before, which becomes
 * one of its aliases. */
static int parse_renamed(struct fb_kb *kb, const struct fb_yaml_node *n,
                         struct fb_yaml_error *err) {
        static const char *const keys[] = { "old", "rule", NULL };
        size_t i, j;
        int r;

        if (!n)
                return 0;
        if (n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'renamed' must be a list");
        for (i = 0; i < n->n; i++) {
                const struct fb_yaml_node *x = n->items[i], *o, *c;
                struct fb_kb_rule *target = NULL;
                char *old = NULL, **a;

                r = fb_yaml_check_keys(x, keys, err);
                if (r < 0)
                        return r;
                o = fb_yaml_get(x, "old");
                c = fb_yaml_get(x, "rule");
                if (!o || !c || o->kind != FB_YAML_SCALAR || c->kind != FB_YAML_SCALAR ||
                    fb_yaml_is_null(o) || fb_yaml_is_null(c))
                        return fb_yaml_errorf(err, x, "a rename needs 'old' and 'rule'");
                if (strlen(o->value) > FB_ALERT_MAX_NAME_LEN)
                        return fb_yaml_errorf(err, o, "'old' is too long");
                for (j = 0; j < kb->n_rules && !target; j++)
                        if (strcmp(kb->rules[j].rule, c->value) == 0)
                                target = &kb->rules[j];
                if (!target)
                        return fb_yaml_errorf(err, c, "no entry for rule '%s' to rename", c->value);
                old = strdup(o->value);
                a = old ? realloc(target->aliases, (target->n_aliases + 1) * sizeof(*a)) : NULL;
                if (!a) {
                        free(old);
                        return -ENOMEM;
                }
                target->aliases = a;
                target->aliases[target->n_aliases++] = old;
        }
        return 0;
}

/* retired: [{rule: NAME, note: MARKDOWN}]: rules Falco's rules no longer ship. */
static int parse_retired(struct fb_kb *kb, const struct fb_yaml_node *n,
                         struct fb_yaml_error *err) {
        static const char *const keys[] = { "rule", "note", NULL };
        struct fb_kb_retired *a;
        size_t i;
        int r;

        if (!n)
                return 0;
        if (n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'retired' must be a list");
        if (kb->n_retired + n->n > FB_KB_MAX_RULES)
                return -E2BIG;
        a = realloc(kb->retired, (kb->n_retired + n->n + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        kb->retired = a;
        for (i = 0; i < n->n; i++) {
                struct fb_kb_retired *x = &kb->retired[kb->n_retired];

                *x = (struct fb_kb_retired){ 0 };
                kb->n_retired++;
                if ((r = fb_yaml_check_keys(n->items[i], keys, err)) < 0 ||
                    (r = get_text(fb_yaml_get(n->items[i], "rule"), "rule", &x->rule, err)) < 0 ||
                    (r = get_kb_text(fb_yaml_get(n->items[i], "note"), "note", &x->note, err)) < 0)
                        return r;
                if (strlen(x->rule) > FB_ALERT_MAX_NAME_LEN)
                        return fb_yaml_errorf(err, n->items[i], "'rule' is too long");
        }
        return 0;
}

static int load_doc(struct fb_kb *kb, const char *data, size_t len, const char *file,
                    struct fb_yaml_error *err) {
        static const char *const keys[] = { "kb_version", "mitre",   "common",  "generic",
                                            "rules",      "renamed", "retired", NULL };
        static const char *const ckeys[] = { "investigate", "contain", NULL };
        _cleanup_(fb_yaml_freep) struct fb_yaml_doc *doc = NULL;
        const struct fb_yaml_node *root, *n;
        size_t i;
        int r;

        r = fb_yaml_parse(data, len, &doc, err);
        if (r < 0)
                return r;
        root = fb_yaml_root(doc);
        r = fb_yaml_check_keys(root, keys, err);
        if (r < 0)
                return r;
        n = fb_yaml_get(root, "kb_version");
        if (n && (r = get_text(n, "kb_version", &kb->version, err)) < 0)
                return r;
        n = fb_yaml_get(root, "mitre");
        if (n && (r = parse_mitre(kb, n, err)) < 0)
                return r;
        n = fb_yaml_get(root, "common");
        if (n) {
                if ((r = fb_yaml_check_keys(n, ckeys, err)) < 0 ||
                    (r = get_steps(fb_yaml_get(n, "investigate"), "investigate",
                                   &kb->common_investigate, err)) < 0 ||
                    (r = get_steps(fb_yaml_get(n, "contain"), "contain", &kb->common_contain,
                                   err)) < 0)
                        return r;
        }
        n = fb_yaml_get(root, "generic");
        if (n) {
                struct fb_kb_rule g = { 0 };

                r = parse_rule(kb, n, false, file, &g, err);
                if (r < 0) {
                        rule_free(&g);
                        return r;
                }
                rule_free(&kb->generic);
                kb->generic = g;
                kb->have_generic = true;
        }
        n = fb_yaml_get(root, "rules");
        if (n && n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'rules' must be a list");
        for (i = 0; n && i < n->n; i++) {
                struct fb_kb_rule nr = { 0 };

                r = parse_rule(kb, n->items[i], true, file, &nr, err);
                if (r >= 0)
                        r = add_rule(kb, &nr);
                if (r < 0) {
                        rule_free(&nr);
                        return r;
                }
        }
        r = parse_renamed(kb, fb_yaml_get(root, "renamed"), err);
        if (r < 0)
                return r;
        return parse_retired(kb, fb_yaml_get(root, "retired"), err);
}

int fb_kb_new_builtin(struct fb_kb **ret, struct fb_yaml_error *err, char *where, size_t wlen) {
        _cleanup_(fb_kb_freep) struct fb_kb *kb = NULL;
        size_t i;
        int r;

        kb = calloc(1, sizeof(*kb));
        if (!kb)
                return -ENOMEM;
        for (i = 0; fb_kb_builtin_files[i].name; i++) {
                const struct builtin_file *f = &fb_kb_builtin_files[i];

                snprintf(where, wlen, "%s", f->name);
                r = load_doc(kb, f->start, (size_t)(f->end - f->start), f->name, err);
                if (r < 0)
                        return r;
        }
        if (!kb->version || !kb->have_generic)
                return fb_yaml_errorf(err, NULL, "built-in data lacks kb_version or generic");
        r = fb_kb_index_rules(kb);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(kb);
        return 0;
}

static int load_file(struct fb_kb *kb, const char *path, struct fb_yaml_error *err, char *where,
                     size_t wlen) {
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ char *version = NULL;
        size_t len;
        int r;

        snprintf(where, wlen, "%s", path);
        if (++kb->n_files > FB_KB_MAX_FILES)
                return -E2BIG;
        r = fb_read_file(path, FB_YAML_MAX_BYTES, &data, &len);
        if (r < 0)
                return r;
        /* the version names the built-in data; a user file cannot change it */
        version = TAKE_PTR(kb->version);
        r = load_doc(kb, data, len, path, err);
        free(kb->version);
        kb->version = TAKE_PTR(version);
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int fb_kb_load_path(struct fb_kb *kb, const char *path, struct fb_yaml_error *err, char *where,
                    size_t wlen) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, i;
        struct stat st;
        int r = 0, k;

        *err = (struct fb_yaml_error){ 0 };
        snprintf(where, wlen, "%s", path);
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode)) {
                r = load_file(kb, path, err, where, wlen);
                k = fb_kb_index_rules(kb); /* what loaded before a failure stays findable */
                return r < 0 ? r : k;
        }
        d = opendir(path);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char **a;

                if (de->d_name[0] == '.' || !fb_endswith(de->d_name, ".yaml"))
                        continue;
                if (n >= FB_KB_MAX_FILES) {
                        r = -E2BIG;
                        break;
                }
                a = realloc(names, (n + 1) * sizeof(*a));
                if (!a || asprintf(&a[n], "%s/%s", path, de->d_name) < 0) {
                        names = a ? a : names;
                        r = -ENOMEM;
                        break;
                }
                names = a;
                n++;
        }
        if (r >= 0 && n > 0)
                qsort(names, n, sizeof(*names), cmp_str);
        for (i = 0; r >= 0 && i < n; i++)
                r = load_file(kb, names[i], err, where, wlen);
        k = fb_kb_index_rules(kb);
        if (r >= 0)
                r = k;
        for (i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}
