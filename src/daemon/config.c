/* config.c: the service's configuration file (YAML) into struct fb_serve_config: defaults,
 * every key checked with its line and column, the listen address and the token file. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/cleanup.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/strutil.h"

#ifndef FB_SYSCONFDIR
#define FB_SYSCONFDIR "/etc"
#endif

FB_DEFINE_CLEANUP(struct fb_yaml_doc *, fb_yaml_free)

/* ---- config ------------------------------------------------------------------------------- */

static int str_key(const struct fb_yaml_node *m, const char *key, char *out, size_t len,
                   struct fb_yaml_error *err) {
        const struct fb_yaml_node *n = fb_yaml_get(m, key);

        if (!n)
                return 0;
        if (n->kind != FB_YAML_SCALAR || n->len == 0 || n->len >= len)
                return fb_yaml_errorf(err, n, "'%s' must be a non-empty string shorter than %zu",
                                      key, len);
        memcpy(out, n->value, n->len + 1);
        return 0;
}

/* "0" (for ever) or a duration of s, m, h or d, up to ten years. */
/* "2G", "512M", "1048576": bytes, with a binary suffix K, M, G or T. */
static int parse_size(const char *v, uint64_t *ret) {
        size_t len = strlen(v);
        unsigned shift = 0;
        uint64_t n;

        if (len && strchr("KMGT", v[len - 1])) {
                shift = 10 * (unsigned)(strchr("KMGT", v[len - 1]) - "KMGT" + 1);
                len--;
        }
        if (fb_parse_uint64(v, len, &n) < 0 || n > (UINT64_MAX >> shift))
                return -EINVAL;
        *ret = n << shift;
        return 0;
}

static int parse_retention(const char *v, uint64_t *ret) {
        if (strcmp(v, "0") == 0) {
                *ret = 0;
                return 0;
        }
        return fb_parse_duration_max(v, 3650 * 86400, ret);
}

static int bool_key(const struct fb_yaml_node *m, const char *key, bool *out,
                    struct fb_yaml_error *err) {
        const struct fb_yaml_node *n = fb_yaml_get(m, key);

        if (!n)
                return 0;
        if (n->kind != FB_YAML_SCALAR ||
            (strcmp(n->value, "true") != 0 && strcmp(n->value, "false") != 0))
                return fb_yaml_errorf(err, n, "'%s' must be true or false", key);
        *out = strcmp(n->value, "true") == 0;
        return 0;
}

void fb_serve_config_defaults(struct fb_serve_config *c) {
        /* the units Falco's packages install, one per driver */
        static const char *const units[] = { "falco-modern-bpf.service", "falco-bpf.service",
                                             "falco-kmod.service", "falco-custom.service",
                                             "falco.service" };

        *c = (struct fb_serve_config){ .http_max_body = 1u << 20,
                                       .n_http_peer_uids = 1,
                                       .retention_s = 30 * 86400,
                                       .incident_window_s = 600,
                                       .max_disk = 1ULL << 30 };
        snprintf(c->journal_identifier, sizeof(c->journal_identifier), "falco");
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                snprintf(c->journal_units[i], sizeof(c->journal_units[i]), "%s", units[i]);
        c->n_journal_units = sizeof(units) / sizeof(units[0]);
        snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/firebreak");
        snprintf(c->reports_dir, sizeof(c->reports_dir), "/var/lib/firebreak/reports");
        snprintf(c->policy, sizeof(c->policy), "%s/firebreak/policy.yaml", FB_SYSCONFDIR);
}

int fb_serve_config_load(const char *path, struct fb_serve_config *c, struct fb_yaml_error *err) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        fb_serve_config_defaults(c);
        if (!path)
                return 0;
        r = fb_read_file(path, FB_YAML_MAX_BYTES, &data, &len);
        if (r < 0)
                return r;
        return fb_serve_config_parse(data, len, c, err);
}

