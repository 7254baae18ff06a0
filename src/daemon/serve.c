/* serve.c: the service: config, sd-event loop, the pipeline, signals, sd_notify. */
#define _GNU_SOURCE
#include "firebreak/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/cleanup.h"
#include "firebreak/clock.h"
#include "firebreak/evidence.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/strutil.h"

#ifndef FB_SYSCONFDIR
#define FB_SYSCONFDIR "/etc"
#endif

#define BATCH 16 /* alerts per loop iteration and per commit; signals and sources stay served */
/* When alerts are acknowledged faster than the pipeline can process them, the backlog grows
 * whatever the pipeline does, and the pipeline then takes at most 1/PIPELINE_SHARE of the time:
 * after a full batch that took t, it waits (PIPELINE_SHARE - 1) t, at most MAX_YIELD_US, before
 * the next. On a machine short of cores, a burst is then acknowledged at nearly the rate of
 * ingest alone (Falco drops what an output does not take in time, while a pending alert only
 * waits); the backlog is processed in order, and the pipeline never stops: at worst one batch
 * per MAX_YIELD_US. The ingest rate is measured over RATE_WINDOW_US, the pipeline's from its
 * last batch. */
#define PIPELINE_SHARE 4
#define MAX_YIELD_US 50000u
#define RATE_WINDOW_US 100000u
#define STATUS_EVERY_US 1000000u

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
                  c->max_disk < (16ULL << 20)))
                return fb_yaml_errorf(err, n,
                                      "'max_disk' must be a size of at least 16M, such as 2G "
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

/* ---- ingest -------------------------------------------------------------------------------- */

/* Group commit: one transaction (one fsync) for everything queued while the last one ran. */
/* A storm's queue is what fills the disk first: bodies wait to be processed (and, for repeats,
 * folded away). Past a quarter of max_disk of them, the next group waits for the pipeline to
 * work the queue down, for up to 5 s at a time: posters get their answer later, stdin and the
 * FIFO are read later; nothing is refused. */
static void queue_room(struct fb_serve *s) {
        for (int i = 0; i < 500 && atomic_load(&s->queue_bytes) > s->cfg.max_disk / 4 &&
                        !atomic_load(&s->quitting);
             i++)
                usleep(10000);
}

/* The pipeline processed bytes of the queue (saturating: alerts pending at the start were
 * never counted in). */
static void queue_done(struct fb_serve *s, uint64_t bytes) {
        unsigned long long v = atomic_load(&s->queue_bytes);

        while (!atomic_compare_exchange_weak(&s->queue_bytes, &v, v > bytes ? v - bytes : 0))
                ;
}

static void *committer(void *u) {
        struct fb_serve *s = u;
        struct fb_store_alert *batch = NULL;
        size_t cap = 0;

        pthread_mutex_lock(&s->ingest_lock);
        for (;;) {
                struct ingest_item *q, *it, *next, *cbs;
                size_t n = 0, i;
                uint64_t one = 1;
                int r;

                while (!s->queue && !s->stopping)
                        pthread_cond_wait(&s->ingest_cond, &s->ingest_lock);
                if (!s->queue)
                        break;
                /* taken oldest first: alerts are stored, and so processed, in arrival order */
                for (q = NULL, it = s->queue; it; it = next, n++) {
                        next = it->next;
                        it->next = q;
                        q = it;
                }
                s->queue = NULL;
                pthread_mutex_unlock(&s->ingest_lock);
                if (n > cap) {
                        struct fb_store_alert *b = realloc(batch, n * sizeof(*b));

                        if (b) {
                                batch = b;
                                cap = n;
                        }
                }
                if (n > cap)
                        r = -ENOMEM;
                else {
                        uint64_t bytes = 0;

                        for (i = 0, it = q; it; it = it->next) {
                                bytes += it->a.body_len;
                                batch[i++] = it->a;
                        }
                        queue_room(s);
                        pthread_mutex_lock(&s->write_lock);
                        r = fb_store_ingest(s->ingest, batch, n, NULL);
                        pthread_mutex_unlock(&s->write_lock);
                        if (r >= 0)
                                atomic_fetch_add(&s->queue_bytes, bytes);
                }
                if (r >= 0 && write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                        r = -errno;
                pthread_mutex_lock(&s->ingest_lock);
                /* a waiting caller's item lives on its stack: read next before its result
                 * is set, and keep the items with callbacks on a list of their own */
                cbs = NULL;
                for (i = 0, it = q; it; it = next, i++) {
                        next = it->next;
                        it->a.duplicate = r >= 0 && batch[i].duplicate;
                        it->result = r;
                        if (r >= 0)
                                atomic_fetch_add(it->a.duplicate ? &s->m.duplicates[it->source]
                                                                 : &s->m.received[it->source],
                                                 1);
                        if (it->done) {
                                it->next = cbs;
                                cbs = it;
                        }
                }
                pthread_cond_broadcast(&s->ingest_done);
                pthread_mutex_unlock(&s->ingest_lock);
                for (it = cbs; it; it = next) {
                        next = it->next;
                        it->done(it); /* the item may be gone after this */
                }
                pthread_mutex_lock(&s->ingest_lock);
        }
        pthread_mutex_unlock(&s->ingest_lock);
        free(batch);
        return NULL;
}

/* Each thread that validates keeps one alert: the storage is large (every field's slot), and
 * an allocation and clearing of it per request showed in the ingest profile. */
static pthread_key_t check_key;
static pthread_once_t check_once = PTHREAD_ONCE_INIT;

static void check_alert_free(void *a) {
        fb_alert_free(a);
}

static void check_key_init(void) {
        (void)pthread_key_create(&check_key, check_alert_free);
}

int fb_serve_check(struct fb_serve *s, int source, const char *data, size_t len, char *id,
                   size_t id_len, char *err, size_t err_len) {
        struct fb_alert_error aerr;
        struct fb_alert *a;
        int r;

        pthread_once(&check_once, check_key_init);
        a = pthread_getspecific(check_key);
        if (!a) {
                r = fb_alert_new(&a);
                if (r < 0)
                        return r;
                if (pthread_setspecific(check_key, a) != 0) {
                        fb_alert_free(a);
                        return -ENOMEM;
                }
        }
        r = fb_alert_parse(a, data, len, &aerr);
        if (r < 0) {
                snprintf(err, err_len, "%s", aerr.text);
                atomic_fetch_add(&s->m.rejected[source], 1);
                fb_alert_reset(a);
                return -EINVAL;
        }
        snprintf(id, id_len, "%s", a->id);
        fb_alert_reset(a); /* the tree goes now: a thread may wait long for its next request */
        return 0;
}

void fb_serve_wake(struct fb_serve *s) {
        uint64_t one = 1;

        (void)!write(s->wake_fd, &one, sizeof(one)); /* EAGAIN: a wake-up is pending already */
}

void fb_serve_item(struct ingest_item *it, int source, const char *data, size_t len) {
        static const char *const names[] = { "http", "stdin", "journal" };

        it->a = (struct fb_store_alert){
                .id = it->id, .source = names[source], .body = data, .body_len = len
        };
        it->source = source;
        it->result = 1;
}

/* The queue is newest first; the committer turns it around. */
void fb_serve_enqueue(struct fb_serve *s, int source, const char *data, size_t len,
                      struct ingest_item *it) {
        fb_serve_item(it, source, data, len);
        pthread_mutex_lock(&s->ingest_lock);
        it->next = s->queue;
        s->queue = it;
        pthread_cond_signal(&s->ingest_cond);
        pthread_mutex_unlock(&s->ingest_lock);
}

void fb_serve_commit(struct fb_serve *s, struct ingest_item *items, size_t n) {
        size_t i;

        pthread_mutex_lock(&s->ingest_lock);
        for (i = 0; i < n; i++) {
                items[i].done = NULL;
                items[i].next = s->queue;
                s->queue = &items[i];
        }
        pthread_cond_signal(&s->ingest_cond);
        for (i = 0; i < n; i++)
                while (items[i].result == 1)
                        pthread_cond_wait(&s->ingest_done, &s->ingest_lock);
        pthread_mutex_unlock(&s->ingest_lock);
}

/* ---- pipeline ------------------------------------------------------------------------------ */

/* A structured journal entry per action: what a SIEM or journalctl -o json picks up. */
static void journal_audit(const struct fb_alert *a, const struct fb_response *resp) {
        size_t i;

        for (i = 0; i < resp->n_actions; i++) {
                const struct fb_response_action *x = &resp->actions[i];

                sd_journal_send("MESSAGE=firebreak: %s %s on %s: %s",
                                fb_action_to_string(x->action), fb_act_result_to_string(x->result),
                                resp->target[0] ? resp->target : "no container", x->detail,
                                "MESSAGE_ID=4f2c5e0b1d9a4c7e8b6f3a2d1c0e9f87", "PRIORITY=%d",
                                x->result == FB_ACT_FAILED ? LOG_ERR : LOG_NOTICE, "FB_ALERT_ID=%s",
                                a->id, "FB_CONTAINER_ID=%s", resp->target, "FB_ACTION=%s",
                                fb_action_to_string(x->action), "FB_RESULT=%s",
                                fb_act_result_to_string(x->result), "FB_MODE=%s",
                                resp->dry_run ? "dry-run" : "enforce", NULL);
        }
}

static unsigned long sum3(atomic_ulong v[3]) {
        return atomic_load(&v[0]) + atomic_load(&v[1]) + atomic_load(&v[2]);
}

/* Alerts stored and not yet processed, from those at the start and what was counted since:
 * no scan of the store, which grows. It can lag a batch behind (the committer counts after its
 * commit, and the pipeline may process the alerts first): never below 0. */
static uint64_t queue_depth(struct fb_serve *s) {
        uint64_t out = sum3(s->m.processed) + sum3(s->m.failed),
                 in = s->base_pending + sum3(s->m.received);

        return in > out ? in - out : 0;
}

static void status_line(struct fb_serve *s, bool force);

static int status_due(sd_event_source *es, uint64_t usec, void *u) {
        status_line(u, true);
        return 0;
}

/* STATUS= for systemctl status: at most one a second (each is a message to the service
 * manager); one held back goes out when its second is over. force: now (start, reload). */
static void status_line(struct fb_serve *s, bool force) {
        uint64_t now = fb_mono_us();

        if (!force && now - s->status_at < STATUS_EVERY_US) {
                uint64_t wait = s->status_at + STATUS_EVERY_US - now;

                if (!s->status_src)
                        (void)sd_event_add_time_relative(s->event, &s->status_src, CLOCK_MONOTONIC,
                                                         wait, 1000, status_due, s);
                else if (sd_event_source_get_enabled(s->status_src, NULL) == 0 &&
                         sd_event_source_set_time_relative(s->status_src, wait) >= 0)
                        (void)sd_event_source_set_enabled(s->status_src, SD_EVENT_ONESHOT);
                return;
        }
        s->status_at = now;
        sd_notifyf(0, "STATUS=%lu processed, %lu failed since the start, %llu pending%s",
                   sum3(s->m.processed), sum3(s->m.failed), (unsigned long long)queue_depth(s),
                   s->cfg.dry_run ? " (dry-run)" : "");
}

/* What the store records for a processed alert, kept until the batch commits. */
struct fb_done {
        char id[FB_ALERT_ID_MAX + 1];
        int source; /* SRC_* */
        const char *status, *verdict;
        char rule[FB_ALERT_MAX_NAME_LEN + 1];
        char report[2100];
        bool has_response;
        struct fb_response response;
        char incident[FB_ALERT_ID_MAX + 1]; /* folded into this incident: "" when not */
        int64_t seen;                       /* received (Unix seconds) */
};

static int record(struct fb_done *d, const char *id, const char *status, const char *rule,
                  const char *verdict, const char *report, const struct fb_response *resp) {
        snprintf(d->id, sizeof(d->id), "%s", id); /* d->source: set by run_batch() */
        d->status = status;
        d->verdict = verdict;
        snprintf(d->rule, sizeof(d->rule), "%s", rule ? rule : "");
        snprintf(d->report, sizeof(d->report), "%s", report ? report : "");
        d->has_response = resp != NULL;
        if (resp)
                d->response = *resp;
        d->incident[0] = '\0';
        return 0;
}

/* One pending alert through triage, policy, actions, report; recorded in d for the batch's
 * commit. */
static int process_one(struct fb_serve *s, const char *id, int64_t received, struct fb_done *d) {
        struct fb_alert_error aerr;
        char name[FB_ALERT_ID_MAX + 8], report[2100];
        struct fb_incident *inc;
        int r;

        r = fb_alert_parse(s->alert, s->body.data, s->body.len, &aerr);
        if (r < 0) {
                log_error("alert %s: stored, but no longer parses: %s", id, aerr.text);
                return record(d, id, "failed", NULL, NULL, NULL, NULL);
        }
        inc = s->incidents ? fb_incidents_find(s->incidents, s->alert) : NULL;
        if (inc) {
                /* a repeat: counted on the incident, whose response covers it */
                fb_incident_add(inc, s->alert);
                fb_incident_flush(inc, false);
                record(d, id, "done", s->alert->rule, NULL, NULL, NULL);
                snprintf(d->incident, sizeof(d->incident), "%s", fb_incident_head(inc));
                d->seen = received;
                return 0;
        }
        s->report.forms = s->cfg.json ? FB_REPORT_JSON : FB_REPORT_MD; /* a reload may change it */
        r = fb_triage(s->kb, s->alert, &s->report);
        if (r >= 0)
                r = fb_respond(s->responder, s->alert, &s->report, received * 1000000000,
                               &s->response);
        if (r == -EIO)
                log_error("alert %s: the audit log could not be written", id);
        s->report.response = &s->response;
        fb_buf_reset(&s->out);
        if (r >= 0)
                r = s->cfg.json ? fb_report_json(&s->report, &s->out)
                                : fb_report_md(&s->report, &s->out);
        snprintf(name, sizeof(name), "%s.%s", s->alert->id, s->cfg.json ? "json" : "md");
        snprintf(report, sizeof(report), "%s/%s", s->cfg.reports_dir, name);
        if (r >= 0)
                /* no fsync: the store's commit is the durable record, and a report can be
                 * rebuilt from the stored alert */
                r = fb_write_file_replace(s->cfg.reports_dir, name, s->out.data, s->out.len, 0640,
                                          false);
        fb_respond_report_done(s->responder);
        journal_audit(s->alert, &s->response);
        for (size_t i = 0; i < s->response.n_actions; i++)
                if ((unsigned)s->response.actions[i].action < _FB_ACTION_MAX)
                        atomic_fetch_add(&s->m.actions[s->response.actions[i].action]
                                                      [s->response.actions[i].result % 6],
                                         1);
        if (r < 0) {
                log_error_errno(r, "alert %s: %m", id);
                /* recorded as failed, with whatever was done: never silently retried */
                return record(d, id, "failed", s->alert->rule,
                              fb_verdict_to_string(s->report.verdict), NULL, &s->response);
        }
        /* its repeats fold into it, unless something it was to do must be tried again */
        if (s->incidents && !s->response.retry &&
            fb_incidents_open(s->incidents, s->alert, s->cfg.reports_dir, name, s->cfg.json,
                              s->out.data, s->out.len) < 0)
                log_warning("alert %s: out of memory for its incident: repeats get reports of "
                            "their own",
                            id);
        return record(d, id, "done", s->alert->rule, fb_verdict_to_string(s->report.verdict),
                      report, &s->response);
}

static int run_batch(sd_event_source *es, void *u);

static int retry(sd_event_source *es, uint64_t usec, void *u) {
        return run_batch(es, u);
}

static int resume(sd_event_source *es, uint64_t usec, void *u) {
        struct fb_serve *s = u;

        s->resume_us = 0;
        return run_batch(es, s);
}

/* After a full batch that took since t0: yields to ingest when it outpaces the pipeline
 * (PIPELINE_SHARE). */
static int next_batch(struct fb_serve *s, uint64_t t0) {
        uint64_t t1 = fb_mono_us(), wait;
        unsigned long got =
                atomic_load(&s->m.received[SRC_HTTP]) + atomic_load(&s->m.duplicates[SRC_HTTP]) +
                atomic_load(&s->m.received[SRC_STREAM]) + atomic_load(&s->m.duplicates[SRC_STREAM]);
        int r;

        if (t1 - s->rate_at >= RATE_WINDOW_US) {
                s->ingest_rate = (double)(got - s->rate_got) * 1e6 / (double)(t1 - s->rate_at);
                s->rate_at = t1;
                s->rate_got = got;
        }
        /* the queue's bodies are what a storm fills the disk with: near max_disk the pipeline
         * works it down (folding repeats drops their bodies) instead of making way */
        if (s->ingest_rate * (double)(t1 - t0) <= BATCH * 1e6 || atomic_load(&s->disk_level))
                return sd_event_source_set_enabled(s->defer_src, SD_EVENT_ONESHOT);
        wait = (t1 - t0) * (PIPELINE_SHARE - 1);
        if (wait > MAX_YIELD_US)
                wait = MAX_YIELD_US;
        s->resume_us = t1 + wait;
        atomic_fetch_add(&s->m.yields, 1);
        if (!s->yield_src)
                /* accuracy 1 ms: sd-event's default (250 ms) would stall the pipeline */
                return sd_event_add_time_relative(s->event, &s->yield_src, CLOCK_MONOTONIC, wait,
                                                  1000, resume, s);
        r = sd_event_source_set_time_relative(s->yield_src, wait);
        return r < 0 ? r : sd_event_source_set_enabled(s->yield_src, SD_EVENT_ONESHOT);
}

/* The source an alert was stored with (the store's names) as SRC_*. */
static int source_index(const char *name) {
        if (strcmp(name, "http") == 0)
                return SRC_HTTP;
        if (strcmp(name, "journal") == 0)
                return SRC_JOURNAL;
        return SRC_STREAM;
}

/* Standard input, the only source, has ended: nothing more can arrive. Falco's program_output
 * starts its program for each alert (unless keep_alive is true) and waits for it to exit, and
 * `serve --stdin < FILE` is a run over a file: both stop once what was read is processed.
 * Beside another source, the service goes on. */
static bool input_done(const struct fb_serve *s) {
        return fb_stream_source_ended(s->stdin_src) && !s->fifo_src && !s->http && !s->journal;
}

/* Processes up to BATCH pending alerts, then records them all in one short transaction: the
 * write lock is held for the commit only, never while alerts are processed, so ingest's
 * commits do not wait behind the pipeline. A crash before the commit replays the batch. */
static int run_batch(sd_event_source *es, void *u) {
        struct fb_serve *s = u;
        char id[FB_ALERT_ID_MAX + 1], source[16];
        uint64_t t0 = fb_mono_us();
        int64_t seq = 0, received = 0;
        uint64_t bytes = 0;
        size_t i, n = 0;
        bool idle = false; /* nothing left pending */
        int r = 0;

        if (t0 < s->resume_us)
                return 0; /* yielding to ingest: resume() comes back */
        while (n < BATCH && !s->draining) {
                r = fb_store_next_pending(s->store, &seq, id, sizeof(id), source, sizeof(source),
                                          &s->body, &received);
                idle = r == 0;
                if (r <= 0)
                        break;
                r = process_one(s, id, received, &s->done[n]);
                if (r < 0)
                        break;
                bytes += s->body.len;
                s->done[n].source = source_index(source);
                n++;
        }
        if (n)
                pthread_mutex_lock(&s->write_lock);
        if (r >= 0 && n)
                r = fb_store_batch_begin(s->store);
        for (i = 0; r >= 0 && i < n; i++) {
                const struct fb_done *d = &s->done[i];

                r = fb_store_finish(s->store, d->id, d->status, d->rule[0] ? d->rule : NULL,
                                    d->verdict, d->report[0] ? d->report : NULL,
                                    d->has_response ? &d->response : NULL);
                if (r >= 0 && d->incident[0])
                        r = fb_store_fold(s->store, d->id, d->incident, d->seen,
                                          atomic_load(&s->disk_level) == 0);
        }
        if (n && r >= 0)
                r = fb_store_batch_end(s->store);
        else if (n)
                fb_store_batch_abort(s->store);
        if (n)
                pthread_mutex_unlock(&s->write_lock);
        if (r < 0) {
                /* a full or read-only disk: the batch stays pending and is tried again (its
                 * actions are idempotent); the service keeps answering meanwhile */
                log_error_errno(r, "the store could not record the processed alerts: %m; they "
                                   "stay pending, retrying in 1 s");
                if (!s->retry_src)
                        return sd_event_add_time_relative(s->event, &s->retry_src, CLOCK_MONOTONIC,
                                                          1000000, 0, retry, s);
                r = sd_event_source_set_time_relative(s->retry_src, 1000000);
                return r < 0 ? r : sd_event_source_set_enabled(s->retry_src, SD_EVENT_ONESHOT);
        }
        queue_done(s, bytes);
        /* counted once recorded: a batch that could not be is processed again */
        for (i = 0; i < n; i++) {
                atomic_fetch_add(strcmp(s->done[i].status, "done") == 0
                                         ? &s->m.processed[s->done[i].source]
                                         : &s->m.failed[s->done[i].source],
                                 1);
                if (s->done[i].incident[0])
                        atomic_fetch_add(&s->m.folded, 1);
        }
        atomic_store(&s->m.breaker_until, fb_respond_breaker_open_until(s->responder));
        /* more waiting: come back after the other event sources had their turn */
        status_line(s, false);
        if (n == BATCH && !s->draining)
                return next_batch(s, t0);
        if (idle && input_done(s)) {
                log_info("standard input ended (alerts stored: %lu, duplicates: %lu, lines "
                         "rejected: %lu) and every stored alert is processed: stopping",
                         atomic_load(&s->m.received[SRC_STREAM]),
                         atomic_load(&s->m.duplicates[SRC_STREAM]),
                         atomic_load(&s->m.rejected[SRC_STREAM]));
                sd_notify(0, "STOPPING=1\nSTATUS=standard input ended; every alert processed");
                s->draining = true;
                return sd_event_exit(s->event, 0);
        }
        return sd_event_source_set_enabled(s->defer_src, SD_EVENT_OFF);
}

static int on_wake(sd_event_source *es, int fd, uint32_t revents, void *u) {
        struct fb_serve *s = u;
        uint64_t n;

        (void)!read(fd, &n, sizeof(n));
        return run_batch(es, s);
}

/* ---- signals ------------------------------------------------------------------------------ */

static int on_term(sd_event_source *es, const struct signalfd_siginfo *si, void *u) {
        struct fb_serve *s = u;

        sd_notify(0, "STOPPING=1\nSTATUS=stopping: the alert in progress finishes, pending ones "
                     "stay stored");
        s->draining = true;
        return sd_event_exit(s->event, 0);
}

static int load_policy(const char *path, struct fb_policy **ret) {
        struct fb_yaml_error err;
        int r = fb_policy_load(path, ret, &err);

        if (r == -EINVAL)
                log_error("%s:%u:%u: %s", path, err.line, err.column, err.text);
        else if (r < 0)
                log_error_errno(r, "%s: %m", path);
        return r;
}

/* sources.fifo opened as the service reads it (read-write: no EOF when a writer goes).
 * Returns the fd, or -errno after saying why. */
static int open_fifo(const char *path) {
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return log_error_errno(-errno, "sources.fifo: %s: %m", path);
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
                close(fd);
                log_error("sources.fifo: %s: not a FIFO (mkfifo makes one)", path);
                return -EINVAL;
        }
        return fd;
}

int fb_serve_config_verify(const struct fb_serve_config *c, struct fb_policy **policy,
                           size_t *token_len) {
        char token[512];
        struct stat st;
        bool ok = true;
        int r;

        *token_len = 0;
        if (load_policy(c->policy, policy) < 0) {
                *policy = NULL;
                ok = false;
        }
        if (c->http_token_file[0]) {
                r = fb_serve_read_token(c->http_token_file, token, sizeof(token));
                explicit_bzero(token, sizeof(token));
                if (r < 0)
                        ok = false;
                else
                        *token_len = (size_t)r;
                if (r >= 0 && stat(c->http_token_file, &st) == 0 && (st.st_mode & 0077))
                        log_warning("%s: the HTTP token is readable by others than its owner "
                                    "(mode %04o): chmod 600 it",
                                    c->http_token_file, (unsigned)(st.st_mode & 07777));
        }
        if (c->http_metrics_token_file[0]) {
                r = fb_serve_read_token(c->http_metrics_token_file, token, sizeof(token));
                explicit_bzero(token, sizeof(token));
                if (r < 0)
                        ok = false;
        }
        if (c->fifo[0]) {
                r = open_fifo(c->fifo);
                if (r >= 0)
                        close(r);
                else
                        ok = false;
        }
        if (!ok) {
                fb_policy_free(*policy);
                *policy = NULL;
                return -EINVAL;
        }
        return 0;
}

/* A responder for the configuration and policy. Its breaker starts from the disruptive
 * actions the store recorded in the policy's window: neither a restart nor a reload reopens
 * what the breaker closed. */
static int make_responder(struct fb_serve *s, const struct fb_serve_config *c,
                          struct fb_engine *engine, struct fb_policy *p,
                          struct fb_responder **ret) {
        uint64_t *times;
        size_t n = 0;
        time_t now = time(NULL);
        int r;
        struct fb_responder_config rc = {
                .policy = p,
                .engine = engine,
                .engine_error = engine ? 0 : -ECONNREFUSED,
                .dry_run = c->dry_run || p->dry_run,
                .state_dir = c->state_dir,
                .report_dir = c->reports_dir,
                .report_ext = c->json ? "json" : "md",
        };

        r = fb_responder_new(&rc, ret);
        if (r < 0 || p->max_disruptive_actions == 0)
                return r;
        times = calloc(p->max_disruptive_actions, sizeof(*times));
        if (!times)
                r = -ENOMEM;
        else
                r = fb_store_recent_disruptive(s->store, (int64_t)now - (int64_t)p->window_s, times,
                                               p->max_disruptive_actions, &n);
        if (r >= 0)
                fb_respond_breaker_seed(*ret, times, n);
        free(times);
        if (r < 0) {
                /* never a breaker that forgot: no responder at all */
                fb_responder_free(*ret);
                *ret = NULL;
                return log_error_errno(r, "the breaker's past actions could not be read: %m");
        }
        return 0;
}

/* Logs why not, naming the sockets tried. */
static int open_engine(const struct fb_serve_config *c, struct fb_engine **ret) {
        struct fb_engine_config ecfg = {
                .docker_socket = c->docker_socket[0] ? c->docker_socket : NULL,
                .containerd_socket = c->containerd_socket[0] ? c->containerd_socket : NULL,
        };
        char what[2300];
        int r = fb_engine_open(&ecfg, c->engine, ret);

        if (r < 0) {
                fb_engine_describe(&ecfg, c->engine, what, sizeof(what));
                log_warning_errno(r, "no container engine answers (%s): %m", what);
        }
        return r;
}

/* What a reload cannot change in a running service: kept as it is, and said. */
static void keep_restart_keys(const struct fb_serve_config *old, struct fb_serve_config *nc) {
        static const struct {
                const char *name;
                size_t off, len;
        } keys[] = {
#define K(name, field)                                                                             \
        { name, offsetof(struct fb_serve_config, field),                                           \
          sizeof(((struct fb_serve_config *)0)->field) }
                K("state_dir", state_dir),
                K("sources.stdin", stdin_source),
                K("sources.fifo", fifo),
                K("sources.http.listen", http_listen),
                K("sources.http.token_file", http_token_file),
                K("sources.http.metrics_token_file", http_metrics_token_file),
                K("sources.http.max_body", http_max_body),
                K("sources.http.peer_uids", http_peer_uids),
                K("sources.http.peer_uids", n_http_peer_uids),
                K("sources.journal", journal),
                K("sources.journal.identifier", journal_identifier),
                K("sources.journal.units", journal_units),
                K("sources.journal.units", n_journal_units), /* the same name: said once */
#undef K
        };

        const char *said = NULL; /* a key of two fields is named once */

        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const char *o = (const char *)old + keys[i].off;
                char *n = (char *)nc + keys[i].off;

                if (memcmp(o, n, keys[i].len) != 0) {
                        if (!said || strcmp(said, keys[i].name) != 0)
                                log_warning("reload: %s changed: it takes effect at the next "
                                            "restart",
                                            keys[i].name);
                        said = keys[i].name;
                        memcpy(n, o, keys[i].len);
                }
        }
}

