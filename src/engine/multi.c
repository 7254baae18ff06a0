/* multi.c: --engine auto: every engine that answers, behind one handle. resolve asks each in
 * order (Docker first: its containers also live in containerd's moby namespace, and Docker's
 * view of them is the one to act through); the engine that finds the id owns it, and every
 * later call for that id goes to it. The handle then carries that engine's name, endpoint and
 * version, so reports and evidence say which engine acted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

#define MAX_ENGINES 2u
#define OWNERS 32u

struct multi {
        struct fb_engine *e[MAX_ENGINES];
        size_t n;
        struct {
                char id[FB_CONTAINER_ID_LEN + 1];
                size_t engine;
        } owner[OWNERS];
        size_t next;
};

static struct multi *M(struct fb_engine *e) {
        return e->backend;
}

/* Shows engine i through the handle: name, endpoint, version, last error. */
static void show(struct fb_engine *e, size_t i) {
        struct fb_engine *x = M(e)->e[i];

        snprintf(e->name, sizeof(e->name), "%s", fb_engine_name(x));
        memcpy(e->endpoint, x->endpoint, sizeof(e->endpoint));
        memcpy(e->api_version, x->api_version, sizeof(e->api_version));
}

static void copy_error(struct fb_engine *e, size_t i) {
        memcpy(e->last_error, M(e)->e[i]->last_error, sizeof(e->last_error));
}

static int find(struct fb_engine *e, const char *id, size_t *ret) {
        struct multi *m = M(e);
        size_t i;

        for (i = 0; i < OWNERS; i++)
                if (strcmp(m->owner[i].id, id) == 0) {
                        *ret = m->owner[i].engine;
                        return 0;
                }
        /* not resolved through this handle: the first engine that knows the id */
        for (i = 0; i < m->n; i++)
                if (m->e[i]->ops->inspect(m->e[i], id, &(struct fb_container){ 0 }, NULL) == 0) {
                        *ret = i;
                        return 0;
                }
        return -ENOENT;
}

static void own(struct fb_engine *e, const char *id, size_t i) {
        struct multi *m = M(e);

        snprintf(m->owner[m->next].id, sizeof(m->owner[0].id), "%s", id);
        m->owner[m->next].engine = i;
        m->next = (m->next + 1) % OWNERS;
        show(e, i);
}

static int multi_resolve(struct fb_engine *e, const char *prefix,
                         char ret_id[FB_CONTAINER_ID_LEN + 1]) {
        struct multi *m = M(e);
        int first = -ENOENT, r;
        size_t i;

        for (i = 0; i < m->n; i++) {
                r = m->e[i]->ops->resolve(m->e[i], prefix, ret_id);
                if (r == 0) {
                        own(e, ret_id, i);
                        return 0;
                }
                if (r == -ENOTUNIQ || r == -EINVAL) {
                        copy_error(e, i);
                        return r;
                }
                /* not there, or that engine failed: the next may own it */
                if (first == -ENOENT)
                        first = r;
                copy_error(e, i);
        }
        return first;
}

/* Dispatches a call for one id to the engine that owns it. */
#define DISPATCH(call)                                                                             \
        size_t i;                                                                                  \
        int r = find(e, id, &i);                                                                   \
        if (r < 0)                                                                                 \
                return r;                                                                          \
        show(e, i);                                                                                \
        r = M(e)->e[i]->ops->call;                                                                 \
        copy_error(e, i);                                                                          \
        return r

static int multi_inspect(struct fb_engine *e, const char *id, struct fb_container *ret,
                         struct fb_buf *raw) {
        DISPATCH(inspect(M(e)->e[i], id, ret, raw));
}

static int multi_pause(struct fb_engine *e, const char *id) {
        DISPATCH(pause(M(e)->e[i], id));
}

static int multi_unpause(struct fb_engine *e, const char *id) {
        DISPATCH(unpause(M(e)->e[i], id));
}

static int multi_stop(struct fb_engine *e, const char *id, unsigned timeout_s) {
        DISPATCH(stop(M(e)->e[i], id, timeout_s));
}

