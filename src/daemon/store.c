/* store.c: the service's SQLite store: WAL, FULL sync (a commit survives power loss), one
 * connection per thread of use, versioned schema with migrations. */
#define _GNU_SOURCE
#include "firebreak/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/policy.h"
#include "firebreak/strutil.h"

struct fb_store {
        sqlite3 *db;
        bool in_batch; /* fb_store_batch_begin() holds a transaction */
        sqlite3_stmt *ins, *next, *fin, *act, *adv;
        sqlite3_stmt *fold_keep, *fold_drop, *fold_head; /* fb_store_fold() */
};

#define CHECKPOINT_PAGES "4000" /* 16 MB of WAL; see fb_store_open() */

/* Migrations, in order: migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[] = {
        "CREATE TABLE alerts ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  id TEXT NOT NULL UNIQUE,"
        "  received INTEGER NOT NULL,"
        "  source TEXT NOT NULL,"
        "  body BLOB NOT NULL,"
        "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','failed')),"
        "  processed INTEGER, rule TEXT, verdict TEXT, report TEXT);"
        "CREATE INDEX alerts_pending ON alerts(status, seq);"
        "CREATE INDEX alerts_received ON alerts(received);"
        "CREATE TABLE actions ("
        "  alert_id TEXT NOT NULL REFERENCES alerts(id),"
        "  container TEXT, action TEXT NOT NULL, result TEXT NOT NULL, time INTEGER NOT NULL,"
        "  duration_us INTEGER, detail TEXT);"
        "CREATE INDEX actions_alert ON actions(alert_id);"
        "CREATE TABLE cursors (source TEXT PRIMARY KEY, cursor TEXT NOT NULL);",
        /* 2: the journal source's cursor travels with its alert, and is saved as the source's
         * cursor when that alert is processed */
        "ALTER TABLE alerts ADD COLUMN cursor TEXT;",
        /* 3: incidents. A repeat folded into an incident names its first alert, which counts
         * the repeats and when the last one was seen */
        "ALTER TABLE alerts ADD COLUMN incident TEXT;"
        "ALTER TABLE alerts ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE alerts ADD COLUMN last_seen INTEGER;",
};

static int err_of(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
        case SQLITE_CANTOPEN:
                return -EACCES;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        default:
                return -EIO;
        }
}

