/* daemon.h: what serve and its sources share (private to src/daemon). */
#pragma once

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "firebreak/alert.h"
#include "firebreak/buf.h"
#include "firebreak/engine.h"
#include "firebreak/kb.h"
#include "firebreak/policy.h"
#include "firebreak/respond.h"
#include "firebreak/serve.h"
#include "firebreak/store.h"
#include "firebreak/triage.h"

/* Counted since the start; the arrays by source: http, stdin/fifo, journal. */
struct fb_metrics {
        atomic_ulong received[3];   /* new alerts committed to the store */
        atomic_ulong duplicates[3]; /* acknowledged, but stored already */
        atomic_ulong rejected[3];
        atomic_ulong processed[3], failed[3]; /* recorded by the pipeline's commits */
        atomic_ulong yields; /* pipeline pauses for ingest (serve.c, PIPELINE_SHARE) */
        atomic_ulong pruned; /* deleted by retention */
        atomic_ulong folded; /* repeats folded into an incident */
        atomic_ulong actions[_FB_ACTION_MAX][6]; /* by action and result */
        atomic_ullong breaker_until; /* fb_respond_breaker_open_until() after the last alert */
};

enum { SRC_HTTP, SRC_STREAM, SRC_JOURNAL };

struct fb_done;

/* One alert waiting for its group commit. */
struct ingest_item {
        struct fb_store_alert a;
        char id[FB_ALERT_ID_MAX + 1];
        int source;
        int result; /* 1 while queued, then 0 or -errno, with a.duplicate */
        /* NULL: the caller waits (fb_serve_commit); else called on the committer's thread once
         * the result is set, after which the committer does not touch the item again */
        void (*done)(struct ingest_item *it);
        struct ingest_item *next;
};

struct fb_serve {
        struct fb_serve_config cfg;
        sd_event *event;
        struct fb_store *store;  /* the pipeline's connection (event loop thread) */
        struct fb_store *ingest; /* the committer thread's connection */
        /* group commit: sources queue alerts and wait; the committer commits each queue in one
         * transaction and wakes them */
        pthread_mutex_t ingest_lock;
        /* one writer at a time, in the process: two connections that meet SQLite's lock wait
         * in its busy handler, which sleeps whole milliseconds */
        pthread_mutex_t write_lock;
        pthread_cond_t ingest_cond, ingest_done;
        struct ingest_item *queue;
        pthread_t committer;
        bool committer_started, stopping;
        int wake_fd; /* eventfd: an alert was committed */
        int lock_fd; /* state_dir/serve.lock, flock()ed while the service runs */
        sd_event_source *wake_src, *defer_src, *retry_src, *yield_src, *status_src, *prune_src;
        /* the pipeline yields to ingest (serve.c, PIPELINE_SHARE): the time before which it
         * starts no batch, and the ingest rate (alerts/s) measured at rate_at with rate_got
         * alerts received (CLOCK_MONOTONIC, microseconds) */
        uint64_t resume_us, rate_at;
        unsigned long rate_got;
        double ingest_rate;
        struct fb_kb *kb;
        /* the built-in knowledge base loads on a thread of its own while the service starts
         * (parsing its YAML takes some 20 ms, which READY=1 need not wait for); the pipeline
         * joins it before its first triage */
        pthread_t kb_thread;
        bool kb_loading;
        int kb_error;
        struct fb_policy *policy;
        struct fb_engine *engine;
        struct fb_responder *responder;
        struct fb_alert *alert;
        struct fb_report report;
        struct fb_response response;
        struct fb_buf body, out;
        struct fb_metrics m;
        uint64_t base_pending; /* pending in the store at the start; m carries it on */
        uint64_t status_at;    /* when STATUS= was last sent (fb_mono_us) */
        struct fb_http_source *http;
        struct fb_journal_source *journal;
        struct fb_stream_source *stdin_src, *fifo_src;
        struct fb_done *done;           /* the current batch, recorded at its end */
        struct fb_incidents *incidents; /* NULL: incident_window 0 */
        /* disk use of state_dir and reports_dir, measured every few seconds, and what it
         * means: 0 under half of max_disk, 1 from half, 2 at or past it */
        atomic_ullong disk_used;
        atomic_ullong queue_bytes; /* bodies committed and not yet processed (this run's) */
        atomic_ullong queue_max;   /* a quarter of max_disk, for the committer's thread */
        atomic_bool quitting;      /* stop waiting for queue room */
        atomic_int disk_level;
        uint64_t disk_walked_us; /* fb_mono_us() of the pipeline's last walk (count_written()) */
        uint64_t disk_stuck_us;  /* of the last "nothing more to delete" warning */
        sd_event_source *disk_src;
        bool draining;
};

/* Validates one alert (JSON) for the source and puts its id in id; -EINVAL with err, counted
 * as rejected, when it is not an alert. Every source calls it before storing an alert: the
 * journal then commits on its own, the others through fb_serve_enqueue() (HTTP) or
 * fb_serve_commit() (stdin, the FIFO). Thread-safe: each thread keeps an alert of its own. */