static int multi_kill(struct fb_engine *e, const char *id, const char *signal) {
        DISPATCH(kill(M(e)->e[i], id, signal));
}

static int multi_top(struct fb_engine *e, const char *id, pid_t **ret, size_t *ret_n) {
        DISPATCH(top(M(e)->e[i], id, ret, ret_n));
}

static int multi_changes(struct fb_engine *e, const char *id, struct fb_buf *out) {
        DISPATCH(changes(M(e)->e[i], id, out));
}

static int multi_logs(struct fb_engine *e, const char *id, unsigned tail, struct fb_buf *out) {
        DISPATCH(logs(M(e)->e[i], id, tail, out));
}

/* The first engine's: `harden` works on Docker. */
static int multi_info(struct fb_engine *e, struct fb_buf *out) {
        int r = M(e)->e[0]->ops->info(M(e)->e[0], out);

        copy_error(e, 0);
        return r;
}

static int multi_list(struct fb_engine *e, struct fb_buf *out) {
        return fb_engine_list(M(e)->e[0], out);
}

static int multi_run(struct fb_engine *e, const struct fb_run_spec *spec, int *exit_code,
                     struct fb_buf *logs) {
        return fb_engine_run(M(e)->e[0], spec, exit_code, logs);
}

static void multi_free(struct fb_engine *e) {
        struct multi *m = M(e);
        size_t i;

        if (!m)
                return;
        for (i = 0; i < m->n; i++)
                fb_engine_free(m->e[i]);
        free(m);
}

static const struct fb_engine_ops multi_ops = {
        .name = "auto",
        .resolve = multi_resolve,
        .inspect = multi_inspect,
        .pause = multi_pause,
        .unpause = multi_unpause,
        .stop = multi_stop,
        .kill = multi_kill,
        .top = multi_top,
        .changes = multi_changes,
        .logs = multi_logs,
        .info = multi_info,
        .list = multi_list,
        .run = multi_run,
        .free = multi_free,
};

void fb_engine_describe(const struct fb_engine_config *cfg, enum fb_engine_kind kind, char *out,
                        size_t n) {
        char d[1100] = "", c[1100] = "";

        if (kind != FB_ENGINE_CONTAINERD)
                (void)fb_docker_socket_path(cfg, d, sizeof(d)); /* -EINVAL: left "" */
        if (kind != FB_ENGINE_DOCKER)
                fb_containerd_socket_path(cfg, c, sizeof(c));
        snprintf(out, n, "%s%s%s%s%s", d[0] ? "Docker at " : "", d, d[0] && c[0] ? " or " : "",
                 c[0] ? "containerd at " : "", c);
}

int fb_engine_open(const struct fb_engine_config *cfg, enum fb_engine_kind kind,
                   struct fb_engine **ret) {
        struct fb_engine *e, *d = NULL, *c = NULL;
        struct multi *m;
        int rd, rc;

        if (kind == FB_ENGINE_DOCKER)
                return fb_engine_open_docker(cfg, ret);
        if (kind == FB_ENGINE_CONTAINERD)
                return fb_engine_open_containerd(cfg, ret);
        rd = fb_engine_open_docker(cfg, &d);
        if (rd == -EINVAL) /* DOCKER_HOST is not unix://: a configuration error to report */
                return rd;
        rc = fb_engine_open_containerd(cfg, &c);
        if (rd < 0 && rc < 0)
                return rd;
        if (rd < 0 || rc < 0) {
                *ret = rd < 0 ? c : d;
                return 0;
        }
        e = calloc(1, sizeof(*e));
        m = calloc(1, sizeof(*m));
        if (!e || !m) {
                free(e);
                free(m);
                fb_engine_free(d);
                fb_engine_free(c);
                return -ENOMEM;
        }
        m->e[m->n++] = d;
        m->e[m->n++] = c;
        e->ops = &multi_ops;
        e->backend = m;
        show(e, 0);
        *ret = e;
        return 0;
}
