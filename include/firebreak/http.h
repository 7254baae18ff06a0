/* http.h: HTTP/1.1 requests with libcurl: over a unix socket for engine APIs, and POSTs to
 * http(s) URLs for notifiers. One handle is reused, so requests share a connection; every call
 * has a timeout and a response size cap. This module and grpc are the only includers of
 * <curl/curl.h>. */
#pragma once

#include <stddef.h>

#include "firebreak/buf.h"

struct fb_http;

/* Returns 0 or -ENOMEM. socket_path is copied; NULL for a handle that only posts to URLs. */
int fb_http_new(const char *socket_path, unsigned timeout_ms, struct fb_http **ret);
void fb_http_free(struct fb_http *h);

/* Sends method path (e.g. "GET", "/v1.41/info") with an optional JSON body; appends the
 * response body to out (at most out->max bytes). If header is not NULL, *header_value receives
 * that response header's value (trimmed), up to hv_len bytes.
 * Returns the HTTP status (100..599), or -ECONNREFUSED (no socket, or nothing listens),
 * -ETIMEDOUT, -E2BIG (the body exceeds out's cap), -ENOMEM, or -EIO. */
int fb_http_request(struct fb_http *h, const char *method, const char *path, const char *body,
                    struct fb_buf *out, const char *header, char *header_value, size_t hv_len);

/* POSTs a JSON body to an http:// or https:// URL with extra "Name: value" header lines, within
 * timeout_ms. Redirects are not followed; the response body is read (at most 64 KiB) and
 * dropped. Returns the HTTP status, or -ECONNREFUSED, -ETIMEDOUT, -ENOMEM or -EIO. Never logs
 * the URL or the headers: they may hold secrets. */
int fb_http_post_url(struct fb_http *h, const char *url, char *const *headers, size_t n_headers,
                     const char *body, size_t len, unsigned timeout_ms);
