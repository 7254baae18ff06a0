/* respond.c: decide and act for one alert: policy, guards, engine actions, audit.
 *
 * Dry-run takes exactly the same decisions; at the point where an action would reach the
 * engine it records "would <action> <id>" instead (act()). Resolution and inspection, which
 * change nothing, still go to the engine, so a dry-run report names the real target. */
#define _GNU_SOURCE
#include "firebreak/respond.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/buf.h"
#include "firebreak/clock.h"
#include "firebreak/cleanup.h"
#include "firebreak/evidence.h"
#include "firebreak/fileio.h"
#include "firebreak/guard.h"
#include "firebreak/notify.h"
#include "firebreak/rollout.h"
#include "firebreak/strutil.h"

static const char *const result_names[] = {
        [FB_ACT_DONE] = "done",       [FB_ACT_ALREADY] = "already", [FB_ACT_WOULD] = "would",
        [FB_ACT_REFUSED] = "refused", [FB_ACT_SKIPPED] = "skipped", [FB_ACT_FAILED] = "failed",
};

const char *fb_act_result_to_string(enum fb_act_result r) {
        return (unsigned)r < FB_ELEMENTSOF(result_names) ? result_names[r] : "unknown";
}

struct fb_responder {
        /* its strings point to the copies below: a caller's config may not outlive it (a
         * reload's new configuration is a local of the reload until it is copied in place) */
        struct fb_responder_config cfg;
        char state_dir[4096], report_dir[4096], report_ext[8];
        struct fb_guard *guard;
        int audit_fd;
        char self_id[FB_CONTAINER_ID_LEN + 1]; /* "" when not in a container */
        struct fb_notifier *notifier;          /* NULL in dry-run or without notifiers */
        struct fb_evidence *ev;                /* the current alert's bundle, once opened */
        char no_evidence[256]; /* why evidence is not collected now; "" when it is */
};

/* src (NULL: nothing) into dst; false when it does not fit. */
static bool copy_str(char *dst, size_t size, const char *src) {
        return !src || (size_t)snprintf(dst, size, "%s", src) < size;
}

int fb_responder_new(const struct fb_responder_config *cfg, struct fb_responder **ret) {
        struct fb_responder *r = calloc(1, sizeof(*r));
        char path[4096];
        int k;

        if (!r)
                return -ENOMEM;
        r->cfg = *cfg;
        r->audit_fd = -1;
        if (!copy_str(r->state_dir, sizeof(r->state_dir), cfg->state_dir) ||
            !copy_str(r->report_dir, sizeof(r->report_dir), cfg->report_dir) ||
            !copy_str(r->report_ext, sizeof(r->report_ext), cfg->report_ext)) {
                free(r);
                return -ENAMETOOLONG;
        }
        r->cfg.state_dir = r->state_dir;
        r->cfg.report_dir = cfg->report_dir ? r->report_dir : NULL;
        r->cfg.report_ext = cfg->report_ext ? r->report_ext : NULL;
        k = fb_guard_new(cfg->policy, &r->guard);
        if (k >= 0)
                k = fb_mkdir_p(cfg->state_dir, 0750);
        if (k >= 0) {
                snprintf(path, sizeof(path), "%s/audit.jsonl", cfg->state_dir);
                r->audit_fd =
                        open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
                if (r->audit_fd < 0)
                        k = -errno;
        }
        if (k >= 0 && !cfg->dry_run && cfg->policy->n_notifiers > 0)
                k = fb_notifier_new(cfg->policy, r->audit_fd, &r->notifier);
        if (k < 0) {
                fb_responder_free(r);
                return k;
        }
        if (fb_self_container_id(NULL, NULL, r->self_id) < 0)
                r->self_id[0] = '\0';
        *ret = r;
        return 0;
}

void fb_responder_free(struct fb_responder *r) {
        if (!r)
                return;
        fb_notifier_free(r->notifier, FB_NOTIFY_DRAIN_MS);
        if (r->audit_fd >= 0)
                close(r->audit_fd);
        fb_guard_free(r->guard);
        free(r);
}

