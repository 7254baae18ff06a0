/* notify.c: webhook and Slack notifications from a worker thread, with retries and backoff.
 *
 * The queue holds one job per (message, notifier). The worker takes the job that is due first,
 * posts it with libcurl (through http.c) outside the lock, and either finishes it (2xx, or a
 * 4xx other than 408/429, which retrying cannot fix) or schedules the next attempt after
 * backoff_ms, 2 * backoff_ms, ... Each finished job writes one audit line. */
#define _GNU_SOURCE
#include "firebreak/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firebreak/buf.h"
#include "firebreak/clock.h"
#include "firebreak/fileio.h"
#include "firebreak/http.h"
#include "firebreak/strutil.h"

struct job {
        const struct fb_notifier_config *cfg;
        char alert_id[FB_ALERT_ID_MAX + 1];
        char *body;
        size_t len;
        unsigned attempts;
        bool held; /* queued, but its report is not written yet */
        uint64_t due_ms;
        int last; /* HTTP status or -errno of the last attempt */
};

struct fb_notifier {
        const struct fb_policy *policy;
        int audit_fd;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct job *jobs[FB_NOTIFY_QUEUE_MAX];
        size_t n_jobs;
        bool busy; /* the worker holds a job outside the lock */
        bool stopping, abandon;
        unsigned long delivered, failed;
        struct fb_http *http;
};

static void job_free(struct job *j) {
        if (!j)
                return;
        free(j->body);
        free(j);
}

static void describe_result(int last, char *out, size_t len) {
        if (last >= 100)
                snprintf(out, len, "HTTP %d", last);
        else if (last < 0)
                snprintf(out, len, "%s", strerror(-last));
        else
                snprintf(out, len, "not attempted");
}

/* One audit line for a finished delivery. Names the notifier, never its URL. */
static void audit_delivery(struct fb_notifier *n, const struct job *j, bool ok, const char *why) {
        struct fb_buf b;
        char ts[64], res[96];
        time_t t = time(NULL);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        describe_result(j->last, res, sizeof(res));
        fb_buf_init(&b, 4096);
        fb_buf_printf(&b, "{\"time\":\"%s\",\"alert_id\":", ts);
        fb_json_str(&b, j->alert_id, strlen(j->alert_id));
        fb_buf_puts(&b, ",\"action\":\"notify\",\"notifier\":");
        fb_json_str(&b, j->cfg->name, strlen(j->cfg->name));
        fb_buf_printf(&b,
                      ",\"result\":\"%s\",\"attempts\":%u,\"detail\":", ok ? "delivered" : "failed",
                      j->attempts);
        {
                char d[256];

                snprintf(d, sizeof(d), "%s%s%s", res, why ? ": " : "", why ? why : "");
                fb_json_str(&b, d, strlen(d));
        }
        fb_buf_puts(&b, "}\n");
        if (fb_buf_error(&b) == 0 && n->audit_fd >= 0)
                (void)fb_write_all(n->audit_fd, b.data, b.len);
        fb_buf_free(&b);
}

/* The job due first, or NULL; *wait_ms says how long until it is due. */
static size_t next_due(struct fb_notifier *n, uint64_t now, uint64_t *wait_ms) {
        size_t i, best = SIZE_MAX;

        for (i = 0; i < n->n_jobs; i++)
                if (!n->jobs[i]->held &&
                    (best == SIZE_MAX || n->jobs[i]->due_ms < n->jobs[best]->due_ms))
                        best = i;
        *wait_ms = best == SIZE_MAX              ? 0
                   : n->jobs[best]->due_ms > now ? n->jobs[best]->due_ms - now
                                                 : 0;
        return best;
}

static void take(struct fb_notifier *n, size_t i) {
        n->jobs[i] = n->jobs[--n->n_jobs];
}

static void *worker(void *arg) {
        struct fb_notifier *n = arg;

        pthread_mutex_lock(&n->lock);
        for (;;) {
                uint64_t now = fb_mono_ms(), wait;
                size_t i = next_due(n, now, &wait);
                struct job *j;
                bool retryable;

                if (n->abandon || (n->stopping && i == SIZE_MAX))
                        break;
                if (i == SIZE_MAX || wait > 0) {
                        struct timespec ts;

                        clock_gettime(CLOCK_REALTIME, &ts);
                        if (i == SIZE_MAX)
                                wait = 60000;
                        ts.tv_sec += (time_t)(wait / 1000);
                        ts.tv_nsec += (long)(wait % 1000) * 1000000;
                        if (ts.tv_nsec >= 1000000000) {
                                ts.tv_sec++;
                                ts.tv_nsec -= 1000000000;
                        }
                        pthread_cond_timedwait(&n->cond, &n->lock, &ts);
                        continue;
                }
                j = n->jobs[i];
                take(n, i);
                n->busy = true;
                pthread_mutex_unlock(&n->lock);

                j->attempts++;
                j->last = fb_http_post_url(n->http, j->cfg->url, j->cfg->headers, j->cfg->n_headers,
                                           j->body, j->len, j->cfg->timeout_ms);
                /* 408 and 429 ask to come back; other 4xx will not change on a retry */
                retryable = j->last < 0 || j->last >= 500 || j->last == 408 || j->last == 429;

                pthread_mutex_lock(&n->lock);
                n->busy = false;
                if (j->last >= 200 && j->last < 300) {
                        n->delivered++;
                        audit_delivery(n, j, true, NULL);
                        job_free(j);
                } else if (!retryable || j->attempts > j->cfg->retries || n->abandon) {
                        n->failed++;
                        audit_delivery(n, j, false,
                                       retryable ? "gave up after the configured retries"
                                                 : "the receiver refused it");
                        job_free(j);
                } else {
                        uint64_t backoff = (uint64_t)j->cfg->backoff_ms << (j->attempts - 1);

                        j->due_ms = fb_mono_ms() + (backoff > 600000 ? 600000 : backoff);
                        n->jobs[n->n_jobs++] = j; /* room: it was just taken out */
                }
                pthread_cond_broadcast(&n->cond);
        }
        pthread_mutex_unlock(&n->lock);
        return NULL;
}

