/* engine.h: container runtimes behind one interface. The Docker backend speaks the Engine API
 * over its unix socket; a containerd backend fits the same calls. Callers never see a runtime's
 * own types or status codes: results are -errno, and the runtime's error text is kept for logs.
 *
 * Ids: every call that names a container takes a full id that fb_engine_resolve() returned.
 * Resolution matches ids only, never names: a container *named* like another's id prefix can
 * not stand in for it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "firebreak/buf.h"

#define FB_CONTAINER_ID_LEN 64

struct fb_engine;

struct fb_engine_config {
        /* Docker: the socket path; NULL takes DOCKER_HOST (unix:// only, as the docker CLI
         * reads it), else /run/docker.sock */
        const char *docker_socket;
        unsigned timeout_ms; /* per call; 0 means 5000 */
        /* containerd: the socket path; NULL takes CONTAINERD_ADDRESS, else
         * /run/containerd/containerd.sock */
        const char *containerd_socket;
        /* containerd namespaces to search, comma-separated; NULL takes CONTAINERD_NAMESPACE,
         * else "k8s.io,moby,default" */
        const char *containerd_namespaces;
};

enum fb_engine_kind {
        FB_ENGINE_AUTO, /* Docker, then containerd: whichever are reachable */
        FB_ENGINE_DOCKER,
        FB_ENGINE_CONTAINERD,
};

/* "auto", "docker", "containerd" -> kind. Returns 0 or -EINVAL. */
int fb_engine_kind_from_string(const char *s, enum fb_engine_kind *ret);
const char *fb_engine_kind_to_string(enum fb_engine_kind k);

/* Facts that did not fit their field in struct fb_container (its `incomplete`). A guard that
 * reads such a fact cannot tell what it would have said, and must fail closed. */
#define FB_FACT_NAME 0x1u
#define FB_FACT_IMAGE 0x2u
#define FB_FACT_LABELS 0x4u

/* What inspection tells about a container. Strings come from the engine, which takes them
 * from whoever created the container: treat them as untrusted (escape before display). */
struct fb_container {
        char id[FB_CONTAINER_ID_LEN + 1];
        char name[256];  /* without Docker's leading '/' */
        char image[512]; /* as the container was created from it */
        /* the image's id as the engine knows it ("sha256:" and 64 hex digits; Docker's
         * inspect "Image"), which no alert and no image name can forge; "" when unknown */
        char image_id[72];
        unsigned incomplete; /* FB_FACT_* left out or cut: the fields above are not whole */
        char state[32];      /* created, running, paused, restarting, exited, dead */
        char ns[64];         /* containerd's namespace (k8s.io, moby, ...); "" for Docker */
        pid_t pid;           /* host pid of the main process, 0 when not running */
        bool privileged;
        bool tty;
        /* labels as "key=value" strings, each NUL-terminated, the list ending in an empty
         * string; labels that do not fit are left out, and FB_FACT_LABELS set */
        char labels[4096];
};

/* An image reference ("alpine:3.19", "ghcr.io/o/r@sha256:...") -> its repository, the way
 * Docker normalizes names: tag and digest dropped, Docker Hub's implied "docker.io/" and
 * "library/" added, "index.docker.io" read as "docker.io". So "falcosecurity/x:latest" is
 * "docker.io/falcosecurity/x" and "evil.example/falcosecurity/x" stays itself. Returns 0,
 * -EINVAL (empty name or component), or -ENAMETOOLONG. */
int fb_image_repository(const char *ref, char *out, size_t n);

/* Calls fn for each "key=value" label of c; stops when fn returns false. */
void fb_container_labels(const struct fb_container *c, bool (*fn)(const char *kv, void *u),
                         void *u);

/* Connects to the Docker engine and negotiates the API version (the engine's, capped at the
 * newest version firebreak is tested with). Returns 0, -EINVAL (DOCKER_HOST not unix://),
 * -ECONNREFUSED (no engine at the socket), -ETIMEDOUT, -EPROTO (no API version in the answer),
 * or -ENOMEM. Every later call returns -ECONNREFUSED when the engine has gone away; -ENOENT
 * always means "no such container". */
