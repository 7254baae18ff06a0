/* containerd.c: the engine interface over containerd's native gRPC API (containers, tasks,
 * version services), messages through protobuf-c code generated from proto/containerd.proto.
 *
 * containerd scopes everything by namespace (k8s.io for Kubernetes, moby for Docker). Resolving
 * a short id searches every configured namespace and requires exactly one match across them;
 * the namespace that owns an id is remembered for the calls that follow. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd.pb-c.h"
#include "engine_impl.h"
#include "firebreak/grpc.h"
#include "firebreak/strutil.h"

#define MAX_NS 8u
#define NS_LEN 64u
#define OWNERS 32u

#define SVC_CONTAINERS "/containerd.services.containers.v1.Containers/"
#define SVC_TASKS "/containerd.services.tasks.v1.Tasks/"
#define SVC_VERSION "/containerd.services.version.v1.Version/Version"

struct ctd {
        struct fb_grpc *grpc;
        char ns[MAX_NS][NS_LEN];
        size_t n_ns;
        struct {
                char id[FB_CONTAINER_ID_LEN + 1];
                char ns[NS_LEN];
        } owner[OWNERS]; /* a ring: which namespace holds a resolved id */
        size_t next_owner;
        struct fb_buf out;
};

static struct ctd *C(struct fb_engine *e) {
        return e->backend;
}

/* One call; the answer in C(e)->out. Records containerd's message on failure. */
static int call(struct fb_engine *e, const char *ns, const char *method,
                const ProtobufCMessage *m) {
        struct ctd *c = C(e);
        uint8_t stack[512] = { 0 }, *buf = stack;
        size_t len = m ? protobuf_c_message_get_packed_size(m) : 0;
        char msg[512];
        int code, r;

        if (len > sizeof(stack) && !(buf = malloc(len)))
                return -ENOMEM;
        if (m)
                protobuf_c_message_pack(m, buf);
        r = fb_grpc_call(c->grpc, ns, method, buf, len, &c->out, &code, msg, sizeof(msg));
        if (buf != stack)
                free(buf);
        if (r < 0 && msg[0])
                fb_engine_set_error(e, msg, strlen(msg));
        return r;
}

static const char *owner_ns(struct fb_engine *e, const char *id) {
        struct ctd *c = C(e);
        size_t i;

        for (i = 0; i < OWNERS; i++)
                if (strcmp(c->owner[i].id, id) == 0)
                        return c->owner[i].ns;
        return NULL;
}

static void remember(struct fb_engine *e, const char *id, const char *ns) {
        struct ctd *c = C(e);

        if (owner_ns(e, id))
                return;
        snprintf(c->owner[c->next_owner].id, sizeof(c->owner[0].id), "%s", id);
        snprintf(c->owner[c->next_owner].ns, sizeof(c->owner[0].ns), "%s", ns);
        c->next_owner = (c->next_owner + 1) % OWNERS;
}

/* The container record (its namespace found when the id was not resolved here). */
static int get_container(struct fb_engine *e, const char *id, Fbctd__Container **ret,
                         const char **ret_ns) {
        Fbctd__GetContainerRequest req = FBCTD__GET_CONTAINER_REQUEST__INIT;
        const char *ns = owner_ns(e, id);
        size_t i;
        int r = -ENOENT;

        req.id = (char *)id;
        for (i = 0; i < C(e)->n_ns; i++) {
                const char *try = ns ? ns : C(e)->ns[i];
                Fbctd__GetContainerResponse *resp;

                r = call(e, try, SVC_CONTAINERS "Get", &req.base);
                if (r == -ENOENT && !ns)
                        continue;
                if (r < 0)
                        return r;
                resp = fbctd__get_container_response__unpack(NULL, C(e)->out.len,
                                                             (uint8_t *)C(e)->out.data);
                if (!resp || !resp->container) {
                        fbctd__get_container_response__free_unpacked(resp, NULL);
                        return -EPROTO;
                }
                remember(e, id, try);
                *ret_ns = owner_ns(e, id);
                *ret = resp->container;
                resp->container = NULL;
                fbctd__get_container_response__free_unpacked(resp, NULL);
                return 0;
        }
        return r;
}

