/* serve.c: the service: ingest (the group committer), the pipeline, signals and reload,
 * sd_notify. Its configuration is config.c's; retention, the disk bound and metrics are
 * upkeep.c's. */
#define _GNU_SOURCE
#include "firebreak/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/cleanup.h"
#include "firebreak/clock.h"
#include "firebreak/evidence.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/strutil.h"

#ifndef FB_SYSCONFDIR
#define FB_SYSCONFDIR "/etc"
#endif

#define BATCH 16 /* alerts per loop iteration and per commit; signals and sources stay served */
/* When alerts are acknowledged faster than the pipeline can process them, the backlog grows
 * whatever the pipeline does, and the pipeline then takes at most 1/PIPELINE_SHARE of the time:
 * after a full batch that took t, it waits (PIPELINE_SHARE - 1) t, at most MAX_YIELD_US, before
 * the next. On a machine short of cores, a burst is then acknowledged at nearly the rate of
 * ingest alone (Falco drops what an output does not take in time, while a pending alert only
 * waits); the backlog is processed in order, and the pipeline never stops: at worst one batch
 * per MAX_YIELD_US. The ingest rate is measured over RATE_WINDOW_US, the pipeline's from its
 * last batch. */
#define PIPELINE_SHARE 4
#define MAX_YIELD_US 50000u
#define RATE_WINDOW_US 100000u
#define STATUS_EVERY_US 1000000u

FB_DEFINE_CLEANUP(struct fb_yaml_doc *, fb_yaml_free)

/* ---- ingest -------------------------------------------------------------------------------- */

/* Group commit: one transaction (one fsync) for everything queued while the last one ran. */
/* A storm's queue is what fills the disk first: bodies wait to be processed (and, for repeats,
 * folded away). Past a quarter of max_disk of them, the next group waits for the pipeline to
 * work the queue down, for up to 5 s at a time: posters get their answer later, stdin and the
 * FIFO are read later; nothing is refused. */
static void queue_room(struct fb_serve *s) {
        for (int i = 0; i < 500 && atomic_load(&s->queue_bytes) > atomic_load(&s->queue_max) &&
                        !atomic_load(&s->quitting);
             i++)
                usleep(10000);
}

/* The pipeline processed bytes of the queue (saturating: alerts pending at the start were
 * never counted in). */
static void queue_done(struct fb_serve *s, uint64_t bytes) {
        unsigned long long v = atomic_load(&s->queue_bytes);

        while (!atomic_compare_exchange_weak(&s->queue_bytes, &v, v > bytes ? v - bytes : 0))
                ;
}