int fb_notifier_new(const struct fb_policy *p, int audit_fd, struct fb_notifier **ret) {
        struct fb_notifier *n = calloc(1, sizeof(*n));
        int r;

        if (!n)
                return -ENOMEM;
        n->policy = p;
        n->audit_fd = audit_fd;
        pthread_mutex_init(&n->lock, NULL);
        pthread_cond_init(&n->cond, NULL);
        r = fb_http_new(NULL, 5000, &n->http);
        if (r >= 0) {
                r = -pthread_create(&n->thread, NULL, worker, n);
                n->started = r == 0;
        }
        if (r < 0) {
                fb_notifier_free(n, 0);
                return r;
        }
        *ret = n;
        return 0;
}

void fb_notifier_free(struct fb_notifier *n, unsigned wait_ms) {
        uint64_t deadline;
        size_t i;

        if (!n)
                return;
        deadline = fb_mono_ms() + wait_ms;
        pthread_mutex_lock(&n->lock);
        for (i = 0; i < n->n_jobs; i++)
                n->jobs[i]->held = false;
        n->stopping = true;
        pthread_cond_broadcast(&n->cond);
        while (n->started && (n->n_jobs > 0 || n->busy) && fb_mono_ms() < deadline) {
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50 * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&n->cond, &n->lock, &ts);
        }
        n->abandon = true;
        for (i = 0; i < n->n_jobs; i++) {
                n->failed++;
                audit_delivery(n, n->jobs[i], false, "not delivered before exit");
                job_free(n->jobs[i]);
        }
        n->n_jobs = 0;
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->lock);
        if (n->started)
                pthread_join(n->thread, NULL);
        fb_http_free(n->http);
        pthread_cond_destroy(&n->cond);
        pthread_mutex_destroy(&n->lock);
        free(n);
}

void fb_notifier_stats(struct fb_notifier *n, unsigned long *delivered, unsigned long *failed) {
        pthread_mutex_lock(&n->lock);
        *delivered = n->delivered;
        *failed = n->failed;
        pthread_mutex_unlock(&n->lock);
}

void fb_notifier_release(struct fb_notifier *n) {
        size_t i;

        pthread_mutex_lock(&n->lock);
        for (i = 0; i < n->n_jobs; i++)
                n->jobs[i]->held = false;
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->lock);
}

int fb_notifier_send(struct fb_notifier *n, const char *alert_id, const struct fb_buf *webhook,
                     const struct fb_buf *slack) {
        size_t i;
        int queued = 0;

        pthread_mutex_lock(&n->lock);
        for (i = 0; i < n->policy->n_notifiers; i++) {
                const struct fb_notifier_config *c = &n->policy->notifiers[i];
                const struct fb_buf *b = c->format == FB_NOTIFY_SLACK ? slack : webhook;
                struct job *j;

                if (n->n_jobs >= FB_NOTIFY_QUEUE_MAX)
                        continue;
                j = calloc(1, sizeof(*j));
                if (!j || !(j->body = malloc(b->len + 1))) {
                        free(j);
                        pthread_mutex_unlock(&n->lock);
                        return -ENOMEM;
                }
                memcpy(j->body, b->data, b->len);
                j->body[b->len] = '\0';
                j->len = b->len;
                j->cfg = c;
                snprintf(j->alert_id, sizeof(j->alert_id), "%s", alert_id);
                j->due_ms = fb_mono_ms();
                j->held = true;
                n->jobs[n->n_jobs++] = j;
                queued++;
        }
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->lock);
        return queued == 0 && n->policy->n_notifiers > 0 ? -EAGAIN : queued;
}

/* ---- bodies ----------------------------------------------------------------------------- */

static void jstr(struct fb_buf *b, const char *s) {
        if (s)
                fb_json_str(b, s, strlen(s));
        else
                fb_buf_puts(b, "null");
}