static int ctd_resolve(struct fb_engine *e, const char *prefix,
                       char ret_id[FB_CONTAINER_ID_LEN + 1]) {
        Fbctd__ListContainersRequest req = FBCTD__LIST_CONTAINERS_REQUEST__INIT;
        char filter[96], *filters[1] = { filter }, found_ns[NS_LEN] = "";
        size_t plen = strlen(prefix), i, j, n = 0;
        int r;

        if (plen == 0 || plen > FB_CONTAINER_ID_LEN || !fb_is_lower_hex(prefix, plen))
                return -EINVAL;
        /* an anchored regular expression on the id; the prefix is hex digits only */
        snprintf(filter, sizeof(filter), "id~=^%s", prefix);
        req.n_filters = 1;
        req.filters = filters;
        for (i = 0; i < C(e)->n_ns; i++) {
                Fbctd__ListContainersResponse *resp;

                r = call(e, C(e)->ns[i], SVC_CONTAINERS "List", &req.base);
                if (r < 0)
                        return r;
                resp = fbctd__list_containers_response__unpack(NULL, C(e)->out.len,
                                                               (uint8_t *)C(e)->out.data);
                if (!resp)
                        return -EPROTO;
                for (j = 0; j < resp->n_containers; j++) {
                        const char *id = resp->containers[j]->id;

                        /* checked, not trusted: full hex ids starting with the prefix */
                        if (!id || strlen(id) != FB_CONTAINER_ID_LEN ||
                            !fb_is_lower_hex(id, FB_CONTAINER_ID_LEN) ||
                            strncmp(id, prefix, plen) != 0)
                                continue;
                        if (n++ == 0) {
                                memcpy(ret_id, id, FB_CONTAINER_ID_LEN + 1);
                                snprintf(found_ns, sizeof(found_ns), "%s", C(e)->ns[i]);
                        }
                }
                fbctd__list_containers_response__free_unpacked(resp, NULL);
        }
        if (n == 0)
                return -ENOENT;
        if (n > 1)
                return -ENOTUNIQ;
        remember(e, ret_id, found_ns);
        return 0;
}

/* The task's status and pid; -ENOENT when the container has no task (never started). */
static int task(struct fb_engine *e, const char *ns, const char *id, Fbctd__Status *status,
                pid_t *pid) {
        Fbctd__ContainerRequest req = FBCTD__CONTAINER_REQUEST__INIT;
        Fbctd__GetTaskResponse *resp;
        int r;

        req.container_id = (char *)id;
        r = call(e, ns, SVC_TASKS "Get", &req.base);
        if (r < 0)
                return r;
        resp = fbctd__get_task_response__unpack(NULL, C(e)->out.len, (uint8_t *)C(e)->out.data);
        if (!resp || !resp->process) {
                fbctd__get_task_response__free_unpacked(resp, NULL);
                return -EPROTO;
        }
        *status = resp->process->status;
        *pid = (pid_t)resp->process->pid;
        fbctd__get_task_response__free_unpacked(resp, NULL);
        return 0;
}

static const char *state_name(Fbctd__Status s) {
        switch (s) {
        case FBCTD__STATUS__CREATED:
                return "created";
        case FBCTD__STATUS__RUNNING:
                return "running";
        case FBCTD__STATUS__STOPPED:
                return "exited";
        case FBCTD__STATUS__PAUSED:
                return "paused";
        case FBCTD__STATUS__PAUSING:
                return "pausing";
        default:
                return "unknown";
        }
}

static const char *label(const Fbctd__Container *k, const char *key) {
        size_t i;

        for (i = 0; i < k->n_labels; i++)
                if (k->labels[i]->key && strcmp(k->labels[i]->key, key) == 0)
                        return k->labels[i]->value;
        return NULL;
}

