/* guard.c: protect list, own container, stale alerts and the breaker. */
#include "firebreak/guard.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firebreak/cleanup.h"
#include "firebreak/fileio.h"
#include "firebreak/strutil.h"

struct fb_guard {
        unsigned max;
        uint64_t window_s;
        uint64_t *times; /* ring of the last max action times */
        size_t n, head;
};

int fb_guard_new(const struct fb_policy *p, struct fb_guard **ret) {
        struct fb_guard *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        g->max = p->max_disruptive_actions;
        g->window_s = p->window_s;
        g->times = calloc(g->max ? g->max : 1, sizeof(*g->times));
        if (!g->times) {
                free(g);
                return -ENOMEM;
        }
        *ret = g;
        return 0;
}

void fb_guard_free(struct fb_guard *g) {
        if (!g)
                return;
        free(g->times);
        free(g);
}

/* actions counted in the window ending at now_s */
static size_t in_window(const struct fb_guard *g, uint64_t now_s) {
        size_t i, n = 0;

        for (i = 0; i < g->n; i++)
                if (g->times[i] + g->window_s > now_s)
                        n++;
        return n;
}

/* the ring keeps the newest max times; the oldest is overwritten */
static void ring_push(struct fb_guard *g, uint64_t t) {
        g->times[g->head] = t;
        g->head = (g->head + 1) % g->max;
        if (g->n < g->max)
                g->n++;
}

bool fb_guard_breaker_open(const struct fb_guard *g, uint64_t now_s) {
        return in_window(g, now_s) >= g->max;
}

uint64_t fb_guard_breaker_open_until(const struct fb_guard *g) {
        uint64_t oldest = UINT64_MAX;
        size_t i;

        if (g->max == 0)
                return UINT64_MAX;
        if (g->n < g->max)
                return 0;
        for (i = 0; i < g->n; i++)
                if (g->times[i] < oldest)
                        oldest = g->times[i];
        return oldest + g->window_s;
}

bool fb_guard_breaker_check(const struct fb_guard *g, uint64_t now_s, char *reason, size_t rlen) {
        if (!fb_guard_breaker_open(g, now_s))
                return true;
        snprintf(reason, rlen,
                 "breaker open: %u disruptive actions already in the last %llu s "
                 "(guards.max_disruptive_actions)",
                 g->max, (unsigned long long)g->window_s);
        return false;
}

void fb_guard_breaker_count(struct fb_guard *g, uint64_t now_s) {
        if (g->max)
                ring_push(g, now_s);
}

bool fb_guard_breaker_take(struct fb_guard *g, uint64_t now_s, char *reason, size_t rlen) {
        if (!fb_guard_breaker_check(g, now_s, reason, rlen))
                return false;
        fb_guard_breaker_count(g, now_s);
        return true;
}

void fb_guard_breaker_seed(struct fb_guard *g, const uint64_t *times, size_t n) {
        while (g->max && n > 0)
                ring_push(g, times[--n]);
}

bool fb_guard_stale(const struct fb_policy *p, const struct fb_alert *a, int64_t received_ns,
                    char *reason, size_t rlen) {
        int64_t age_s = (received_ns - a->time_ns) / 1000000000;

        if (age_s <= (int64_t)p->max_alert_age_s)
                return false;
        snprintf(reason, rlen,
                 "alert was %lld s old when firebreak received it, older than "
                 "guards.max_alert_age (%llu s)",
                 (long long)age_s, (unsigned long long)p->max_alert_age_s);
        return true;
}

struct label_match {
        const char *pattern; /* "key=value glob" */
        bool hit;
};

static bool label_cb(const char *kv, void *u) {
        struct label_match *m = u;

        if (fnmatch(m->pattern, kv, 0) == 0)
                m->hit = true;
        return !m->hit;
}

static const char *k8s_ns_label(const struct fb_container *c) {
        static const char key[] = "io.kubernetes.pod.namespace=";
        const char *p = c->labels;

        while (p < c->labels + sizeof(c->labels) && *p) {
                if (strncmp(p, key, sizeof(key) - 1) == 0)
                        return p + sizeof(key) - 1;
                p += strlen(p) + 1;
        }
        return NULL;
}

