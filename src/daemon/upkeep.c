/* upkeep.c: what keeps the service within its bounds and visible: retention (early, past
 * max_disk), the disk bound's measurement and degradation, and the Prometheus metrics. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/cleanup.h"
#include "firebreak/clock.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/strutil.h"
#include "firebreak/evidence.h"

/* ---- retention ----------------------------------------------------------------------------- */

#define PRUNE_CHUNK 500 /* alerts per transaction: ingest waits for one chunk at most */

/* Deletes a chunk of alerts past retention, their reports and their evidence bundles; comes
 * back at once while there is more, else after a tenth of the retention (at least 1 s, at most
 * an hour). Never what the breaker still counts (an alert with a disruptive action in the
 * policy's window), nor the head of an open incident. Past max_disk, any other processed alert
 * goes, oldest first, chunk after chunk until the bytes freed bring the use under the bound. */
int fb_serve_prune(sd_event_source *es, uint64_t usec, void *u) {
        struct fb_serve *s = u;
        uint64_t keep = s->cfg.retention_s, n = 0, bundles = 0, freed = 0, next;
        struct fb_buf paths, ids;
        bool early = atomic_load(&s->disk_level) >= 2;
        int64_t now = (int64_t)time(NULL);
        int r;

        if (!early && keep == 0) { /* for ever, until a reload says otherwise */
                r = sd_event_source_set_time_relative(es, 3600 * 1000000ULL);
                return r < 0 ? r : sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        }
        fb_buf_init(&paths, (size_t)PRUNE_CHUNK * 1200);
        fb_buf_init(&ids, (size_t)PRUNE_CHUNK * (FB_ALERT_ID_MAX + 1));
        pthread_mutex_lock(&s->write_lock);
        /* past max_disk, any processed alert may go, oldest first; the head of an incident
         * repeated within its window stays (it is still open), and so does what the breaker
         * counts */
        r = fb_store_prune(s->store, early ? INT64_MAX : now - (int64_t)keep,
                           now - (int64_t)s->cfg.incident_window_s,
                           now - (int64_t)s->policy->window_s, PRUNE_CHUNK, &paths, &ids, &n);
        pthread_mutex_unlock(&s->write_lock);
        if (r < 0)
                log_error_errno(r, "retention: the store could not delete old alerts: %m");
        if (fb_buf_error(&paths) < 0 || fb_buf_error(&ids) < 0)
                /* out of memory: the rows went, some reports or bundles stay */
                log_warning("retention: not every report path or alert id could be kept; some "
                            "reports or evidence of deleted alerts stay in %s or %s/evidence",
                            s->cfg.reports_dir, s->cfg.state_dir);
        /* the rows are gone: a report or a bundle that cannot be removed now stays (and is
         * said) */
        for (size_t off = 0; paths.data && off < paths.len; off += strlen(paths.data + off) + 1) {
                struct stat st;

                if (early && stat(paths.data + off, &st) == 0)
                        freed += (uint64_t)st.st_blocks * 512;
                if (unlink(paths.data + off) < 0 && errno != ENOENT)
                        log_warning("retention: %s: %m", paths.data + off);
        }
        for (size_t off = 0; !s->cfg.keep_evidence && ids.data && off < ids.len;
             off += strlen(ids.data + off) + 1) {
                int k = fb_evidence_remove(s->cfg.state_dir, ids.data + off);

                if (k < 0)
                        log_warning_errno(k, "retention: %s/evidence/%s: %m", s->cfg.state_dir,
                                          ids.data + off);
                bundles += k > 0;
        }
        fb_buf_free(&paths);
        fb_buf_free(&ids);
        atomic_fetch_add(&s->m.pruned, n);
        if (n && early)
                log_warning("retention: firebreak's disk use is past max_disk (%llu of %llu "
                            "bytes): deleted the %llu oldest processed alerts (%llu with "
                            "evidence) before their retention",
                            (unsigned long long)atomic_load(&s->disk_used),
                            (unsigned long long)s->cfg.max_disk, (unsigned long long)n,
                            (unsigned long long)bundles);
        else if (n)
                log_info("retention: deleted %llu alerts older than %llu s (%llu with evidence)",
                         (unsigned long long)n, (unsigned long long)keep,
                         (unsigned long long)bundles);
        next = n == PRUNE_CHUNK ? 10000 : s->cfg.retention_s * 100000;
        if (early) {
                /* the reports' bytes are gone now; the store's pages are reused, not returned:
                 * on while the estimate is still past the bound, else measure again first */
                uint64_t used = atomic_load(&s->disk_used);

                used = freed >= used ? 0 : used - freed;
                atomic_store(&s->disk_used, used);
                next = n == PRUNE_CHUNK && used >= s->cfg.max_disk ? 10000 : 1000000;
                if (n < PRUNE_CHUNK && used >= s->cfg.max_disk &&
                    fb_mono_us() - s->disk_stuck_us >= 60000000) {
                        /* what is left is the store, the audit log, what the breaker counts and
                         * the open incidents: said, at most once a minute */
                        s->disk_stuck_us = fb_mono_us();
                        log_warning("retention: firebreak's disk use is still past max_disk "
                                    "(%llu of %llu bytes) with every alert it may delete gone: "
                                    "rotate the audit log (%s/audit.jsonl) or raise max_disk",
                                    (unsigned long long)used, (unsigned long long)s->cfg.max_disk,
                                    s->cfg.state_dir);
                }
        }
        if (next > 3600 * 1000000ULL)
                next = 3600 * 1000000ULL;
        if (next < 1000000 && n < PRUNE_CHUNK)
                next = 1000000;
        r = sd_event_source_set_time_relative(es, next);
        return r < 0 ? r : sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

/* ---- disk bound ---------------------------------------------------------------------------- */

/* A walk of state_dir and reports_dir costs a stat per file (30 days of reports can be many):
 * every second near the bound, where a storm's growth matters, and every ten below a quarter
 * of it. The queue's share is held at ingest without a walk (queue_room()). */
#define DISK_NEAR_US 1000000ULL
#define DISK_FAR_US 10000000ULL

/* Measures firebreak's disk use (state_dir, and reports_dir unless it is inside it) and puts
 * the bound's degradation in force: from half of max_disk, no evidence, no rows for folded
 * repeats, and the pipeline no longer yields to ingest; at max_disk, retention takes the
 * oldest processed alerts early (prune()). */
int fb_serve_measure_disk(sd_event_source *es, uint64_t usec, void *u) {
        struct fb_serve *s = u;
        size_t sl = strlen(s->cfg.state_dir);
        uint64_t used = 0, max = s->cfg.max_disk;
        int level, before = atomic_load(&s->disk_level), r;
        char why[256];

        r = fb_disk_usage(s->cfg.state_dir, &used);
        if (r >= 0 && !(strncmp(s->cfg.reports_dir, s->cfg.state_dir, sl) == 0 &&
                        s->cfg.reports_dir[sl] == '/'))
                r = fb_disk_usage(s->cfg.reports_dir, &used);
        if (r < 0)
                log_warning_errno(r, "disk use of %s: %m", s->cfg.state_dir);
        level = used >= max ? 2 : used >= max / 2 ? 1 : 0;
        atomic_store(&s->disk_used, used);
        atomic_store(&s->disk_level, level);
        if (level != before) {
                if (level)
                        log_warning("firebreak's disk use is %llu bytes, %llu%% of max_disk "
                                    "(%llu): evidence is not collected, folded repeats are "
                                    "counted without rows, and the queue goes before new "
                                    "ingest%s",
                                    (unsigned long long)used,
                                    (unsigned long long)(used * 100 / max), (unsigned long long)max,
                                    level == 2 ? "; the oldest processed alerts are deleted "
                                                 "before their retention"
                                               : "");
                else
                        log_info("firebreak's disk use is %llu bytes, under half of max_disk: "
                                 "evidence is collected again",
                                 (unsigned long long)used);
        }
        snprintf(why, sizeof(why),
                 "no evidence: firebreak's disk use (%llu MiB) is past half of max_disk (%llu "
                 "MiB); containment still runs",
                 (unsigned long long)(used >> 20), (unsigned long long)(max >> 20));
        if (s->responder)
                fb_respond_set_evidence(s->responder, level ? why : NULL);
        if (level == 2 && before < 2 && s->prune_src &&
            sd_event_source_set_time_relative(s->prune_src, 0) >= 0)
                sd_event_source_set_enabled(s->prune_src, SD_EVENT_ONESHOT);
        if (!es)
                return 0;
        r = sd_event_source_set_time_relative(es, used >= max / 4 ? DISK_NEAR_US : DISK_FAR_US);
        return r < 0 ? r : sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
}

/* ---- metrics ------------------------------------------------------------------------------- */

static void by_source(struct fb_buf *out, const char *name, const char *help, atomic_ulong v[3]) {
        static const char *const src[] = { "http", "stream", "journal" };
        size_t i;

        fb_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
        for (i = 0; i < 3; i++)
                fb_buf_printf(out, "%s{source=\"%s\"} %lu\n", name, src[i], atomic_load(&v[i]));
}

void fb_serve_metrics(struct fb_serve *s, struct fb_buf *out) {
        uint64_t until = atomic_load(&s->m.breaker_until);
        time_t now = time(NULL);
        size_t i, j;

        by_source(out, "firebreak_alerts_received_total", "New alerts committed to the store.",
                  s->m.received);
        by_source(out, "firebreak_alerts_duplicate_total",
                  "Alerts acknowledged that the store held already (the same id).",
                  s->m.duplicates);
        by_source(out, "firebreak_alerts_rejected_total", "Alerts refused as invalid.",
                  s->m.rejected);
        by_source(out, "firebreak_alerts_processed_total",
                  "Alerts through the pipeline, report and actions recorded.", s->m.processed);
        by_source(out, "firebreak_alerts_failed_total",
                  "Alerts the pipeline could not finish, recorded as failed.", s->m.failed);
        fb_buf_printf(out,
                      "# HELP firebreak_alerts_folded_total Repeats folded into an incident.\n"
                      "# TYPE firebreak_alerts_folded_total counter\n"
                      "firebreak_alerts_folded_total %lu\n"
                      "# HELP firebreak_disk_used_bytes Disk used by state_dir and reports_dir.\n"
                      "# TYPE firebreak_disk_used_bytes gauge\n"
                      "firebreak_disk_used_bytes %llu\n"
                      "# HELP firebreak_disk_max_bytes max_disk.\n"
                      "# TYPE firebreak_disk_max_bytes gauge\n"
                      "firebreak_disk_max_bytes %llu\n",
                      atomic_load(&s->m.folded), (unsigned long long)atomic_load(&s->disk_used),
                      (unsigned long long)s->cfg.max_disk);
        fb_buf_printf(out,
                      "# HELP firebreak_alerts_pruned_total Processed alerts deleted by "
                      "retention.\n"
                      "# TYPE firebreak_alerts_pruned_total counter\n"
                      "firebreak_alerts_pruned_total %lu\n",
                      atomic_load(&s->m.pruned));
        fb_buf_printf(out,
                      "# HELP firebreak_queue_depth Alerts stored and not yet processed.\n"
                      "# TYPE firebreak_queue_depth gauge\n"
                      "firebreak_queue_depth %llu\n"
                      "# HELP firebreak_breaker_open 1 while the breaker refuses disruptive "
                      "actions (guards.max_disruptive_actions reached in the window).\n"
                      "# TYPE firebreak_breaker_open gauge\n"
                      "firebreak_breaker_open %d\n"
                      "# HELP firebreak_pipeline_yields_total Pauses of the pipeline while "
                      "alerts arrived faster than it processed them.\n"
                      "# TYPE firebreak_pipeline_yields_total counter\n"
                      "firebreak_pipeline_yields_total %lu\n"
                      "# HELP firebreak_http_connections_evicted_total Connections that had not "
                      "shown the token, closed to make room (more than 256 open).\n"
                      "# TYPE firebreak_http_connections_evicted_total counter\n"
                      "firebreak_http_connections_evicted_total %lu\n"
                      "# HELP firebreak_actions_total Actions by type and result.\n"
                      "# TYPE firebreak_actions_total counter\n",
                      (unsigned long long)fb_serve_queue_depth(s),
                      now >= 0 && (uint64_t)now < until, atomic_load(&s->m.yields),
                      fb_http_source_evictions(s->http));
        for (i = 0; i < _FB_ACTION_MAX; i++)
                for (j = 0; j < 6; j++)
                        if (atomic_load(&s->m.actions[i][j]))
                                fb_buf_printf(out,
                                              "firebreak_actions_total{action=\"%s\",result=\"%s\"}"
                                              " %lu\n",
                                              fb_action_to_string((enum fb_action)i),
                                              fb_act_result_to_string((enum fb_act_result)j),
                                              atomic_load(&s->m.actions[i][j]));
}