int fb_serve_config_parse(const char *data, size_t len, struct fb_serve_config *c,
                          struct fb_yaml_error *err) {
        static const char *const keys[] = {
                "state_dir", "reports_dir", "format",        "policy",
                "dry_run",   "engine",      "docker_socket", "containerd_socket",
                "sources",   "retention",   "keep_evidence", "incident_window",
                "max_disk",  NULL
        };
        static const char *const src_keys[] = { "stdin", "fifo", "http", "journal", NULL };
        static const char *const journal_keys[] = { "units", "identifier", NULL };
        static const char *const http_keys[] = { "listen",    "token_file",         "max_body",
                                                 "peer_uids", "metrics_token_file", NULL };
        _cleanup_(fb_yaml_freep) struct fb_yaml_doc *doc = NULL;
        const struct fb_yaml_node *root, *src, *http, *jn, *n;
        struct sockaddr_in sa;
        char tmp[32];
        int r;

        r = fb_yaml_parse(data, len, &doc, err);
        if (r < 0)
                return r;
        root = fb_yaml_root(doc);
        if ((r = fb_yaml_check_keys(root, keys, err)) < 0 ||
            (r = str_key(root, "state_dir", c->state_dir, sizeof(c->state_dir), err)) < 0 ||
            (r = str_key(root, "reports_dir", c->reports_dir, sizeof(c->reports_dir), err)) < 0 ||
            (r = str_key(root, "policy", c->policy, sizeof(c->policy), err)) < 0 ||
            (r = bool_key(root, "dry_run", &c->dry_run, err)) < 0 ||
            (r = bool_key(root, "keep_evidence", &c->keep_evidence, err)) < 0 ||
            (r = str_key(root, "docker_socket", c->docker_socket, sizeof(c->docker_socket), err)) <
                    0 ||
            (r = str_key(root, "containerd_socket", c->containerd_socket,
                         sizeof(c->containerd_socket), err)) < 0)
                return r;
        n = fb_yaml_get(root, "retention");
        if (n && (n->kind != FB_YAML_SCALAR || parse_retention(n->value, &c->retention_s) < 0))
                return fb_yaml_errorf(err, n,
                                      "'retention' must be 0 (for ever) or a duration such as "
                                      "30d (s, m, h, d; at most 3650d)");
        n = fb_yaml_get(root, "incident_window");
        if (n &&
            (n->kind != FB_YAML_SCALAR || parse_retention(n->value, &c->incident_window_s) < 0 ||
             c->incident_window_s > 86400))
                return fb_yaml_errorf(err, n,
                                      "'incident_window' must be 0 (no folding) or a duration "
                                      "such as 10m (at most 1d)");
        n = fb_yaml_get(root, "max_disk");
        if (n && (n->kind != FB_YAML_SCALAR || parse_size(n->value, &c->max_disk) < 0 ||
                  c->max_disk < (64ULL << 20)))
                return fb_yaml_errorf(err, n,
                                      "'max_disk' must be a size of at least 64M, such as 2G "
                                      "(bytes, or K, M, G, T)");
        tmp[0] = '\0';
        if ((r = str_key(root, "format", tmp, sizeof(tmp), err)) < 0)
                return r;
        if (tmp[0] && strcmp(tmp, "md") != 0 && strcmp(tmp, "json") != 0)
                return fb_yaml_errorf(err, fb_yaml_get(root, "format"),
                                      "'format' must be md or json");
        c->json = strcmp(tmp, "json") == 0;
        tmp[0] = '\0';
        if ((r = str_key(root, "engine", tmp, sizeof(tmp), err)) < 0)
                return r;
        if (tmp[0] && fb_engine_kind_from_string(tmp, &c->engine) < 0)
                return fb_yaml_errorf(err, fb_yaml_get(root, "engine"),
                                      "'engine' must be auto, docker or containerd");
        src = fb_yaml_get(root, "sources");
        if (!src)
                return 0;
        if ((r = fb_yaml_check_keys(src, src_keys, err)) < 0 ||
            (r = bool_key(src, "stdin", &c->stdin_source, err)) < 0 ||
            (r = str_key(src, "fifo", c->fifo, sizeof(c->fifo), err)) < 0)
                return r;
        jn = fb_yaml_get(src, "journal");
        if (jn) {
                c->journal = true;
                if ((r = fb_yaml_check_keys(jn, journal_keys, err)) < 0 ||
                    (r = str_key(jn, "identifier", c->journal_identifier,
                                 sizeof(c->journal_identifier), err)) < 0)
                        return r;
                n = fb_yaml_get(jn, "units");
                if (n && (n->kind != FB_YAML_SEQUENCE || n->n == 0 ||
                          n->n > sizeof(c->journal_units) / sizeof(c->journal_units[0])))
                        return fb_yaml_errorf(err, n,
                                              "'units' must be a list of 1 to %zu unit "
                                              "names",
                                              sizeof(c->journal_units) /
                                                      sizeof(c->journal_units[0]));
                for (size_t i = 0; n && i < n->n; i++) {
                        const struct fb_yaml_node *u = n->items[i];

                        if (u->kind != FB_YAML_SCALAR || u->len == 0 ||
                            u->len >= sizeof(c->journal_units[0]) || !strchr(u->value, '.') ||
                            strpbrk(u->value, " \t\n/="))
                                return fb_yaml_errorf(err, u,
                                                      "units[%zu]: not a unit name such as "
                                                      "falco-modern-bpf.service",
                                                      i);
                        memcpy(c->journal_units[i], u->value, u->len + 1);
                }
                if (n)
                        c->n_journal_units = n->n;
        }
        http = fb_yaml_get(src, "http");
        if (!http)
                return 0;
        if ((r = fb_yaml_check_keys(http, http_keys, err)) < 0 ||
            (r = str_key(http, "listen", c->http_listen, sizeof(c->http_listen), err)) < 0 ||
            (r = str_key(http, "token_file", c->http_token_file, sizeof(c->http_token_file), err)) <
                    0 ||
            (r = str_key(http, "metrics_token_file", c->http_metrics_token_file,
                         sizeof(c->http_metrics_token_file), err)) < 0)
                return r;
        n = fb_yaml_get(http, "max_body");
        if (n) {
                uint64_t v;

                if (n->kind != FB_YAML_SCALAR || fb_parse_uint64(n->value, n->len, &v) < 0 ||
                    v < 1024 || v > FB_ALERT_MAX_BYTES)
                        return fb_yaml_errorf(err, n, "'max_body' must be 1024 to %u bytes",
                                              FB_ALERT_MAX_BYTES);
                c->http_max_body = (size_t)v;
        }
        n = fb_yaml_get(http, "peer_uids");
        if (n &&
            (n->kind != FB_YAML_SEQUENCE || n->n == 0 || n->n > FB_ELEMENTSOF(c->http_peer_uids)))
                return fb_yaml_errorf(err, n, "'peer_uids' must be a list of 1 to %zu uids",
                                      FB_ELEMENTSOF(c->http_peer_uids));
        for (size_t i = 0; n && i < n->n; i++) {
                const struct fb_yaml_node *u = n->items[i];
                uint64_t v;

                if (u->kind != FB_YAML_SCALAR || fb_parse_uint64(u->value, u->len, &v) < 0 ||
                    v >= UINT32_MAX)
                        return fb_yaml_errorf(err, u, "peer_uids[%zu]: not a numeric uid", i);
                c->http_peer_uids[i] = (uint32_t)v;
                c->n_http_peer_uids = i + 1;
        }
        if (!c->http_listen[0])
                return fb_yaml_errorf(err, http,
                                      "sources.http needs 'listen' (address:port or unix:path)");
        if (strncmp(c->http_listen, "unix:", 5) == 0) {
                if (c->http_listen[5] != '/' ||
                    strlen(c->http_listen + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                        return fb_yaml_errorf(err, http,
                                              "sources.http.listen: unix: needs an absolute path "
                                              "of at most %zu bytes",
                                              sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
                return 0; /* the peer's uid is checked; a token_file adds a token */
        }
        if (fb_serve_parse_listen(c->http_listen, &sa) < 0)
                return fb_yaml_errorf(err, fb_yaml_get(http, "listen"),
                                      "sources.http.listen: '%s' is neither IPv4-address:port "
                                      "(port 1 to 65535) nor unix:path",
                                      c->http_listen);
        if (!c->http_token_file[0])
                return fb_yaml_errorf(err, http,
                                      "sources.http needs 'token_file': HTTP ingest is never "
                                      "open to anyone who can reach the port");
        return 0;
}

int fb_serve_parse_listen(const char *s, struct sockaddr_in *sa) {
        char host[64];
        const char *colon = strrchr(s, ':');
        uint64_t port;

        if (!colon || (size_t)(colon - s) >= sizeof(host) ||
            fb_parse_uint64(colon + 1, strlen(colon + 1), &port) < 0 || port == 0 || port > 65535)
                return -EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        *sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

int fb_serve_read_token(const char *path, char *out, size_t cap) {
        char *tok = NULL;
        size_t len = 0;
        int r = fb_read_file(path, cap - 1, &tok, &len);

        if (r < 0)
                return log_error_errno(r, "%s: the HTTP token: %m", path);
        while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
                len--;
        if (len >= 16) {
                memcpy(out, tok, len);
                out[len] = '\0';
        }
        explicit_bzero(tok, len);
        free(tok);
        if (len < 16) {
                log_error("%s: the HTTP token must be at least 16 characters", path);
                return -EINVAL;
        }
        return (int)len;
}
