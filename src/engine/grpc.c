/* grpc.c: gRPC unary calls over HTTP/2 (prior knowledge) on a unix socket with libcurl. */
#include "firebreak/grpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firebreak/strutil.h"

struct fb_grpc {
        CURL *curl;
        char *socket_path;
        unsigned timeout_ms;
};

int fb_grpc_new(const char *socket_path, unsigned timeout_ms, struct fb_grpc **ret) {
        struct fb_grpc *g;

        if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK)
                return -ENOMEM;
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->socket_path = strdup(socket_path);
        g->curl = curl_easy_init();
        if (!g->socket_path || !g->curl) {
                fb_grpc_free(g);
                return -ENOMEM;
        }
        g->timeout_ms = timeout_ms;
        *ret = g;
        return 0;
}

void fb_grpc_free(struct fb_grpc *g) {
        if (!g)
                return;
        if (g->curl)
                curl_easy_cleanup(g->curl);
        free(g->socket_path);
        free(g);
}

int fb_grpc_unframe(const char *body, size_t len, size_t max, const char **msg, size_t *msg_len) {
        const unsigned char *p = (const unsigned char *)body;
        size_t n;

        *msg = NULL;
        *msg_len = 0;
        if (len == 0)
                return 0;
        if (len < 5 || p[0] != 0) /* compression was not offered, so it must not be used */
                return -EPROTO;
        n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
        if (n > max)
                return -E2BIG;
        if (n != len - 5)
                return -EPROTO;
        *msg = body + 5;
        *msg_len = n;
        return 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

void fb_grpc_percent_decode(const char *in, size_t len, char *out, size_t out_len) {
        size_t i, o = 0;

        if (!out_len)
                return;
        for (i = 0; i < len && o + 1 < out_len; i++) {
                if (in[i] == '%' && i + 2 < len && hexval(in[i + 1]) >= 0 &&
                    hexval(in[i + 2]) >= 0) {
                        out[o++] = (char)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
                        i += 2;
                } else
                        out[o++] = in[i];
        }
        out[o] = '\0';
}

int fb_grpc_status_to_errno(int code) {
        switch (code) {
        case 0:
                return 0;
        case 1: /* CANCELLED */
                return -ECANCELED;
        case 3:  /* INVALID_ARGUMENT */
        case 11: /* OUT_OF_RANGE */
                return -EINVAL;
        case 4: /* DEADLINE_EXCEEDED */
                return -ETIMEDOUT;
        case 5: /* NOT_FOUND */
                return -ENOENT;
        case 6: /* ALREADY_EXISTS */
                return -EEXIST;
        case 7:  /* PERMISSION_DENIED */
        case 16: /* UNAUTHENTICATED */
                return -EACCES;
        case 8: /* RESOURCE_EXHAUSTED */
                return -ENOSPC;
        case 9:  /* FAILED_PRECONDITION */
        case 10: /* ABORTED */
                return -EBUSY;
        case 12: /* UNIMPLEMENTED */
                return -EOPNOTSUPP;
        case 14: /* UNAVAILABLE */
                return -ECONNREFUSED;
        default: /* UNKNOWN, INTERNAL, DATA_LOSS, ... */
                return -EIO;
        }
}

struct answer {
        struct fb_buf *body;
        int code; /* -1 until grpc-status is seen */
        char *msg;
        size_t msg_len;
};

static size_t write_cb(char *p, size_t size, size_t n, void *u) {
        struct answer *a = u;

        fb_buf_put(a->body, p, size * n);
        return fb_buf_error(a->body) ? 0 : size * n;
}

/* Headers and trailers alike: grpc-status and grpc-message may come in either. */
static size_t header_cb(char *p, size_t size, size_t n, void *u) {
        struct answer *a = u;
        size_t len = size * n;
        const char *v, *end = p + len;

        while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
                end--;
        if (len > 12 && strncasecmp(p, "grpc-status:", 12) == 0) {
                uint64_t code;

                for (v = p + 12; v < end && *v == ' '; v++)
                        ;
                /* a status that is not a number is no OK: 2 is gRPC's UNKNOWN (before, "0x"
                 * or an empty value read as 0, success) */
                a->code = fb_parse_uint64(v, (size_t)(end - v), &code) == 0 && code <= 16
                                  ? (int)code
                                  : 2;
        } else if (len > 13 && strncasecmp(p, "grpc-message:", 13) == 0 && a->msg) {
                for (v = p + 13; v < end && *v == ' '; v++)
                        ;
                fb_grpc_percent_decode(v, (size_t)(end - v), a->msg, a->msg_len);
        }
        return len;
}

int fb_grpc_call(struct fb_grpc *g, const char *ns, const char *method, const void *req, size_t len,
                 struct fb_buf *out, int *code, char *msg, size_t msg_len) {
        struct answer a = { .body = NULL, .code = -1, .msg = msg, .msg_len = msg_len };
        struct curl_slist *h = NULL, *t;
        char url[512], nsh[300], deadline[64], *framed;
        struct fb_buf body;
        const char *m;
        size_t mlen;
        long http = 0;
        CURLcode cc;
        int r;

        if (msg && msg_len)
                msg[0] = '\0';
        *code = -1;
        if (len > FB_GRPC_MAX_MESSAGE ||
            snprintf(url, sizeof(url), "http://localhost%s", method) >= (int)sizeof(url) ||
            snprintf(nsh, sizeof(nsh), "containerd-namespace: %s", ns) >= (int)sizeof(nsh))
                return -EINVAL;
        framed = malloc(len + 5);
        if (!framed)
                return -ENOMEM;
        framed[0] = 0;
        framed[1] = (char)(len >> 24);
        framed[2] = (char)(len >> 16);
        framed[3] = (char)(len >> 8);
        framed[4] = (char)len;
        if (len)
                memcpy(framed + 5, req, len);
        snprintf(deadline, sizeof(deadline), "grpc-timeout: %um", g->timeout_ms);
        {
                const char *lines[] = { "content-type: application/grpc", "te: trailers", nsh,
                                        deadline };
                size_t i;

                for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
                        t = curl_slist_append(h, lines[i]);
                        if (!t) {
                                curl_slist_free_all(h);
                                free(framed);
                                return -ENOMEM;
                        }
                        h = t;
                }
        }
        fb_buf_init(&body, FB_GRPC_MAX_MESSAGE + 5);
        a.body = &body;
        curl_easy_reset(g->curl);
        curl_easy_setopt(g->curl, CURLOPT_UNIX_SOCKET_PATH, g->socket_path);
        curl_easy_setopt(g->curl, CURLOPT_URL, url);
        curl_easy_setopt(g->curl, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(g->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        curl_easy_setopt(g->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(g->curl, CURLOPT_POSTFIELDS, framed);
        curl_easy_setopt(g->curl, CURLOPT_POSTFIELDSIZE, (long)(len + 5));
        curl_easy_setopt(g->curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(g->curl, CURLOPT_TIMEOUT_MS, (long)g->timeout_ms);
        curl_easy_setopt(g->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)g->timeout_ms);
        curl_easy_setopt(g->curl, CURLOPT_NOSIGNAL, 1L);
        /* measured here (libcurl 7.88, containerd 1.6): a second request on a kept HTTP/2
         * connection fails with "Error in the HTTP2 framing layer"; one connection per call */
        curl_easy_setopt(g->curl, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(g->curl, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(g->curl, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(g->curl, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(g->curl, CURLOPT_HEADERDATA, &a);
        cc = curl_easy_perform(g->curl);
        curl_slist_free_all(h);
        free(framed);
        curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &http);
        switch (cc) {
        case CURLE_OK:
                r = 0;
                break;
        case CURLE_COULDNT_CONNECT:
                r = -ECONNREFUSED;
                break;
        case CURLE_OPERATION_TIMEDOUT:
                r = -ETIMEDOUT;
                break;
        case CURLE_WRITE_ERROR:
                r = fb_buf_error(&body) == -ENOMEM ? -ENOMEM : -E2BIG;
                break;
        case CURLE_OUT_OF_MEMORY:
                r = -ENOMEM;
                break;
        default:
                /* the server went away mid-call, or spoke something else */
                r = -EPROTO;
        }
        *code = a.code;
        if (r == 0 && (http != 200 || a.code < 0))
                r = -EPROTO;
        if (r == 0)
                r = fb_grpc_status_to_errno(a.code);
        if (r == 0)
                r = fb_grpc_unframe(body.data, body.len, FB_GRPC_MAX_MESSAGE, &m, &mlen);
        if (r == 0) {
                fb_buf_reset(out);
                if (m)
                        fb_buf_put(out, m, mlen);
                r = fb_buf_error(out);
        }
        fb_buf_free(&body);
        return r;
}