int fb_engine_open_docker(const struct fb_engine_config *cfg, struct fb_engine **ret);
/* Connects to containerd (gRPC over HTTP/2 on its socket) and reads its version. Returns 0,
 * -EINVAL (a namespace that is not a DNS label), -ECONNREFUSED, -ETIMEDOUT, -EPROTO, -ENOMEM. */
int fb_engine_open_containerd(const struct fb_engine_config *cfg, struct fb_engine **ret);
/* kind AUTO opens every engine that answers (Docker first) behind one handle: resolve asks
 * each in turn and later calls go to the engine that owns the id; fb_engine_name() then names
 * that engine. Returns the first engine's error when none answers. */
int fb_engine_open(const struct fb_engine_config *cfg, enum fb_engine_kind kind,
                   struct fb_engine **ret);
void fb_engine_free(struct fb_engine *e);
/* What fb_engine_open() would try, for messages: "Docker at /run/docker.sock", "containerd at
 * PATH", or both joined by " or " for AUTO. */
void fb_engine_describe(const struct fb_engine_config *cfg, enum fb_engine_kind kind, char *out,
                        size_t n);

/* "docker"; the socket path; the negotiated API version ("1.41"). */
const char *fb_engine_name(const struct fb_engine *e);
const char *fb_engine_endpoint(const struct fb_engine *e);
const char *fb_engine_api_version(const struct fb_engine *e);
/* The engine's message for the last failed call ("" if none). Untrusted text. */
const char *fb_engine_last_error(const struct fb_engine *e);

/* Resolves a lowercase hex id prefix (1 to 64 digits; Falco sends 12) to exactly one full id.
 * Returns 0, -EINVAL (not a hex prefix), -ENOENT (no such container), -ENOTUNIQ (more than one
 * container matches), or a transport error. */
int fb_engine_resolve(struct fb_engine *e, const char *prefix,
                      char ret_id[FB_CONTAINER_ID_LEN + 1]);

/* Inspects a container by full id. raw, when not NULL, receives the engine's JSON as is.
 * Returns 0, -ENOENT, or a transport error. */
int fb_engine_inspect(struct fb_engine *e, const char *id, struct fb_container *ret,
                      struct fb_buf *raw);

/* Pause and unpause are idempotent: 0 when the call changed the state, 1 when the container
 * already was in it. -ENOENT; -EBUSY when the container is not running (cannot be paused). */
int fb_engine_pause(struct fb_engine *e, const char *id);
int fb_engine_unpause(struct fb_engine *e, const char *id);

/* Stop (SIGTERM, then SIGKILL after timeout_s) returns 0, or 1 when already stopped. Kill
 * sends signal (a name such as "KILL") and returns 0, or -EBUSY when not running. Both unpause
 * a paused container first: never use them on a container you paused to preserve evidence. */
int fb_engine_stop(struct fb_engine *e, const char *id, unsigned timeout_s);
int fb_engine_kill(struct fb_engine *e, const char *id, const char *signal);

/* Host pids of the container's processes (works on a paused container). *ret is allocated;
 * the caller frees it. Returns 0 or an error. */
int fb_engine_top(struct fb_engine *e, const char *id, pid_t **ret, size_t *ret_n);

/* Filesystem changes (JSON array), the last tail lines of output (text, stream frames
 * removed), and engine information (JSON), appended to out. Bodies are capped. */
int fb_engine_changes(struct fb_engine *e, const char *id, struct fb_buf *out);
int fb_engine_logs(struct fb_engine *e, const char *id, unsigned tail, struct fb_buf *out);
int fb_engine_info(struct fb_engine *e, struct fb_buf *out);

/* Every container, running or not, as the engine lists them (JSON), appended to out. */
int fb_engine_list(struct fb_engine *e, struct fb_buf *out);

/* A short-lived container: created from image with cmd (NULL-terminated) and read-only bind
 * mounts ("host:container" pairs, NULL-terminated), no network, labelled firebreak.canary;
 * started, waited for, its output read into logs, and removed. Used by `harden verify` to run
 * the static probe under the engine's default seccomp profile. Returns 0 and *exit_code, or
 * -errno (-ENOENT: no such image). */
struct fb_run_spec {
        const char *image;
        const char *const *cmd;
        const char *const *binds;
};
int fb_engine_run(struct fb_engine *e, const struct fb_run_spec *spec, int *exit_code,
                  struct fb_buf *logs);