bool fb_guard_protected(const struct fb_policy *p, const struct fb_alert *a,
                        const struct fb_container *c, char *reason, size_t rlen) {
        static const char *const kind_names[] = { "container.name", "container.image.repository",
                                                  "container.label", "k8s.ns.name" };
        /* the engine's fact each kind of entry reads */
        static const unsigned kind_facts[] = { FB_FACT_NAME, FB_FACT_IMAGE, FB_FACT_LABELS,
                                               FB_FACT_LABELS };
        static const char *const fact_names[] = { "name is longer", "image name is longer",
                                                  "labels are more" };
        size_t i;

        for (i = 0; i < p->n_protect; i++) {
                const struct fb_protect *pr = &p->protect[i];
                const char *alert_v = NULL, *engine_v = NULL;
                bool hit = false;

                /* a fact cut short could have matched: fail closed (a creator who pads the
                 * labels must not push a protect label out of what firebreak keeps) */
                if (c && (c->incomplete & kind_facts[pr->kind])) {
                        unsigned f = kind_facts[pr->kind];

                        snprintf(reason, rlen,
                                 "protected: guards.protect has a %s entry (\"%s\"), and the "
                                 "engine's %s for this container than firebreak keeps, "
                                 "so it cannot tell whether the entry matches",
                                 kind_names[pr->kind], pr->pattern,
                                 fact_names[f == FB_FACT_NAME    ? 0
                                            : f == FB_FACT_IMAGE ? 1
                                                                 : 2]);
                        return true;
                }

                switch (pr->kind) {
                case FB_PROTECT_NAME:
                        alert_v = fb_alert_str(a, "container.name", NULL);
                        engine_v = c ? c->name : NULL;
                        break;
                case FB_PROTECT_IMAGE:
                        alert_v = fb_alert_str(a, "container.image.repository", NULL);
                        engine_v = c ? c->image : NULL;
                        /* the engine's image is "repo:tag"; match the repository part too */
                        if (engine_v) {
                                char repo[512];
                                const char *colon = strrchr(engine_v, ':');

                                snprintf(repo, sizeof(repo), "%.*s",
                                         colon && !strchr(colon, '/') ? (int)(colon - engine_v)
                                                                      : (int)strlen(engine_v),
                                         engine_v);
                                hit = fnmatch(pr->pattern, repo, 0) == 0;
                        }
                        break;
                case FB_PROTECT_LABEL: {
                        struct label_match m = { .pattern = pr->pattern };

                        if (c)
                                fb_container_labels(c, label_cb, &m);
                        hit = m.hit;
                        break;
                }
                case FB_PROTECT_K8S_NS:
                        alert_v = fb_alert_str(a, "k8s.ns.name", NULL);
                        engine_v = c ? k8s_ns_label(c) : NULL;
                        break;
                }
                hit = hit || (alert_v && fnmatch(pr->pattern, alert_v, 0) == 0) ||
                      (engine_v && fnmatch(pr->pattern, engine_v, 0) == 0);
                if (hit) {
                        snprintf(reason, rlen, "protected by guards.protect: %s: \"%s\"",
                                 kind_names[pr->kind], pr->pattern);
                        return true;
                }
        }
        return false;
}

/* The first run of 64 hex digits in s (a cgroup or mount path names the container). */
static bool find_id(const char *s, char ret[FB_CONTAINER_ID_LEN + 1]) {
        size_t run = 0;

        for (; *s; s++) {
                if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))
                        run++;
                else
                        run = 0;
                if (run == FB_CONTAINER_ID_LEN &&
                    !((s[1] >= '0' && s[1] <= '9') || (s[1] >= 'a' && s[1] <= 'f'))) {
                        memcpy(ret, s - FB_CONTAINER_ID_LEN + 1, FB_CONTAINER_ID_LEN);
                        ret[FB_CONTAINER_ID_LEN] = '\0';
                        return true;
                }
        }
        return false;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...". True, with the id, when the
 * mount point is /etc/hostname, /etc/hosts or /etc/resolv.conf and its root is that file in a
 * directory named by a whole 64-hex path component (Docker: .../containers/<id>/hostname;
 * Podman: .../overlay-containers/<id>/userdata/hostname). */
static bool mount_names_self(const char *line, char ret[FB_CONTAINER_ID_LEN + 1]) {
        static const char *const files[] = { "/etc/hostname", "/etc/hosts", "/etc/resolv.conf" };
        const char *f[5], *p = line, *c;
        size_t i, n, rl;

        for (i = 0; i < 5; i++) {
                while (*p == ' ')
                        p++;
                f[i] = p;
                p = strchr(p, ' ');
                if (!p)
                        return false;
        }
        n = (size_t)(p - f[4]);
        for (i = 0; i < FB_ELEMENTSOF(files); i++)
                if (n == strlen(files[i]) && memcmp(f[4], files[i], n) == 0)
                        break;
        if (i == FB_ELEMENTSOF(files))
                return false;
        rl = (size_t)(f[4] - 1 - f[3]);
        /* the root ends in the same file name ("/hostname" for /etc/hostname) */
        n = strlen(files[i]) - 4;
        if (rl < n || memcmp(f[3] + rl - n, files[i] + 4, n) != 0)
                return false;
        for (c = f[3]; c + 66 <= f[3] + rl; c++)
                if (c[0] == '/' && c[65] == '/' && fb_is_lower_hex(c + 1, 64)) {
                        memcpy(ret, c + 1, FB_CONTAINER_ID_LEN);
                        ret[FB_CONTAINER_ID_LEN] = '\0';
                        return true;
                }
        return false;
}

int fb_self_container_id(const char *cgroup_path, const char *mountinfo_path,
                         char ret[FB_CONTAINER_ID_LEN + 1]) {
        char *data = NULL;
        size_t len;
        bool found = false;

        /* cgroup v1 and systemd cgroup v2 paths: .../docker-<id>.scope, /docker/<id> */
        if (fb_read_file(cgroup_path ? cgroup_path : "/proc/self/cgroup", 1 << 20, &data, &len) >=
            0)
                found = find_id(data, ret);
        free(data);
        data = NULL;
        /* cgroup namespaces hide the path ("0::/"): the engine bind-mounts the container's
         * own hostname, hosts and resolv.conf from its directory, named by the full id. Only
         * those mount points count: on the host, other containers' mounts (a shareable IPC
         * namespace's .../containers/<id>/mounts/shm) are in this table too. */
        if (!found && fb_read_file(mountinfo_path ? mountinfo_path : "/proc/self/mountinfo",
                                   1 << 20, &data, &len) >= 0) {
                char *line = data, *next;

                for (; line && *line && !found; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        found = mount_names_self(line, ret);
                }
        }
        free(data);
        return found ? 0 : -ENOENT;
}