static int64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct fb_response_action *add(struct fb_response *out, enum fb_action a,
                                      enum fb_act_result res, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static struct fb_response_action *add(struct fb_response *out, enum fb_action a,
                                      enum fb_act_result res, const char *fmt, ...) {
        struct fb_response_action *x;
        va_list ap;

        if (out->n_actions >= FB_RESPONSE_MAX_ACTIONS)
                return NULL;
        x = &out->actions[out->n_actions++];
        *x = (struct fb_response_action){ .action = a, .result = res };
        va_start(ap, fmt);
        vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
        va_end(ap);
        return x;
}

/* One audit line per action (JSON lines); every string is JSON-escaped. */
static int audit(struct fb_responder *r, const struct fb_alert *a, const struct fb_response *out,
                 const struct fb_response_action *x) {
        struct fb_buf b;
        char ts[64];
        time_t t = time(NULL);
        struct tm tm;
        int k;

        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fb_buf_init(&b, 16384);
        fb_buf_printf(&b, "{\"time\":\"%s\",\"alert_id\":\"%s\",\"rule\":", ts, a->id);
        fb_json_str(&b, a->rule, a->rule_len);
        fb_buf_puts(&b, ",\"policy_rules\":");
        fb_json_str(&b, out->rules, strlen(out->rules));
        fb_buf_printf(
                &b, ",\"mode\":\"%s\",\"container_id\":\"%s\",\"engine\":\"%s\",\"queued_s\":%lld,",
                out->dry_run ? "dry-run" : "enforce", out->target, out->engine,
                (long long)out->queued_s);
        if (x) {
                fb_buf_printf(&b, "\"action\":\"%s\",\"result\":\"%s\",\"duration_us\":%llu,",
                              fb_action_to_string(x->action), fb_act_result_to_string(x->result),
                              (unsigned long long)x->duration_us);
                fb_buf_puts(&b, "\"detail\":");
                fb_json_str(&b, x->detail, strlen(x->detail));
        } else {
                fb_buf_puts(&b, "\"action\":null,\"result\":\"none\",\"detail\":");
                fb_json_str(&b, out->note, strlen(out->note));
        }
        if (x && out->manifest_sha256[0] &&
            (x->action == FB_ACTION_INSPECT || x->action == FB_ACTION_CAPTURE)) {
                fb_buf_puts(&b, ",\"evidence_dir\":");
                fb_json_str(&b, out->evidence_dir, strlen(out->evidence_dir));
                fb_buf_printf(&b, ",\"manifest_sha256\":\"%s\"", out->manifest_sha256);
        }
        fb_buf_puts(&b, "}\n");
        k = fb_buf_error(&b);
        if (k >= 0)
                k = fb_write_all(r->audit_fd, b.data, b.len);
        fb_buf_free(&b);
        return k;
}

/* The alert's evidence bundle, opened by its first evidence action. */
static int bundle(struct fb_responder *r, const struct fb_alert *a, const struct fb_container *c,
                  struct fb_response *out) {
        int k;

        if (r->ev)
                return 0;
        k = fb_evidence_open(r->cfg.state_dir, a, fb_engine_name(r->cfg.engine), c->id, &r->ev);
        if (k >= 0)
                snprintf(out->evidence_dir, sizeof(out->evidence_dir), "%s",
                         fb_evidence_dir(r->ev));
        return k;
}

static int capture(struct fb_responder *r, const struct fb_container *c, struct fb_response *out,
                   char *detail, size_t len) {
        size_t n = 0, i, used;
        int k;

        k = fb_evidence_capture_memfd(r->ev, r->cfg.engine, c->id, out->captures + out->n_captures,
                                      FB_RESPONSE_MAX_CAPTURES - out->n_captures, &n);
        if (k < 0)
                return k;
        if (n == 0) {
                snprintf(detail, len, "no process of the container runs from a memfd now");
                return 0;
        }
        used = (size_t)snprintf(detail, len, "captured %zu memfd executable%s into %s:", n,
                                n == 1 ? "" : "s", out->evidence_dir);
        for (i = 0; i < n && used < len; i++) {
                const struct fb_response_capture *x = &out->captures[out->n_captures + i];

                used += (size_t)snprintf(detail + used, len - used, " pid %d %s sha256 %s%s;",
                                         x->pid, x->file, x->sha256,
                                         x->truncated ? " (truncated)" : "");
        }
        out->n_captures += n;
        return 0;
}

/* The one place where dry-run and enforce differ. */
static void act(struct fb_responder *r, const struct fb_alert *a, const struct fb_container *c,
                enum fb_action action, struct fb_response *out, int *failed) {
        struct fb_engine *e = r->cfg.engine;
        struct fb_response_action *x;
        char detail[sizeof(x->detail)] = "";
        uint64_t t0 = fb_mono_us();
        int k = 0;

        if (r->cfg.dry_run) {
                add(out, action, FB_ACT_WOULD, "would %s %s", fb_action_to_string(action), c->id);
                return;
        }
        if (r->no_evidence[0] && (action == FB_ACTION_INSPECT || action == FB_ACTION_CAPTURE)) {
                add(out, action, FB_ACT_SKIPPED, "%s", r->no_evidence);
                return;
        }
        switch (action) {
        case FB_ACTION_INSPECT:
                k = bundle(r, a, c, out);
                if (k >= 0)
                        k = fb_evidence_collect(r->ev, e, c->id);
                if (k >= 0)
                        snprintf(detail, sizeof(detail),
                                 "inspect, processes, changes and logs in %.400s",
                                 out->evidence_dir);
                break;
        case FB_ACTION_CAPTURE:
                k = bundle(r, a, c, out);
                if (k >= 0)
                        k = capture(r, c, out, detail, sizeof(detail));
                if (k == -EACCES)
                        snprintf(detail, sizeof(detail),
                                 "the kernel refused to show the container's executables "
                                 "(/proc/PID/exe): that takes CAP_SYS_PTRACE, which "
                                 "firebreak.service keeps in its CapabilityBoundingSet");
                break;
        case FB_ACTION_PAUSE:
                k = fb_engine_pause(e, c->id);
                break;
        case FB_ACTION_STOP:
                k = fb_engine_stop(e, c->id, 10);
                break;
        case FB_ACTION_KILL:
                k = fb_engine_kill(e, c->id, "KILL");
                break;
        case FB_ACTION_MEMFD_NOEXEC: {
                int back = -1;

                k = c->pid > 0 ? fb_memfd_noexec_set(c->pid, c->id, 2, &back) : -EBUSY;
                if (k >= 0)
                        snprintf(detail, sizeof(detail),
                                 "vm.memfd_noexec = 2 in the container's pid namespace (read "
                                 "back: %d): new memfds there cannot be executed, MFD_EXEC is "
                                 "refused",
                                 back);
                else if (k == -EPERM)
                        snprintf(detail, sizeof(detail),
                                 "the container shares the host's pid namespace (setting it "
                                 "would change the host), or the kernel refused the value");
                else if (k == -ESRCH)
                        snprintf(detail, sizeof(detail),
                                 "its main process is gone or not in the container's cgroup");
                else if (k == -EACCES)
                        snprintf(detail, sizeof(detail),
                                 "the kernel refused to open or enter the container's pid "
                                 "namespace: that takes CAP_SYS_PTRACE and CAP_SYS_ADMIN, which "
                                 "firebreak.service keeps in its CapabilityBoundingSet");
                else if (k == -EOPNOTSUPP)
                        snprintf(detail, sizeof(detail),
                                 "this kernel has no vm.memfd_noexec (Linux 6.3 added it): "
                                 "nothing was changed; the strict seccomp profile is the "
                                 "protection here");
                break;
        }
        default:
                k = -EINVAL;
        }
        if (k == -ENOSPC && (action == FB_ACTION_INSPECT || action == FB_ACTION_CAPTURE))
                /* the floor, or a full disk: either way the store keeps what room is left */
                x = add(out, action, FB_ACT_SKIPPED,
                        "no room for evidence: it would leave less than %u%% of the filesystem "
                        "of %.300s free, which the store needs",
                        FB_EVIDENCE_KEEP_FREE_PCT, r->cfg.state_dir);
        else if (k < 0) {
                /* the engine's message belongs to engine calls; a refusal of our own says why */
                const char *m = detail[0] || action == FB_ACTION_MEMFD_NOEXEC
                                        ? detail
                                        : fb_engine_last_error(e);

                x = add(out, action, FB_ACT_FAILED, "%s%s%s", strerror(-k), *m ? ": " : "", m);
                *failed = 1;
        } else if (k == 1)
                x = add(out, action, FB_ACT_ALREADY, "already %s",
                        action == FB_ACTION_PAUSE ? "paused" : "stopped");
        else if (detail[0])
                x = add(out, action, FB_ACT_DONE, "%s", detail);
        else
                x = add(out, action, FB_ACT_DONE, "%s %s",
                        action == FB_ACTION_PAUSE  ? "paused"
                        : action == FB_ACTION_STOP ? "stopped"
                                                   : "killed",
                        c->id);
        if (x)
                x->duration_us = fb_mono_us() - t0;
}

/* After every other action, also when they were refused: people hear of every alert the
 * policy says to notify about. Queues only; delivery is the notifier's, with its own audit
 * lines. */
static void notify(struct fb_responder *r, const struct fb_alert *a, const struct fb_report *rep,
                   struct fb_response *out) {
        struct fb_buf w, s;
        char path[1024];
        const char *report = NULL;
        uint64_t t0 = fb_mono_us();
        struct fb_response_action *x;
        size_t i;
        int k;

        if (r->cfg.dry_run || !r->notifier) {
                char names[256] = "";

                for (i = 0; i < r->cfg.policy->n_notifiers; i++) {
                        size_t used = strlen(names);

                        snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                 r->cfg.policy->notifiers[i].name);
                }
                add(out, FB_ACTION_NOTIFY, FB_ACT_WOULD, "would notify %s", names);
                return;
        }
        if (r->cfg.report_dir) {
                snprintf(path, sizeof(path), "%s/%s.%s", r->cfg.report_dir, a->id,
                         r->cfg.report_ext ? r->cfg.report_ext : "md");
                report = path;
        }
        fb_buf_init(&w, FB_NOTIFY_BODY_MAX);
        fb_buf_init(&s, FB_NOTIFY_BODY_MAX);
        /* the bodies list the actions so far, without this one */
        k = rep ? fb_notify_bodies(rep, out, report, &w, &s) : -EINVAL;
        if (k >= 0)
                k = fb_notifier_send(r->notifier, a->id, &w, &s);
        fb_buf_free(&w);
        fb_buf_free(&s);
        if (k < 0)
                x = add(out, FB_ACTION_NOTIFY, FB_ACT_FAILED, "not queued: %s",
                        k == -EAGAIN ? "the notification queue is full" : strerror(-k));
        else
                x = add(out, FB_ACTION_NOTIFY, FB_ACT_DONE,
                        "queued for %d notifier%s; delivery is recorded in its own audit line", k,
                        k == 1 ? "" : "s");
        if (x)
                x->duration_us = fb_mono_us() - t0;
}

