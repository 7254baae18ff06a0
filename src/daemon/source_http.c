/* source_http.c: HTTP ingest with libmicrohttpd (its own thread): POST / takes one alert as
 * Falco's http_output or Falcosidekick's webhook sends it, the token required (as a bearer
 * token, or as the password of Basic auth, which is all Falco's http_output can send); 200 only
 * after the store committed it; 400 with a JSON error for a bad body; 401 without a token,
 * 403 with a wrong one; 413 past max_body. GET /healthz ("ok", open) and GET /metrics
 * (Prometheus; the ingest token, or metrics_token_file's, which cannot post).
 * With systemd socket activation the listening socket comes from LISTEN_FDS. Only this module
 * includes <microhttpd.h>. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/strutil.h"

/* Two polling threads (epoll) for every connection. A POST whose alert is valid is suspended
 * while it waits for its group commit; the committer queues the answer and resumes it. Many
 * requests wait at once on no thread of their own, which is what lets commits group. (A
 * thread per connection measured slower: every wait and wake-up was a context switch.) */
#define FLAGS                                                                                      \
        (MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG)
#define POOL 2
/* MHD's buffer per connection (headers and body chunks; the body is copied out as it comes):
 * a quarter of its default, for the service's memory with many connections. 8 KiB holds the
 * request line and headers of the senders we know (Falco's http_output sends a handful of short
 * ones; test-serve sends 6 KB of them) and takes any body, a chunk at a time. Measured under
 * wrk with 32 connections: peak RSS 15,300 to 15,640 KiB against 15,576 to 15,880 with 16 KiB,
 * at the same ingest rate. */
#define POOL_BYTES (8 * 1024)
/* Connections. Past FB_HTTP_CONNS, each new connection closes the oldest one that has not
 * shown the token yet (its headers are not complete, or it never posted): whoever opens
 * connections and never finishes them only ever pushes out their own, while a poster with the
 * token finishes its headers in one write and is then never chosen. MHD's own limit, above,
 * is never what turns a connection away: at it, MHD would stop accepting, and an alert would
 * wait in the kernel's backlog for an idle connection to time out (measured: 9.5 s behind 400
 * idle connections). The accept policy callback runs before MHD takes a connection in. */
#define FB_HTTP_CONNS 256u
#define MHD_CONNS 1024u

/* One open connection, from MHD's "started" notification to its "closed" one, which MHD sends
 * before it closes the socket: while a conn is listed (under the lock), its fd is open. */
struct conn {
        struct conn *prev, *next;
        int fd;
        bool trusted; /* it showed the token (or is an allowed peer): never pushed out */
        bool evicted; /* shut down to make room; MHD has yet to close it */
};

struct fb_http_source {
        struct MHD_Daemon *d;
        pthread_mutex_t lock; /* the connection list: MHD's two threads and the handler */
        struct conn *oldest, *newest;
        unsigned n_live; /* listed and not evicted */
        atomic_ulong evictions;
        /* libmicrohttpd's messages, at most MHD_LOG_BURST a minute: a client can make it
         * write one per connection */
        time_t log_window;
        unsigned log_n;
        unsigned long log_dropped;
        struct fb_serve *s;
        char token[512];
        size_t token_len;
        char metrics_token[512]; /* "": /metrics takes the ingest token only */
        size_t metrics_token_len;
        atomic_int waiting; /* suspended requests: all are resumed before the daemon stops */
        size_t max_body;    /* from the configuration at start (a reload does not change it) */
        /* a unix socket: the peer's uid must be one of these (and a token, if one is set) */
        bool unix_sock;
        uint32_t peer_uids[16];
        size_t n_peer_uids;
        char path[108]; /* the socket file this run made, removed at stop ("" for none) */
};

