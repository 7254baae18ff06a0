/* respond.h: the action plan executor: policy match, guards, then each action through the
 * engine (or recorded as "would ..." in dry-run), with an audit line per decision. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "firebreak/alert.h"
#include "firebreak/engine.h"
#include "firebreak/policy.h"
#include "firebreak/response.h"
#include "firebreak/triage.h"

struct fb_responder_config {
        const struct fb_policy *policy;
        struct fb_engine *engine; /* NULL: unreachable, engine_error says why */
        int engine_error;
        bool dry_run;
        const char *state_dir;  /* evidence/ and audit.jsonl go here */
        const char *report_dir; /* where reports are written, for notifications; NULL: stdout */
        const char *report_ext; /* "md" or "json" */
};

struct fb_responder;

/* Opens <state_dir>/audit.jsonl for appending and, unless dry-run, starts the policy's
 * notifiers. Returns 0 or -errno. */
int fb_responder_new(const struct fb_responder_config *cfg, struct fb_responder **ret);
/* Waits up to FB_NOTIFY_DRAIN_MS for notifications still being delivered. Accepts NULL. */
void fb_responder_free(struct fb_responder *r);

#define FB_NOTIFY_DRAIN_MS 30000u

/* Decides and acts for one alert, whose triage report is rep (for notifications), received at
 * received_ns (nanoseconds since the epoch; 0: now). guards.max_alert_age is the alert's age at
 * receipt: an alert that was fresh when firebreak took it in is acted on however long it then
 * waited in firebreak's own queue, and out->queued_s says how long that was. Fills *out.
 * Evidence from inspect and capture goes into one bundle per alert, closed after the last
 * action; notify runs after every other action, also when they were refused. Returns 0 when
 * everything planned was done (or recorded), 1 when some action failed, -errno when the audit
 * log cannot be written. */
int fb_respond(struct fb_responder *r, const struct fb_alert *a, const struct fb_report *rep,
               int64_t received_ns, struct fb_response *out);
/* The report of the last fb_respond() is written (or could not be): its notifications, which
 * name it, may go out. */
void fb_respond_report_done(struct fb_responder *r);
/* Evidence (inspect, capture) is not collected while why_not is set (NULL: collected again);
 * those actions are then skipped with why_not as their reason. The service's disk bound. */
void fb_respond_set_evidence(struct fb_responder *r, const char *why_not);
/* The breaker's state: fb_guard_breaker_open_until() of the responder's guard. */
uint64_t fb_respond_breaker_open_until(const struct fb_responder *r);
/* fb_guard_breaker_seed() of the responder's guard. */
void fb_respond_breaker_seed(struct fb_responder *r, const uint64_t *times, size_t n);
