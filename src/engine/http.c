/* http.c: libcurl over a unix socket, one reused easy handle. */
#include "firebreak/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firebreak/strutil.h"

struct fb_http {
        CURL *curl;
        char *socket_path;
        unsigned timeout_ms;
};

int fb_http_new(const char *socket_path, unsigned timeout_ms, struct fb_http **ret) {
        struct fb_http *h;
        static bool inited;

        if (!inited) {
                if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK)
                        return -ENOMEM;
                inited = true;
        }
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->socket_path = socket_path ? strdup(socket_path) : NULL;
        h->curl = curl_easy_init();
        if ((socket_path && !h->socket_path) || !h->curl) {
                fb_http_free(h);
                return -ENOMEM;
        }
        h->timeout_ms = timeout_ms;
        *ret = h;
        return 0;
}

void fb_http_free(struct fb_http *h) {
        if (!h)
                return;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        free(h->socket_path);
        free(h);
}

struct hdr {
        const char *name;
        char *value;
        size_t len;
};

static size_t write_cb(char *p, size_t size, size_t n, void *u) {
        struct fb_buf *b = u;

        fb_buf_put(b, p, size * n);
        /* past the cap: stop the transfer (libcurl reports a write error) */
        return fb_buf_error(b) ? 0 : size * n;
}

static size_t header_cb(char *p, size_t size, size_t n, void *u) {
        struct hdr *h = u;
        size_t len = size * n, nl;

        if (!h->name || !h->value)
                return len;
        nl = strlen(h->name);
        if (len > nl + 1 && strncasecmp(p, h->name, nl) == 0 && p[nl] == ':') {
                const char *v = p + nl + 1, *end = p + len;

                while (v < end && (*v == ' ' || *v == '\t'))
                        v++;
                while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                        end--;
                if ((size_t)(end - v) < h->len) {
                        memcpy(h->value, v, (size_t)(end - v));
                        h->value[end - v] = '\0';
                }
        }
        return len;
}

static int result(int cc, long status, const struct fb_buf *out);

int fb_http_request(struct fb_http *h, const char *method, const char *path, const char *body,
                    struct fb_buf *out, const char *header, char *header_value, size_t hv_len) {
        struct hdr hd = { .name = header, .value = header_value, .len = hv_len };
        struct curl_slist *hdrs = NULL;
        char url[2048];
        CURLcode cc;
        long status = 0;

        if (header_value && hv_len)
                header_value[0] = '\0';
        if (snprintf(url, sizeof(url), "http://localhost%s", path) >= (int)sizeof(url))
                return -ENAMETOOLONG;
        curl_easy_reset(h->curl); /* keeps the connection cache */
        curl_easy_setopt(h->curl, CURLOPT_UNIX_SOCKET_PATH, h->socket_path);
        curl_easy_setopt(h->curl, CURLOPT_URL, url);
        curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
        curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)h->timeout_ms);
        curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &hd);
        if (body) {
                hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
                if (!hdrs)
                        return -ENOMEM;
                curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
                curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
        } else if (strcmp(method, "POST") == 0)
                curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, 0L);
        cc = curl_easy_perform(h->curl);
        curl_slist_free_all(hdrs);
        if (cc == CURLE_OK)
                curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        return result(cc, status, out);
}

int fb_http_post_url(struct fb_http *h, const char *url, char *const *headers, size_t n_headers,
                     const char *body, size_t len, unsigned timeout_ms) {
        struct curl_slist *hdrs = NULL, *t;
        struct fb_buf out;
        CURLcode cc;
        long status = 0;
        size_t i;
        int r;

        hdrs = curl_slist_append(NULL, "Content-Type: application/json");
        for (i = 0; hdrs && i < n_headers; i++) {
                t = curl_slist_append(hdrs, headers[i]);
                if (!t) {
                        curl_slist_free_all(hdrs);
                        hdrs = NULL;
                } else
                        hdrs = t;
        }
        if (!hdrs)
                return -ENOMEM;
        fb_buf_init(&out, 65536);
        curl_easy_reset(h->curl);
        curl_easy_setopt(h->curl, CURLOPT_URL, url);
        curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        cc = curl_easy_perform(h->curl);
        curl_slist_free_all(hdrs);
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        /* a receiver that answers with a large body has still answered */
        if (cc == CURLE_WRITE_ERROR && status >= 100 && status <= 599)
                cc = CURLE_OK;
        r = result(cc, status, &out);
        fb_buf_free(&out);
        return r;
}

static int result(int cc_, long status, const struct fb_buf *out) {
        CURLcode cc = (CURLcode)cc_;

        switch (cc) {
        case CURLE_OK:
                return status >= 100 && status <= 599 ? (int)status : -EIO;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
                /* socket missing or refused alike: -ENOENT is kept for "no such container" */
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_WRITE_ERROR:
                return fb_buf_error(out) == -ENOMEM ? -ENOMEM : -E2BIG;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                return -EIO;
        }
}
