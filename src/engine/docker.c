/* docker.c: the Docker Engine API backend (libcurl over the unix socket, through http.c).
 * Verified semantics (DESIGN.md): pause 204, already paused 409; unpause of a running
 * container 500 "is not paused"; /containers/<12hex>/json matches a *name* first, so ids are
 * resolved with the anchored id filter and every later call uses the full id. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "firebreak/log.h"
#include "firebreak/http.h"
#include "firebreak/strutil.h"

/* The newest API version firebreak is tested with (Docker 20.10). Docker 29.0-29.2 refuse
 * versions below 1.44; such an engine answers /_ping with its own version, which wins when it
 * is lower, and is reported clearly otherwise. */
#define DOCKER_API_TESTED "1.41"
#define DOCKER_BODY_MAX (4u * 1024u * 1024u)

struct docker {
        struct fb_http *http;
        char prefix[24]; /* "/v1.41" */
};

static struct docker *D(struct fb_engine *e) {
        return e->backend;
}

/* An API version as Docker writes it, "1.41": major.minor, 1 to 3 digits each and nothing
 * else, since it becomes the prefix of every request path. Returns major * 1000 + minor, or
 * -1 for anything else. */
static int api_version(const char *s) {
        int v[2] = { 0, 0 }, i, digits;

        for (i = 0; i < 2; i++) {
                for (digits = 0; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
                        v[i] = v[i] * 10 + (*s - '0');
                if (digits == 0 || digits > 3 || *s != (i == 0 ? '.' : '\0'))
                        return -1;
                s++;
        }
        return v[0] * 1000 + v[1];
}

/* a.b against c.d: <0, 0, >0; both checked by api_version() */
static int version_cmp(const char *a, const char *b) {
        return api_version(a) - api_version(b);
}

/* Maps an API answer to -errno, recording Docker's {"message": ...}. */
static int status_to_errno(struct fb_engine *e, int status, struct fb_buf *body) {
        json_error_t jerr;
        json_t *j;

        if (status < 0)
                return status;
        if (status >= 200 && status < 300)
                return 0;
        j = body->len ? json_loadb(body->data, body->len, 0, &jerr) : NULL;
        if (j && json_is_string(json_object_get(j, "message")))
                fb_engine_set_error(e, json_string_value(json_object_get(j, "message")),
                                    json_string_length(json_object_get(j, "message")));
        else if (body->len)
                fb_engine_set_error(e, body->data, body->len);
        json_decref(j);
        switch (status) {
        case 400:
                return -EINVAL;
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        case 409:
                return -EBUSY;
        default:
                return -EPROTO;
        }
}

/* method /vX/containers/<id><suffix>: id is a checked full id, suffix a literal of this file
 * or built from numbers and checked signal names. */
static int call(struct fb_engine *e, const char *method, const char *id, const char *suffix,
                struct fb_buf *out) {
        char path[512];

        snprintf(path, sizeof(path), "%s/containers/%s%s", D(e)->prefix, id, suffix);
        return fb_http_request(D(e)->http, method, path, NULL, out, NULL, NULL, 0);
}

/* Counts the containers in a /containers/json answer whose id starts with prefix; the first
 * goes to ret_id. */
static int count_matches(const struct fb_buf *body, const char *prefix,
                         char ret_id[FB_CONTAINER_ID_LEN + 1], size_t *ret_n) {
        json_error_t jerr;
        json_t *arr, *c;
        size_t i, n = 0, plen = strlen(prefix);

        arr = json_loadb(body->data ? body->data : "", body->len, 0, &jerr);
        if (!json_is_array(arr)) {
                json_decref(arr);
                return -EPROTO;
        }
        json_array_foreach(arr, i, c) {
                const char *id = json_string_value(json_object_get(c, "Id"));

                if (!id || strlen(id) != FB_CONTAINER_ID_LEN ||
                    !fb_is_lower_hex(id, FB_CONTAINER_ID_LEN) || strncmp(id, prefix, plen) != 0)
                        continue;
                if (++n == 1)
                        memcpy(ret_id, id, FB_CONTAINER_ID_LEN + 1);
        }
        json_decref(arr);
        *ret_n = n;
        return 0;
}

/* The id filter ({"id":["<prefix>"]}) is Docker's own prefix lookup: one answer when the prefix
 * is unique, and none when it is unknown *or* ambiguous. So none is checked against the full
 * list, to tell the two apart. Names never take part. */
static int docker_resolve(struct fb_engine *e, const char *prefix,
                          char ret_id[FB_CONTAINER_ID_LEN + 1]) {
        struct fb_buf body;
        char path[256];
        size_t n = 0;
        int r;

        /* filters={"id":["<prefix>"]}, URL-encoded; the prefix is hex, checked by engine.c */
        snprintf(path, sizeof(path),
                 "%s/containers/json?all=1&filters=%%7B%%22id%%22%%3A%%5B%%22%s%%22%%5D%%7D",
                 D(e)->prefix, prefix);
        fb_buf_init(&body, DOCKER_BODY_MAX);
        r = status_to_errno(e, fb_http_request(D(e)->http, "GET", path, NULL, &body, NULL, NULL, 0),
                            &body);
        if (r >= 0)
                r = count_matches(&body, prefix, ret_id, &n);
        if (r >= 0 && n == 0) {
                snprintf(path, sizeof(path), "%s/containers/json?all=1", D(e)->prefix);
                fb_buf_reset(&body);
                r = status_to_errno(
                        e, fb_http_request(D(e)->http, "GET", path, NULL, &body, NULL, NULL, 0),
                        &body);
                if (r >= 0)
                        r = count_matches(&body, prefix, ret_id, &n);
        }
        fb_buf_free(&body);
        if (r < 0)
                return r;
        if (n == 0)
                return -ENOENT;
        return n > 1 ? -ENOTUNIQ : 0;
}

static void copy_str(char *dst, size_t n, json_t *v) {
        const char *s = json_string_value(v);

        snprintf(dst, n, "%s", s ? s : "");
}

static int docker_inspect(struct fb_engine *e, const char *id, struct fb_container *ret,
                          struct fb_buf *raw) {
        char want[FB_CONTAINER_ID_LEN + 1];
        struct fb_buf body;
        json_error_t jerr;
        json_t *j;
        const char *name;
        int r;

        fb_buf_init(&body, DOCKER_BODY_MAX);
        r = status_to_errno(e, call(e, "GET", id, "/json", &body), &body);
        if (r < 0) {
                fb_buf_free(&body);
                return r;
        }
        j = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
        if (!json_is_object(j) ||
            strcmp(json_string_value(json_object_get(j, "Id")) ?: "", id) != 0) {
                json_decref(j);
                fb_buf_free(&body);
                return -EPROTO;
        }
        /* id may point into *ret (callers pass c.id and &c): keep it before clearing */
        memmove(want, id, sizeof(want));
        *ret = (struct fb_container){ 0 };
        memcpy(ret->id, want, sizeof(want));
        name = json_string_value(json_object_get(j, "Name"));
        fb_container_fact(ret, ret->name, sizeof(ret->name), name ? name + (name[0] == '/') : "",
                          FB_FACT_NAME);
        fb_container_fact(ret, ret->image, sizeof(ret->image),
                          json_string_value(json_object_get(json_object_get(j, "Config"), "Image")),
                          FB_FACT_IMAGE);
        {
                const char *iid = json_string_value(json_object_get(j, "Image"));

                /* only the form an image id has: anything else is no id */
                if (iid && strlen(iid) == 71 && strncmp(iid, "sha256:", 7) == 0 &&
                    fb_is_lower_hex(iid + 7, 64))
                        memcpy(ret->image_id, iid, 72);
        }
        copy_str(ret->state, sizeof(ret->state),
                 json_object_get(json_object_get(j, "State"), "Status"));
        ret->pid = (pid_t)json_integer_value(json_object_get(json_object_get(j, "State"), "Pid"));
        ret->privileged =
                json_is_true(json_object_get(json_object_get(j, "HostConfig"), "Privileged"));
        ret->tty = json_is_true(json_object_get(json_object_get(j, "Config"), "Tty"));
        {
                json_t *labels = json_object_get(json_object_get(j, "Config"), "Labels"), *v;
                size_t off = 0;
                const char *k;

                json_object_foreach(labels, k, v) {
                        if (json_is_string(v))
                                fb_container_add_label(ret, &off, k, json_string_value(v));
                        else
                                ret->incomplete |= FB_FACT_LABELS; /* not a label we can read */
                }
        }
        if (raw)
                fb_buf_put(raw, body.data, body.len);
        json_decref(j);
        fb_buf_free(&body);
        return raw ? fb_buf_error(raw) : 0;
}

/* POST path; maps 'already' to 1 when status == already_status (and, if set, the message
 * contains already_text). */
static int post_state(struct fb_engine *e, const char *id, const char *suffix, int already_status,
                      const char *already_text) {
        struct fb_buf body;
        int status, r;

        fb_buf_init(&body, 64 * 1024);
        status = call(e, "POST", id, suffix, &body);
        if (status == already_status &&
            (!already_text || (body.data && strstr(body.data, already_text)))) {
                fb_buf_free(&body);
                return 1;
        }
        r = status_to_errno(e, status, &body);
        fb_buf_free(&body);
        return r;
}

static int docker_pause(struct fb_engine *e, const char *id) {
        int r = post_state(e, id, "/pause", 409, "already paused");

        if (r == -EBUSY) {
                /* 409 for other reasons: is it paused (some versions word it differently)? */
                struct fb_container c;

                if (docker_inspect(e, id, &c, NULL) >= 0 && strcmp(c.state, "paused") == 0)
                        return 1;
        }
        return r;
}

static int docker_unpause(struct fb_engine *e, const char *id) {
        int r = post_state(e, id, "/unpause", 500, "is not paused");

        if (r == -EPROTO || r == -EBUSY) {
                struct fb_container c;

                if (docker_inspect(e, id, &c, NULL) >= 0 && strcmp(c.state, "running") == 0)
                        return 1;
        }
        return r;
}

static int docker_stop(struct fb_engine *e, const char *id, unsigned timeout_s) {
        char suffix[32];

        snprintf(suffix, sizeof(suffix), "/stop?t=%u", timeout_s);
        return post_state(e, id, suffix, 304, NULL);
}

static int docker_kill(struct fb_engine *e, const char *id, const char *signal) {
        char suffix[48];

        snprintf(suffix, sizeof(suffix), "/kill?signal=%s", signal); /* checked by engine.c */
        return post_state(e, id, suffix, -1, NULL);
}

static int docker_top(struct fb_engine *e, const char *id, pid_t **ret, size_t *ret_n) {
        struct fb_buf body;
        json_error_t jerr;
        json_t *j, *procs, *row;
        pid_t *pids = NULL;
        size_t i, n = 0;
        int r;

        fb_buf_init(&body, DOCKER_BODY_MAX);
        r = status_to_errno(e, call(e, "GET", id, "/top?ps_args=-eo%20pid", &body), &body);
        j = r >= 0 ? json_loadb(body.data ? body.data : "", body.len, 0, &jerr) : NULL;
        procs = json_object_get(j, "Processes");
        if (r >= 0 && !json_is_array(procs))
                r = -EPROTO;
        if (r >= 0) {
                pids = calloc(json_array_size(procs) + 1, sizeof(*pids));
                if (!pids)
                        r = -ENOMEM;
        }
        json_array_foreach(r >= 0 ? procs : NULL, i, row) {
                const char *s = json_string_value(json_array_get(row, 0));
                int64_t v;

                if (s && fb_parse_int64(s, strlen(s), &v) >= 0 && v > 0 && v <= 0x7fffffff)
                        pids[n++] = (pid_t)v;
        }
        json_decref(j);
        fb_buf_free(&body);
        if (r < 0) {
                free(pids);
                return r;
        }
        *ret = pids;
        *ret_n = n;
        return 0;
}

static int docker_changes(struct fb_engine *e, const char *id, struct fb_buf *out) {
        return status_to_errno(e, call(e, "GET", id, "/changes", out), out);
}

/* Without a TTY, Docker multiplexes stdout and stderr in frames [stream,0,0,0,len_be32]. */
static int docker_logs(struct fb_engine *e, const char *id, unsigned tail, struct fb_buf *out) {
        struct fb_container c;
        struct fb_buf body;
        char suffix[96];
        size_t off = 0;
        int r;

        r = docker_inspect(e, id, &c, NULL);
        if (r < 0)
                return r;
        snprintf(suffix, sizeof(suffix), "/logs?stdout=1&stderr=1&timestamps=1&tail=%u", tail);
        fb_buf_init(&body, out->max);
        r = status_to_errno(e, call(e, "GET", id, suffix, &body), &body);
        if (r >= 0 && c.tty)
                fb_buf_put(out, body.data, body.len);
        while (r >= 0 && !c.tty && body.len - off >= 8) {
                const unsigned char *h = (const unsigned char *)body.data + off;
                size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];

                if (h[0] > 2 || h[1] || h[2] || h[3] || len > body.len - off - 8) {
                        r = -EPROTO;
                        break;
                }
                fb_buf_put(out, body.data + off + 8, len);
                off += 8 + len;
        }
        fb_buf_free(&body);
        return r < 0 ? r : fb_buf_error(out);
}

