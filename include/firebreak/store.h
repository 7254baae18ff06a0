/* store.h: durable state for the service, in SQLite (WAL). An alert is committed before its
 * source acknowledges it; the pipeline marks it done, with its actions, in one transaction
 * after its report is written; on start, what is still pending is processed. The alert id is
 * the primary key, so the same alert is stored, and processed, once. The schema is versioned
 * and migrations run on open. Only this module includes <sqlite3.h>. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/buf.h"
#include "firebreak/response.h"

#define FB_STORE_SCHEMA_VERSION 3

struct fb_store;

/* Opens (creating it, mode 0600) and migrates. Returns 0, -EROFS/-EACCES/-ENOSPC/-EIO, or
 * -EPROTO for a file written by a newer firebreak (schema version above ours). */
int fb_store_open(const char *path, struct fb_store **ret);
/* For history and show: read-only, never migrates or locks; -ENOENT before the first serve. */
int fb_store_open_readonly(const char *path, struct fb_store **ret);
void fb_store_close(struct fb_store *s);
/* Commits on this connection stop waiting for the disk (SQLite's synchronous = NORMAL): a
 * power loss may take back its last transactions, never tear one. For records whose loss only
 * means doing the work again: the pipeline's (a lost finish replays its alert) and the
 * journal's (a lost alert takes its cursor with it, so it is read again). */
int fb_store_relax_sync(struct fb_store *s);

struct fb_store_alert {
        const char *id;
        const char *source; /* "http", "journal", "stdin", ... */
        const char *body;   /* the alert as received (JSON) */
        size_t body_len;
        const char *cursor; /* the journal's cursor of this entry, or NULL */
        bool duplicate;     /* set by fb_store_ingest(): the id was already stored */
};

/* Commits alerts in one transaction (group commit). Duplicates (same id) are skipped.
 * *inserted (may be NULL) receives how many were new, and each duplicate is marked. Returns 0
 * or -errno. */
int fb_store_ingest(struct fb_store *s, struct fb_store_alert *a, size_t n, size_t *inserted);

/* The oldest pending alert after *seq (0: from the start): its id, source (unless NULL) and
 * body, copied into the buffers, its sequence number in *seq, and when it was received (Unix
 * seconds) in *received unless NULL. Returns 1 when one was found, 0 when none is pending,
 * or -errno. */
int fb_store_next_pending(struct fb_store *s, int64_t *seq, char *id, size_t id_len, char *source,
                          size_t source_len, struct fb_buf *body, int64_t *received);

/* Marks an alert processed, with what the responder did and where its report went, in one
 * transaction; an alert stored with a cursor makes that cursor its source's. status is "done" or "failed" (the alert could not be processed). */
int fb_store_finish(struct fb_store *s, const char *id, const char *status, const char *rule,
                    const char *verdict, const char *report, const struct fb_response *resp);

/* Folds a processed alert (fb_store_finish() first) into the incident that head opened, inside
 * a batch: head counts one more repeat, last seen at seen (Unix seconds). keep_row: the
 * repeat's row stays, its body dropped and its incident named; else the row goes (the count
 * on head is then all that is left of it). Returns 0 or -errno (-EINVAL outside a batch). */
int fb_store_fold(struct fb_store *s, const char *id, const char *head, int64_t seen,
                  bool keep_row);

/* One transaction around several fb_store_finish() calls (one fsync for a batch). The
 * pipeline processes a batch inside it; a crash before the end replays the batch, whose
 * actions are idempotent. */
int fb_store_batch_begin(struct fb_store *s);
int fb_store_batch_end(struct fb_store *s);
void fb_store_batch_abort(struct fb_store *s);

/* A cursor per source (the journal's): advanced by fb_store_finish() for the alerts it
 * covers, or set on its own for entries that were not alerts. fb_store_pending_with_cursor()
 * tells whether an alert with a cursor still waits (then only its finish may advance it). */
int fb_store_pending_with_cursor(struct fb_store *s, const char *source);
int fb_store_get_cursor(struct fb_store *s, const char *source, char *out, size_t len);
int fb_store_set_cursor(struct fb_store *s, const char *source, const char *cursor);

/* Retention: deletes up to max processed alerts (done or failed, never pending) received
 * before `before` (Unix seconds), oldest first, with their actions, in one transaction; but
 * not the head of an incident whose last repeat came at or after open_since (it is still
 * open: its report is rewritten), nor an alert with an action the breaker counts taken at or
 * after counted_since (fb_store_recent_disruptive() seeds the breaker from them). Appends the
 * paths of their reports to reports and their ids to ids (each with its NUL; NULL: not
 * wanted) and puts how many went in *n. */
int fb_store_prune(struct fb_store *s, int64_t before, int64_t open_since, int64_t counted_since,
                   size_t max, struct fb_buf *reports, struct fb_buf *ids, uint64_t *n);

/* Alerts pending, by the status index (not a scan of the store): the service's start. */
int fb_store_count_pending(struct fb_store *s, uint64_t *n);

/* The times (Unix seconds, newest first) of the last disruptive actions recorded at or after
 * since, at most max of them, that the breaker counted (not refused or skipped): a new
 * responder's breaker starts from them (fb_respond_breaker_seed()). */
int fb_store_recent_disruptive(struct fb_store *s, int64_t since, uint64_t *times, size_t max,
                               size_t *n);

/* history: one JSON line per alert received at or after since (Unix seconds), oldest first;
 * status: only alerts with that status ("pending", "done", "failed"), NULL for all.
 * show: one alert with its body and actions as a JSON object. id may be the start of an id
 * (any case): -ENOENT when no alert's id is or starts with it, -ENOTUNIQ when several start with
 * it. */
int fb_store_history(struct fb_store *s, int64_t since, const char *status, struct fb_buf *out);
int fb_store_show(struct fb_store *s, const char *id, struct fb_buf *out);
