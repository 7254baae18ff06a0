/* guard.h: the limits on disruptive actions: protected containers, the agent's own container,
 * stale alerts, and a breaker that caps actions per window. Every refusal has a reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/alert.h"
#include "firebreak/engine.h"
#include "firebreak/policy.h"

struct fb_guard;

int fb_guard_new(const struct fb_policy *p, struct fb_guard **ret);
void fb_guard_free(struct fb_guard *g);

/* Is the container protected? Checked against the engine's facts (name, image, labels, the
 * Kubernetes namespace label) and against the alert's fields: either one saying "protected"
 * wins, since alert fields can be forged. Writes the matching entry to reason. */
bool fb_guard_protected(const struct fb_policy *p, const struct fb_alert *a,
                        const struct fb_container *c, char *reason, size_t rlen);

/* Was the alert older than max_alert_age when firebreak received it (received_ns)? Writes the
 * age to reason. Time spent in firebreak's own queue does not count: a flood of other alerts
 * in front of a fresh one must not age it out. */
bool fb_guard_stale(const struct fb_policy *p, const struct fb_alert *a, int64_t received_ns,
                    char *reason, size_t rlen);

/* May one more disruptive action run at now_s? When the breaker is open
 * (max_disruptive_actions already in the window), returns false and writes why. Counts
 * nothing: an action is counted (fb_guard_breaker_count) only once it changed something, so
 * that actions which find the container already in that state, or fail, cannot use up the
 * breaker for every other container. */
bool fb_guard_breaker_check(const struct fb_guard *g, uint64_t now_s, char *reason, size_t rlen);
void fb_guard_breaker_count(struct fb_guard *g, uint64_t now_s);
/* check, then count: for callers that act whatever the outcome */
bool fb_guard_breaker_take(struct fb_guard *g, uint64_t now_s, char *reason, size_t rlen);
bool fb_guard_breaker_open(const struct fb_guard *g, uint64_t now_s);
/* Until when (Unix seconds, exclusive) the breaker stays open if no action is taken: 0 when it
 * is not open, UINT64_MAX when the policy allows no disruptive action at all. */
uint64_t fb_guard_breaker_open_until(const struct fb_guard *g);
/* Counts disruptive actions taken before this guard existed (by an earlier run of the service,
 * or before a reload), times in Unix seconds, newest first. */
void fb_guard_breaker_seed(struct fb_guard *g, const uint64_t *times, size_t n);

/* The id of the container this process runs in, from /proc/self/cgroup and
 * /proc/self/mountinfo (paths may be given for tests; NULL for the real ones). Returns 0 and a
 * 64-digit id, or -ENOENT when not in a container. */
int fb_self_container_id(const char *cgroup_path, const char *mountinfo_path,
                         char ret[FB_CONTAINER_ID_LEN + 1]);