static int docker_info(struct fb_engine *e, struct fb_buf *out) {
        char path[64];

        snprintf(path, sizeof(path), "%s/info", D(e)->prefix);
        return status_to_errno(
                e, fb_http_request(D(e)->http, "GET", path, NULL, out, NULL, NULL, 0), out);
}

static int docker_list(struct fb_engine *e, struct fb_buf *out) {
        char path[64];

        snprintf(path, sizeof(path), "%s/containers/json?all=1", D(e)->prefix);
        return status_to_errno(
                e, fb_http_request(D(e)->http, "GET", path, NULL, out, NULL, NULL, 0), out);
}

static int docker_run(struct fb_engine *e, const struct fb_run_spec *spec, int *exit_code,
                      struct fb_buf *logs) {
        json_t *req = json_object(), *cmd = json_array(), *binds = json_array(), *j;
        char path[256], id[FB_CONTAINER_ID_LEN + 1] = "";
        struct fb_buf body;
        json_error_t jerr;
        char *text;
        size_t i;
        int r;

        for (i = 0; spec->cmd && spec->cmd[i]; i++)
                json_array_append_new(cmd, json_string(spec->cmd[i]));
        for (i = 0; spec->binds && spec->binds[i]; i++)
                json_array_append_new(binds, json_sprintf("%s:ro", spec->binds[i]));
        json_object_set_new(req, "Image", json_string(spec->image));
        json_object_set_new(req, "Cmd", cmd);
        json_object_set_new(req, "Labels", json_pack("{s:s}", "firebreak.canary", "true"));
        /* a /tmp of its own: the probe writes a file there and runs it, and minimal images
         * (distroless, scratch) have none */
        json_object_set_new(req, "HostConfig",
                            json_pack("{s:o, s:s, s:{s:s}}", "Binds", binds, "NetworkMode", "none",
                                      "Tmpfs", "/tmp", "rw,exec,nosuid,nodev,size=16m"));
        text = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        if (!text)
                return -ENOMEM;
        fb_buf_init(&body, 65536);
        snprintf(path, sizeof(path), "%s/containers/create", D(e)->prefix);
        r = status_to_errno(
                e, fb_http_request(D(e)->http, "POST", path, text, &body, NULL, NULL, 0), &body);
        free(text);
        if (r >= 0) {
                j = json_loadb(body.data, body.len, 0, &jerr);
                if (json_is_string(json_object_get(j, "Id")) &&
                    json_string_length(json_object_get(j, "Id")) == FB_CONTAINER_ID_LEN &&
                    fb_is_lower_hex(json_string_value(json_object_get(j, "Id")),
                                    FB_CONTAINER_ID_LEN))
                        memcpy(id, json_string_value(json_object_get(j, "Id")), sizeof(id));
                else
                        r = -EPROTO;
                json_decref(j);
        }
        if (r >= 0) {
                fb_buf_reset(&body);
                r = status_to_errno(e, call(e, "POST", id, "/start", &body), &body);
        }
        if (r >= 0) {
                fb_buf_reset(&body);
                r = status_to_errno(e, call(e, "POST", id, "/wait", &body), &body);
                j = r >= 0 ? json_loadb(body.data, body.len, 0, &jerr) : NULL;
                if (r >= 0 && !json_is_integer(json_object_get(j, "StatusCode")))
                        r = -EPROTO;
                else if (r >= 0)
                        *exit_code = (int)json_integer_value(json_object_get(j, "StatusCode"));
                json_decref(j);
        }
        if (r >= 0)
                r = docker_logs(e, id, 1000, logs);
        if (id[0]) {
                fb_buf_reset(&body);
                (void)call(e, "DELETE", id, "?force=1&v=1", &body);
        }
        fb_buf_free(&body);
        return r;
}