/* Slack's mrkdwn treats <...> as links and mentions (<!channel>): &, < and > are escaped as
 * Slack asks, so alert text can neither ping people nor forge a link. */
static void slack_text(struct fb_buf *b, const char *s, size_t len) {
        size_t i;

        for (i = 0; i < len; i++) {
                if (s[i] == '&')
                        fb_buf_puts(b, "&amp;");
                else if (s[i] == '<')
                        fb_buf_puts(b, "&lt;");
                else if (s[i] == '>')
                        fb_buf_puts(b, "&gt;");
                else
                        fb_buf_putc(b, s[i]);
        }
}

int fb_notify_bodies(const struct fb_report *rep, const struct fb_response *resp,
                     const char *report_path, struct fb_buf *w, struct fb_buf *s) {
        const struct fb_alert *a = rep->alert;
        const char *headline = fb_report_str(rep, rep->headline);
        struct fb_buf text;
        size_t i;
        int r;

        fb_buf_puts(w, "{\"source\":\"firebreak\",\"firebreak\":\"" FB_VERSION "\",\"alert_id\":");
        jstr(w, a->id);
        fb_buf_puts(w, ",\"rule\":");
        fb_json_str(w, a->rule, a->rule_len);
        fb_buf_printf(w, ",\"priority\":\"%s\",\"hostname\":", fb_priority_to_string(a->priority));
        if (a->hostname)
                fb_json_str(w, a->hostname, a->hostname_len);
        else
                fb_buf_puts(w, "null");
        fb_buf_printf(w,
                      ",\"verdict\":\"%s\",\"severity\":\"%s\",\"confidence\":\"%s\","
                      "\"container_id\":",
                      fb_verdict_to_string(rep->verdict), fb_severity_to_string(rep->severity),
                      fb_confidence_to_string(rep->confidence));
        jstr(w, resp->target[0] ? resp->target : rep->cid[0] ? rep->cid : NULL);
        fb_buf_puts(w, ",\"summary\":");
        jstr(w, headline);
        fb_buf_printf(w, ",\"mode\":\"%s\",\"actions\":[", resp->dry_run ? "dry-run" : "enforce");
        for (i = 0; i < resp->n_actions; i++) {
                const struct fb_response_action *x = &resp->actions[i];

                fb_buf_printf(w, "%s{\"action\":\"%s\",\"result\":\"%s\",\"detail\":", i ? "," : "",
                              fb_action_to_string(x->action), fb_act_result_to_string(x->result));
                jstr(w, x->detail);
                fb_buf_putc(w, '}');
        }
        fb_buf_puts(w, "],\"captures\":[");
        for (i = 0; i < resp->n_captures; i++)
                fb_buf_printf(w, "%s{\"pid\":%d,\"sha256\":\"%s\",\"file\":\"%s\"}", i ? "," : "",
                              resp->captures[i].pid, resp->captures[i].sha256,
                              resp->captures[i].file);
        fb_buf_puts(w, "],\"evidence_dir\":");
        jstr(w, resp->evidence_dir[0] ? resp->evidence_dir : NULL);
        fb_buf_puts(w, ",\"manifest_sha256\":");
        jstr(w, resp->manifest_sha256[0] ? resp->manifest_sha256 : NULL);
        fb_buf_puts(w, ",\"report\":");
        jstr(w, report_path);
        fb_buf_puts(w, "}");

        /* Slack: a short text; everything from the alert goes through slack_text() */
        fb_buf_init(&text, FB_NOTIFY_BODY_MAX);
        fb_buf_printf(&text, "*firebreak*: %s (%s severity) — ", fb_verdict_to_string(rep->verdict),
                      fb_severity_to_string(rep->severity));
        slack_text(&text, a->rule, a->rule_len);
        if (a->hostname) {
                fb_buf_puts(&text, " on ");
                slack_text(&text, a->hostname, a->hostname_len);
        }
        fb_buf_puts(&text, "\n");
        slack_text(&text, headline, strlen(headline));
        for (i = 0; i < resp->n_actions; i++)
                fb_buf_printf(&text, "%s%s %s", i ? ", " : "\nActions: ",
                              fb_action_to_string(resp->actions[i].action),
                              fb_act_result_to_string(resp->actions[i].result));
        for (i = 0; i < resp->n_captures; i++)
                fb_buf_printf(&text, "\nCaptured payload: pid %d, sha256 %s", resp->captures[i].pid,
                              resp->captures[i].sha256);
        if (report_path) {
                fb_buf_puts(&text, "\nReport: ");
                slack_text(&text, report_path, strlen(report_path));
        }
        fb_buf_puts(&text, "\nAlert id: ");
        slack_text(&text, a->id, strlen(a->id));
        fb_buf_puts(s, "{\"text\":");
        r = fb_buf_error(&text);
        if (r == 0)
                fb_json_str(s, text.data, text.len);
        fb_buf_puts(s, "}");
        fb_buf_free(&text);
        if (r == 0)
                r = fb_buf_error(w);
        if (r == 0)
                r = fb_buf_error(s);
        return r;
}