static int measure_disk(sd_event_source *es, uint64_t usec, void *u);

/* SIGHUP: the configuration and the policy it names are read again and put in force
 * together; when anything is wrong, all of the old stays in force. */
static int on_hup(sd_event_source *es, const struct signalfd_siginfo *si, void *u) {
        struct fb_serve *s = u;
        struct fb_serve_config nc;
        struct fb_yaml_error yerr = { 0 };
        struct fb_policy *p = NULL;
        struct fb_responder *resp = NULL;
        struct fb_engine *engine = s->engine;
        bool new_engine = false;
        int r;

        sd_notify(0, "RELOADING=1");
        r = fb_serve_config_load(s->cfg.path[0] ? s->cfg.path : NULL, &nc, &yerr);
        if (r == -EINVAL)
                log_error("%s:%u:%u: %s", s->cfg.path, yerr.line, yerr.column, yerr.text);
        else if (r < 0)
                log_error_errno(r, "%s: %m", s->cfg.path);
        if (r >= 0) {
                snprintf(nc.path, sizeof(nc.path), "%s", s->cfg.path);
                nc.force_dry_run = s->cfg.force_dry_run;
                nc.dry_run |= nc.force_dry_run;
                nc.stdin_source |= s->cfg.stdin_source; /* --stdin */
                keep_restart_keys(&s->cfg, &nc);
                r = fb_mkdir_p(nc.reports_dir, 0750);
                if (r < 0)
                        log_error_errno(r, "reload: %s: %m", nc.reports_dir);
        }
        if (r >= 0 &&
            (nc.engine != s->cfg.engine || strcmp(nc.docker_socket, s->cfg.docker_socket) != 0 ||
             strcmp(nc.containerd_socket, s->cfg.containerd_socket) != 0)) {
                r = open_engine(&nc, &engine);
                if (r < 0)
                        log_error_errno(r,
                                        "reload: the new engine settings: no engine answers: %m");
                new_engine = r >= 0;
        }
        if (r >= 0)
                r = load_policy(nc.policy, &p);
        if (r >= 0)
                r = make_responder(s, &nc, engine, p, &resp);
        if (r < 0) {
                log_error("reload: keeping the configuration and the policy in force");
                fb_policy_free(p);
                if (new_engine)
                        fb_engine_free(engine);
        } else {
                fb_responder_free(s->responder);
                fb_policy_free(s->policy);
                if (new_engine)
                        fb_engine_free(s->engine);
                s->engine = engine;
                s->policy = p;
                s->responder = resp;
                s->cfg = nc;
                /* a new policy may answer repeats otherwise: incidents start afresh */
                fb_incidents_free(s->incidents);
                s->incidents = NULL;
                if (s->cfg.incident_window_s &&
                    fb_incidents_new(s->cfg.incident_window_s, &s->incidents) < 0)
                        log_warning("reload: out of memory for incidents: repeats are not "
                                    "folded");
                measure_disk(NULL, 0, s); /* max_disk may have changed */
                /* a new responder starts with a new breaker */
                atomic_store(&s->m.breaker_until, fb_respond_breaker_open_until(resp));
                log_info("reload: policy %s in force (%zu rules)%s", s->cfg.policy, p->n_rules,
                         s->cfg.dry_run ? ", dry-run" : "");
        }
        sd_notify(0, "READY=1");
        status_line(s, true);
        return 0;
}