static void docker_free(struct fb_engine *e) {
        struct docker *d = D(e);

        if (!d)
                return;
        fb_http_free(d->http);
        free(d);
}

static const struct fb_engine_ops docker_ops = {
        .name = "docker",
        .resolve = docker_resolve,
        .inspect = docker_inspect,
        .pause = docker_pause,
        .unpause = docker_unpause,
        .stop = docker_stop,
        .kill = docker_kill,
        .top = docker_top,
        .changes = docker_changes,
        .logs = docker_logs,
        .info = docker_info,
        .list = docker_list,
        .run = docker_run,
        .free = docker_free,
};

int fb_docker_socket_path(const struct fb_engine_config *cfg, char *out, size_t n) {
        const char *host = getenv("DOCKER_HOST");

        if (cfg && cfg->docker_socket)
                snprintf(out, n, "%s", cfg->docker_socket);
        else if (host && *host) {
                if (strncmp(host, "unix://", 7) != 0)
                        return -EINVAL;
                snprintf(out, n, "%s", host + 7);
        } else
                snprintf(out, n, "/run/docker.sock");
        return 0;
}

int fb_engine_open_docker(const struct fb_engine_config *cfg, struct fb_engine **ret) {
        struct fb_engine *e;
        struct docker *d;
        struct fb_buf body;
        char version[16];
        int r;

        e = calloc(1, sizeof(*e));
        d = calloc(1, sizeof(*d));
        if (!e || !d) {
                free(e);
                free(d);
                return -ENOMEM;
        }
        e->ops = &docker_ops;
        e->backend = d;
        r = fb_docker_socket_path(cfg, e->endpoint, sizeof(e->endpoint));
        if (r >= 0)
                r = fb_http_new(e->endpoint, cfg && cfg->timeout_ms ? cfg->timeout_ms : 5000,
                                &d->http);
        if (r < 0) {
                fb_engine_free(e);
                return r;
        }
        fb_buf_init(&body, 4096);
        r = fb_http_request(d->http, "GET", "/_ping", NULL, &body, "Api-Version", version,
                            sizeof(version));
        r = status_to_errno(e, r, &body);
        fb_buf_free(&body);
        if (r >= 0 && api_version(version) < 1000)
                r = log_error_errno(-EPROTO,
                                    "%s: the engine's Api-Version header is not a "
                                    "version (major.minor)",
                                    e->endpoint);
        if (r < 0) {
                fb_engine_free(e);
                return r;
        }
        snprintf(e->api_version, sizeof(e->api_version), "%s",
                 version_cmp(version, DOCKER_API_TESTED) < 0 ? version : DOCKER_API_TESTED);
        /* an engine may refuse old versions (Docker 29.0-29.2: below 1.44): then speak its
         * oldest accepted one */
        fb_buf_init(&body, 64 * 1024);
        if (fb_http_request(d->http, "GET", "/version", NULL, &body, NULL, NULL, 0) == 200) {
                json_error_t jerr;
                json_t *j = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
                const char *min = json_string_value(json_object_get(j, "MinAPIVersion"));

                if (min && api_version(min) >= 1000 && version_cmp(e->api_version, min) < 0 &&
                    version_cmp(min, version) <= 0)
                        snprintf(e->api_version, sizeof(e->api_version), "%s", min);
                json_decref(j);
        }
        fb_buf_free(&body);
        snprintf(d->prefix, sizeof(d->prefix), "/v%s", e->api_version);
        *ret = e;
        return 0;
}