struct req {
        struct fb_buf body;
        bool too_big;
        bool queued; /* the answer comes from the committer */
        struct ingest_item item;
        struct MHD_Connection *c;
        struct fb_http_source *h;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *text) {
        struct MHD_Response *r =
                MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
        enum MHD_Result ret;

        if (!r)
                return MHD_NO;
        MHD_add_response_header(r, "Content-Type", type);
        if (code == MHD_HTTP_UNAUTHORIZED)
                MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
        ret = MHD_queue_response(c, code, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result json_error(struct MHD_Connection *c, unsigned code, const char *msg) {
        struct fb_buf b;
        enum MHD_Result r;

        fb_buf_init(&b, 4096);
        fb_buf_puts(&b, "{\"error\":");
        fb_json_str(&b, msg, strlen(msg));
        fb_buf_puts(&b, "}\n");
        r = reply(c, code, "application/json", fb_buf_cstr(&b) ? fb_buf_cstr(&b) : "{}\n");
        fb_buf_free(&b);
        return r;
}

/* Constant time in the token's length: no timing hint about how much of it matched. */
static bool is_token(const char *token, size_t token_len, const char *v) {
        size_t i, n = v ? strlen(v) : 0;
        unsigned char diff = 0;

        if (!v || !token_len || n != token_len)
                return false;
        for (i = 0; i < n; i++)
                diff |= (unsigned char)(v[i] ^ token[i]);
        return diff == 0;
}

/* The token as "Authorization: Bearer TOKEN", or as the password of HTTP Basic auth with any
 * user name. Falco's http_output sends no header an operator chooses, but libcurl turns the
 * user:password of its URL into Basic auth: http://falco:TOKEN@127.0.0.1:8765/ lets it post.
 * libmicrohttpd decodes the Basic credentials. */
static bool token_ok(const char *token, size_t token_len, struct MHD_Connection *c,
                     const char *auth) {
        char *user, *pass = NULL;
        bool ok;

        if (strncmp(auth, "Bearer ", 7) == 0)
                return is_token(token, token_len, auth + 7);
        if (strncmp(auth, "Basic ", 6) != 0)
                return false;
        user = MHD_basic_auth_get_username_password(c, &pass);
        ok = user && is_token(token, token_len, pass);
        MHD_free(user);
        MHD_free(pass);
        return ok;
}

/* The uid of the process at the other end of a unix socket (SO_PEERCRED: as it was when
 * it connected, from the kernel, not from anything the peer says); -1 when unknown. */
static long peer_uid(struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred cr;
        socklen_t len = sizeof(cr);

        if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
            len != sizeof(cr))
                return -1;
        return (long)cr.uid;
}

static bool peer_allowed(const struct fb_http_source *h, long uid) {
        for (size_t i = 0; uid >= 0 && i < h->n_peer_uids; i++)
                if ((long)h->peer_uids[i] == uid)
                        return true;
        return false;
}

static void committed(struct ingest_item *it);

/* The connection showed the token: it is never pushed out to make room. */
static void trust(struct fb_http_source *h, struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct conn *k = ci ? ci->socket_context : NULL;

        if (!k)
                return;
        pthread_mutex_lock(&h->lock);
        k->trusted = true;
        pthread_mutex_unlock(&h->lock);
}

static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code) {
        struct fb_http_source *h = cls;
        struct conn *k = *socket_context;

        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

                k = calloc(1, sizeof(*k));
                if (!k || !ci) {
                        free(k); /* unlisted: it can be neither trusted nor pushed out */
                        return;
                }
                k->fd = ci->connect_fd;
                pthread_mutex_lock(&h->lock);
                k->prev = h->newest;
                if (h->newest)
                        h->newest->next = k;
                else
                        h->oldest = k;
                h->newest = k;
                h->n_live++;
                pthread_mutex_unlock(&h->lock);
                *socket_context = k;
                return;
        }
        if (!k)
                return;
        pthread_mutex_lock(&h->lock);
        if (k->prev)
                k->prev->next = k->next;
        else
                h->oldest = k->next;
        if (k->next)
                k->next->prev = k->prev;
        else
                h->newest = k->prev;
        h->n_live -= !k->evicted;
        pthread_mutex_unlock(&h->lock);
        free(k);
        *socket_context = NULL;
}

/* A new connection: at FB_HTTP_CONNS, the oldest untrusted one is shut down (MHD sees the
 * end of its stream and closes it). Every connection is accepted. */
