/* place.c: where an alert's event happened, from its source and fields. */
#define _GNU_SOURCE
#include <stdio.h>
#include "triage_impl.h"

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

void fb_triage_place(struct fb_report *r) {
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