static void *committer(void *u) {
        struct fb_serve *s = u;
        struct fb_store_alert *batch = NULL;
        size_t cap = 0;

        pthread_mutex_lock(&s->ingest_lock);
        for (;;) {
                struct ingest_item *q, *it, *next, *cbs;
                size_t n = 0, i;
                uint64_t one = 1;
                int r;

                while (!s->queue && !s->stopping)
                        pthread_cond_wait(&s->ingest_cond, &s->ingest_lock);
                if (!s->queue)
                        break;
                /* taken oldest first: alerts are stored, and so processed, in arrival order */
                for (q = NULL, it = s->queue; it; it = next, n++) {
                        next = it->next;
                        it->next = q;
                        q = it;
                }
                s->queue = NULL;
                pthread_mutex_unlock(&s->ingest_lock);
                if (n > cap) {
                        struct fb_store_alert *b = realloc(batch, n * sizeof(*b));

                        if (b) {
                                batch = b;
                                cap = n;
                        }
                }
                if (n > cap)
                        r = -ENOMEM;
                else {
                        uint64_t bytes = 0;

                        for (i = 0, it = q; it; it = it->next) {
                                bytes += it->a.body_len;
                                batch[i++] = it->a;
                        }
                        queue_room(s);
                        pthread_mutex_lock(&s->write_lock);
                        r = fb_store_ingest(s->ingest, batch, n, NULL);
                        pthread_mutex_unlock(&s->write_lock);
                        if (r >= 0)
                                atomic_fetch_add(&s->queue_bytes, bytes);
                }
                if (r >= 0 && write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                        r = -errno;
                pthread_mutex_lock(&s->ingest_lock);
                /* a waiting caller's item lives on its stack: read next before its result
                 * is set, and keep the items with callbacks on a list of their own */
                cbs = NULL;
                for (i = 0, it = q; it; it = next, i++) {
                        next = it->next;
                        it->a.duplicate = r >= 0 && batch[i].duplicate;
                        it->result = r;
                        if (r >= 0)
                                atomic_fetch_add(it->a.duplicate ? &s->m.duplicates[it->source]
                                                                 : &s->m.received[it->source],
                                                 1);
                        if (it->done) {
                                it->next = cbs;
                                cbs = it;
                        }
                }
                pthread_cond_broadcast(&s->ingest_done);
                pthread_mutex_unlock(&s->ingest_lock);
                for (it = cbs; it; it = next) {
                        next = it->next;
                        it->done(it); /* the item may be gone after this */
                }
                pthread_mutex_lock(&s->ingest_lock);
        }
        pthread_mutex_unlock(&s->ingest_lock);
        free(batch);
        return NULL;
}

/* Each thread that validates keeps one alert: the storage is large (every field's slot), and
 * an allocation and clearing of it per request showed in the ingest profile. */
static pthread_key_t check_key;
static pthread_once_t check_once = PTHREAD_ONCE_INIT;

static void check_alert_free(void *a) {
        fb_alert_free(a);
}

static void check_key_init(void) {
        (void)pthread_key_create(&check_key, check_alert_free);
}

int fb_serve_check(struct fb_serve *s, int source, const char *data, size_t len, char *id,
                   size_t id_len, char *err, size_t err_len) {
        struct fb_alert_error aerr;
        struct fb_alert *a;
        int r;

        pthread_once(&check_once, check_key_init);
        a = pthread_getspecific(check_key);
        if (!a) {
                r = fb_alert_new(&a);
                if (r < 0)
                        return r;
                if (pthread_setspecific(check_key, a) != 0) {
                        fb_alert_free(a);
                        return -ENOMEM;
                }
        }
        r = fb_alert_parse(a, data, len, &aerr);
        if (r < 0) {
                snprintf(err, err_len, "%s", aerr.text);
                atomic_fetch_add(&s->m.rejected[source], 1);
                fb_alert_reset(a);
                return -EINVAL;
        }
        snprintf(id, id_len, "%s", a->id);
        fb_alert_reset(a); /* the tree goes now: a thread may wait long for its next request */
        return 0;
}

void fb_serve_wake(struct fb_serve *s) {
        uint64_t one = 1;

        (void)!write(s->wake_fd, &one, sizeof(one)); /* EAGAIN: a wake-up is pending already */
}

void fb_serve_item(struct ingest_item *it, int source, const char *data, size_t len) {
        static const char *const names[] = { "http", "stdin", "journal" };

        it->a = (struct fb_store_alert){
                .id = it->id, .source = names[source], .body = data, .body_len = len
        };
        it->source = source;
        it->result = 1;
}

/* The queue is newest first; the committer turns it around. */
void fb_serve_enqueue(struct fb_serve *s, int source, const char *data, size_t len,
                      struct ingest_item *it) {
        fb_serve_item(it, source, data, len);
        pthread_mutex_lock(&s->ingest_lock);
        it->next = s->queue;
        s->queue = it;
        pthread_cond_signal(&s->ingest_cond);
        pthread_mutex_unlock(&s->ingest_lock);
}

void fb_serve_commit(struct fb_serve *s, struct ingest_item *items, size_t n) {
        size_t i;

        pthread_mutex_lock(&s->ingest_lock);
        for (i = 0; i < n; i++) {
                items[i].done = NULL;
                items[i].next = s->queue;
                s->queue = &items[i];
        }
        pthread_cond_signal(&s->ingest_cond);
        for (i = 0; i < n; i++)
                while (items[i].result == 1)
                        pthread_cond_wait(&s->ingest_done, &s->ingest_lock);
        pthread_mutex_unlock(&s->ingest_lock);
}

/* ---- pipeline ------------------------------------------------------------------------------ */

/* A structured journal entry per action: what a SIEM or journalctl -o json picks up. */
static void journal_audit(const struct fb_alert *a, const struct fb_response *resp) {
        size_t i;

        for (i = 0; i < resp->n_actions; i++) {
                const struct fb_response_action *x = &resp->actions[i];

                sd_journal_send("MESSAGE=firebreak: %s %s on %s: %s",
                                fb_action_to_string(x->action), fb_act_result_to_string(x->result),
                                resp->target[0] ? resp->target : "no container", x->detail,
                                "MESSAGE_ID=4f2c5e0b1d9a4c7e8b6f3a2d1c0e9f87", "PRIORITY=%d",
                                x->result == FB_ACT_FAILED ? LOG_ERR : LOG_NOTICE, "FB_ALERT_ID=%s",
                                a->id, "FB_CONTAINER_ID=%s", resp->target, "FB_ACTION=%s",
                                fb_action_to_string(x->action), "FB_RESULT=%s",
                                fb_act_result_to_string(x->result), "FB_MODE=%s",
                                resp->dry_run ? "dry-run" : "enforce", NULL);
        }
}

uint64_t fb_serve_queue_depth(struct fb_serve *s) {
        uint64_t out = fb_sum3(s->m.processed) + fb_sum3(s->m.failed),
                 in = s->base_pending + fb_sum3(s->m.received);

        return in > out ? in - out : 0;
}

static void status_line(struct fb_serve *s, bool force);

static int status_due(sd_event_source *es, uint64_t usec, void *u) {
        status_line(u, true);
        return 0;
}

/* STATUS= for systemctl status: at most one a second (each is a message to the service
 * manager); one held back goes out when its second is over. force: now (start, reload). */
static void status_line(struct fb_serve *s, bool force) {
        uint64_t now = fb_mono_us();

        if (!force && now - s->status_at < STATUS_EVERY_US) {
                uint64_t wait = s->status_at + STATUS_EVERY_US - now;

                if (!s->status_src)
                        (void)sd_event_add_time_relative(s->event, &s->status_src, CLOCK_MONOTONIC,
                                                         wait, 1000, status_due, s);
                else if (sd_event_source_get_enabled(s->status_src, NULL) == 0 &&
                         sd_event_source_set_time_relative(s->status_src, wait) >= 0)
                        (void)sd_event_source_set_enabled(s->status_src, SD_EVENT_ONESHOT);
                return;
        }
        s->status_at = now;
        sd_notifyf(0, "STATUS=%lu processed, %lu failed since the start, %llu pending%s",
                   fb_sum3(s->m.processed), fb_sum3(s->m.failed),
                   (unsigned long long)fb_serve_queue_depth(s), s->cfg.dry_run ? " (dry-run)" : "");
}

/* What the store records for a processed alert, kept until the batch commits. */
struct fb_done {
        char id[FB_ALERT_ID_MAX + 1];
        int source; /* SRC_* */
        const char *status, *verdict;
        char rule[FB_ALERT_MAX_NAME_LEN + 1];
        char report[2100];
        bool has_response;
        struct fb_response response;
        char incident[FB_ALERT_ID_MAX + 1]; /* folded into this incident: "" when not */
        int64_t seen;                       /* received (Unix seconds) */
};

static int record(struct fb_done *d, const char *id, const char *status, const char *rule,
                  const char *verdict, const char *report, const struct fb_response *resp) {
        snprintf(d->id, sizeof(d->id), "%s", id); /* d->source: set by run_batch() */
        d->status = status;
        d->verdict = verdict;
        snprintf(d->rule, sizeof(d->rule), "%s", rule ? rule : "");
        snprintf(d->report, sizeof(d->report), "%s", report ? report : "");
        d->has_response = resp != NULL;
        if (resp)
                d->response = *resp;
        d->incident[0] = '\0';
        return 0;
}

/* Between two walks of the disk, what the pipeline writes (a report in whole 4 KiB blocks,
 * and about a body's worth in the store and the audit log) counts on the measured use: a
 * burst of distinct alerts brings the bound's degradation in as it crosses a step, not at the
 * next walk, and past max_disk retention follows the pipeline. At most every 100 ms: a
 * crossing walks the disk again; past the bound already, retention runs now. */
static void count_written(struct fb_serve *s, uint64_t bytes) {
        uint64_t used = atomic_fetch_add(&s->disk_used, bytes) + bytes, max = s->cfg.max_disk;
        int level = used >= max ? 2 : used >= max / 2 ? 1 : 0;
        uint64_t t = fb_mono_us();

        if (level == 0 || t - s->disk_walked_us < 100000)
                return;
        if (level > atomic_load(&s->disk_level)) {
                s->disk_walked_us = t;
                fb_serve_measure_disk(NULL, 0, s);
        } else if (level == 2 && s->prune_src &&
                   sd_event_source_set_time_relative(s->prune_src, 0) >= 0) {
                s->disk_walked_us = t;
                sd_event_source_set_enabled(s->prune_src, SD_EVENT_ONESHOT);
        }
}

static void *kb_loader(void *arg) {
        struct fb_serve *s = arg;
        struct fb_yaml_error yerr;
        char where[256];

        s->kb_error = fb_kb_new_builtin(&s->kb, &yerr, where, sizeof(where));
        if (s->kb_error == -EINVAL)
                log_error("the built-in knowledge base: %s:%u:%u: %s", where, yerr.line,
                          yerr.column, yerr.text);
        return NULL;
}

/* The knowledge base, once its loader is done. Returns 0, or the load's error (a broken build
 * or no memory), after which the service stops: its alerts stay pending for the next start. */
static int kb_ready(struct fb_serve *s) {
        if (s->kb_loading) {
                pthread_join(s->kb_thread, NULL);
                s->kb_loading = false;
                if (s->kb_error < 0) {
                        log_error_errno(s->kb_error, "the built-in knowledge base: %m");
                        sd_event_exit(s->event, s->kb_error);
                }
        }
        return s->kb_error;
}

/* One pending alert through triage, policy, actions, report; recorded in d for the batch's
 * commit. */
static int process_one(struct fb_serve *s, const char *id, int64_t received, struct fb_done *d) {
        struct fb_alert_error aerr;
        char name[FB_ALERT_ID_MAX + 8], report[2100];
        struct fb_incident *inc;
        int r;

        r = fb_alert_parse(s->alert, s->body.data, s->body.len, &aerr);
        if (r < 0) {
                log_error("alert %s: stored, but no longer parses: %s", id, aerr.text);
                return record(d, id, "failed", NULL, NULL, NULL, NULL);
        }
        inc = s->incidents ? fb_incidents_find(s->incidents, s->alert) : NULL;
        if (inc) {
                /* a repeat: counted on the incident, whose response covers it */
                fb_incident_add(inc, s->alert);
                fb_incident_flush(inc, false);
                record(d, id, "done", s->alert->rule, NULL, NULL, NULL);
                snprintf(d->incident, sizeof(d->incident), "%s", fb_incident_head(inc));
                d->seen = received;
                return 0;
        }
        s->report.forms = s->cfg.json ? FB_REPORT_JSON : FB_REPORT_MD; /* a reload may change it */
        r = kb_ready(s);
        if (r < 0)
                return r;
        r = fb_triage(s->kb, s->alert, &s->report);
        if (r >= 0)
                r = fb_respond(s->responder, s->alert, &s->report, received * 1000000000,
                               &s->response);
        if (r == -EIO)
                log_error("alert %s: the audit log could not be written", id);
        s->report.response = &s->response;
        fb_buf_reset(&s->out);
        if (r >= 0)
                r = s->cfg.json ? fb_report_json(&s->report, &s->out)
                                : fb_report_md(&s->report, &s->out);
        snprintf(name, sizeof(name), "%s.%s", s->alert->id, s->cfg.json ? "json" : "md");
        snprintf(report, sizeof(report), "%s/%s", s->cfg.reports_dir, name);
        if (r >= 0)
                /* no fsync: the store's commit is the durable record, and a report can be
                 * rebuilt from the stored alert */
                r = fb_write_file_replace(s->cfg.reports_dir, name, s->out.data, s->out.len, 0640,
                                          false);
        if (r >= 0)
                count_written(s, ((s->out.len + 4095) & ~(size_t)4095) + s->body.len);
        fb_respond_report_done(s->responder);
        journal_audit(s->alert, &s->response);
        for (size_t i = 0; i < s->response.n_actions; i++)
                if ((unsigned)s->response.actions[i].action < _FB_ACTION_MAX)
                        atomic_fetch_add(&s->m.actions[s->response.actions[i].action]
                                                      [s->response.actions[i].result % 6],
                                         1);
        if (r < 0) {
                log_error_errno(r, "alert %s: %m", id);
                /* recorded as failed, with whatever was done: never silently retried */
                return record(d, id, "failed", s->alert->rule,
                              fb_verdict_to_string(s->report.verdict), NULL, &s->response);
        }
        /* its repeats fold into it, unless something it was to do must be tried again */
        if (s->incidents && !s->response.retry &&
            fb_incidents_open(s->incidents, s->alert, s->cfg.reports_dir, name, s->cfg.json,
                              s->out.data, s->out.len) < 0)
                log_warning("alert %s: out of memory for its incident: repeats get reports of "
                            "their own",
                            id);
        return record(d, id, "done", s->alert->rule, fb_verdict_to_string(s->report.verdict),
                      report, &s->response);
}

static int run_batch(sd_event_source *es, void *u);

static int retry(sd_event_source *es, uint64_t usec, void *u) {
        return run_batch(es, u);
}

static int resume(sd_event_source *es, uint64_t usec, void *u) {
        struct fb_serve *s = u;

        s->resume_us = 0;
        return run_batch(es, s);
}

/* After a full batch that took since t0: yields to ingest when it outpaces the pipeline
 * (PIPELINE_SHARE). */
static int next_batch(struct fb_serve *s, uint64_t t0) {
        uint64_t t1 = fb_mono_us(), wait;
        unsigned long got =
                atomic_load(&s->m.received[SRC_HTTP]) + atomic_load(&s->m.duplicates[SRC_HTTP]) +
                atomic_load(&s->m.received[SRC_STREAM]) + atomic_load(&s->m.duplicates[SRC_STREAM]);
        int r;

        if (t1 - s->rate_at >= RATE_WINDOW_US) {
                s->ingest_rate = (double)(got - s->rate_got) * 1e6 / (double)(t1 - s->rate_at);
                s->rate_at = t1;
                s->rate_got = got;
        }
        /* the queue's bodies are what a storm fills the disk with: near max_disk the pipeline
         * works it down (folding repeats drops their bodies) instead of making way */
        if (s->ingest_rate * (double)(t1 - t0) <= BATCH * 1e6 || atomic_load(&s->disk_level))
                return sd_event_source_set_enabled(s->defer_src, SD_EVENT_ONESHOT);
        wait = (t1 - t0) * (PIPELINE_SHARE - 1);
        if (wait > MAX_YIELD_US)
                wait = MAX_YIELD_US;
        s->resume_us = t1 + wait;
        atomic_fetch_add(&s->m.yields, 1);
        if (!s->yield_src)
                /* accuracy 1 ms: sd-event's default (250 ms) would stall the pipeline */
                return sd_event_add_time_relative(s->event, &s->yield_src, CLOCK_MONOTONIC, wait,
                                                  1000, resume, s);
        r = sd_event_source_set_time_relative(s->yield_src, wait);
        return r < 0 ? r : sd_event_source_set_enabled(s->yield_src, SD_EVENT_ONESHOT);
}

/* The source an alert was stored with (the store's names) as SRC_*. */
static int source_index(const char *name) {
        if (strcmp(name, "http") == 0)
                return SRC_HTTP;
        if (strcmp(name, "journal") == 0)
                return SRC_JOURNAL;
        return SRC_STREAM;
}

/* Standard input, the only source, has ended: nothing more can arrive. Falco's program_output
 * starts its program for each alert (unless keep_alive is true) and waits for it to exit, and
 * `serve --stdin < FILE` is a run over a file: both stop once what was read is processed.
 * Beside another source, the service goes on. */
static bool input_done(const struct fb_serve *s) {
        return fb_stream_source_ended(s->stdin_src) && !s->fifo_src && !s->http && !s->journal;
}

/* Processes up to BATCH pending alerts, then records them all in one short transaction: the
 * write lock is held for the commit only, never while alerts are processed, so ingest's
 * commits do not wait behind the pipeline. A crash before the commit replays the batch. */
static int run_batch(sd_event_source *es, void *u) {
        struct fb_serve *s = u;
        char id[FB_ALERT_ID_MAX + 1], source[16];
        uint64_t t0 = fb_mono_us();
        int64_t seq = 0, received = 0;
        uint64_t bytes = 0;
        size_t i, n = 0;
        bool idle = false; /* nothing left pending */
        int r = 0;

        if (t0 < s->resume_us)
                return 0; /* yielding to ingest: resume() comes back */
        while (n < BATCH && !s->draining) {
                r = fb_store_next_pending(s->store, &seq, id, sizeof(id), source, sizeof(source),
                                          &s->body, &received);
                idle = r == 0;
                if (r <= 0)
                        break;
                r = process_one(s, id, received, &s->done[n]);
                if (r < 0)
                        break;
                bytes += s->body.len;
                s->done[n].source = source_index(source);
                n++;
        }
        if (n)
                pthread_mutex_lock(&s->write_lock);
        if (r >= 0 && n)
                r = fb_store_batch_begin(s->store);
        for (i = 0; r >= 0 && i < n; i++) {
                const struct fb_done *d = &s->done[i];

                r = fb_store_finish(s->store, d->id, d->status, d->rule[0] ? d->rule : NULL,
                                    d->verdict, d->report[0] ? d->report : NULL,
                                    d->has_response ? &d->response : NULL);
                if (r >= 0 && d->incident[0])
                        r = fb_store_fold(s->store, d->id, d->incident, d->seen,
                                          atomic_load(&s->disk_level) == 0);
        }
        if (n && r >= 0)
                r = fb_store_batch_end(s->store);
        else if (n)
                fb_store_batch_abort(s->store);
        if (n)
                pthread_mutex_unlock(&s->write_lock);
        if (r < 0) {
                /* a full or read-only disk: the batch stays pending and is tried again (its
                 * actions are idempotent); the service keeps answering meanwhile */
                log_error_errno(r, "the store could not record the processed alerts: %m; they "
                                   "stay pending, retrying in 1 s");
                if (!s->retry_src)
                        return sd_event_add_time_relative(s->event, &s->retry_src, CLOCK_MONOTONIC,
                                                          1000000, 0, retry, s);
                r = sd_event_source_set_time_relative(s->retry_src, 1000000);
                return r < 0 ? r : sd_event_source_set_enabled(s->retry_src, SD_EVENT_ONESHOT);
        }
        queue_done(s, bytes);
        /* counted once recorded: a batch that could not be is processed again */
        for (i = 0; i < n; i++) {
                atomic_fetch_add(strcmp(s->done[i].status, "done") == 0
                                         ? &s->m.processed[s->done[i].source]
                                         : &s->m.failed[s->done[i].source],
                                 1);
                if (s->done[i].incident[0])
                        atomic_fetch_add(&s->m.folded, 1);
        }
        atomic_store(&s->m.breaker_until, fb_respond_breaker_open_until(s->responder));
        /* more waiting: come back after the other event sources had their turn */
        status_line(s, false);
        if (n == BATCH && !s->draining)
                return next_batch(s, t0);
        if (idle && input_done(s)) {
                log_info("standard input ended (alerts stored: %lu, duplicates: %lu, lines "
                         "rejected: %lu) and every stored alert is processed: stopping",
                         atomic_load(&s->m.received[SRC_STREAM]),
                         atomic_load(&s->m.duplicates[SRC_STREAM]),
                         atomic_load(&s->m.rejected[SRC_STREAM]));
                sd_notify(0, "STOPPING=1\nSTATUS=standard input ended; every alert processed");
                s->draining = true;
                return sd_event_exit(s->event, 0);
        }
        return sd_event_source_set_enabled(s->defer_src, SD_EVENT_OFF);
}

static int on_wake(sd_event_source *es, int fd, uint32_t revents, void *u) {
        struct fb_serve *s = u;
        uint64_t n;

        (void)!read(fd, &n, sizeof(n));
        return run_batch(es, s);
}

/* ---- signals ------------------------------------------------------------------------------ */

/* A signal source that goes before the pipeline (see the disk walk's priority in
 * fb_serve()): a stop or a reload is not held up by a storm. It lives as long as the loop. */
static int add_signal(struct fb_serve *s, int sig, sd_event_signal_handler_t handler) {
        sd_event_source *src = NULL;
        int r = sd_event_add_signal(s->event, &src, sig, handler, s);

        if (r >= 0)
                r = sd_event_source_set_priority(src, SD_EVENT_PRIORITY_IMPORTANT);
        if (r >= 0)
                r = sd_event_source_set_floating(src, true);
        sd_event_source_unref(src);
        return r;
}

static int on_term(sd_event_source *es, const struct signalfd_siginfo *si, void *u) {
        struct fb_serve *s = u;

        sd_notify(0, "STOPPING=1\nSTATUS=stopping: the alert in progress finishes, pending ones "
                     "stay stored");
        s->draining = true;
        return sd_event_exit(s->event, 0);
}

static int load_policy(const char *path, struct fb_policy **ret) {
        struct fb_yaml_error err;
        int r = fb_policy_load(path, ret, &err);

        if (r == -EINVAL)
                log_error("%s:%u:%u: %s", path, err.line, err.column, err.text);
        else if (r < 0)
                log_error_errno(r, "%s: %m", path);
        return r;
}

/* sources.fifo opened as the service reads it (read-write: no EOF when a writer goes).
 * Returns the fd, or -errno after saying why. */
static int open_fifo(const char *path) {
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return log_error_errno(-errno, "sources.fifo: %s: %m", path);
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
                close(fd);
                log_error("sources.fifo: %s: not a FIFO (mkfifo makes one)", path);
                return -EINVAL;
        }
        return fd;
}