static int ctd_inspect(struct fb_engine *e, const char *id_arg, struct fb_container *ret,
                       struct fb_buf *raw) {
        char id[FB_CONTAINER_ID_LEN + 1];
        Fbctd__Container *k = NULL;
        Fbctd__Status st = FBCTD__STATUS__UNKNOWN;
        const char *ns = NULL, *v;
        size_t i, used = 0;
        pid_t pid = 0;
        int r;

        /* id may point into *ret, which is cleared below */
        snprintf(id, sizeof(id), "%s", id_arg);
        r = get_container(e, id, &k, &ns);
        if (r < 0)
                return r;
        *ret = (struct fb_container){ 0 };
        snprintf(ret->id, sizeof(ret->id), "%s", id);
        fb_container_fact(ret, ret->image, sizeof(ret->image), k->image, FB_FACT_IMAGE);
        v = label(k, "io.kubernetes.container.name");
        fb_container_fact(ret, ret->name, sizeof(ret->name), v, FB_FACT_NAME);
        snprintf(ret->ns, sizeof(ret->ns), "%s", ns);
        for (i = 0; i < k->n_labels; i++)
                fb_container_add_label(ret, &used, k->labels[i]->key ? k->labels[i]->key : "",
                                       k->labels[i]->value ? k->labels[i]->value : "");
        r = task(e, ns, id, &st, &pid);
        if (r == -ENOENT) {
                snprintf(ret->state, sizeof(ret->state), "created");
                r = 0;
        } else if (r >= 0) {
                snprintf(ret->state, sizeof(ret->state), "%s", state_name(st));
                ret->pid = st == FBCTD__STATUS__STOPPED ? 0 : pid;
        }
        if (r >= 0 && raw) {
                json_t *j = json_object(), *labels = json_object(), *spec = NULL;
                char *text;

                for (i = 0; i < k->n_labels; i++)
                        if (k->labels[i]->key && k->labels[i]->value)
                                json_object_set_new(labels, k->labels[i]->key,
                                                    json_string(k->labels[i]->value));
                if (k->spec && k->spec->value.len) {
                        json_error_t jerr;

                        spec = json_loadb((const char *)k->spec->value.data, k->spec->value.len, 0,
                                          &jerr);
                }
                json_object_set_new(j, "Id", json_string(id));
                json_object_set_new(j, "Namespace", json_string(ns));
                json_object_set_new(j, "Image", json_string(ret->image));
                json_object_set_new(j, "Labels", labels);
                json_object_set_new(j, "Status", json_string(ret->state));
                json_object_set_new(j, "Pid", json_integer(ret->pid));
                json_object_set_new(j, "Spec", spec ? spec : json_null());
                text = json_dumps(j, JSON_COMPACT);
                json_decref(j);
                if (!text)
                        r = -ENOMEM;
                else {
                        fb_buf_puts(raw, text);
                        free(text);
                        r = fb_buf_error(raw);
                }
        }
        fbctd__container__free_unpacked(k, NULL);
        return r;
}

static int owner(struct fb_engine *e, const char *id, const char **ns) {
        Fbctd__Container *k = NULL;
        int r;

        *ns = owner_ns(e, id);
        if (*ns)
                return 0;
        r = get_container(e, id, &k, ns);
        fbctd__container__free_unpacked(k, NULL);
        return r;
}

/* Pause and Resume, idempotent as for Docker: 1 when the task already is in that state. */
static int pause_resume(struct fb_engine *e, const char *id, bool pause) {
        Fbctd__ContainerRequest req = FBCTD__CONTAINER_REQUEST__INIT;
        Fbctd__Status st;
        const char *ns;
        pid_t pid;
        int r;

        r = owner(e, id, &ns);
        if (r >= 0)
                r = task(e, ns, id, &st, &pid);
        if (r == -ENOENT)
                return pause ? -EBUSY : 1; /* no task: nothing runs, nothing to thaw */
        if (r < 0)
                return r;
        if (pause && (st == FBCTD__STATUS__PAUSED || st == FBCTD__STATUS__PAUSING))
                return 1;
        if (!pause && st == FBCTD__STATUS__RUNNING)
                return 1;
        if (st != FBCTD__STATUS__RUNNING && st != FBCTD__STATUS__PAUSED)
                return -EBUSY;
        req.container_id = (char *)id;
        r = call(e, ns, pause ? SVC_TASKS "Pause" : SVC_TASKS "Resume", &req.base);
        /* a race with another pauser: containerd says "cannot pause a paused container" */
        if (r < 0 && pause && strstr(e->last_error, "paused"))
                return 1;
        return r;
}

static int ctd_pause(struct fb_engine *e, const char *id) {
        return pause_resume(e, id, true);
}

static int ctd_unpause(struct fb_engine *e, const char *id) {
        return pause_resume(e, id, false);
}

