/* engine.c: the runtime-neutral front of the engine layer; checks arguments once for every
 * backend, then dispatches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "firebreak/cleanup.h"
#include "firebreak/strutil.h"

void fb_engine_set_error(struct fb_engine *e, const char *msg, size_t len) {
        if (len >= sizeof(e->last_error))
                len = sizeof(e->last_error) - 1;
        memcpy(e->last_error, msg, len);
        e->last_error[len] = '\0';
}

void fb_container_labels(const struct fb_container *c, bool (*fn)(const char *kv, void *u),
                         void *u) {
        const char *p = c->labels;

        while (p < c->labels + sizeof(c->labels) && *p) {
                if (!fn(p, u))
                        return;
                p += strlen(p) + 1;
        }
}

int fb_image_repository(const char *ref, char *out, size_t n) {
        char name[1024];
        const char *slash, *colon, *path = name, *domain = "docker.io";
        size_t len = strcspn(ref, "@"), dl;
        int w;

        if (len == 0 || len >= sizeof(name))
                return len ? -ENAMETOOLONG : -EINVAL;
        memcpy(name, ref, len);
        name[len] = '\0';
        slash = strrchr(name, '/');
        colon = strrchr(name, ':');
        if (colon && (!slash || colon > slash))
                name[colon - name] = '\0'; /* the tag */
        slash = strchr(name, '/');
        dl = slash ? (size_t)(slash - name) : 0;
        if (slash && (memchr(name, '.', dl) || memchr(name, ':', dl) ||
                      (dl == 9 && memcmp(name, "localhost", 9) == 0))) {
                if (!(dl == 15 && memcmp(name, "index.docker.io", 15) == 0)) {
                        name[dl] = '\0';
                        domain = name;
                }
                path = slash + 1;
        }
        if (!*path || !*domain || path[0] == '/' || path[strlen(path) - 1] == '/' ||
            strstr(path, "//"))
                return -EINVAL;
        w = snprintf(out, n, "%s/%s%s", domain,
                     strcmp(domain, "docker.io") == 0 && !strchr(path, '/') ? "library/" : "",
                     path);
        return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

void fb_container_fact(struct fb_container *c, char *dst, size_t size, const char *src,
                       unsigned bit) {
        if ((size_t)snprintf(dst, size, "%s", src ? src : "") >= size)
                c->incomplete |= bit;
}

void fb_container_add_label(struct fb_container *c, size_t *used, const char *key,
                            const char *value) {
        size_t room = sizeof(c->labels) - *used, kl = strlen(key), vl = strlen(value);

        /* key, '=', value, its NUL, and the list's closing empty string */
        if (kl + vl + 3 > room) {
                c->incomplete |= FB_FACT_LABELS;
                return;
        }
        memcpy(c->labels + *used, key, kl);
        c->labels[*used + kl] = '=';
        memcpy(c->labels + *used + kl + 1, value, vl);
        *used += kl + vl + 2;
        c->labels[*used - 1] = '\0';
        c->labels[*used] = '\0';
}

void fb_engine_free(struct fb_engine *e) {
        if (!e)
                return;
        if (e->ops && e->ops->free)
                e->ops->free(e);
        free(e);
}

const char *fb_engine_name(const struct fb_engine *e) {
        return e->name[0] ? e->name : e->ops->name;
}

static const char *const kind_names[] = {
        [FB_ENGINE_AUTO] = "auto",
        [FB_ENGINE_DOCKER] = "docker",
        [FB_ENGINE_CONTAINERD] = "containerd",
};

int fb_engine_kind_from_string(const char *s, enum fb_engine_kind *ret) {
        size_t i;

        for (i = 0; i < FB_ELEMENTSOF(kind_names); i++)
                if (strcmp(s, kind_names[i]) == 0) {
                        *ret = (enum fb_engine_kind)i;
                        return 0;
                }
        return -EINVAL;
}

const char *fb_engine_kind_to_string(enum fb_engine_kind k) {
        return (unsigned)k < FB_ELEMENTSOF(kind_names) ? kind_names[k] : "?";
}

const char *fb_engine_endpoint(const struct fb_engine *e) {
        return e->endpoint;
}

const char *fb_engine_api_version(const struct fb_engine *e) {
        return e->api_version;
}

const char *fb_engine_last_error(const struct fb_engine *e) {
        return e->last_error;
}

/* Full ids only: 64 lowercase hex digits (what resolve returns). */
static int check_id(struct fb_engine *e, const char *id) {
        e->last_error[0] = '\0';
        return id && strlen(id) == FB_CONTAINER_ID_LEN && fb_is_lower_hex(id, FB_CONTAINER_ID_LEN)
                       ? 0
                       : -EINVAL;
}

int fb_engine_resolve(struct fb_engine *e, const char *prefix,
                      char ret_id[FB_CONTAINER_ID_LEN + 1]) {
        size_t len = prefix ? strlen(prefix) : 0;

        e->last_error[0] = '\0';
        if (len == 0 || len > FB_CONTAINER_ID_LEN || !fb_is_lower_hex(prefix, len))
                return -EINVAL;
        return e->ops->resolve(e, prefix, ret_id);
}

#define DISPATCH(call, ...)                                                                        \
        do {                                                                                       \
                int _r = check_id(e, id);                                                          \
                if (_r < 0)                                                                        \
                        return _r;                                                                 \
                return e->ops->call(e, id, ##__VA_ARGS__);                                         \
        } while (0)

int fb_engine_inspect(struct fb_engine *e, const char *id, struct fb_container *ret,
                      struct fb_buf *raw) {
        DISPATCH(inspect, ret, raw);
}

int fb_engine_pause(struct fb_engine *e, const char *id) {
        DISPATCH(pause);
}

int fb_engine_unpause(struct fb_engine *e, const char *id) {
        DISPATCH(unpause);
}

int fb_engine_stop(struct fb_engine *e, const char *id, unsigned timeout_s) {
        DISPATCH(stop, timeout_s);
}

int fb_engine_kill(struct fb_engine *e, const char *id, const char *signal) {
        size_t i;

        /* a signal name or number, nothing else: it goes into a URL */
        for (i = 0; signal && signal[i]; i++)
                if (!((signal[i] >= 'A' && signal[i] <= 'Z') ||
                      (signal[i] >= '0' && signal[i] <= '9')))
                        return -EINVAL;
        if (!signal || i == 0 || i > 16)
                return -EINVAL;
        DISPATCH(kill, signal);
}

int fb_engine_top(struct fb_engine *e, const char *id, pid_t **ret, size_t *ret_n) {
        DISPATCH(top, ret, ret_n);
}

int fb_engine_changes(struct fb_engine *e, const char *id, struct fb_buf *out) {
        DISPATCH(changes, out);
}

int fb_engine_logs(struct fb_engine *e, const char *id, unsigned tail, struct fb_buf *out) {
        DISPATCH(logs, tail, out);
}

int fb_engine_info(struct fb_engine *e, struct fb_buf *out) {
        e->last_error[0] = '\0';
        return e->ops->info(e, out);
}

int fb_engine_list(struct fb_engine *e, struct fb_buf *out) {
        e->last_error[0] = '\0';
        return e->ops->list ? e->ops->list(e, out) : -EOPNOTSUPP;
}

int fb_engine_run(struct fb_engine *e, const struct fb_run_spec *spec, int *exit_code,
                  struct fb_buf *logs) {
        e->last_error[0] = '\0';
        return e->ops->run ? e->ops->run(e, spec, exit_code, logs) : -EOPNOTSUPP;
}