static enum MHD_Result accept_conn(void *cls, const struct sockaddr *addr, socklen_t len) {
        struct fb_http_source *h = cls;
        struct conn *k;

        (void)addr;
        (void)len;
        pthread_mutex_lock(&h->lock);
        if (h->n_live >= FB_HTTP_CONNS)
                for (k = h->oldest; k; k = k->next)
                        if (!k->trusted && !k->evicted) {
                                shutdown(k->fd, SHUT_RDWR);
                                k->evicted = true;
                                h->n_live--;
                                atomic_fetch_add(&h->evictions, 1);
                                break;
                        }
        pthread_mutex_unlock(&h->lock);
        return MHD_YES;
}

#define MHD_LOG_BURST 10u

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        struct fb_http_source *h = cls;
        time_t now = time(NULL);
        unsigned long dropped = 0;
        char msg[512];
        bool show;

        pthread_mutex_lock(&h->lock);
        if (now - h->log_window >= 60) {
                dropped = h->log_dropped;
                h->log_window = now;
                h->log_n = 0;
                h->log_dropped = 0;
        }
        show = h->log_n < MHD_LOG_BURST;
        if (show)
                h->log_n++;
        else
                h->log_dropped++;
        pthread_mutex_unlock(&h->lock);
        if (dropped)
                log_warning("sources.http: %lu more messages from libmicrohttpd in the minute "
                            "before were not logged",
                            dropped);
        if (!show)
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        log_warning("sources.http: %s", msg);
}

unsigned long fb_http_source_evictions(const struct fb_http_source *h) {
        return h ? atomic_load(&h->evictions) : 0;
}

/* 0 when this connection may read /metrics, else the HTTP status: the ingest token or the
 * metrics token (bearer or Basic), or on a unix socket without tokens an allowed peer. */
static unsigned metrics_denied(const struct fb_http_source *h, struct MHD_Connection *c) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

        if (!h->token_len && !h->metrics_token_len)
                return h->unix_sock && peer_allowed(h, peer_uid(c)) ? 0 : MHD_HTTP_FORBIDDEN;
        if (!auth)
                return MHD_HTTP_UNAUTHORIZED;
        return token_ok(h->token, h->token_len, c, auth) ||
                               token_ok(h->metrics_token, h->metrics_token_len, c, auth)
                       ? 0
                       : MHD_HTTP_FORBIDDEN;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **con_cls) {
        struct fb_http_source *h = cls;
        struct req *q = *con_cls;
        const char *auth;

        if (strcmp(method, "GET") == 0) {
                if (strcmp(url, "/healthz") == 0)
                        return reply(c, MHD_HTTP_OK, "text/plain", "ok\n");
                if (strcmp(url, "/metrics") == 0) {
                        struct fb_buf b;
                        enum MHD_Result r;
                        unsigned no = metrics_denied(h, c);

                        /* the metrics say when containment is off (the breaker): never to
                         * anyone who can merely reach the port */
                        if (no)
                                return json_error(c, no,
                                                  no == MHD_HTTP_UNAUTHORIZED
                                                          ? "a bearer token is required"
                                                          : "wrong token");
                        fb_buf_init(&b, 1 << 20);
                        fb_serve_metrics(h->s, &b);
                        r = reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4",
                                  fb_buf_cstr(&b) ? fb_buf_cstr(&b) : "");
                        fb_buf_free(&b);
                        return r;
                }
                return json_error(c, MHD_HTTP_NOT_FOUND, "no such path");
        }
        if (strcmp(method, "POST") != 0 || strcmp(url, "/") != 0)
                return json_error(c, MHD_HTTP_NOT_FOUND, "POST alerts to /");
        if (!q) {
                /* the first call has the headers only: authenticate before reading a byte */
                if (h->unix_sock) {
                        char msg[160];
                        long uid = peer_uid(c);

                        if (!peer_allowed(h, uid)) {
                                snprintf(msg, sizeof(msg),
                                         "uid %ld may not post alerts here "
                                         "(sources.http.peer_uids)",
                                         uid);
                                return json_error(c, MHD_HTTP_FORBIDDEN, msg);
                        }
                }
                auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
                if (h->token_len && !auth)
                        return json_error(c, MHD_HTTP_UNAUTHORIZED, "a bearer token is required");
                if (h->token_len && !token_ok(h->token, h->token_len, c, auth))
                        return json_error(c, MHD_HTTP_FORBIDDEN, "wrong token");
                trust(h, c);
                q = calloc(1, sizeof(*q));
                if (!q)
                        return MHD_NO;
                fb_buf_init(&q->body, h->max_body);
                *con_cls = q;
                return MHD_YES;
        }
        if (*size) {
                fb_buf_put(&q->body, data, *size);
                q->too_big |= fb_buf_error(&q->body) != 0;
                *size = 0;
                return MHD_YES;
        }
        if (q->queued)
                return MHD_NO; /* resumed without an answer (it could not be queued): close */
        if (q->too_big)
                return json_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                  "the body is larger than max_body");
        {
                char err[300];
                int r = fb_serve_check(h->s, SRC_HTTP, q->body.data ? q->body.data : "",
                                       q->body.len, q->item.id, sizeof(q->item.id), err,
                                       sizeof(err));

                if (r == -EINVAL)
                        return json_error(c, MHD_HTTP_BAD_REQUEST, err);
                if (r < 0)
                        return json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
                /* suspended before it is queued: the committer may resume it at once */
                q->c = c;
                q->h = h;
                q->item.done = committed;
                q->queued = true;
                atomic_fetch_add(&h->waiting, 1);
                MHD_suspend_connection(c);
                fb_serve_enqueue(h->s, SRC_HTTP, q->body.data ? q->body.data : "", q->body.len,
                                 &q->item);
                return MHD_YES;
        }
}

