/* policy.c: response policy YAML -> struct fb_policy, and matching alerts against it. */
#define _GNU_SOURCE
#include "firebreak/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firebreak/cleanup.h"
#include "firebreak/fileio.h"
#include "firebreak/limits.h"
#include "firebreak/strutil.h"

static const char *const action_names[_FB_ACTION_MAX] = {
        [FB_ACTION_INSPECT] = "inspect",
        [FB_ACTION_PAUSE] = "pause",
        [FB_ACTION_STOP] = "stop",
        [FB_ACTION_KILL] = "kill",
        [FB_ACTION_CAPTURE] = "capture",
        [FB_ACTION_NOTIFY] = "notify",
        [FB_ACTION_MEMFD_NOEXEC] = "memfd-noexec",
};

const char *fb_action_to_string(enum fb_action a) {
        return (unsigned)a < _FB_ACTION_MAX && action_names[a] ? action_names[a] : "unknown";
}

bool fb_action_is_disruptive(enum fb_action a) {
        return a == FB_ACTION_PAUSE || a == FB_ACTION_STOP || a == FB_ACTION_KILL ||
               a == FB_ACTION_MEMFD_NOEXEC;
}

int fb_parse_duration(const char *s, uint64_t *ret) {
        return fb_parse_duration_max(s, 30 * 86400, ret);
}

int fb_parse_duration_max(const char *s, uint64_t max_s, uint64_t *ret) {
        size_t len = strlen(s);
        uint64_t v, mult;

        if (len < 2)
                return -EINVAL;
        switch (s[len - 1]) {
        case 's':
                mult = 1;
                break;
        case 'm':
                mult = 60;
                break;
        case 'h':
                mult = 3600;
                break;
        case 'd':
                mult = 86400;
                break;
        default:
                return -EINVAL;
        }
        if (fb_parse_uint64(s, len - 1, &v) < 0 || v == 0 || v > max_s / mult)
                return -EINVAL;
        *ret = v * mult;
        return 0;
}