int fb_serve_config_verify(const struct fb_serve_config *c, struct fb_policy **policy,
                           size_t *token_len) {
        char token[512];
        struct stat st;
        bool ok = true;
        int r;

        *token_len = 0;
        if (load_policy(c->policy, policy) < 0) {
                *policy = NULL;
                ok = false;
        }
        if (c->http_token_file[0]) {
                r = fb_serve_read_token(c->http_token_file, token, sizeof(token));
                explicit_bzero(token, sizeof(token));
                if (r < 0)
                        ok = false;
                else
                        *token_len = (size_t)r;
                if (r >= 0 && stat(c->http_token_file, &st) == 0 && (st.st_mode & 0077))
                        log_warning("%s: the HTTP token is readable by others than its owner "
                                    "(mode %04o): chmod 600 it",
                                    c->http_token_file, (unsigned)(st.st_mode & 07777));
        }
        if (c->http_metrics_token_file[0]) {
                r = fb_serve_read_token(c->http_metrics_token_file, token, sizeof(token));
                explicit_bzero(token, sizeof(token));
                if (r < 0)
                        ok = false;
        }
        if (c->fifo[0]) {
                r = open_fifo(c->fifo);
                if (r >= 0)
                        close(r);
                else
                        ok = false;
        }
        if (!ok) {
                fb_policy_free(*policy);
                *policy = NULL;
                return -EINVAL;
        }
        return 0;
}