static int exec(struct fb_store *s, const char *sql) {
        return err_of(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

/* The one integer a query returns (its first row's first column). */
static int query_int64(struct fb_store *s, const char *sql, int64_t *ret) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return err_of(rc);
        rc = sqlite3_step(st);
        *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 0 : err_of(rc);
}

static int schema_version(struct fb_store *s, int *ret) {
        int64_t v = 0;
        int r = query_int64(s, "PRAGMA user_version", &v);

        *ret = (int)v;
        return r;
}

static int migrate(struct fb_store *s) {
        char sql[64];
        int v, r;

        r = schema_version(s, &v);
        if (r < 0)
                return r;
        if (v > FB_STORE_SCHEMA_VERSION)
                return -EPROTO;
        while (v < FB_STORE_SCHEMA_VERSION) {
                r = exec(s, "BEGIN IMMEDIATE");
                if (r >= 0)
                        r = exec(s, migrations[v]);
                snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
                if (r >= 0)
                        r = exec(s, sql);
                if (r >= 0)
                        r = exec(s, "COMMIT");
                if (r < 0) {
                        exec(s, "ROLLBACK");
                        return r;
                }
                v++;
        }
        return 0;
}

void fb_store_close(struct fb_store *s) {
        if (!s)
                return;
        sqlite3_finalize(s->ins);
        sqlite3_finalize(s->next);
        sqlite3_finalize(s->fin);
        sqlite3_finalize(s->act);
        sqlite3_finalize(s->adv);
        sqlite3_finalize(s->fold_keep);
        sqlite3_finalize(s->fold_drop);
        sqlite3_finalize(s->fold_head);
        sqlite3_close(s->db);
        free(s);
}

int fb_store_relax_sync(struct fb_store *s) {
        return exec(s, "PRAGMA synchronous = NORMAL");
}

/* SQLite counts every allocation under a global mutex, for sqlite3_memory_used(), which
 * firebreak never reads: without the count, the ingest and pipeline connections (each used by
 * one thread, SQLITE_OPEN_NOMUTEX) take no lock of SQLite's own while they work. It must be
 * set before SQLite initializes, so before the first connection. */
static void memstatus_off(void) {
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void store_config(void) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        (void)pthread_once(&once, memstatus_off);
}

int fb_store_open_readonly(const char *path, struct fb_store **ret) {
        struct fb_store *s;
        int r, v = 0;

        store_config();
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        /* no pragmas, no migration: a reader never takes a lock the service would wait on */
        r = err_of(sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL));
        if (r >= 0) {
                sqlite3_busy_timeout(s->db, 5000);
                r = schema_version(s, &v);
        }
        if (r >= 0 && v != FB_STORE_SCHEMA_VERSION)
                r = v > FB_STORE_SCHEMA_VERSION ? -EPROTO : -ENOENT;
        if (r < 0) {
                fb_store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

int fb_store_open(const char *path, struct fb_store **ret) {
        struct fb_store *s;
        int rc, r, fd;

        store_config();
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        /* Created private before SQLite opens it: alert bodies are sensitive. Only a new file
         * is opened (and closed) here. POSIX locks belong to the process, not to a descriptor:
         * closing any descriptor of a file drops every lock the process holds on it. The
         * service opens the store twice, and when the second open closed a descriptor here,
         * the first connection lost its shared lock. Another process that then opened and
         * closed the store (`sqlite3 state.db`) took the exclusive lock, checkpointed and
         * deleted the WAL the service was still writing into, and what the service
         * acknowledged after that was gone at its next start. SQLITE_OPEN_NOFOLLOW keeps a
         * symbolic link refused. */
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno != EEXIST) {
                r = -errno;
                free(s);
                return r;
        }
        if (fd >= 0)
                close(fd);
        rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                             NULL);
        r = err_of(rc);
        if (r >= 0) {
                sqlite3_busy_timeout(s->db, 5000);
                /* a small page cache: the service's memory stays flat (2 connections). 256 KiB
                 * each, measured under wrk: peak RSS 15.7 MB against 16.1 MB with 512 KiB, at
                 * the same ingest rate (the pages it misses are in the kernel's cache).
                 * A checkpoint every CHECKPOINT_PAGES pages of WAL, by whichever connection
                 * commits past the mark: it copies each page once however often the page
                 * changed since the last one, and the id index takes its inserts at random
                 * pages, so fewer, larger checkpoints copy less than SQLite's default of 1,000 */
                r = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                            "PRAGMA foreign_keys = ON; PRAGMA cache_size = -256; "
                            "PRAGMA wal_autocheckpoint = " CHECKPOINT_PAGES);
        }
        if (r >= 0)
                r = migrate(s);
        {
                const struct {
                        sqlite3_stmt **st;
                        const char *sql;
                } stmts[] = {
                        { &s->ins, "INSERT OR IGNORE INTO alerts (id, received, source, body, "
                                   "cursor) VALUES (?, ?, ?, ?, ?)" },
                        { &s->next, "SELECT id, body, seq, source, received FROM alerts WHERE "
                                    "status = 'pending' AND seq > ? ORDER BY seq LIMIT 1" },
                        { &s->fin, "UPDATE alerts SET status = ?, processed = ?, rule = ?, "
                                   "verdict = ?, report = ? WHERE id = ?" },
                        { &s->act, "INSERT INTO actions (alert_id, container, action, result, "
                                   "time, duration_us, detail) VALUES (?, ?, ?, ?, ?, ?, ?)" },
                        /* WHERE before ON CONFLICT: SQLite's rule for an upsert on INSERT ...
                         * SELECT */
                        { &s->adv, "INSERT INTO cursors (source, cursor) SELECT source, cursor "
                                   "FROM alerts WHERE id = ? AND cursor IS NOT NULL ON "
                                   "CONFLICT(source) DO UPDATE SET cursor = excluded.cursor" },
                        { &s->fold_keep,
                          "UPDATE alerts SET body = x'', incident = ?2 WHERE id = ?1" },
                        { &s->fold_drop, "DELETE FROM alerts WHERE id = ?1" },
                        { &s->fold_head, "UPDATE alerts SET repeats = repeats + 1, last_seen = "
                                         "max(coalesce(last_seen, 0), ?2) WHERE id = ?1" },
                };

                for (size_t k = 0; r >= 0 && k < sizeof(stmts) / sizeof(stmts[0]); k++)
                        r = err_of(sqlite3_prepare_v2(s->db, stmts[k].sql, -1, stmts[k].st, NULL));
        }
        if (r < 0) {
                fb_store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

static int step_done(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_DONE ? 0 : err_of(rc);
}

int fb_store_ingest(struct fb_store *s, struct fb_store_alert *a, size_t n, size_t *inserted) {
        time_t now = time(NULL);
        size_t i, added = 0;
        int r;

        r = exec(s, "BEGIN IMMEDIATE");
        for (i = 0; r >= 0 && i < n; i++) {
                sqlite3_bind_text(s->ins, 1, a[i].id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s->ins, 2, (sqlite3_int64)now);
                sqlite3_bind_text(s->ins, 3, a[i].source, -1, SQLITE_STATIC);
                sqlite3_bind_blob(s->ins, 4, a[i].body, (int)a[i].body_len, SQLITE_STATIC);
                sqlite3_bind_text(s->ins, 5, a[i].cursor, -1, SQLITE_STATIC);
                r = step_done(s->ins);
                if (r >= 0) {
                        a[i].duplicate = sqlite3_changes(s->db) == 0;
                        added += !a[i].duplicate;
                }
        }
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0) {
                exec(s, "ROLLBACK");
                return r;
        }
        if (inserted)
                *inserted = added;
        return 0;
}