static int signal_number(const char *name) {
        static const struct {
                const char *name;
                int sig;
        } sigs[] = { { "KILL", SIGKILL }, { "TERM", SIGTERM }, { "INT", SIGINT },
                     { "HUP", SIGHUP },   { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
                     { "USR2", SIGUSR2 } };
        size_t i;

        if (strncmp(name, "SIG", 3) == 0)
                name += 3;
        for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                if (strcmp(name, sigs[i].name) == 0)
                        return sigs[i].sig;
        return -1;
}

static int kill_task(struct fb_engine *e, const char *ns, const char *id, int sig) {
        Fbctd__KillRequest req = FBCTD__KILL_REQUEST__INIT;

        req.container_id = (char *)id;
        req.signal = (uint32_t)sig;
        req.all = true;
        return call(e, ns, SVC_TASKS "Kill", &req.base);
}

static int ctd_kill(struct fb_engine *e, const char *id, const char *signal) {
        Fbctd__Status st;
        const char *ns;
        pid_t pid;
        int sig = signal_number(signal), r;

        if (sig < 0)
                return -EINVAL;
        r = owner(e, id, &ns);
        if (r >= 0)
                r = task(e, ns, id, &st, &pid);
        if (r == -ENOENT || (r >= 0 && st != FBCTD__STATUS__RUNNING && st != FBCTD__STATUS__PAUSED))
                return -EBUSY;
        return r < 0 ? r : kill_task(e, ns, id, sig);
}

/* SIGTERM, then SIGKILL after timeout_s; waits (up to 5 s more) for the task to stop. */
static int ctd_stop(struct fb_engine *e, const char *id, unsigned timeout_s) {
        Fbctd__Status st;
        const char *ns;
        unsigned i;
        pid_t pid;
        bool killed = false;
        int r;

        r = owner(e, id, &ns);
        if (r >= 0)
                r = task(e, ns, id, &st, &pid);
        if (r == -ENOENT || (r >= 0 && st == FBCTD__STATUS__STOPPED))
                return 1;
        if (r < 0)
                return r;
        r = kill_task(e, ns, id, SIGTERM);
        for (i = 0; r >= 0 && i < (timeout_s + 5) * 10; i++) {
                usleep(100000);
                r = task(e, ns, id, &st, &pid);
                if (r == -ENOENT || (r >= 0 && st == FBCTD__STATUS__STOPPED))
                        return 0;
                if (r >= 0 && !killed && i >= timeout_s * 10) {
                        r = kill_task(e, ns, id, SIGKILL);
                        killed = true;
                }
        }
        return r < 0 ? r : -ETIMEDOUT;
}

static int ctd_top(struct fb_engine *e, const char *id, pid_t **ret, size_t *ret_n) {
        Fbctd__ContainerRequest req = FBCTD__CONTAINER_REQUEST__INIT;
        Fbctd__ListPidsResponse *resp;
        const char *ns;
        pid_t *pids;
        size_t i;
        int r;

        r = owner(e, id, &ns);
        if (r < 0)
                return r;
        req.container_id = (char *)id;
        r = call(e, ns, SVC_TASKS "ListPids", &req.base);
        if (r < 0)
                return r;
        resp = fbctd__list_pids_response__unpack(NULL, C(e)->out.len, (uint8_t *)C(e)->out.data);
        if (!resp)
                return -EPROTO;
        pids = calloc(resp->n_processes + 1, sizeof(pid_t));
        if (!pids) {
                fbctd__list_pids_response__free_unpacked(resp, NULL);
                return -ENOMEM;
        }
        for (i = 0; i < resp->n_processes; i++)
                pids[i] = (pid_t)resp->processes[i]->pid;
        *ret = pids;
        *ret_n = resp->n_processes;
        fbctd__list_pids_response__free_unpacked(resp, NULL);
        return 0;
}

static int ctd_unsupported(struct fb_engine *e, const char *what) {
        fb_engine_set_error(e, what, strlen(what));
        return -EOPNOTSUPP;
}

static int ctd_changes(struct fb_engine *e, const char *id, struct fb_buf *out) {
        return ctd_unsupported(e, "containerd's API has no filesystem diff of a container");
}

static int ctd_logs(struct fb_engine *e, const char *id, unsigned tail, struct fb_buf *out) {
        return ctd_unsupported(e, "containerd keeps no container output (the CRI logs do)");
}

static int ctd_info(struct fb_engine *e, struct fb_buf *out) {
        Fbctd__VersionResponse *v;
        json_t *j, *nss = json_array();
        char *text;
        size_t i;
        int r;

        r = call(e, C(e)->ns[0], SVC_VERSION, NULL);
        if (r < 0) {
                json_decref(nss);
                return r;
        }
        v = fbctd__version_response__unpack(NULL, C(e)->out.len, (uint8_t *)C(e)->out.data);
        if (!v) {
                json_decref(nss);
                return -EPROTO;
        }
        for (i = 0; i < C(e)->n_ns; i++)
                json_array_append_new(nss, json_string(C(e)->ns[i]));
        j = json_pack("{s:s, s:s, s:s, s:o}", "Engine", "containerd", "Version",
                      v->version ? v->version : "", "Revision", v->revision ? v->revision : "",
                      "Namespaces", nss);
        fbctd__version_response__free_unpacked(v, NULL);
        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!text)
                return -ENOMEM;
        fb_buf_puts(out, text);
        free(text);
        return fb_buf_error(out);
}