/* A responder for the configuration and policy. Its breaker starts from the disruptive
 * actions the store recorded in the policy's window: neither a restart nor a reload reopens
 * what the breaker closed. */
static int make_responder(struct fb_serve *s, const struct fb_serve_config *c,
                          struct fb_engine *engine, struct fb_policy *p,
                          struct fb_responder **ret) {
        uint64_t *times;
        size_t n = 0;
        time_t now = time(NULL);
        int r;
        struct fb_responder_config rc = {
                .policy = p,
                .engine = engine,
                .engine_error = engine ? 0 : -ECONNREFUSED,
                .dry_run = c->dry_run || p->dry_run,
                .state_dir = c->state_dir,
                .report_dir = c->reports_dir,
                .report_ext = c->json ? "json" : "md",
        };

        r = fb_responder_new(&rc, ret);
        if (r < 0 || p->max_disruptive_actions == 0)
                return r;
        times = calloc(p->max_disruptive_actions, sizeof(*times));
        if (!times)
                r = -ENOMEM;
        else
                r = fb_store_recent_disruptive(s->store, (int64_t)now - (int64_t)p->window_s, times,
                                               p->max_disruptive_actions, &n);
        if (r >= 0)
                fb_respond_breaker_seed(*ret, times, n);
        free(times);
        if (r < 0) {
                /* never a breaker that forgot: no responder at all */
                fb_responder_free(*ret);
                *ret = NULL;
                return log_error_errno(r, "the breaker's past actions could not be read: %m");
        }
        return 0;
}