static void committed(struct ingest_item *it) {
        struct req *q = (struct req *)((char *)it - offsetof(struct req, item));
        struct fb_http_source *h = q->h;
        struct MHD_Connection *c = q->c;
        char msg[160];

        if (it->result < 0) {
                snprintf(msg, sizeof(msg), "the store could not commit it: %s",
                         strerror(-it->result));
                json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
        } else {
                snprintf(msg, sizeof(msg), "{\"id\":\"%s\",\"status\":\"%s\"}\n", it->id,
                         it->a.duplicate ? "duplicate" : "stored");
                reply(c, MHD_HTTP_OK, "application/json", msg);
        }
        MHD_resume_connection(c); /* q may be freed from here on */
        atomic_fetch_sub(&h->waiting, 1);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
        struct req *q = *con_cls;

        if (q) {
                fb_buf_free(&q->body);
                free(q);
                *con_cls = NULL;
        }
}

static int read_token(struct fb_http_source *h, const char *path) {
        int r = fb_serve_read_token(path, h->token, sizeof(h->token));

        if (r < 0)
                return r;
        h->token_len = (size_t)r;
        return 0;
}

/* A unix socket of the service's own at path, with mode. A socket file left by an earlier
 * run is replaced, unless something still answers on it; anything else at the path is
 * refused. */
static int listen_unix(const char *path, mode_t mode, int *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(path);
        struct stat st;
        int fd, r;

        if (len >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, len + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        close(fd);
                        return -EEXIST;
                }
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
                        close(fd);
                        return -EADDRINUSE;
                }
                close(fd);
                if (unlink(path) < 0)
                        return -errno;
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return -errno;
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode) < 0 ||
            listen(fd, 256) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

