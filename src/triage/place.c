/* place.c: where an alert's event happened, from its source and fields. */
#define _GNU_SOURCE
#include <stdio.h>
#include "triage_impl.h"

#include "firebreak/strutil.h"

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

static const char *const place_names[] = {
        [FB_PLACE_UNKNOWN] = "unknown",
        [FB_PLACE_HOST] = "host",
        [FB_PLACE_CONTAINER] = "container",
        [FB_PLACE_POD] = "pod",
        [FB_PLACE_K8S_API] = "kubernetes-api",
        [FB_PLACE_CLOUD] = "cloud",
        [FB_PLACE_SAAS] = "saas",
        [FB_PLACE_FALCO] = "falco",
};

const char *fb_place_to_string(enum fb_place p) {
        return (unsigned)p < FB_ELEMENTSOF(place_names) ? place_names[p] : "unknown";
}

static bool has_prefix(const char *s, size_t len, const char *p) {
        size_t n = strlen(p);

        return s && len >= n && memcmp(s, p, n) == 0;
}

/* A container event (Falco's evt.type container, the start of a container): Falco fills the
 * process fields with "container:ID" and the user with root and login uid 0, which are no
 * process and no person. Older releases print proc.cmdline so; newer ones evt.type. */
static bool is_container_event(const struct fb_alert *a) {
        size_t l;
        const char *s = fb_alert_str(a, "evt.type", &l);

        if (s && l == 9 && memcmp(s, "container", 9) == 0)
                return true;
        s = fb_alert_str(a, "proc.cmdline", &l);
        return has_prefix(s, l, "container:") && l > 10 && fb_is_lower_hex(s + 10, l - 10);
}

const char *fb_triage_placeholder(const struct fb_report *r, const struct fb_field *f) {
        /* both renderers ask for every field of every alert: the key's first byte settles most */
        const char *k = f->key;
        size_t n = f->key_len;

        if (f->type == FB_VALUE_STRING && f->len == 4 && memcmp(f->str, "<NA>", 4) == 0)
                return "Falco's placeholder: the value was not available";
        if (n < 5 || (k[0] != 'p' && k[0] != 'u' && k[0] != 'c'))
                return NULL;
        if (r->container_event && (memcmp(k, "proc.", 5) == 0 || memcmp(k, "user.", 5) == 0))
                return "Falco's placeholder for a container start event: no process, no person";
        if (n == 13 && memcmp(k, "user.loginuid", 13) == 0 &&
            ((f->type == FB_VALUE_INT && (f->i == -1 || f->i == 4294967295)) ||
             (f->type == FB_VALUE_UINT && f->u == 4294967295u)))
                return "no login session (-1, shown by some releases as 4294967295)";
        if (n == 12 && memcmp(k, "container.id", 12) == 0 && f->type == FB_VALUE_STRING &&
            f->len == 4 && memcmp(f->str, "host", 4) == 0)
                return "Falco's value for the host: no container";
        return NULL;
}

/* The source an alert came from: its `source`, else its fields' class, else its rule's entry. */
static enum fb_place place_of_source(struct fb_report *r) {
        static const struct {
                const char *source, *field; /* the source's name, a field prefix it has */
                enum fb_place place;
                enum fb_kb_source kind;
        } sources[] = {
                { "k8s_audit", "ka.", FB_PLACE_K8S_API, FB_KB_SOURCE_K8S_AUDIT },
                { "aws_cloudtrail", "ct.", FB_PLACE_CLOUD, FB_KB_SOURCE_AWS_CLOUDTRAIL },
                { "gcp_auditlog", "gcp.", FB_PLACE_CLOUD, FB_KB_SOURCE_GCP_AUDITLOG },
                /* the GCP plugin's predecessor (falcosecurity-contrib, "auditlogs", al.*) */
                { "auditlogs", "al.", FB_PLACE_CLOUD, FB_KB_SOURCE_GCP_AUDITLOG },
                { "github", "github.", FB_PLACE_SAAS, FB_KB_SOURCE_GITHUB },
                { "okta", "okta.", FB_PLACE_SAAS, FB_KB_SOURCE_OKTA },
        };
        const struct fb_alert *a = r->alert;
        size_t i, j;

        r->source = FB_KB_SOURCE_SYSCALL;
        if (has_prefix(a->rule, a->rule_len, "Falco internal:") ||
            (a->source && strcmp(a->source, "internal") == 0)) {
                r->source = FB_KB_SOURCE_INTERNAL;
                return FB_PLACE_FALCO;
        }
        if (a->source) {
                for (i = 0; i < FB_ELEMENTSOF(sources); i++)
                        if (strcmp(a->source, sources[i].source) == 0) {
                                r->source = sources[i].kind;
                                return sources[i].place;
                        }
                /* plugins Falco publishes under other names: k8saudit-eks, -gke, -aks, -ovh */
                if (strncmp(a->source, "k8s_audit", 9) == 0 ||
                    strncmp(a->source, "k8saudit", 8) == 0) {
                        r->source = FB_KB_SOURCE_K8S_AUDIT;
                        return FB_PLACE_K8S_API;
                }
                if (strcmp(a->source, "syscall") == 0)
                        return FB_PLACE_UNKNOWN;
        }
        /* no (or an unknown) source: the fields' class says it; the alert's fields are sorted,
         * so one pass over them answers for every class */
        for (j = 0; j < a->n_fields; j++)
                for (i = 0; i < FB_ELEMENTSOF(sources); i++)
                        if (has_prefix(a->fields[j].key, a->fields[j].key_len, sources[i].field)) {
                                r->source = sources[i].kind;
                                return sources[i].place;
                        }
        r->source = r->generic ? FB_KB_SOURCE_SYSCALL : r->entry->source;
        switch (r->source) {
        case FB_KB_SOURCE_K8S_AUDIT:
                return FB_PLACE_K8S_API;
        case FB_KB_SOURCE_AWS_CLOUDTRAIL:
        case FB_KB_SOURCE_GCP_AUDITLOG:
                return FB_PLACE_CLOUD;
        case FB_KB_SOURCE_GITHUB:
        case FB_KB_SOURCE_OKTA:
                return FB_PLACE_SAAS;
        case FB_KB_SOURCE_INTERNAL:
                return FB_PLACE_FALCO;
        default:
                return FB_PLACE_UNKNOWN;
        }
}