/* Logs why not, naming the sockets tried. */
static int open_engine(const struct fb_serve_config *c, struct fb_engine **ret) {
        struct fb_engine_config ecfg = {
                .docker_socket = c->docker_socket[0] ? c->docker_socket : NULL,
                .containerd_socket = c->containerd_socket[0] ? c->containerd_socket : NULL,
        };
        char what[2300];
        int r = fb_engine_open(&ecfg, c->engine, ret);

        if (r < 0) {
                fb_engine_describe(&ecfg, c->engine, what, sizeof(what));
                log_warning_errno(r, "no container engine answers (%s): %m", what);
        }
        return r;
}

/* What a reload cannot change in a running service: kept as it is, and said. */
static void keep_restart_keys(const struct fb_serve_config *old, struct fb_serve_config *nc) {
        static const struct {
                const char *name;
                size_t off, len;
        } keys[] = {
#define K(name, field)                                                                             \
        { name, offsetof(struct fb_serve_config, field),                                           \
          sizeof(((struct fb_serve_config *)0)->field) }
                K("state_dir", state_dir),
                K("sources.stdin", stdin_source),
                K("sources.fifo", fifo),
                K("sources.http.listen", http_listen),
                K("sources.http.token_file", http_token_file),
                K("sources.http.metrics_token_file", http_metrics_token_file),
                K("sources.http.max_body", http_max_body),
                K("sources.http.peer_uids", http_peer_uids),
                K("sources.http.peer_uids", n_http_peer_uids),
                K("sources.journal", journal),
                K("sources.journal.identifier", journal_identifier),
                K("sources.journal.units", journal_units),
                K("sources.journal.units", n_journal_units), /* the same name: said once */
#undef K
        };

        const char *said = NULL; /* a key of two fields is named once */

        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const char *o = (const char *)old + keys[i].off;
                char *n = (char *)nc + keys[i].off;

                if (memcmp(o, n, keys[i].len) != 0) {
                        if (!said || strcmp(said, keys[i].name) != 0)
                                log_warning("reload: %s changed: it takes effect at the next "
                                            "restart",
                                            keys[i].name);
                        said = keys[i].name;
                        memcpy(n, o, keys[i].len);
                }
        }
}

