/* grpc.h: a minimal gRPC client on libcurl: HTTP/2 with prior knowledge over a unix socket,
 * for containerd. One message each way per call; a deadline on every call (grpc-timeout and
 * libcurl's own); the answer's size capped. grpc-status and grpc-message are taken from the
 * response headers (a trailers-only answer) or the trailers, whichever carries them. */
#pragma once

#include <stddef.h>

#include "firebreak/buf.h"

#define FB_GRPC_MAX_MESSAGE (4u << 20)

struct fb_grpc;

/* Returns 0 or -ENOMEM. socket_path is copied. */
int fb_grpc_new(const char *socket_path, unsigned timeout_ms, struct fb_grpc **ret);
void fb_grpc_free(struct fb_grpc *g);

/* Calls method ("/containerd.services.tasks.v1.Tasks/Pause") with the serialized request, the
 * containerd-namespace header set to ns. The answer's message (unframed) replaces out's
 * contents. Returns 0; -errno mapped from the gRPC status (*code and msg, percent-decoded, say
 * what the server said); or a transport error: -ECONNREFUSED (nothing listens), -ETIMEDOUT,
 * -EPROTO (not a gRPC answer), -E2BIG, -ENOMEM. */
int fb_grpc_call(struct fb_grpc *g, const char *ns, const char *method, const void *req, size_t len,
                 struct fb_buf *out, int *code, char *msg, size_t msg_len);

/* Pure helpers, also for tests and fuzzing. */
/* The one message in a gRPC response body (5-byte prefix: compressed flag, big-endian length).
 * Returns 0, or -EPROTO for a body that is not exactly one uncompressed message, -E2BIG past
 * max. An empty body is no message: *msg NULL. */
int fb_grpc_unframe(const char *body, size_t len, size_t max, const char **msg, size_t *msg_len);
/* grpc-message is percent-encoded; decodes into out (NUL-terminated, truncated to fit). */
void fb_grpc_percent_decode(const char *in, size_t len, char *out, size_t out_len);
/* gRPC status code to -errno: 0 -> 0, NOT_FOUND -> -ENOENT, ... */
int fb_grpc_status_to_errno(int code);