void fb_respond_breaker_seed(struct fb_responder *r, const uint64_t *times, size_t n) {
        fb_guard_breaker_seed(r->guard, times, n);
}

uint64_t fb_respond_breaker_open_until(const struct fb_responder *r) {
        return fb_guard_breaker_open_until(r->guard);
}

void fb_respond_set_evidence(struct fb_responder *r, const char *why_not) {
        snprintf(r->no_evidence, sizeof(r->no_evidence), "%s", why_not ? why_not : "");
}

void fb_respond_report_done(struct fb_responder *r) {
        if (r->notifier)
                fb_notifier_release(r->notifier);
}

/* Kubernetes context from the labels kubelet puts on its containers. */
static bool k8s_label(const char *kv, void *u) {
        static const struct {
                const char *key;
                size_t off, len;
        } keys[] = {
                { "io.kubernetes.pod.namespace=", offsetof(struct fb_response, k8s_namespace),
                  sizeof(((struct fb_response *)0)->k8s_namespace) },
                { "io.kubernetes.pod.name=", offsetof(struct fb_response, k8s_pod),
                  sizeof(((struct fb_response *)0)->k8s_pod) },
                { "io.kubernetes.container.name=", offsetof(struct fb_response, k8s_container),
                  sizeof(((struct fb_response *)0)->k8s_container) },
        };
        size_t i;

        for (i = 0; i < FB_ELEMENTSOF(keys); i++)
                if (strncmp(kv, keys[i].key, strlen(keys[i].key)) == 0)
                        snprintf((char *)u + keys[i].off, keys[i].len, "%s",
                                 kv + strlen(keys[i].key));
        return true;
}