static void ctd_free(struct fb_engine *e) {
        struct ctd *c = C(e);

        if (!c)
                return;
        fb_grpc_free(c->grpc);
        fb_buf_free(&c->out);
        free(c);
}

static const struct fb_engine_ops containerd_ops = {
        .name = "containerd",
        .resolve = ctd_resolve,
        .inspect = ctd_inspect,
        .pause = ctd_pause,
        .unpause = ctd_unpause,
        .stop = ctd_stop,
        .kill = ctd_kill,
        .top = ctd_top,
        .changes = ctd_changes,
        .logs = ctd_logs,
        .info = ctd_info,
        .free = ctd_free,
};

void fb_containerd_socket_path(const struct fb_engine_config *cfg, char *out, size_t n) {
        const char *a = getenv("CONTAINERD_ADDRESS");

        if (cfg && cfg->containerd_socket)
                snprintf(out, n, "%s", cfg->containerd_socket);
        else if (a && *a)
                snprintf(out, n, "%s", strncmp(a, "unix://", 7) == 0 ? a + 7 : a);
        else
                snprintf(out, n, "/run/containerd/containerd.sock");
}

/* "k8s.io,moby,default", narrowed by CONTAINERD_NAMESPACE as ctr is. */
static int namespaces(const struct fb_engine_config *cfg, struct ctd *c) {
        const char *env = getenv("CONTAINERD_NAMESPACE");
        const char *list = cfg && cfg->containerd_namespaces ? cfg->containerd_namespaces
                           : env && *env                     ? env
                                                             : "k8s.io,moby,default";

        while (*list && c->n_ns < MAX_NS) {
                size_t l = strcspn(list, ",");
                size_t k;
                bool ok = l > 0 && l < NS_LEN;

                /* namespace names are DNS labels; anything else would go into a header */
                for (k = 0; ok && k < l; k++)
                        ok = (list[k] >= 'a' && list[k] <= 'z') ||
                             (list[k] >= '0' && list[k] <= '9') || list[k] == '-' ||
                             list[k] == '.' || list[k] == '_';
                if (!ok)
                        return -EINVAL;
                memcpy(c->ns[c->n_ns], list, l);
                c->ns[c->n_ns++][l] = '\0';
                list += l + (list[l] == ',');
        }
        return c->n_ns ? 0 : -EINVAL;
}

int fb_engine_open_containerd(const struct fb_engine_config *cfg, struct fb_engine **ret) {
        struct fb_engine *e;
        struct ctd *c;
        struct fb_buf info;
        int r;

        e = calloc(1, sizeof(*e));
        c = calloc(1, sizeof(*c));
        if (!e || !c) {
                free(e);
                free(c);
                return -ENOMEM;
        }
        e->ops = &containerd_ops;
        e->backend = c;
        fb_buf_init(&c->out, FB_GRPC_MAX_MESSAGE);
        fb_containerd_socket_path(cfg, e->endpoint, sizeof(e->endpoint));
        r = namespaces(cfg, c);
        if (r >= 0)
                r = fb_grpc_new(e->endpoint, cfg && cfg->timeout_ms ? cfg->timeout_ms : 5000,
                                &c->grpc);
        if (r >= 0) {
                json_t *j;
                json_error_t jerr;

                fb_buf_init(&info, 65536);
                r = ctd_info(e, &info);
                j = r >= 0 ? json_loadb(info.data, info.len, 0, &jerr) : NULL;
                snprintf(e->api_version, sizeof(e->api_version), "%s",
                         json_string_value(json_object_get(j, "Version")) ?: "");
                json_decref(j);
                fb_buf_free(&info);
        }
        if (r < 0) {
                fb_engine_free(e);
                return r;
        }
        *ret = e;
        return 0;
}