int fb_store_next_pending(struct fb_store *s, int64_t *seq, char *id, size_t id_len, char *source,
                          size_t source_len, struct fb_buf *body, int64_t *received) {
        int rc, r = 0;

        sqlite3_bind_int64(s->next, 1, (sqlite3_int64)*seq);
        rc = sqlite3_step(s->next);

        if (rc == SQLITE_ROW) {
                const char *i = (const char *)sqlite3_column_text(s->next, 0);

                snprintf(id, id_len, "%s", i ? i : "");
                if (source) {
                        const char *src = (const char *)sqlite3_column_text(s->next, 3);

                        snprintf(source, source_len, "%s", src ? src : "");
                }
                fb_buf_reset(body);
                fb_buf_put(body, sqlite3_column_blob(s->next, 1),
                           (size_t)sqlite3_column_bytes(s->next, 1));
                *seq = (int64_t)sqlite3_column_int64(s->next, 2);
                if (received)
                        *received = (int64_t)sqlite3_column_int64(s->next, 4);
                r = fb_buf_error(body) < 0 ? fb_buf_error(body) : 1;
        } else if (rc != SQLITE_DONE)
                r = err_of(rc);
        sqlite3_reset(s->next);
        return r;
}

int fb_store_batch_begin(struct fb_store *s) {
        int r = exec(s, "BEGIN IMMEDIATE");

        s->in_batch = r >= 0;
        return r;
}

int fb_store_batch_end(struct fb_store *s) {
        int r = 0;

        if (!s->in_batch)
                return 0;
        s->in_batch = false;
        r = exec(s, "COMMIT");
        if (r < 0)
                exec(s, "ROLLBACK");
        return r;
}

void fb_store_batch_abort(struct fb_store *s) {
        if (s->in_batch)
                exec(s, "ROLLBACK");
        s->in_batch = false;
}

int fb_store_finish(struct fb_store *s, const char *id, const char *status, const char *rule,
                    const char *verdict, const char *report, const struct fb_response *resp) {
        time_t now = time(NULL);
        size_t i;
        int r;

        r = s->in_batch ? 0 : exec(s, "BEGIN IMMEDIATE");
        for (i = 0; r >= 0 && resp && i < resp->n_actions; i++) {
                const struct fb_response_action *x = &resp->actions[i];

                sqlite3_bind_text(s->act, 1, id, -1, SQLITE_STATIC);
                sqlite3_bind_text(s->act, 2, resp->target, -1, SQLITE_STATIC);
                sqlite3_bind_text(s->act, 3, fb_action_to_string(x->action), -1, SQLITE_STATIC);
                sqlite3_bind_text(s->act, 4, fb_act_result_to_string(x->result), -1, SQLITE_STATIC);
                sqlite3_bind_int64(s->act, 5, (sqlite3_int64)now);
                sqlite3_bind_int64(s->act, 6, (sqlite3_int64)x->duration_us);
                sqlite3_bind_text(s->act, 7, x->detail, -1, SQLITE_STATIC);
                r = step_done(s->act);
        }
        if (r >= 0) {
                sqlite3_bind_text(s->fin, 1, status, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s->fin, 2, (sqlite3_int64)now);
                sqlite3_bind_text(s->fin, 3, rule, -1, SQLITE_STATIC);
                sqlite3_bind_text(s->fin, 4, verdict, -1, SQLITE_STATIC);
                sqlite3_bind_text(s->fin, 5, report, -1, SQLITE_STATIC);
                sqlite3_bind_text(s->fin, 6, id, -1, SQLITE_STATIC);
                r = step_done(s->fin);
        }
        if (r >= 0) {
                /* a journal alert's cursor becomes the source's only now that it is processed */
                sqlite3_bind_text(s->adv, 1, id, -1, SQLITE_STATIC);
                r = step_done(s->adv);
        }
        if (s->in_batch)
                return r; /* committed, or rolled back, by fb_store_batch_end() */
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0)
                exec(s, "ROLLBACK");
        return r;
}