/* Is the container already where a pause, stop or kill would put it, by the engine's facts? */
static bool already(const struct fb_container *c, enum fb_action x) {
        if (x == FB_ACTION_PAUSE)
                return strcmp(c->state, "paused") == 0;
        if (x == FB_ACTION_STOP || x == FB_ACTION_KILL)
                return strcmp(c->state, "exited") == 0 || strcmp(c->state, "dead") == 0 ||
                       strcmp(c->state, "created") == 0;
        return false;
}

/* The alert's container id, when it has the form of one: 0, or -EINVAL for a host event (no
 * id) and -EBADMSG for anything that is not a 12- or 64-digit hex id. */
static int alert_container(const struct fb_alert *a, char prefix[FB_CONTAINER_ID_LEN + 1]) {
        size_t cl = 0;
        const char *cid = fb_alert_str(a, "container.id", &cl);

        if (!cid || (cl == 4 && memcmp(cid, "host", 4) == 0))
                return -EINVAL;
        if (!((cl == 12 || cl == 64) && fb_is_lower_hex(cid, cl)))
                return -EBADMSG;
        memcpy(prefix, cid, cl);
        prefix[cl] = '\0';
        return 0;
}

/* Resolution and inspection: read-only, so done before matching when a rule needs the
 * engine's facts. */