int fb_http_source_start(struct fb_serve *s, struct fb_http_source **ret) {
        struct fb_http_source *h = calloc(1, sizeof(*h));
        const char *where = s->cfg.http_listen;
        struct sockaddr_in sa;
        int r, nfds, fd = -1;

        if (!h)
                return -ENOMEM;
        pthread_mutex_init(&h->lock, NULL);
        h->s = s;
        h->max_body = s->cfg.http_max_body;
        h->n_peer_uids = s->cfg.n_http_peer_uids;
        memcpy(h->peer_uids, s->cfg.http_peer_uids, sizeof(h->peer_uids));
        r = s->cfg.http_token_file[0] ? read_token(h, s->cfg.http_token_file) : 0;
        if (r >= 0 && s->cfg.http_metrics_token_file[0]) {
                r = fb_serve_read_token(s->cfg.http_metrics_token_file, h->metrics_token,
                                        sizeof(h->metrics_token));
                if (r >= 0)
                        h->metrics_token_len = (size_t)r;
        }
        nfds = r < 0 ? 0 : sd_listen_fds(1);
        if (r >= 0 && nfds >= 1) {
                /* socket activation (firebreak.socket) hands the listener over */
                fd = SD_LISTEN_FDS_START;
                where = "the socket systemd passed";
                h->unix_sock = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0;
                if (!h->unix_sock && !h->token_len) {
                        log_error("sources.http: systemd passed a network socket: token_file is "
                                  "required");
                        r = -EINVAL;
                }
        } else if (r >= 0 && strncmp(s->cfg.http_listen, "unix:", 5) == 0) {
                mode_t mode = 0660;

                /* root only (the default): the file keeps everyone else out as well. Other
                 * uids listed must be able to connect: then the peer check alone decides, as
                 * for anyone who can reach a loopback port */
                for (size_t i = 0; i < h->n_peer_uids; i++)
                        if (h->peer_uids[i] != 0)
                                mode = 0666;
                where = s->cfg.http_listen + 5;
                h->unix_sock = true;
                r = listen_unix(where, mode, &fd);
                if (r < 0)
                        log_error_errno(r, "sources.http.listen: %s: %m", where);
                else
                        snprintf(h->path, sizeof(h->path), "%s", where);
        } else if (r >= 0 && fb_serve_parse_listen(s->cfg.http_listen, &sa) < 0) {
                log_error("sources.http.listen: '%s' is neither IPv4-address:port nor unix:path",
                          s->cfg.http_listen);
                r = -EINVAL;
        }
        if (r < 0) {
                explicit_bzero(h->token, sizeof(h->token));
                explicit_bzero(h->metrics_token, sizeof(h->metrics_token));
                pthread_mutex_destroy(&h->lock);
                free(h);
                return r;
        }
        {
                /* MHD_OPTION_ARRAY: the listener differs, the rest is one list */
                const struct MHD_OptionItem opts[] = {
                        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, h }, /* first */
                        fd >= 0 ? (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, fd, NULL }
                                : (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &sa },
                        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, NULL },
                        { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_conn, h },
                        { MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL },
                        { MHD_OPTION_CONNECTION_LIMIT, MHD_CONNS, NULL },
                        { MHD_OPTION_THREAD_POOL_SIZE, POOL, NULL },
                        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, POOL_BYTES, NULL },
                        { MHD_OPTION_END, 0, NULL },
                };

                h->d = MHD_start_daemon(FLAGS, 0, accept_conn, h, handler, h, MHD_OPTION_ARRAY,
                                        opts, MHD_OPTION_END);
        }
        if (!h->d) {
                log_error("sources.http: cannot listen on %s", where);
                if (h->path[0]) {
                        close(fd);
                        unlink(h->path);
                }
                explicit_bzero(h->token, sizeof(h->token));
                explicit_bzero(h->metrics_token, sizeof(h->metrics_token));
                pthread_mutex_destroy(&h->lock);
                free(h);
                return -EADDRINUSE;
        }
        *ret = h;
        return 0;
}

void fb_http_source_stop(struct fb_http_source *h) {
        if (!h)
                return;
        /* no new connections; the committer still runs and answers what waits (MHD must not
         * stop with a connection suspended) */
        MHD_socket fd = MHD_quiesce_daemon(h->d);

        for (int i = 0; atomic_load(&h->waiting) > 0 && i < 3000; i++)
                usleep(10000);
        if (atomic_load(&h->waiting) > 0)
                log_error("sources.http: %d requests still wait for the store at stop",
                          atomic_load(&h->waiting));
        MHD_stop_daemon(h->d);
        if (fd != MHD_INVALID_SOCKET)
                close(fd);
        if (h->path[0])
                unlink(h->path); /* the socket file this run made */
        explicit_bzero(h->token, sizeof(h->token));
        explicit_bzero(h->metrics_token, sizeof(h->metrics_token));
        pthread_mutex_destroy(&h->lock);
        free(h);
}