/* SIGHUP: the configuration and the policy it names are read again and put in force
 * together; when anything is wrong, all of the old stays in force. */
static int on_hup(sd_event_source *es, const struct signalfd_siginfo *si, void *u) {
        struct fb_serve *s = u;
        struct fb_serve_config nc;
        struct fb_yaml_error yerr = { 0 };
        struct fb_policy *p = NULL;
        struct fb_responder *resp = NULL;
        struct fb_engine *engine = s->engine;
        bool new_engine = false;
        int r;

        sd_notify(0, "RELOADING=1");
        r = fb_serve_config_load(s->cfg.path[0] ? s->cfg.path : NULL, &nc, &yerr);
        if (r == -EINVAL)
                log_error("%s:%u:%u: %s", s->cfg.path, yerr.line, yerr.column, yerr.text);
        else if (r < 0)
                log_error_errno(r, "%s: %m", s->cfg.path);
        if (r >= 0) {
                snprintf(nc.path, sizeof(nc.path), "%s", s->cfg.path);
                nc.force_dry_run = s->cfg.force_dry_run;
                nc.dry_run |= nc.force_dry_run;
                nc.stdin_source |= s->cfg.stdin_source; /* --stdin */
                keep_restart_keys(&s->cfg, &nc);
                r = fb_mkdir_p(nc.reports_dir, 0750);
                if (r < 0)
                        log_error_errno(r, "reload: %s: %m", nc.reports_dir);
        }
        if (r >= 0 &&
            (nc.engine != s->cfg.engine || strcmp(nc.docker_socket, s->cfg.docker_socket) != 0 ||
             strcmp(nc.containerd_socket, s->cfg.containerd_socket) != 0)) {
                r = open_engine(&nc, &engine);
                if (r < 0)
                        log_error_errno(r,
                                        "reload: the new engine settings: no engine answers: %m");
                new_engine = r >= 0;
        }
        if (r >= 0)
                r = load_policy(nc.policy, &p);
        if (r >= 0)
                r = make_responder(s, &nc, engine, p, &resp);
        if (r < 0) {
                log_error("reload: keeping the configuration and the policy in force");
                fb_policy_free(p);
                if (new_engine)
                        fb_engine_free(engine);
        } else {
                fb_responder_free(s->responder);
                fb_policy_free(s->policy);
                if (new_engine)
                        fb_engine_free(s->engine);
                s->engine = engine;
                s->policy = p;
                s->responder = resp;
                s->cfg = nc;
                /* a new policy may answer repeats otherwise: incidents start afresh */
                fb_incidents_free(s->incidents);
                s->incidents = NULL;
                if (s->cfg.incident_window_s &&
                    fb_incidents_new(s->cfg.incident_window_s, &s->incidents) < 0)
                        log_warning("reload: out of memory for incidents: repeats are not "
                                    "folded");
                atomic_store(&s->queue_max, s->cfg.max_disk / 4);
                fb_serve_measure_disk(NULL, 0, s); /* max_disk may have changed */
                /* a new responder starts with a new breaker */
                atomic_store(&s->m.breaker_until, fb_respond_breaker_open_until(resp));
                log_info("reload: policy %s in force (%zu rules)%s", s->cfg.policy, p->n_rules,
                         s->cfg.dry_run ? ", dry-run" : "");
        }
        sd_notify(0, "READY=1");
        status_line(s, true);
        return 0;
}