static int lookup(struct fb_responder *r, const char *prefix, struct fb_container *c) {
        int k = fb_engine_resolve(r->cfg.engine, prefix, c->id);

        return k < 0 ? k : fb_engine_inspect(r->cfg.engine, c->id, c, NULL);
}

/* Every planned action gets the same refusal. */
static void refuse_all(struct fb_response *out, const enum fb_action *plan, size_t n,
                       enum fb_act_result res, const char *why) {
        size_t i;

        for (i = 0; i < n; i++)
                add(out, plan[i], res, "%s", why);
}

int fb_respond(struct fb_responder *r, const struct fb_alert *a, const struct fb_report *rep,
               int64_t received_ns, struct fb_response *out) {
        const struct fb_policy_rule *matched[FB_POLICY_MAX_MATCHED];
        enum fb_action plan[FB_RESPONSE_MAX_ACTIONS];
        size_t n_matched, n_plan = 0, i, j;
        struct fb_container c = { 0 };
        char why[512], prefix[FB_CONTAINER_ID_LEN + 1] = "";
        bool paused_planned = false, notify_planned = false;
        int failed = 0, k = 1, idk; /* k: 1 until the container is looked up */

        int64_t now = now_ns();

        if (received_ns <= 0 || received_ns > now)
                received_ns = now;
        *out = (struct fb_response){ .active = true,
                                     .dry_run = r->cfg.dry_run,
                                     .queued_s = (now - received_ns) / 1000000000 };
        snprintf(out->engine, sizeof(out->engine), "%s",
                 r->cfg.engine ? fb_engine_name(r->cfg.engine) : "docker");

        idk = alert_container(a, prefix);
        if (idk >= 0 && r->cfg.engine && fb_policy_needs_container(r->cfg.policy, a))
                k = lookup(r, prefix, &c);
        n_matched = fb_policy_match(r->cfg.policy, a, k == 0 ? &c : NULL, matched,
                                    FB_ELEMENTSOF(matched));
        for (i = 0; i < n_matched; i++) {
                size_t used = strlen(out->rules);

                snprintf(out->rules + used, sizeof(out->rules) - used, "%s%s", i ? ", " : "",
                         matched[i]->name);
                /* the combined plan, in order, each action once */
                for (j = 0; j < matched[i]->n_actions && n_plan < FB_RESPONSE_MAX_ACTIONS; j++) {
                        enum fb_action x = matched[i]->actions[j];
                        size_t q;
                        bool dup = false;

                        for (q = 0; q < n_plan; q++)
                                dup |= plan[q] == x;
                        if (x == FB_ACTION_NOTIFY)
                                notify_planned = true; /* runs last, whatever happens */
                        else if (!dup)
                                plan[n_plan++] = x;
                }
        }
        if (n_plan == 0 && !notify_planned) {
                snprintf(out->note, sizeof(out->note),
                         "no policy rule matches this alert: reported, no action");
                return audit(r, a, out, NULL) < 0 ? -EIO : 0;
        }
        if (n_plan == 0)
                goto done;

        if (idk == -EINVAL) {
                refuse_all(out, plan, n_plan, FB_ACT_REFUSED,
                           "the alert names no container (host event): firebreak acts only on "
                           "containers");
                goto done;
        }
        if (idk < 0) {
                refuse_all(out, plan, n_plan, FB_ACT_REFUSED,
                           "container.id is not a 12- or 64-digit hex id");
                goto done;
        }
        if (fb_guard_stale(r->cfg.policy, a, received_ns, why, sizeof(why))) {
                refuse_all(out, plan, n_plan, FB_ACT_REFUSED, why);
                out->retry = true;
                goto done;
        }
        if (!r->cfg.engine) {
                for (i = 0; i < n_plan; i++)
                        add(out, plan[i], r->cfg.dry_run ? FB_ACT_WOULD : FB_ACT_FAILED,
                            "%s%s container %s; not resolved: cannot reach the container "
                            "engine: %s",
                            r->cfg.dry_run ? "would " : "could not ", fb_action_to_string(plan[i]),
                            prefix, strerror(-r->cfg.engine_error));
                failed = !r->cfg.dry_run;
                goto done;
        }
        if (k == 1)
                k = lookup(r, prefix, &c);
        if (k == -ENOENT || k == -ENOTUNIQ) {
                snprintf(why, sizeof(why), "%s %s",
                         k == -ENOENT ? "no container has an id starting with"
                                      : "more than one container has an id starting with",
                         prefix);
                refuse_all(out, plan, n_plan, FB_ACT_REFUSED, why);
                goto done;
        }
        if (k < 0) {
                snprintf(why, sizeof(why), "the engine failed to resolve %s: %s", prefix,
                         strerror(-k));
                refuse_all(out, plan, n_plan, FB_ACT_FAILED, why);
                failed = 1;
                goto done;
        }
        memcpy(out->target, c.id, sizeof(out->target));
        /* auto: the engine that owns the container */
        snprintf(out->engine, sizeof(out->engine), "%s", fb_engine_name(r->cfg.engine));
        snprintf(out->engine_ns, sizeof(out->engine_ns), "%s", c.ns);
        fb_container_labels(&c, k8s_label, out);
        if (r->self_id[0] && strcmp(r->self_id, c.id) == 0) {
                refuse_all(out, plan, n_plan, FB_ACT_REFUSED,
                           "this is firebreak's own container: it never acts on itself");
                goto done;
        }
        for (i = 0; i < n_plan; i++) {
                enum fb_action x = plan[i];
                bool disruptive = fb_action_is_disruptive(x);
                size_t before = out->n_actions;

                if (disruptive) {
                        if (fb_guard_protected(r->cfg.policy, a, &c, why, sizeof(why))) {
                                add(out, x, FB_ACT_REFUSED, "%s", why);
                                continue;
                        }
                        /* rules combined by 'continue' must not undo a pause either */
                        if ((x == FB_ACTION_STOP || x == FB_ACTION_KILL) && paused_planned) {
                                add(out, x, FB_ACT_REFUSED,
                                    "%s after pause would unpause the container first: refused "
                                    "to keep the evidence frozen",
                                    fb_action_to_string(x));
                                continue;
                        }
                        if (already(&c, x)) {
                                add(out, x, FB_ACT_ALREADY,
                                    "already %s (the engine reports it %s): nothing to do, and "
                                    "the breaker does not count it",
                                    x == FB_ACTION_PAUSE ? "paused" : "stopped", c.state);
                                paused_planned |= x == FB_ACTION_PAUSE;
                                continue;
                        }
                        if (!fb_guard_breaker_check(r->guard, (uint64_t)(now_ns() / 1000000000),
                                                    why, sizeof(why))) {
                                add(out, x, FB_ACT_SKIPPED, "%s", why);
                                continue;
                        }
                }
                act(r, a, &c, x, out, &failed);
                /* only an action that changed something (or, in dry-run, would have) uses up
                 * the breaker: "already" and failures freeze nothing */
                if (disruptive && out->n_actions > before &&
                    (out->actions[before].result == FB_ACT_DONE ||
                     out->actions[before].result == FB_ACT_WOULD))
                        fb_guard_breaker_count(r->guard, (uint64_t)(now_ns() / 1000000000));
                if (x == FB_ACTION_PAUSE)
                        paused_planned = true;
        }
done:
        if (r->ev) {
                k = fb_evidence_close(r->ev, out->manifest_sha256);
                r->ev = NULL;
                if (k < 0) {
                        snprintf(out->note, sizeof(out->note),
                                 "the evidence manifest could not be written: %s", strerror(-k));
                        out->manifest_sha256[0] = '\0';
                        failed = 1;
                }
        }
        /* a disruptive action that was skipped or failed must be tried again; one that was
         * done froze or stopped the container, so a repeat means someone let it run again */
        for (i = 0; i < out->n_actions; i++)
                out->retry |= fb_action_is_disruptive(out->actions[i].action) &&
                              (out->actions[i].result == FB_ACT_FAILED ||
                               out->actions[i].result == FB_ACT_SKIPPED ||
                               out->actions[i].result == FB_ACT_DONE);
        if (notify_planned)
                notify(r, a, rep, out);
        for (i = 0; i < out->n_actions; i++)
                if (audit(r, a, out, &out->actions[i]) < 0)
                        return -EIO;
        return failed;
}
