/* notify.h: tell people right away. The policy's notifiers (webhook: a JSON body with the
 * verdict, summary, actions and report; slack: a Slack-compatible incoming-webhook text) are
 * served by one worker thread. Sending only queues, so a slow or dead receiver never holds up
 * the alert pipeline; the worker retries with doubling backoff and writes one audit line per
 * delivery, delivered or given up. URLs and header values are never logged: they may be
 * secrets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "firebreak/policy.h"
#include "firebreak/response.h"
#include "firebreak/triage.h"

#define FB_NOTIFY_QUEUE_MAX 256u /* deliveries waiting; past it new ones are dropped */
#define FB_NOTIFY_BODY_MAX (256u << 10)

struct fb_notifier;

/* Starts the worker for the policy's notifiers. audit_fd (O_APPEND) receives the delivery
 * lines. Returns 0, or -errno. */
int fb_notifier_new(const struct fb_policy *p, int audit_fd, struct fb_notifier **ret);

/* Waits at most wait_ms for queued deliveries (with their retries), records the rest as given
 * up, and stops the worker. Accepts NULL. */
void fb_notifier_free(struct fb_notifier *n, unsigned wait_ms);

/* The two bodies for one alert: the webhook JSON and the Slack text message. report_path may be
 * NULL (the report went to standard output). Returns 0 or -E2BIG / -ENOMEM. */
int fb_notify_bodies(const struct fb_report *rep, const struct fb_response *resp,
                     const char *report_path, struct fb_buf *webhook, struct fb_buf *slack);

/* Queues a delivery to every notifier, held until fb_notifier_release(): the message names
 * the report, which is written after the response. Never blocks on the network. Returns how
 * many were queued; -EAGAIN when the queue was full for all of them, -ENOMEM. */
int fb_notifier_send(struct fb_notifier *n, const char *alert_id, const struct fb_buf *webhook,
                     const struct fb_buf *slack);
/* Lets the worker deliver every queued message. */
void fb_notifier_release(struct fb_notifier *n);

/* Deliveries finished so far: delivered and given up (tests and status lines). */
void fb_notifier_stats(struct fb_notifier *n, unsigned long *delivered, unsigned long *failed);