int fb_store_fold(struct fb_store *s, const char *id, const char *head, int64_t seen,
                  bool keep_row) {
        sqlite3_stmt *st = keep_row ? s->fold_keep : s->fold_drop;
        int r;

        if (!s->in_batch)
                return -EINVAL;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (keep_row)
                sqlite3_bind_text(st, 2, head, -1, SQLITE_STATIC);
        r = step_done(st);
        if (r < 0)
                return r;
        sqlite3_bind_text(s->fold_head, 1, head, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->fold_head, 2, (sqlite3_int64)seen);
        return step_done(s->fold_head);
}

int fb_store_get_cursor(struct fb_store *s, const char *source, char *out, size_t len) {
        sqlite3_stmt *st;
        int rc, r;

        rc = sqlite3_prepare_v2(s->db, "SELECT cursor FROM cursors WHERE source = ?", -1, &st,
                                NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
                r = 1;
        } else
                r = rc == SQLITE_DONE ? 0 : err_of(rc);
        sqlite3_finalize(st);
        return r;
}

int fb_store_set_cursor(struct fb_store *s, const char *source, const char *cursor) {
        sqlite3_stmt *st;
        int rc;

        rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO cursors (source, cursor) VALUES (?, ?) "
                                "ON CONFLICT(source) DO UPDATE SET cursor = excluded.cursor",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, cursor, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : err_of(rc);
}

int fb_store_pending_with_cursor(struct fb_store *s, const char *source) {
        sqlite3_stmt *st;
        int rc;

        rc = sqlite3_prepare_v2(s->db,
                                "SELECT 1 FROM alerts WHERE status = 'pending' AND source = ? AND "
                                "cursor IS NOT NULL LIMIT 1",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : err_of(rc);
}

int fb_store_prune(struct fb_store *s, int64_t before, int64_t open_since, int64_t counted_since,
                   size_t max, struct fb_buf *reports, struct fb_buf *ids, uint64_t *n) {
        char pick[768], counted[128] = "", sql[3][1024];
        size_t used = 0;
        sqlite3_stmt *st[3] = { NULL, NULL, NULL };
        int r, rc = SQLITE_OK, i;

        *n = 0;
        /* the actions the breaker counts (fb_store_recent_disruptive()) */
        for (int a = 0; a < _FB_ACTION_MAX; a++)
                if (fb_action_is_disruptive((enum fb_action)a))
                        used += (size_t)snprintf(counted + used, sizeof(counted) - used, "%s'%s'",
                                                 used ? "," : "",
                                                 fb_action_to_string((enum fb_action)a));
        /* the same rows for each statement: one transaction, a total order */
        snprintf(pick, sizeof(pick),
                 "SELECT seq FROM alerts WHERE received < ?1 AND status != 'pending' AND "
                 "coalesce(last_seen, 0) < ?3 AND NOT EXISTS (SELECT 1 FROM actions WHERE "
                 "actions.alert_id = alerts.id AND actions.time >= ?4 AND actions.action IN "
                 "(%s) AND actions.result IN ('%s','%s')) ORDER BY received, seq LIMIT ?2",
                 counted, fb_act_result_to_string(FB_ACT_DONE),
                 fb_act_result_to_string(FB_ACT_WOULD));
        snprintf(sql[0], sizeof(sql[0]), "SELECT report, id FROM alerts WHERE seq IN (%s)", pick);
        snprintf(sql[1], sizeof(sql[1]),
                 "DELETE FROM actions WHERE alert_id IN (SELECT id FROM alerts WHERE seq IN "
                 "(%s))",
                 pick);
        snprintf(sql[2], sizeof(sql[2]), "DELETE FROM alerts WHERE seq IN (%s)", pick);
        r = exec(s, "BEGIN IMMEDIATE");
        for (i = 0; r >= 0 && i < 3; i++) {
                rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st[i], NULL);
                if (rc == SQLITE_OK) {
                        sqlite3_bind_int64(st[i], 1, (sqlite3_int64)before);
                        sqlite3_bind_int64(st[i], 2, (sqlite3_int64)max);
                        sqlite3_bind_int64(st[i], 3, (sqlite3_int64)open_since);
                        sqlite3_bind_int64(st[i], 4, (sqlite3_int64)counted_since);
                }
                /* every row: a loop that also required SQLITE_OK took only the first report
                 * of a chunk, and retention left the others on disk with no row to name them */
                while ((rc == SQLITE_OK || rc == SQLITE_ROW) &&
                       (rc = sqlite3_step(st[i])) == SQLITE_ROW) {
                        const char *report = (const char *)sqlite3_column_text(st[i], 0);
                        const char *id = (const char *)sqlite3_column_text(st[i], 1);

                        (*n)++;
                        if (report && reports) /* each with its NUL */
                                fb_buf_put(reports, report, strlen(report) + 1);
                        if (id && ids)
                                fb_buf_put(ids, id, strlen(id) + 1);
                }
                r = rc == SQLITE_DONE ? 0 : err_of(rc);
                rc = SQLITE_OK;
        }
        for (i = 0; i < 3; i++)
                sqlite3_finalize(st[i]);
        if (r >= 0)
                r = exec(s, "COMMIT");
        if (r < 0) {
                exec(s, "ROLLBACK");
                *n = 0;
                return r;
        }
        return 0;
}