/* ---- retention ----------------------------------------------------------------------------- */

#define PRUNE_CHUNK 500 /* alerts per transaction: ingest waits for one chunk at most */

/* Deletes a chunk of alerts past retention, their reports and their evidence bundles; comes
 * back at once while there is more, else after a tenth of the retention (at least 1 s, at most
 * an hour). Never what the breaker still counts: the cutoff is the older of retention and the
 * policy's window. */
static int prune(sd_event_source *es, uint64_t usec, void *u) {
        struct fb_serve *s = u;
        uint64_t keep = s->cfg.retention_s, n = 0, bundles = 0, next;
        struct fb_buf paths, ids;
        bool early = atomic_load(&s->disk_level) >= 2;
        int r;

        if (early)
                keep = 1; /* past max_disk: the oldest go now (the breaker's window still holds) */
        if (keep == 0) {  /* for ever, until a reload says otherwise */
                r = sd_event_source_set_time_relative(es, 3600 * 1000000ULL);
                return r < 0 ? r : sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        }
        if (s->policy->window_s > keep)
                keep = s->policy->window_s;
        fb_buf_init(&paths, (size_t)PRUNE_CHUNK * 1200);
        fb_buf_init(&ids, (size_t)PRUNE_CHUNK * (FB_ALERT_ID_MAX + 1));
        pthread_mutex_lock(&s->write_lock);
        r = fb_store_prune(s->store, (int64_t)time(NULL) - (int64_t)keep, PRUNE_CHUNK, &paths, &ids,
                           &n);
        pthread_mutex_unlock(&s->write_lock);
        if (r < 0)
                log_error_errno(r, "retention: the store could not delete old alerts: %m");
        if (fb_buf_error(&paths) < 0 || fb_buf_error(&ids) < 0)
                /* out of memory: the rows went, some reports or bundles stay */
                log_warning("retention: not every report path or alert id could be kept; some "
                            "reports or evidence of deleted alerts stay in %s or %s/evidence",
                            s->cfg.reports_dir, s->cfg.state_dir);
        /* the rows are gone: a report or a bundle that cannot be removed now stays (and is
         * said) */
        for (size_t off = 0; paths.data && off < paths.len; off += strlen(paths.data + off) + 1)
                if (unlink(paths.data + off) < 0 && errno != ENOENT)
                        log_warning("retention: %s: %m", paths.data + off);
        for (size_t off = 0; !s->cfg.keep_evidence && ids.data && off < ids.len;
             off += strlen(ids.data + off) + 1) {
                int k = fb_evidence_remove(s->cfg.state_dir, ids.data + off);

                if (k < 0)
                        log_warning_errno(k, "retention: %s/evidence/%s: %m", s->cfg.state_dir,
                                          ids.data + off);
                bundles += k > 0;
        }
        fb_buf_free(&paths);
        fb_buf_free(&ids);
        atomic_fetch_add(&s->m.pruned, n);
        if (n && early)
                log_warning("retention: firebreak's disk use is past max_disk (%llu of %llu "
                            "bytes): deleted the %llu oldest processed alerts (%llu with "
                            "evidence) before their retention",
                            (unsigned long long)atomic_load(&s->disk_used),
                            (unsigned long long)s->cfg.max_disk, (unsigned long long)n,
                            (unsigned long long)bundles);
        else if (n)
                log_info("retention: deleted %llu alerts older than %llu s (%llu with evidence)",
                         (unsigned long long)n, (unsigned long long)keep,
                         (unsigned long long)bundles);
        next = n == PRUNE_CHUNK ? 10000 : s->cfg.retention_s * 100000;
        if (early) /* measure again, then go on */
                next = 1000000;
        if (next > 3600 * 1000000ULL)
                next = 3600 * 1000000ULL;
        if (next < 1000000 && n < PRUNE_CHUNK)
                next = 1000000;
        r = sd_event_source_set_time_relative(es, next);
        return r < 0 ? r : sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

/* ---- disk bound ---------------------------------------------------------------------------- */

#define DISK_EVERY_US 1000000ULL

/* Measures firebreak's disk use (state_dir, and reports_dir unless it is inside it) and puts
 * the bound's degradation in force: from half of max_disk, no evidence, no rows for folded
 * repeats, and the pipeline no longer yields to ingest; at max_disk, retention takes the
 * oldest processed alerts early (prune()). */
static int measure_disk(sd_event_source *es, uint64_t usec, void *u) {
        struct fb_serve *s = u;
        size_t sl = strlen(s->cfg.state_dir);
        uint64_t used = 0, max = s->cfg.max_disk;
        int level, before = atomic_load(&s->disk_level), r;
        char why[256];

        r = fb_disk_usage(s->cfg.state_dir, &used);
        if (r >= 0 && !(strncmp(s->cfg.reports_dir, s->cfg.state_dir, sl) == 0 &&
                        s->cfg.reports_dir[sl] == '/'))
                r = fb_disk_usage(s->cfg.reports_dir, &used);
        if (r < 0)
                log_warning_errno(r, "disk use of %s: %m", s->cfg.state_dir);
        level = used >= max ? 2 : used >= max / 2 ? 1 : 0;
        atomic_store(&s->disk_used, used);
        atomic_store(&s->disk_level, level);
        if (level != before) {
                if (level)
                        log_warning("firebreak's disk use is %llu bytes, %llu%% of max_disk "
                                    "(%llu): evidence is not collected, folded repeats are "
                                    "counted without rows, and the queue goes before new "
                                    "ingest%s",
                                    (unsigned long long)used,
                                    (unsigned long long)(used * 100 / max), (unsigned long long)max,
                                    level == 2 ? "; the oldest processed alerts are deleted "
                                                 "before their retention"
                                               : "");
                else
                        log_info("firebreak's disk use is %llu bytes, under half of max_disk: "
                                 "evidence is collected again",
                                 (unsigned long long)used);
        }
        snprintf(why, sizeof(why),
                 "no evidence: firebreak's disk use (%llu MiB) is past half of max_disk (%llu "
                 "MiB); containment still runs",
                 (unsigned long long)(used >> 20), (unsigned long long)(max >> 20));
        if (s->responder)
                fb_respond_set_evidence(s->responder, level ? why : NULL);
        if (level == 2 && before < 2 && s->prune_src &&
            sd_event_source_set_time_relative(s->prune_src, 0) >= 0)
                sd_event_source_set_enabled(s->prune_src, SD_EVENT_ONESHOT);
        if (!es)
                return 0;
        r = sd_event_source_set_time_relative(es, DISK_EVERY_US);
        return r < 0 ? r : sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

/* ---- metrics ------------------------------------------------------------------------------- */

static void by_source(struct fb_buf *out, const char *name, const char *help, atomic_ulong v[3]) {
        static const char *const src[] = { "http", "stream", "journal" };
        size_t i;

        fb_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
        for (i = 0; i < 3; i++)
                fb_buf_printf(out, "%s{source=\"%s\"} %lu\n", name, src[i], atomic_load(&v[i]));
}

void fb_serve_metrics(struct fb_serve *s, struct fb_buf *out) {
        uint64_t until = atomic_load(&s->m.breaker_until);
        time_t now = time(NULL);
        size_t i, j;

        by_source(out, "firebreak_alerts_received_total", "New alerts committed to the store.",
                  s->m.received);
        by_source(out, "firebreak_alerts_duplicate_total",
                  "Alerts acknowledged that the store held already (the same id).",
                  s->m.duplicates);
        by_source(out, "firebreak_alerts_rejected_total", "Alerts refused as invalid.",
                  s->m.rejected);
        by_source(out, "firebreak_alerts_processed_total",
                  "Alerts through the pipeline, report and actions recorded.", s->m.processed);
        by_source(out, "firebreak_alerts_failed_total",
                  "Alerts the pipeline could not finish, recorded as failed.", s->m.failed);
        fb_buf_printf(out,
                      "# HELP firebreak_alerts_folded_total Repeats folded into an incident.\n"
                      "# TYPE firebreak_alerts_folded_total counter\n"
                      "firebreak_alerts_folded_total %lu\n"
                      "# HELP firebreak_disk_used_bytes Disk used by state_dir and reports_dir.\n"
                      "# TYPE firebreak_disk_used_bytes gauge\n"
                      "firebreak_disk_used_bytes %llu\n"
                      "# HELP firebreak_disk_max_bytes max_disk.\n"
                      "# TYPE firebreak_disk_max_bytes gauge\n"
                      "firebreak_disk_max_bytes %llu\n",
                      atomic_load(&s->m.folded), (unsigned long long)atomic_load(&s->disk_used),
                      (unsigned long long)s->cfg.max_disk);
        fb_buf_printf(out,
                      "# HELP firebreak_alerts_pruned_total Processed alerts deleted by "
                      "retention.\n"
                      "# TYPE firebreak_alerts_pruned_total counter\n"
                      "firebreak_alerts_pruned_total %lu\n",
                      atomic_load(&s->m.pruned));
        fb_buf_printf(out,
                      "# HELP firebreak_queue_depth Alerts stored and not yet processed.\n"
                      "# TYPE firebreak_queue_depth gauge\n"
                      "firebreak_queue_depth %llu\n"
                      "# HELP firebreak_breaker_open 1 while the breaker refuses disruptive "
                      "actions (guards.max_disruptive_actions reached in the window).\n"
                      "# TYPE firebreak_breaker_open gauge\n"
                      "firebreak_breaker_open %d\n"
                      "# HELP firebreak_pipeline_yields_total Pauses of the pipeline while "
                      "alerts arrived faster than it processed them.\n"
                      "# TYPE firebreak_pipeline_yields_total counter\n"
                      "firebreak_pipeline_yields_total %lu\n"
                      "# HELP firebreak_http_connections_evicted_total Connections that had not "
                      "shown the token, closed to make room (more than 256 open).\n"
                      "# TYPE firebreak_http_connections_evicted_total counter\n"
                      "firebreak_http_connections_evicted_total %lu\n"
                      "# HELP firebreak_actions_total Actions by type and result.\n"
                      "# TYPE firebreak_actions_total counter\n",
                      (unsigned long long)queue_depth(s), now >= 0 && (uint64_t)now < until,
                      atomic_load(&s->m.yields), fb_http_source_evictions(s->http));
        for (i = 0; i < _FB_ACTION_MAX; i++)
                for (j = 0; j < 6; j++)
                        if (atomic_load(&s->m.actions[i][j]))
                                fb_buf_printf(out,
                                              "firebreak_actions_total{action=\"%s\",result=\"%s\"}"
                                              " %lu\n",
                                              fb_action_to_string((enum fb_action)i),
                                              fb_act_result_to_string((enum fb_act_result)j),
                                              atomic_load(&s->m.actions[i][j]));
}

/* ---- run ----------------------------------------------------------------------------------- */

/* One service per state directory: two would process the same pending alerts (every action
 * twice, each with a breaker of its own). flock(), not fcntl(): the lock belongs to this open
 * file, and no close elsewhere in the process can drop it (see fb_store_open()). */
static int lock_state_dir(struct fb_serve *s) {
        char path[1100], pid[24];
        ssize_t n;
        size_t i;
        int fd, e;

        snprintf(path, sizeof(path), "%s/serve.lock", s->cfg.state_dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(-errno, "%s: %m", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                e = errno;
                n = pread(fd, pid, sizeof(pid) - 1, 0);
                close(fd);
                if (e != EWOULDBLOCK)
                        return log_error_errno(-e, "%s: %m", path);
                /* the pid the other service wrote, if the file holds just that */
                for (i = 0; n > 0 && i < (size_t)n && pid[i] >= '0' && pid[i] <= '9'; i++)
                        ;
                pid[i] = '\0';
                log_error("%s is in use by another firebreak serve%s%s%s: one service per "
                          "state directory",
                          s->cfg.state_dir, i ? " (pid " : "", pid, i ? ")" : "");
                return -EBUSY;
        }
        n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
                log_warning("%s: cannot write the pid", path);
        s->lock_fd = fd;
        return 0;
}

static int setup(struct fb_serve *s) {
        struct fb_yaml_error yerr;
        char path[1100], where[256];
        int r;

        r = fb_mkdir_p(s->cfg.state_dir, 0750);
        if (r >= 0)
                r = fb_mkdir_p(s->cfg.reports_dir, 0750);
        if (r < 0)
                return log_error_errno(r, "%s: %m", s->cfg.state_dir);
        r = lock_state_dir(s);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/state.db", s->cfg.state_dir);
        r = fb_store_open(path, &s->store);
        /* the pipeline's commits need no fsync of their own (store.h); the ingest connection
         * keeps synchronous = FULL: its commit is the acknowledgement, and it syncs whatever
         * the pipeline wrote before it as well */
        if (r >= 0)
                r = fb_store_relax_sync(s->store);
        if (r >= 0)
                r = fb_store_open(path, &s->ingest);
        if (r == -EPROTO)
                return log_error_errno(r,
                                       "%s: written by a newer firebreak; refusing to touch "
                                       "it",
                                       path);
        if (r >= 0)
                r = fb_store_count_pending(s->store, &s->base_pending);
        if (r < 0)
                return log_error_errno(r, "%s: cannot open the store: %m", path);
        r = fb_kb_new_builtin(&s->kb, &yerr, where, sizeof(where));
        if (r < 0)
                return log_error_errno(r, "the built-in knowledge base: %m");
        r = load_policy(s->cfg.policy, &s->policy);
        if (r < 0)
                return r;
        r = open_engine(&s->cfg, &s->engine);
        if (r < 0) {
                log_warning("alerts are stored and reported; actions fail until an engine "
                            "answers");
                s->engine = NULL;
        }
        r = make_responder(s, &s->cfg, s->engine, s->policy, &s->responder);
        if (r < 0)
                return log_error_errno(r, "%s: cannot start the responder: %m", s->cfg.state_dir);
        atomic_store(&s->m.breaker_until, fb_respond_breaker_open_until(s->responder));
        r = fb_alert_new(&s->alert);
        if (r < 0)
                return r;
        fb_report_init(&s->report);
        fb_buf_init(&s->body, FB_ALERT_MAX_BYTES + 1);
        fb_buf_init(&s->out, FB_REPORT_MAX_BYTES);
        s->done = calloc(BATCH, sizeof(*s->done));
        if (!s->done)
                return -ENOMEM;
        return s->cfg.incident_window_s ? fb_incidents_new(s->cfg.incident_window_s, &s->incidents)
                                        : 0;
}

static void teardown(struct fb_serve *s) {
        atomic_store(&s->quitting, true); /* the committer stops waiting for room */
        fb_http_source_stop(s->http);     /* no more ingest callers */
        fb_journal_source_stop(s->journal);
        fb_stream_source_stop(s->stdin_src);
        fb_stream_source_stop(s->fifo_src);
        if (s->committer_started) {
                pthread_mutex_lock(&s->ingest_lock);
                s->stopping = true;
                pthread_cond_broadcast(&s->ingest_cond);
                pthread_mutex_unlock(&s->ingest_lock);
                pthread_join(s->committer, NULL);
        }
        sd_event_source_unref(s->wake_src);
        sd_event_source_unref(s->defer_src);
        sd_event_source_unref(s->retry_src);
        sd_event_source_unref(s->yield_src);
        sd_event_source_unref(s->status_src);
        sd_event_source_unref(s->prune_src);
        sd_event_source_unref(s->disk_src);
        sd_event_unref(s->event);
        fb_incidents_free(s->incidents); /* the last counts into their reports */
        if (s->wake_fd >= 0)
                close(s->wake_fd);
        fb_responder_free(s->responder);
        fb_engine_free(s->engine);
        fb_policy_free(s->policy);
        fb_kb_free(s->kb);
        fb_alert_free(s->alert);
        fb_report_done(&s->report);
        fb_buf_free(&s->body);
        fb_buf_free(&s->out);
        free(s->done);
        fb_store_close(s->ingest);
        fb_store_close(s->store);
        if (s->lock_fd >= 0)
                close(s->lock_fd); /* the file stays: removing it would race a new start */
        pthread_cond_destroy(&s->ingest_cond);
        pthread_cond_destroy(&s->ingest_done);
        pthread_mutex_destroy(&s->ingest_lock);
        pthread_mutex_destroy(&s->write_lock);
}

int fb_serve_run(const struct fb_serve_config *c) {
        struct fb_serve s = { .cfg = *c, .wake_fd = -1, .lock_fd = -1 };
        sigset_t ss;
        int r, rc = 0;

        pthread_mutex_init(&s.ingest_lock, NULL);
        pthread_mutex_init(&s.write_lock, NULL);
        pthread_cond_init(&s.ingest_cond, NULL);
        pthread_cond_init(&s.ingest_done, NULL);
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = setup(&s);
        if (r >= 0) {
                s.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                r = s.wake_fd < 0 ? -errno : sd_event_default(&s.event);
        }
        if (r >= 0) {
                r = -pthread_create(&s.committer, NULL, committer, &s);
                s.committer_started = r == 0;
        }
        if (r >= 0)
                r = sd_event_add_io(s.event, &s.wake_src, s.wake_fd, EPOLLIN, on_wake, &s);
        if (r >= 0)
                r = sd_event_add_defer(s.event, &s.defer_src, run_batch, &s);
        if (r >= 0)
                r = sd_event_add_signal(s.event, NULL, SIGTERM, on_term, &s);
        if (r >= 0)
                r = sd_event_add_signal(s.event, NULL, SIGINT, on_term, &s);
        if (r >= 0)
                r = sd_event_add_signal(s.event, NULL, SIGHUP, on_hup, &s);
        if (r >= 0)
                r = sd_event_set_watchdog(s.event, true);
        if (r >= 0) /* the first pass a second after the start, not before READY */
                r = sd_event_add_time_relative(s.event, &s.prune_src, CLOCK_MONOTONIC, 1000000,
                                               100000, prune, &s);
        if (r >= 0) {
                measure_disk(NULL, 0, &s); /* before the first alert */
                r = sd_event_add_time_relative(s.event, &s.disk_src, CLOCK_MONOTONIC, DISK_EVERY_US,
                                               100000, measure_disk, &s);
        }
        if (r >= 0 && s.cfg.stdin_source)
                r = fb_stream_source_start(&s, STDIN_FILENO, &s.stdin_src);
        if (r >= 0 && s.cfg.fifo[0]) {
                int fd = open_fifo(s.cfg.fifo);

                r = fd < 0 ? fd : fb_stream_source_start(&s, fd, &s.fifo_src);
        }
        if (r >= 0 && s.cfg.http_listen[0])
                r = fb_http_source_start(&s, &s.http);
        if (r >= 0 && s.cfg.journal)
                r = fb_journal_source_start(&s, &s.journal);
        if (r < 0) {
                log_error_errno(r, "cannot start: %m");
                teardown(&s);
                return 2;
        }
        /* what was stored but not processed before the last stop goes first */
        sd_event_source_set_enabled(s.defer_src, SD_EVENT_ONESHOT);
        sd_notify(0, "READY=1");
        status_line(&s, true);
        log_info("serving: state %s, reports %s, policy %s%s", s.cfg.state_dir, s.cfg.reports_dir,
                 s.cfg.policy, s.cfg.dry_run ? ", dry-run" : "");
        r = sd_event_loop(s.event);
        if (r < 0) {
                log_error_errno(r, "event loop: %m");
                rc = 1;
        } else
                rc = r;
        teardown(&s);
        return rc;
}
