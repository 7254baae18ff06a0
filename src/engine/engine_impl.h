/* engine_impl.h: what a runtime backend provides to engine.c (private to src/engine). */
#pragma once

#include "firebreak/engine.h"

struct fb_engine_ops {
        const char *name;
        int (*resolve)(struct fb_engine *e, const char *prefix,
                       char ret_id[FB_CONTAINER_ID_LEN + 1]);
        int (*inspect)(struct fb_engine *e, const char *id, struct fb_container *ret,
                       struct fb_buf *raw);
        int (*pause)(struct fb_engine *e, const char *id);
        int (*unpause)(struct fb_engine *e, const char *id);
        int (*stop)(struct fb_engine *e, const char *id, unsigned timeout_s);
        int (*kill)(struct fb_engine *e, const char *id, const char *signal);
        int (*top)(struct fb_engine *e, const char *id, pid_t **ret, size_t *ret_n);
        int (*changes)(struct fb_engine *e, const char *id, struct fb_buf *out);
        int (*logs)(struct fb_engine *e, const char *id, unsigned tail, struct fb_buf *out);
        int (*info)(struct fb_engine *e, struct fb_buf *out);
        int (*list)(struct fb_engine *e, struct fb_buf *out);
        int (*run)(struct fb_engine *e, const struct fb_run_spec *spec, int *exit_code,
                   struct fb_buf *logs);
        void (*free)(struct fb_engine *e);
};

struct fb_engine {
        const struct fb_engine_ops *ops;
        char name[16]; /* overrides ops->name (auto: the engine that owns the last id) */
        char endpoint[4096];
        char api_version[16];
        char last_error[512];
        void *backend;
};

/* The socket a backend is reached at: --docker-socket, else DOCKER_HOST (unix:// only: else
 * -EINVAL), else /run/docker.sock; --containerd-socket, else CONTAINERD_ADDRESS (a path, or
 * unix://path as ctr takes it), else /run/containerd/containerd.sock. */
int fb_docker_socket_path(const struct fb_engine_config *cfg, char *out, size_t n);
void fb_containerd_socket_path(const struct fb_engine_config *cfg, char *out, size_t n);

/* Copies src (NULL: "") into a field of c; a value that does not fit is cut and sets bit in
 * c->incomplete. */
void fb_container_fact(struct fb_container *c, char *dst, size_t size, const char *src,
                       unsigned bit);
/* Appends "key=value" to c->labels; a label that does not fit is left out and sets
 * FB_FACT_LABELS. *used is the list's length so far, without its closing empty string. */
void fb_container_add_label(struct fb_container *c, size_t *used, const char *key,
                            const char *value);

/* Records the engine's message for the last failed call (truncated). */
void fb_engine_set_error(struct fb_engine *e, const char *msg, size_t len);