/* "the AWS account 123 (region us-east-1)": the cloud or SaaS place as its fields name it. */
static void saas_where(struct fb_report *r) {
        static const struct {
                const char *key, *label;
        } keys[] = {
                { "ct.user.accountid", "the AWS account " },
                { "aws.accountID", "the AWS account " },
                { "ct.region", "the AWS region " },
                { "gcp.projectId", "the GCP project " },
                { "json.value[/resource/labels/project_id]", "the GCP project " },
                { "github.org", "the GitHub organisation " },
                { "github.repo", "the GitHub repository " },
                { "github.repo.name", "the GitHub repository " },
                { "okta.org", "the Okta organisation " },
        };
        const char *sep = "";
        size_t i, len;
        bool any = false;

        for (i = 0; i < FB_ELEMENTSOF(keys); i++) {
                const char *v = str_n(r, keys[i].key, strlen(keys[i].key), &len);

                if (!v)
                        continue;
                put(r, sep);
                put(r, keys[i].label);
                val(r, v, len);
                sep = ", ";
                any = true;
        }
        if (any)
                return;
        if (r->alert->source && strcmp(r->alert->source, "aws_cloudtrail") == 0)
                put(r, "an AWS account (the alert does not name it)");
        else if (r->alert->source && strcmp(r->alert->source, "gcp_auditlog") == 0)
                put(r, "a GCP project (the alert does not name it)");
        else if (r->alert->source && strcmp(r->alert->source, "github") == 0)
                put(r, "a GitHub organisation (the alert does not name it)");
        else if (r->alert->source && strcmp(r->alert->source, "okta") == 0)
                put(r, "an Okta organisation (the alert does not name it)");
        else
                put(r, r->place == FB_PLACE_CLOUD ? "a cloud account (the alert does not name it)"
                                                  : "a SaaS organisation (the alert does not "
                                                    "name it)");
}

void fb_triage_place(struct fb_report *r) {
        const char *cid, *name, *repo, *tag, *ns, *pod;
        size_t cl, nl, rl, tl, nsl, pl, start;

        cid = str(r, "container.id", &cl);
        name = str(r, "container.name", &nl);
        repo = str(r, "container.image.repository", &rl);
        tag = str(r, "container.image.tag", &tl);
        ns = str(r, "k8s.ns.name", &nsl);
        pod = str(r, "k8s.pod.name", &pl);

        r->place = place_of_source(r);
        if (r->place == FB_PLACE_UNKNOWN) {
                /* a syscall event: Falco writes "host" for a host process */
                if (cid && cl == 4 && memcmp(cid, "host", 4) == 0)
                        r->place = FB_PLACE_HOST;
                else if (!cid && name && nl == 4 && memcmp(name, "host", 4) == 0)
                        r->place = FB_PLACE_HOST;
                else if (cid)
                        r->place = ns && pod ? FB_PLACE_POD : FB_PLACE_CONTAINER;
        }
        r->on_host = r->place == FB_PLACE_HOST;
        r->in_container = r->place == FB_PLACE_CONTAINER || r->place == FB_PLACE_POD;
        r->in_k8s = r->place == FB_PLACE_POD;
        r->k8s_audit = r->place == FB_PLACE_K8S_API;
        r->container_event = r->in_container && is_container_event(r->alert);
        if (r->in_container && (cl == 12 || cl == 64) && fb_is_lower_hex(cid, cl)) {
                memcpy(r->cid, cid, cl);
                r->cid[cl] = '\0';
        }

        start = text_begin(r);
        switch (r->place) {
        case FB_PLACE_CONTAINER:
        case FB_PLACE_POD:
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
                break;
        case FB_PLACE_HOST:
                put(r, "the host itself, outside any container");
                break;
        case FB_PLACE_K8S_API:
                if (!k8s_audit_where(r))
                        put(r, "the Kubernetes API (the alert names no object)");
                break;
        case FB_PLACE_CLOUD:
        case FB_PLACE_SAAS:
                saas_where(r);
                break;
        case FB_PLACE_FALCO:
                put(r, "Falco itself");
                if (r->alert->hostname) {
                        put(r, " on ");
                        val(r, r->alert->hostname, r->alert->hostname_len);
                }
                put(r, ": an event about Falco's own operation, not about the monitored system");
                break;
        case FB_PLACE_UNKNOWN:
                put(r, "an unknown place: the alert has no `container.id`, so it does not say "
                       "whether the process ran in a container or on the host");
                break;
        }
        r->where = text_end(r, start);
}