int fb_store_count_pending(struct fb_store *s, uint64_t *n) {
        int64_t v = 0;
        int r = query_int64(s, "SELECT count(*) FROM alerts WHERE status = 'pending'", &v);

        *n = (uint64_t)v;
        return r;
}

static bool is_disruptive(const char *name) {
        for (int a = 0; a < _FB_ACTION_MAX; a++)
                if (fb_action_is_disruptive((enum fb_action)a) &&
                    strcmp(name, fb_action_to_string((enum fb_action)a)) == 0)
                        return true;
        return false;
}

int fb_store_recent_disruptive(struct fb_store *s, int64_t since, uint64_t *times, size_t max,
                               size_t *n) {
        sqlite3_stmt *st;
        int rc;

        *n = 0;
        /* newest first, by rowid: the scan stops at the window's start, not the table's */
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT time, action, result FROM actions ORDER BY rowid DESC", -1,
                                &st, NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t t = sqlite3_column_int64(st, 0);
                const char *action = (const char *)sqlite3_column_text(st, 1);
                const char *result = (const char *)sqlite3_column_text(st, 2);

                if (t < since)
                        break;
                /* only actions that changed something (or would have, in dry-run) count:
                 * "already", failed, refused and skipped ones froze nothing */
                if (action && result && is_disruptive(action) &&
                    (strcmp(result, fb_act_result_to_string(FB_ACT_DONE)) == 0 ||
                     strcmp(result, fb_act_result_to_string(FB_ACT_WOULD)) == 0))
                        times[(*n)++] = (uint64_t)t;
        }
        sqlite3_finalize(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : err_of(rc);
}

static void jcol(struct fb_buf *b, sqlite3_stmt *st, int col) {
        const char *v = (const char *)sqlite3_column_text(st, col);

        if (v)
                fb_json_str(b, v, (size_t)sqlite3_column_bytes(st, col));
        else
                fb_buf_puts(b, "null");
}

/* The columns history and show share, selected first and in this order. */
#define ALERT_COLUMNS                                                                              \
        "id, received, source, status, processed, rule, verdict, report, incident, repeats, "      \
        "last_seen"

/* {"id":...,"report":... for one row of ALERT_COLUMNS; the caller closes the object. */
static void alert_row(struct fb_buf *out, sqlite3_stmt *st) {
        fb_buf_puts(out, "{\"id\":");
        jcol(out, st, 0);
        fb_buf_printf(out,
                      ",\"received\":%lld,\"source\":", (long long)sqlite3_column_int64(st, 1));
        jcol(out, st, 2);
        fb_buf_puts(out, ",\"status\":");
        jcol(out, st, 3);
        fb_buf_printf(out, ",\"processed\":%lld,\"rule\":", (long long)sqlite3_column_int64(st, 4));
        jcol(out, st, 5);
        fb_buf_puts(out, ",\"verdict\":");
        jcol(out, st, 6);
        fb_buf_puts(out, ",\"report\":");
        jcol(out, st, 7);
        fb_buf_puts(out, ",\"incident\":");
        jcol(out, st, 8);
        fb_buf_printf(out,
                      ",\"repeats\":%lld,\"last_seen\":", (long long)sqlite3_column_int64(st, 9));
        if (sqlite3_column_type(st, 10) == SQLITE_NULL)
                fb_buf_puts(out, "null");
        else
                fb_buf_printf(out, "%lld", (long long)sqlite3_column_int64(st, 10));
}