/* ---- run ----------------------------------------------------------------------------------- */

/* One service per state directory: two would process the same pending alerts (every action
 * twice, each with a breaker of its own). flock(), not fcntl(): the lock belongs to this open
 * file, and no close elsewhere in the process can drop it (see fb_store_open()). */
static int lock_state_dir(struct fb_serve *s) {
        char path[1100], pid[24];
        ssize_t n;
        size_t i;
        int fd, e;

        snprintf(path, sizeof(path), "%s/serve.lock", s->cfg.state_dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(-errno, "%s: %m", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                e = errno;
                n = pread(fd, pid, sizeof(pid) - 1, 0);
                close(fd);
                if (e != EWOULDBLOCK)
                        return log_error_errno(-e, "%s: %m", path);
                /* the pid the other service wrote, if the file holds just that */
                for (i = 0; n > 0 && i < (size_t)n && pid[i] >= '0' && pid[i] <= '9'; i++)
                        ;
                pid[i] = '\0';
                log_error("%s is in use by another firebreak serve%s%s%s: one service per "
                          "state directory",
                          s->cfg.state_dir, i ? " (pid " : "", pid, i ? ")" : "");
                return -EBUSY;
        }
        n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
                log_warning("%s: cannot write the pid", path);
        s->lock_fd = fd;
        return 0;
}

static int setup(struct fb_serve *s) {
        char path[1100];
        int r;

        r = fb_mkdir_p(s->cfg.state_dir, 0750);
        if (r >= 0)
                r = fb_mkdir_p(s->cfg.reports_dir, 0750);
        if (r < 0)
                return log_error_errno(r, "%s: %m", s->cfg.state_dir);
        r = lock_state_dir(s);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/state.db", s->cfg.state_dir);
        r = fb_store_open(path, &s->store);
        /* the pipeline's commits need no fsync of their own (store.h); the ingest connection
         * keeps synchronous = FULL: its commit is the acknowledgement, and it syncs whatever
         * the pipeline wrote before it as well */
        if (r >= 0)
                r = fb_store_relax_sync(s->store);
        if (r >= 0)
                r = fb_store_open(path, &s->ingest);
        if (r == -EPROTO)
                return log_error_errno(r,
                                       "%s: written by a newer firebreak; refusing to touch "
                                       "it",
                                       path);
        if (r >= 0)
                r = fb_store_count_pending(s->store, &s->base_pending);
        if (r < 0)
                return log_error_errno(r, "%s: cannot open the store: %m", path);
        r = pthread_create(&s->kb_thread, NULL, kb_loader, s);
        if (r != 0)
                return log_error_errno(-r, "cannot start the knowledge base loader: %m");
        s->kb_loading = true;
        r = load_policy(s->cfg.policy, &s->policy);
        if (r < 0)
                return r;
        r = open_engine(&s->cfg, &s->engine);
        if (r < 0) {
                log_warning("alerts are stored and reported; actions fail until an engine "
                            "answers");
                s->engine = NULL;
        }
        r = make_responder(s, &s->cfg, s->engine, s->policy, &s->responder);
        if (r < 0)
                return log_error_errno(r, "%s: cannot start the responder: %m", s->cfg.state_dir);
        atomic_store(&s->m.breaker_until, fb_respond_breaker_open_until(s->responder));
        r = fb_alert_new(&s->alert);
        if (r < 0)
                return r;
        fb_report_init(&s->report);
        fb_buf_init(&s->body, FB_ALERT_MAX_BYTES + 1);
        fb_buf_init(&s->out, FB_REPORT_MAX_BYTES);
        s->done = calloc(BATCH, sizeof(*s->done));
        if (!s->done)
                return -ENOMEM;
        return s->cfg.incident_window_s ? fb_incidents_new(s->cfg.incident_window_s, &s->incidents)
                                        : 0;
}

static void teardown(struct fb_serve *s) {
        atomic_store(&s->quitting, true); /* the committer stops waiting for room */
        fb_http_source_stop(s->http);     /* no more ingest callers */
        fb_journal_source_stop(s->journal);
        fb_stream_source_stop(s->stdin_src);
        fb_stream_source_stop(s->fifo_src);
        if (s->committer_started) {
                pthread_mutex_lock(&s->ingest_lock);
                s->stopping = true;
                pthread_cond_broadcast(&s->ingest_cond);
                pthread_mutex_unlock(&s->ingest_lock);
                pthread_join(s->committer, NULL);
        }
        sd_event_source_unref(s->wake_src);
        sd_event_source_unref(s->defer_src);
        sd_event_source_unref(s->retry_src);
        sd_event_source_unref(s->yield_src);
        sd_event_source_unref(s->status_src);
        sd_event_source_unref(s->prune_src);
        sd_event_source_unref(s->disk_src);
        sd_event_unref(s->event);
        fb_incidents_free(s->incidents); /* the last counts into their reports */
        if (s->wake_fd >= 0)
                close(s->wake_fd);
        fb_responder_free(s->responder);
        fb_engine_free(s->engine);
        fb_policy_free(s->policy);
        if (s->kb_loading)
                pthread_join(s->kb_thread, NULL);
        fb_kb_free(s->kb);
        fb_alert_free(s->alert);
        fb_report_done(&s->report);
        fb_buf_free(&s->body);
        fb_buf_free(&s->out);
        free(s->done);
        fb_store_close(s->ingest);
        fb_store_close(s->store);
        if (s->lock_fd >= 0)
                close(s->lock_fd); /* the file stays: removing it would race a new start */
        pthread_cond_destroy(&s->ingest_cond);
        pthread_cond_destroy(&s->ingest_done);
        pthread_mutex_destroy(&s->ingest_lock);
        pthread_mutex_destroy(&s->write_lock);
}

int fb_serve_run(const struct fb_serve_config *c) {
        struct fb_serve s = { .cfg = *c, .wake_fd = -1, .lock_fd = -1 };
        sigset_t ss;
        int r, rc = 0;

        atomic_init(&s.queue_max, c->max_disk / 4);
        pthread_mutex_init(&s.ingest_lock, NULL);
        pthread_mutex_init(&s.write_lock, NULL);
        pthread_cond_init(&s.ingest_cond, NULL);
        pthread_cond_init(&s.ingest_done, NULL);
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = setup(&s);
        if (r >= 0) {
                s.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                r = s.wake_fd < 0 ? -errno : sd_event_default(&s.event);
        }
        if (r >= 0) {
                r = -pthread_create(&s.committer, NULL, committer, &s);
                s.committer_started = r == 0;
        }
        if (r >= 0)
                r = sd_event_add_io(s.event, &s.wake_src, s.wake_fd, EPOLLIN, on_wake, &s);
        if (r >= 0)
                r = sd_event_add_defer(s.event, &s.defer_src, run_batch, &s);
        if (r >= 0)
                r = add_signal(&s, SIGTERM, on_term);
        if (r >= 0)
                r = add_signal(&s, SIGINT, on_term);
        if (r >= 0)
                r = add_signal(&s, SIGHUP, on_hup);
        if (r >= 0)
                r = sd_event_set_watchdog(s.event, true);
        if (r >= 0) /* the first pass a second after the start, not before READY */
                r = sd_event_add_time_relative(s.event, &s.prune_src, CLOCK_MONOTONIC, 1000000,
                                               100000, fb_serve_prune, &s);
        if (r >= 0) {
                fb_serve_measure_disk(NULL, 0, &s); /* before the first alert */
                r = sd_event_add_time_relative(s.event, &s.disk_src, CLOCK_MONOTONIC, 1000000,
                                               100000, fb_serve_measure_disk, &s);
        }
        /* the pipeline's defer source is pending again as soon as it ran (past half of
         * max_disk it does not yield): sd-event takes the oldest pending source of the best
         * priority, and on a tie the pipeline won, so the disk walk and retention never ran
         * in a storm. They come first. */
        if (r >= 0)
                r = sd_event_source_set_priority(s.prune_src, SD_EVENT_PRIORITY_IMPORTANT);
        if (r >= 0)
                r = sd_event_source_set_priority(s.disk_src, SD_EVENT_PRIORITY_IMPORTANT);
        if (r >= 0 && s.cfg.stdin_source)
                r = fb_stream_source_start(&s, STDIN_FILENO, &s.stdin_src);
        if (r >= 0 && s.cfg.fifo[0]) {
                int fd = open_fifo(s.cfg.fifo);

                r = fd < 0 ? fd : fb_stream_source_start(&s, fd, &s.fifo_src);
        }
        if (r >= 0 && s.cfg.http_listen[0])
                r = fb_http_source_start(&s, &s.http);
        if (r >= 0 && s.cfg.journal)
                r = fb_journal_source_start(&s, &s.journal);
        if (r < 0) {
                log_error_errno(r, "cannot start: %m");
                teardown(&s);
                return 2;
        }
        /* what was stored but not processed before the last stop goes first */
        sd_event_source_set_enabled(s.defer_src, SD_EVENT_ONESHOT);
        sd_notify(0, "READY=1");
        status_line(&s, true);
        log_info("serving: state %s, reports %s, policy %s%s", s.cfg.state_dir, s.cfg.reports_dir,
                 s.cfg.policy, s.cfg.dry_run ? ", dry-run" : "");
        r = sd_event_loop(s.event);
        if (r < 0) {
                log_error_errno(r, "event loop: %m");
                rc = 1;
        } else
                rc = r;
        teardown(&s);
        return rc;
}