int fb_serve_check(struct fb_serve *s, int source, const char *data, size_t len, char *id,
                   size_t id_len, char *err, size_t err_len);
/* Queues a validated alert (it->id from fb_serve_check(), it->done set; data stays valid
 * until the result is known) for the next group commit. */
void fb_serve_enqueue(struct fb_serve *s, int source, const char *data, size_t len,
                      struct ingest_item *it);
/* Sets up an item for fb_serve_commit(): it->id from fb_serve_check(); data stays valid until
 * fb_serve_commit() returns. */
void fb_serve_item(struct ingest_item *it, int source, const char *data, size_t len);
/* Queues n items in their order for the next group commit and waits for it: each item's result
 * is then 0 (a.duplicate says whether it was stored already) or -errno. Thread-safe. */
void fb_serve_commit(struct fb_serve *s, struct ingest_item *items, size_t n);
/* Tells the pipeline that alerts were committed. */
void fb_serve_wake(struct fb_serve *s);

/* Prometheus text of s->m and the store's counts (upkeep.c). */
void fb_serve_metrics(struct fb_serve *s, struct fb_buf *out);
/* sd-event timers (upkeep.c), u the service: retention, which deletes processed alerts past
 * retention (past max_disk, the oldest early) and rearms itself; and the disk bound's
 * measurement, which puts its degradation in force (es NULL: measure once, arm nothing). */
int fb_serve_prune(sd_event_source *es, uint64_t usec, void *u);
int fb_serve_measure_disk(sd_event_source *es, uint64_t usec, void *u);

static inline unsigned long fb_sum3(atomic_ulong v[3]) {
        return atomic_load(&v[0]) + atomic_load(&v[1]) + atomic_load(&v[2]);
}

/* Alerts stored and not yet processed, from those at the start and what was counted since:
 * no scan of the store, which grows. It can lag a batch behind (the committer counts after its
 * commit, and the pipeline may process the alerts first): never below 0. */
uint64_t fb_serve_queue_depth(struct fb_serve *s);

/* sources.http.listen when it is not unix:path: a numeric IPv4 address and a port (1 to
 * 65535). Returns 0 with *sa, or -EINVAL. */
int fb_serve_parse_listen(const char *s, struct sockaddr_in *sa);
/* The HTTP bearer token from path, without a trailing newline, into out (cap bytes, the
 * token is at most cap - 1): at least 16 characters. Logs why not, naming the file. Returns
 * the token's length, -EINVAL (too short) or -errno. */
int fb_serve_read_token(const char *path, char *out, size_t cap);

struct fb_http_source;
int fb_http_source_start(struct fb_serve *s, struct fb_http_source **ret);
void fb_http_source_stop(struct fb_http_source *h);
/* Connections closed to make room for new ones (NULL: 0). */
unsigned long fb_http_source_evictions(const struct fb_http_source *h);

/* Reads fd (standard input or the FIFO, closed at stop unless it is standard input) on a
 * thread of its own. */
struct fb_stream_source;
int fb_stream_source_start(struct fb_serve *s, int fd, struct fb_stream_source **ret);
void fb_stream_source_stop(struct fb_stream_source *st);
/* Has the input ended (and its last alerts been committed)? The reader then wakes the
 * pipeline (fb_serve_wake()). False for NULL, and for a FIFO, which never ends. */
bool fb_stream_source_ended(const struct fb_stream_source *st);

/* Incidents (incident.c): repeats of an alert (the same rule, container and host, each within
 * window_s of the one before) fold into the first. window_s 0: no folding. */
struct fb_incidents;
struct fb_incident;
int fb_incidents_new(uint64_t window_s, struct fb_incidents **ret);
/* Rewrites every incident report with repeats not yet in it, then frees. Accepts NULL. */
void fb_incidents_free(struct fb_incidents *t);
/* The open incident the alert repeats, or NULL: then it is processed in full. */
struct fb_incident *fb_incidents_find(struct fb_incidents *t, const struct fb_alert *a);
/* After an alert was processed in full and its report (rendered, len bytes) written to
 * report_dir/report_name: it opens the incident of its rule, container and host, in place of
 * any before. Call only when a repeat may be folded into it (nothing it did needs doing
 * again). */
int fb_incidents_open(struct fb_incidents *t, const struct fb_alert *a, const char *report_dir,
                      const char *report_name, bool json, const char *rendered, size_t len);
/* Counts a repeat and the values in which it differs from the first alert. */
void fb_incident_add(struct fb_incident *x, const struct fb_alert *a);
const char *fb_incident_head(const struct fb_incident *x);
/* Rewrites the first alert's report with the count, if repeats came since the last rewrite,
 * at most once a second unless force. Returns 0 or -errno (logged). */
int fb_incident_flush(struct fb_incident *x, bool force);

struct fb_journal_source;
int fb_journal_source_start(struct fb_serve *s, struct fb_journal_source **ret);
void fb_journal_source_stop(struct fb_journal_source *js);