int fb_store_history(struct fb_store *s, int64_t since, const char *status, struct fb_buf *out) {
        sqlite3_stmt *st;
        int rc;

        rc = sqlite3_prepare_v2(s->db,
                                "SELECT " ALERT_COLUMNS ", "
                                "(SELECT count(*) FROM actions WHERE alert_id = alerts.id) "
                                "FROM alerts WHERE received >= ?1 AND (?2 IS NULL OR status = ?2) "
                                "ORDER BY seq",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
        if (status)
                sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                alert_row(out, st);
                fb_buf_printf(out, ",\"actions\":%lld}\n", (long long)sqlite3_column_int64(st, 11));
        }
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? fb_buf_error(out) : err_of(rc);
}

/* The stored id that arg names: arg itself, or the one id that starts with it. Ids are
 * lowercase hex digits and dashes, so arg is taken in any case and anything else in it names
 * nothing (nor reaches GLOB as a pattern). */
static int resolve_id(struct fb_store *s, const char *arg, char *id, size_t id_len) {
        char pattern[FB_ALERT_ID_MAX + 2];
        size_t i, n = strlen(arg);
        sqlite3_stmt *st;
        int rc, r;

        if (n == 0 || n >= id_len || n + 2 > sizeof(pattern))
                return -ENOENT;
        for (i = 0; i < n; i++) {
                char c = arg[i] >= 'A' && arg[i] <= 'F' ? (char)(arg[i] - 'A' + 'a') : arg[i];

                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
                        return -ENOENT;
                pattern[i] = c;
        }
        pattern[n] = '*';
        pattern[n + 1] = '\0';
        /* GLOB with a prefix uses the id index, as = does; two rows are enough to know */
        rc = sqlite3_prepare_v2(s->db, "SELECT id FROM alerts WHERE id GLOB ? ORDER BY id LIMIT 2",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *v = (const char *)sqlite3_column_text(st, 0);

                snprintf(id, id_len, "%s", v ? v : "");
                /* the whole id sorts first, before the longer ones it starts */
                rc = strlen(id) == n ? SQLITE_DONE : sqlite3_step(st);
                r = rc == SQLITE_ROW ? -ENOTUNIQ : err_of(rc);
        } else
                r = rc == SQLITE_DONE ? -ENOENT : err_of(rc);
        sqlite3_finalize(st);
        return r;
}

int fb_store_show(struct fb_store *s, const char *arg, struct fb_buf *out) {
        char id[FB_ALERT_ID_MAX + 1];
        sqlite3_stmt *st;
        bool found = false, first = true;
        int rc;

        rc = resolve_id(s, arg, id, sizeof(id));
        if (rc < 0)
                return rc;
        rc = sqlite3_prepare_v2(s->db, "SELECT " ALERT_COLUMNS ", body FROM alerts WHERE id = ?",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
                found = true;
                alert_row(out, st);
                /* the body as received, as a string: it is the attacker's bytes */
                fb_buf_puts(out, ",\"body\":");
                jcol(out, st, 11);
                fb_buf_puts(out, ",\"actions\":[");
        }
        sqlite3_finalize(st);
        if (!found)
                return -ENOENT;
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT container, action, result, time, duration_us, detail "
                                "FROM actions WHERE alert_id = ? ORDER BY rowid",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return err_of(rc);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                fb_buf_puts(out, first ? "{\"container\":" : ",{\"container\":");
                first = false;
                jcol(out, st, 0);
                fb_buf_puts(out, ",\"action\":");
                jcol(out, st, 1);
                fb_buf_puts(out, ",\"result\":");
                jcol(out, st, 2);
                fb_buf_printf(out, ",\"time\":%lld,\"duration_us\":%lld,\"detail\":",
                              (long long)sqlite3_column_int64(st, 3),
                              (long long)sqlite3_column_int64(st, 4));
                jcol(out, st, 5);
                fb_buf_putc(out, '}');
        }
        sqlite3_finalize(st);
        fb_buf_puts(out, "]}\n");
        return rc == SQLITE_DONE ? fb_buf_error(out) : err_of(rc);
}