static void free_strv(char **v, size_t n) {
        size_t i;

        for (i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

void fb_policy_free(struct fb_policy *p) {
        size_t i;

        if (!p)
                return;
        for (i = 0; i < p->n_protect; i++)
                free(p->protect[i].pattern);
        free(p->protect);
        for (i = 0; i < p->n_rules; i++) {
                struct fb_policy_rule *r = &p->rules[i];

                free(r->name);
                free_strv(r->rules, r->n_rules);
                free_strv(r->tags, r->n_tags);
                free(r->source);
                free_strv(r->field_keys, r->n_fields);
                free_strv(r->field_globs, r->n_fields);
                free(r->image);
                free(r->image_id);
        }
        free(p->rules);
        for (i = 0; i < p->n_notifiers; i++) {
                struct fb_notifier_config *n = &p->notifiers[i];

                free(n->name);
                if (n->url)
                        explicit_bzero(n->url, strlen(n->url));
                free(n->url);
                for (size_t j = 0; j < n->n_headers; j++)
                        explicit_bzero(n->headers[j], strlen(n->headers[j]));
                free_strv(n->headers, n->n_headers);
        }
        free(p->notifiers);
        free(p);
}
FB_DEFINE_CLEANUP(struct fb_policy *, fb_policy_free)
FB_DEFINE_CLEANUP(struct fb_yaml_doc *, fb_yaml_free)

static int scalar(const struct fb_yaml_node *n, const char *what, struct fb_yaml_error *err) {
        if (!n || n->kind != FB_YAML_SCALAR || fb_yaml_is_null(n))
                return fb_yaml_errorf(err, n, "'%s' must be a non-empty string", what);
        if (n->len > FB_ALERT_MAX_NAME_LEN)
                return fb_yaml_errorf(err, n, "'%s' is longer than %u bytes", what,
                                      FB_ALERT_MAX_NAME_LEN);
        return 0;
}

static int dup_scalar(const struct fb_yaml_node *n, const char *what, char **ret,
                      struct fb_yaml_error *err) {
        int r = scalar(n, what, err);

        if (r < 0)
                return r;
        *ret = strdup(n->value);
        return *ret ? 0 : -ENOMEM;
}

/* A string or a list of strings. */
static int strv(const struct fb_yaml_node *n, const char *what, char ***ret, size_t *ret_n,
                struct fb_yaml_error *err) {
        size_t i, cnt = n->kind == FB_YAML_SEQUENCE ? n->n : 1;
        int r;

        *ret = calloc(cnt ? cnt : 1, sizeof(char *));
        if (!*ret)
                return -ENOMEM;
        if (n->kind != FB_YAML_SEQUENCE) {
                *ret_n = 1;
                return dup_scalar(n, what, &(*ret)[0], err);
        }
        for (i = 0; i < cnt; i++) {
                r = dup_scalar(n->items[i], what, &(*ret)[i], err);
                (*ret_n)++;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_priority(struct fb_policy_rule *r, const struct fb_yaml_node *n,
                          struct fb_yaml_error *err) {
        const char *s;

        if (scalar(n, "priority", err) < 0)
                return -EINVAL;
        s = n->value;
        r->prio_op = '=';
        if (strncmp(s, ">=", 2) == 0 || strncmp(s, "<=", 2) == 0) {
                r->prio_op = s[0];
                s += 2;
        } else if (strncmp(s, "==", 2) == 0)
                s += 2;
        if (fb_priority_from_string(s, &r->priority) < 0)
                return fb_yaml_errorf(err, n,
                                      "'priority' must be a Falco priority, optionally after >=, "
                                      "<= or ==");
        r->has_priority = true;
        return 0;
}

/* `container: { image: REPO, image_id: sha256:... }`: engine facts, matched exactly. A glob or
 * a negation here would bring back what these keys exist to avoid: a look-alike name (any
 * registry's "falcosecurity/event-generator") passing for the real one. */
static int parse_container(struct fb_policy_rule *r, const struct fb_yaml_node *n,
                           struct fb_yaml_error *err) {
        static const char *const keys[] = { "image", "image_id", NULL };
        const struct fb_yaml_node *v;
        char repo[FB_ALERT_MAX_NAME_LEN + 32];
        int k;

        if (n->kind != FB_YAML_MAPPING || n->n == 0)
                return fb_yaml_errorf(err, n, "'container' must map image or image_id to a value");
        if ((k = fb_yaml_check_keys(n, keys, err)) < 0)
                return k;
        if ((v = fb_yaml_get(n, "image"))) {
                if ((k = scalar(v, "container.image", err)) < 0)
                        return k;
                if (strpbrk(v->value, "*?[!") || strchr(v->value, '@') ||
                    fb_image_repository(v->value, repo, sizeof(repo)) < 0)
                        return fb_yaml_errorf(err, v,
                                              "'container.image' names one image repository "
                                              "exactly, such as "
                                              "docker.io/falcosecurity/event-generator: no "
                                              "globs, negation or digest (use image_id)");
                r->image = strdup(repo);
                if (!r->image)
                        return -ENOMEM;
        }
        if ((v = fb_yaml_get(n, "image_id"))) {
                if ((k = scalar(v, "container.image_id", err)) < 0)
                        return k;
                if (strlen(v->value) != 71 || strncmp(v->value, "sha256:", 7) != 0 ||
                    !fb_is_lower_hex(v->value + 7, 64))
                        return fb_yaml_errorf(err, v,
                                              "'container.image_id' must be \"sha256:\" and 64 "
                                              "lowercase hex digits, as `docker inspect --format "
                                              "'{{.Image}}'` prints it");
                r->image_id = strdup(v->value);
                if (!r->image_id)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_match(struct fb_policy_rule *r, const struct fb_yaml_node *m,
                       struct fb_yaml_error *err) {
        static const char *const keys[] = { "rule",   "priority",  "tags", "source",
                                            "fields", "container", NULL };
        const struct fb_yaml_node *n;
        size_t i;
        int k;

        if ((k = fb_yaml_check_keys(m, keys, err)) < 0)
                return k;
        if ((n = fb_yaml_get(m, "rule")) && (k = strv(n, "rule", &r->rules, &r->n_rules, err)) < 0)
                return k;
        if ((n = fb_yaml_get(m, "priority")) && (k = parse_priority(r, n, err)) < 0)
                return k;
        if ((n = fb_yaml_get(m, "tags")) && (k = strv(n, "tags", &r->tags, &r->n_tags, err)) < 0)
                return k;
        if ((n = fb_yaml_get(m, "source")) && (k = dup_scalar(n, "source", &r->source, err)) < 0)
                return k;
        if ((n = fb_yaml_get(m, "container")) && (k = parse_container(r, n, err)) < 0)
                return k;
        n = fb_yaml_get(m, "fields");
        if (!n)
                return 0;
        if (n->kind != FB_YAML_MAPPING)
                return fb_yaml_errorf(err, n, "'fields' must map field names to globs");
        r->field_keys = calloc(n->n / 2 + 1, sizeof(char *));
        r->field_globs = calloc(n->n / 2 + 1, sizeof(char *));
        if (!r->field_keys || !r->field_globs)
                return -ENOMEM;
        for (i = 0; i + 1 < n->n; i += 2) {
                r->n_fields++;
                if ((k = dup_scalar(n->items[i], "field name", &r->field_keys[i / 2], err)) < 0 ||
                    (k = dup_scalar(n->items[i + 1], "field glob", &r->field_globs[i / 2], err)) <
                            0)
                        return k;
        }
        return 0;
}

static int parse_actions(struct fb_policy_rule *r, const struct fb_yaml_node *n,
                         struct fb_yaml_error *err) {
        size_t i, j;
        int paused_at = -1;

        if (!n || n->kind != FB_YAML_SEQUENCE || n->n == 0)
                return fb_yaml_errorf(err, n, "'actions' must be a non-empty list");
        if (n->n > FB_POLICY_MAX_ACTIONS)
                return fb_yaml_errorf(err, n, "at most %u actions", FB_POLICY_MAX_ACTIONS);
        for (i = 0; i < n->n; i++) {
                const struct fb_yaml_node *a = n->items[i];
                int found = -1;

                for (j = 0; a->kind == FB_YAML_SCALAR && j < _FB_ACTION_MAX; j++)
                        if (action_names[j] && strcmp(a->value, action_names[j]) == 0)
                                found = (int)j;
                if (found < 0)
                        return fb_yaml_errorf(err, a,
                                              "unknown action; use inspect, capture, pause, "
                                              "stop, kill, memfd-noexec or notify");
                for (j = 0; j < r->n_actions; j++)
                        if (r->actions[j] == (enum fb_action)found)
                                return fb_yaml_errorf(err, a, "action '%s' appears twice",
                                                      action_names[found]);
                if (found == FB_ACTION_PAUSE)
                        paused_at = (int)i;
                if ((found == FB_ACTION_STOP || found == FB_ACTION_KILL) && paused_at >= 0)
                        return fb_yaml_errorf(err, a,
                                              "'%s' after 'pause': Docker unpauses a paused "
                                              "container to stop or kill it, which lets the "
                                              "paused processes run again",
                                              action_names[found]);
                r->actions[r->n_actions++] = (enum fb_action)found;
        }
        return 0;
}

static int parse_rule(struct fb_policy_rule *r, const struct fb_yaml_node *n,
                      struct fb_yaml_error *err) {
        static const char *const keys[] = { "name", "match", "actions", "continue", NULL };
        const struct fb_yaml_node *c;
        int k;

        if ((k = fb_yaml_check_keys(n, keys, err)) < 0)
                return k;
        r->line = n->line;
        if (!fb_yaml_get(n, "name"))
                return fb_yaml_errorf(err, n, "a rule needs 'name'");
        if ((k = dup_scalar(fb_yaml_get(n, "name"), "name", &r->name, err)) < 0)
                return k;
        if (!fb_yaml_get(n, "match"))
                return fb_yaml_errorf(err, n, "a rule needs 'match' ({} matches every alert)");
        if ((k = parse_match(r, fb_yaml_get(n, "match"), err)) < 0)
                return k;
        if (!fb_yaml_get(n, "actions"))
                return fb_yaml_errorf(err, n, "a rule needs 'actions'");
        if ((k = parse_actions(r, fb_yaml_get(n, "actions"), err)) < 0)
                return k;
        c = fb_yaml_get(n, "continue");
        if (c) {
                if (c->kind != FB_YAML_SCALAR ||
                    (strcmp(c->value, "true") != 0 && strcmp(c->value, "false") != 0))
                        return fb_yaml_errorf(err, c, "'continue' must be true or false");
                r->cont = strcmp(c->value, "true") == 0;
        }
        return 0;
}

static int parse_protect(struct fb_policy *p, const struct fb_yaml_node *n,
                         struct fb_yaml_error *err) {
        static const struct {
                const char *key;
                enum fb_protect_kind kind;
        } kinds[] = {
                { "container.name", FB_PROTECT_NAME },
                { "container.image.repository", FB_PROTECT_IMAGE },
                { "container.label", FB_PROTECT_LABEL },
                { "k8s.ns.name", FB_PROTECT_K8S_NS },
        };
        size_t i, j;
        int k;

        if (n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'protect' must be a list");
        if (n->n > FB_POLICY_MAX_PROTECT)
                return fb_yaml_errorf(err, n, "at most %u protect entries", FB_POLICY_MAX_PROTECT);
        p->protect = calloc(n->n + 1, sizeof(*p->protect));
        if (!p->protect)
                return -ENOMEM;
        for (i = 0; i < n->n; i++) {
                const struct fb_yaml_node *e = n->items[i];
                bool ok = false;

                if (e->kind != FB_YAML_MAPPING || e->n != 2)
                        return fb_yaml_errorf(err, e,
                                              "a protect entry is one key: container.name, "
                                              "container.image.repository, container.label or "
                                              "k8s.ns.name");
                for (j = 0; j < FB_ELEMENTSOF(kinds) && !ok; j++)
                        if (e->items[0]->kind == FB_YAML_SCALAR &&
                            strcmp(e->items[0]->value, kinds[j].key) == 0) {
                                p->protect[p->n_protect].kind = kinds[j].kind;
                                ok = true;
                        }
                if (!ok)
                        return fb_yaml_errorf(err, e->items[0],
                                              "unknown protect key; use container.name, "
                                              "container.image.repository, container.label or "
                                              "k8s.ns.name");
                /* counted before anything can fail, so that fb_policy_free() frees it */
                p->n_protect++;
                k = dup_scalar(e->items[1], "protect pattern",
                               &p->protect[p->n_protect - 1].pattern, err);
                if (k < 0)
                        return k;
                if (p->protect[p->n_protect - 1].kind == FB_PROTECT_LABEL &&
                    !strchr(p->protect[p->n_protect - 1].pattern, '='))
                        return fb_yaml_errorf(err, e->items[1],
                                              "a container.label entry is \"key=value\"");
        }
        return 0;
}

static int parse_guards(struct fb_policy *p, const struct fb_yaml_node *g,
                        struct fb_yaml_error *err) {
        static const char *const keys[] = { "max_disruptive_actions", "window", "max_alert_age",
                                            "protect", NULL };
        const struct fb_yaml_node *n;
        uint64_t v;
        int k;

        if ((k = fb_yaml_check_keys(g, keys, err)) < 0)
                return k;
        n = fb_yaml_get(g, "max_disruptive_actions");
        if (n) {
                if (n->kind != FB_YAML_SCALAR || fb_parse_uint64(n->value, n->len, &v) < 0 ||
                    v > 100000)
                        return fb_yaml_errorf(err, n,
                                              "'max_disruptive_actions' must be 0 to 100000");
                p->max_disruptive_actions = (unsigned)v;
        }
        n = fb_yaml_get(g, "window");
        if (n && (n->kind != FB_YAML_SCALAR || fb_parse_duration(n->value, &p->window_s) < 0))
                return fb_yaml_errorf(err, n,
                                      "'window' must be a duration such as 10m (s, m, h, d)");
        n = fb_yaml_get(g, "max_alert_age");
        if (n &&
            (n->kind != FB_YAML_SCALAR || fb_parse_duration(n->value, &p->max_alert_age_s) < 0))
                return fb_yaml_errorf(err, n,
                                      "'max_alert_age' must be a duration such as 5m (s, m, h, d)");
        n = fb_yaml_get(g, "protect");
        if (n && (k = parse_protect(p, n, err)) < 0)
                return k;
        return 0;
}

/* "250ms", "5s", "1m": milliseconds, at most 10 minutes. */
static int parse_ms(const struct fb_yaml_node *n, unsigned *ret) {
        uint64_t v;

        if (!n || n->kind != FB_YAML_SCALAR)
                return -EINVAL;
        if (n->len > 2 && strcmp(n->value + n->len - 2, "ms") == 0) {
                if (fb_parse_uint64(n->value, n->len - 2, &v) < 0 || v == 0 || v > 600000)
                        return -EINVAL;
                *ret = (unsigned)v;
                return 0;
        }
        if (fb_parse_duration(n->value, &v) < 0 || v > 600)
                return -EINVAL;
        *ret = (unsigned)v * 1000;
        return 0;
}

/* A header name is an RFC 9110 token; values (and secrets from files) never hold a line break
 * or another control byte, so nothing can add a header or split the request. */
static bool header_name_ok(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
                        return false;
        return true;
}

static bool printable(const char *s, size_t len) {
        size_t i;

        for (i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* Reads a secret: at most FB_NOTIFIER_MAX_SECRET bytes, one trailing newline dropped, no other
 * control byte. The error never quotes the content. */
static int read_secret(const struct fb_yaml_node *n, char **ret, struct fb_yaml_error *err) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int k;

        if (scalar(n, "secret file", err) < 0)
                return -EINVAL;
        k = fb_read_file(n->value, FB_NOTIFIER_MAX_SECRET, &data, &len);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return fb_yaml_errorf(err, n, "cannot read the secret file: %s", strerror(-k));
        if (len > 0 && data[len - 1] == '\n')
                len--;
        if (len > 0 && data[len - 1] == '\r')
                len--;
        data[len] = '\0';
        if (len == 0 || !printable(data, len)) {
                explicit_bzero(data, len);
                return fb_yaml_errorf(err, n,
                                      "the secret file must hold one line of printable text");
        }
        *ret = TAKE_PTR(data);
        return 0;
}

static bool url_ok(const char *u) {
        size_t len = strlen(u);

        return len < FB_NOTIFIER_MAX_URL && printable(u, len) && !strchr(u, ' ') &&
               (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
               len > (u[4] == 's' ? 8u : 7u);
}

static int parse_headers(struct fb_notifier_config *c, const struct fb_yaml_node *n,
                         bool from_files, struct fb_yaml_error *err) {
        size_t i;
        int k;

        if (n->kind != FB_YAML_MAPPING)
                return fb_yaml_errorf(err, n, "'%s' must map header names to %s",
                                      from_files ? "header_files" : "headers",
                                      from_files ? "files" : "values");
        for (i = 0; i + 1 < n->n; i += 2) {
                const struct fb_yaml_node *key = n->items[i], *val = n->items[i + 1];
                _cleanup_free_ char *value = NULL;
                char *line;

                if (c->n_headers >= FB_NOTIFIER_MAX_HEADERS)
                        return fb_yaml_errorf(err, key, "at most %u headers",
                                              FB_NOTIFIER_MAX_HEADERS);
                if (key->kind != FB_YAML_SCALAR || !header_name_ok(key->value))
                        return fb_yaml_errorf(err, key, "not a valid HTTP header name");
                if (from_files)
                        k = read_secret(val, &value, err);
                else {
                        k = dup_scalar(val, "header value", &value, err);
                        if (k == 0 && !printable(value, strlen(value)))
                                k = fb_yaml_errorf(err, val,
                                                   "a header value holds no control bytes");
                }
                if (k < 0)
                        return k;
                if (asprintf(&line, "%s: %s", key->value, value) < 0)
                        return -ENOMEM;
                explicit_bzero(value, strlen(value));
                c->headers[c->n_headers++] = line;
        }
        return 0;
}

static int parse_notifier(struct fb_notifier_config *c, const struct fb_yaml_node *n,
                          struct fb_yaml_error *err) {
        static const char *const keys[] = { "name",     "format",  "url",
                                            "url_file", "headers", "header_files",
                                            "timeout",  "retries", "backoff",
                                            NULL };
        const struct fb_yaml_node *v, *url, *url_file;
        uint64_t x;
        int k;

        if ((k = fb_yaml_check_keys(n, keys, err)) < 0)
                return k;
        c->timeout_ms = 5000;
        c->retries = 3;
        c->backoff_ms = 1000;
        if (!fb_yaml_get(n, "name"))
                return fb_yaml_errorf(err, n, "a notifier needs 'name'");
        if ((k = dup_scalar(fb_yaml_get(n, "name"), "name", &c->name, err)) < 0)
                return k;
        v = fb_yaml_get(n, "format");
        if (v && (v->kind != FB_YAML_SCALAR ||
                  (strcmp(v->value, "webhook") != 0 && strcmp(v->value, "slack") != 0)))
                return fb_yaml_errorf(err, v, "'format' must be webhook or slack");
        c->format = v && strcmp(v->value, "slack") == 0 ? FB_NOTIFY_SLACK : FB_NOTIFY_WEBHOOK;
        url = fb_yaml_get(n, "url");
        url_file = fb_yaml_get(n, "url_file");
        if (!url == !url_file)
                return fb_yaml_errorf(err, n, "a notifier needs one of 'url' and 'url_file'");
        if (url)
                k = dup_scalar(url, "url", &c->url, err);
        else {
                k = read_secret(url_file, &c->url, err);
                c->url_secret = true;
        }
        if (k < 0)
                return k;
        if (!url_ok(c->url))
                return fb_yaml_errorf(err, url ? url : url_file,
                                      "the URL must be http:// or https:// and hold no spaces or "
                                      "control bytes");
        c->headers = calloc(FB_NOTIFIER_MAX_HEADERS, sizeof(char *));
        if (!c->headers)
                return -ENOMEM;
        if ((v = fb_yaml_get(n, "headers")) && (k = parse_headers(c, v, false, err)) < 0)
                return k;
        if ((v = fb_yaml_get(n, "header_files")) && (k = parse_headers(c, v, true, err)) < 0)
                return k;
        v = fb_yaml_get(n, "timeout");
        if (v && parse_ms(v, &c->timeout_ms) < 0)
                return fb_yaml_errorf(err, v, "'timeout' must be a duration such as 5s or 500ms");
        v = fb_yaml_get(n, "backoff");
        if (v && parse_ms(v, &c->backoff_ms) < 0)
                return fb_yaml_errorf(err, v, "'backoff' must be a duration such as 1s or 200ms");
        v = fb_yaml_get(n, "retries");
        if (v) {
                if (v->kind != FB_YAML_SCALAR || fb_parse_uint64(v->value, v->len, &x) < 0 ||
                    x > 10)
                        return fb_yaml_errorf(err, v, "'retries' must be 0 to 10");
                c->retries = (unsigned)x;
        }
        return 0;
}

static int parse_notifiers(struct fb_policy *p, const struct fb_yaml_node *n,
                           struct fb_yaml_error *err) {
        size_t i, j;
        int k;

        if (n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n, "'notifiers' must be a list");
        if (n->n > FB_POLICY_MAX_NOTIFIERS)
                return fb_yaml_errorf(err, n, "at most %u notifiers", FB_POLICY_MAX_NOTIFIERS);
        p->notifiers = calloc(n->n + 1, sizeof(*p->notifiers));
        if (!p->notifiers)
                return -ENOMEM;
        for (i = 0; i < n->n; i++) {
                p->n_notifiers++;
                if ((k = parse_notifier(&p->notifiers[i], n->items[i], err)) < 0)
                        return k;
                for (j = 0; j < i; j++)
                        if (strcmp(p->notifiers[j].name, p->notifiers[i].name) == 0)
                                return fb_yaml_errorf(err, n->items[i],
                                                      "two notifiers are named '%s'",
                                                      p->notifiers[i].name);
        }
        return 0;
}

int fb_policy_parse(const char *data, size_t len, struct fb_policy **ret,
                    struct fb_yaml_error *err) {
        static const char *const keys[] = { "mode", "guards", "notifiers", "rules", NULL };
        _cleanup_(fb_yaml_freep) struct fb_yaml_doc *doc = NULL;
        _cleanup_(fb_policy_freep) struct fb_policy *p = NULL;
        const struct fb_yaml_node *root, *n;
        size_t i, n_cont = 0;
        int k;

        k = fb_yaml_parse(data, len, &doc, err);
        if (k < 0)
                return k;
        root = fb_yaml_root(doc);
        if ((k = fb_yaml_check_keys(root, keys, err)) < 0)
                return k;
        n = fb_yaml_get(root, "mode");
        if (n && (n->kind != FB_YAML_SCALAR ||
                  (strcmp(n->value, "enforce") != 0 && strcmp(n->value, "dry-run") != 0)))
                return fb_yaml_errorf(err, n, "'mode' must be enforce or dry-run");
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->dry_run = n && strcmp(n->value, "dry-run") == 0;
        /* defaults: a breaker and an age limit even when the policy names none */
        p->max_disruptive_actions = 5;
        p->window_s = 600;
        p->max_alert_age_s = 300;
        n = fb_yaml_get(root, "guards");
        if (n && (k = parse_guards(p, n, err)) < 0)
                return k;
        n = fb_yaml_get(root, "notifiers");
        if (n && (k = parse_notifiers(p, n, err)) < 0)
                return k;
        n = fb_yaml_get(root, "rules");
        if (!n || n->kind != FB_YAML_SEQUENCE)
                return fb_yaml_errorf(err, n ? n : root, "a policy needs a list of 'rules'");
        if (n->n > FB_POLICY_MAX_RULES)
                return fb_yaml_errorf(err, n, "at most %u rules", FB_POLICY_MAX_RULES);
        p->rules = calloc(n->n + 1, sizeof(*p->rules));
        if (!p->rules)
                return -ENOMEM;
        for (i = 0; i < n->n; i++) {
                p->n_rules++;
                if ((k = parse_rule(&p->rules[i], n->items[i], err)) < 0)
                        return k;
                if (p->rules[i].cont && ++n_cont >= FB_POLICY_MAX_MATCHED)
                        return fb_yaml_errorf(err, n->items[i],
                                              "at most %u rules may say 'continue: true' (no "
                                              "more than %u rules apply to one alert)",
                                              FB_POLICY_MAX_MATCHED - 1, FB_POLICY_MAX_MATCHED);
                for (size_t j = 0; j < p->rules[i].n_actions; j++)
                        if (p->rules[i].actions[j] == FB_ACTION_NOTIFY && p->n_notifiers == 0)
                                return fb_yaml_errorf(err, n->items[i],
                                                      "rule '%s' notifies, but the policy has "
                                                      "no 'notifiers'",
                                                      p->rules[i].name);
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int fb_policy_load(const char *path, struct fb_policy **ret, struct fb_yaml_error *err) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        *err = (struct fb_yaml_error){ 0 };
        r = fb_read_file(path, FB_YAML_MAX_BYTES, &data, &len);
        if (r < 0)
                return r;
        return fb_policy_parse(data, len, ret, err);
}

/* A glob, "!" negating it. Alert values are untrusted but only ever the subject here. */
static bool glob_match(const char *glob, const char *s) {
        bool neg = glob[0] == '!';

        return (fnmatch(glob + neg, s, 0) == 0) != neg;
}

/* The engine's facts against a rule's `container:` conditions. A fact the engine cut
 * (incomplete) or did not give matches nothing. */
static bool container_matches(const struct fb_policy_rule *r, const struct fb_container *c) {
        char repo[sizeof(c->image) + 32];

        if (!r->image && !r->image_id)
                return true;
        if (!c)
                return false;
        if (r->image &&
            ((c->incomplete & FB_FACT_IMAGE) ||
             fb_image_repository(c->image, repo, sizeof(repo)) < 0 || strcmp(repo, r->image) != 0))
                return false;
        return !r->image_id || strcmp(c->image_id, r->image_id) == 0;
}

/* Everything a rule asks of the alert itself. */
static bool alert_matches(const struct fb_policy_rule *r, const struct fb_alert *a) {
        size_t i;

        if (r->n_rules) {
                bool any = false;

                for (i = 0; i < r->n_rules && !any; i++)
                        any = glob_match(r->rules[i], a->rule);
                if (!any)
                        return false;
        }
        if (r->has_priority) {
                /* lower enum values are more severe */
                if (r->prio_op == '>' && a->priority > r->priority)
                        return false;
                if (r->prio_op == '<' && a->priority < r->priority)
                        return false;
                if (r->prio_op == '=' && a->priority != r->priority)
                        return false;
        }
        for (i = 0; i < r->n_tags; i++)
                if (!fb_alert_has_tag(a, r->tags[i]))
                        return false;
        if (r->source && (!a->source || !glob_match(r->source, a->source)))
                return false;
        for (i = 0; i < r->n_fields; i++) {
                const char *v = fb_alert_str(a, r->field_keys[i], NULL);

                /* a missing or non-string field matches only a negated glob */
                if (!v) {
                        if (r->field_globs[i][0] != '!')
                                return false;
                        continue;
                }
                if (!glob_match(r->field_globs[i], v))
                        return false;
        }
        return true;
}

static bool rule_matches(const struct fb_policy_rule *r, const struct fb_alert *a,
                         const struct fb_container *c) {
        return alert_matches(r, a) && container_matches(r, c);
}

bool fb_policy_needs_container(const struct fb_policy *p, const struct fb_alert *a) {
        size_t i;

        /* the rules in matching order, up to the first that decides without the engine */
        for (i = 0; i < p->n_rules; i++) {
                const struct fb_policy_rule *r = &p->rules[i];

                if (!alert_matches(r, a))
                        continue;
                if (r->image || r->image_id)
                        return true;
                if (!r->cont)
                        return false;
        }
        return false;
}

size_t fb_policy_match(const struct fb_policy *p, const struct fb_alert *a,
                       const struct fb_container *c, const struct fb_policy_rule **ret,
                       size_t max) {
        size_t i, n = 0;

        for (i = 0; i < p->n_rules && n < max; i++) {
                if (!rule_matches(&p->rules[i], a, c))
                        continue;
                ret[n++] = &p->rules[i];
                if (!p->rules[i].cont)
                        break;
        }
        return n;
}
