/* test-store: the service's SQLite store on real files: dedup by id, order, exactly-once
 * finish with actions, cursors, history/show, persistence across opens, schema versions, a
 * symbolic link refused, the WAL kept when another process closes the store, and show by the
 * start of an id. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/store.h"
#include "test.h"

static char dir[] = "/tmp/fb-test-store-XXXXXX", path[256];

/* How many alerts the store holds with that status: the lines history prints for it. */
static uint64_t count_status(struct fb_store *s, const char *status) {
        struct fb_buf out;
        uint64_t n = 0;
        size_t i;

        fb_buf_init(&out, 1 << 20);
        if (fb_store_history(s, 0, status, &out) < 0)
                n = UINT64_MAX;
        for (i = 0; n != UINT64_MAX && i < out.len; i++)
                n += out.data[i] == '\n';
        fb_buf_free(&out);
        return n;
}

TEST(ingest_dedup_order) {
        struct fb_store *s = NULL;
        struct fb_store_alert a[] = {
                { "a1", "http", "{\"x\":1}", 7, NULL, false },
                { "a2", "stdin", "{\"x\":2}", 7, NULL, false },
                { "a1", "http", "{\"x\":1}", 7, NULL, false }, /* the same alert again */
        };
        struct fb_response resp = { .n_actions = 1, .target = "abc" };
        struct fb_buf body, out;
        uint64_t p;
        size_t n = 99;
        char id[64], source[16];
        struct stat st;
        int64_t seq = 0;

        CHECK_EQ(fb_store_open(path, &s), 0);
        if (!s)
                return;
        CHECK_EQ(stat(path, &st), 0);
        CHECK_EQ(st.st_mode & 0777, 0600);
        CHECK_EQ(fb_store_ingest(s, a, 3, &n), 0);
        CHECK_EQ(n, 2);
        CHECK_EQ(fb_store_ingest(s, a, 2, &n), 0);
        CHECK_EQ(n, 0);
        fb_buf_init(&body, 1 << 20);
        CHECK_EQ(fb_store_next_pending(s, &seq, id, sizeof(id), NULL, 0, &body, NULL), 1);
        CHECK_STR(id, "a1");
        CHECK_STR(fb_buf_cstr(&body), "{\"x\":1}");
        /* a pause done counts for the breaker; one that found the container paused, a
         * failed stop and a refused kill froze nothing and must not be seeded after a
         * restart (they were, and a burst from one container kept the breaker open) */
        resp.actions[0] = (struct fb_response_action){ .action = FB_ACTION_PAUSE,
                                                       .result = FB_ACT_DONE,
                                                       .detail = "paused abc" };
        resp.actions[1] =
                (struct fb_response_action){ .action = FB_ACTION_PAUSE, .result = FB_ACT_ALREADY };
        resp.actions[2] =
                (struct fb_response_action){ .action = FB_ACTION_STOP, .result = FB_ACT_FAILED };
        resp.actions[3] =
                (struct fb_response_action){ .action = FB_ACTION_KILL, .result = FB_ACT_REFUSED };
        resp.n_actions = 4;
        CHECK_EQ(fb_store_finish(s, "a1", "done", "R", "malicious", "/r/a1.md", &resp), 0);
        {
                uint64_t t[4];
                size_t k = 9;

                /* the pause just recorded counts for the breaker; none before since */
                CHECK_EQ(fb_store_recent_disruptive(s, (int64_t)time(NULL) - 60, t, 4, &k), 0);
                CHECK_EQ(k, 1);
                CHECK_EQ(fb_store_recent_disruptive(s, (int64_t)time(NULL) + 60, t, 4, &k), 0);
                CHECK_EQ(k, 0);
        }
        seq = 0;
        {
                int64_t received = 0, now = (int64_t)time(NULL);

                CHECK_EQ(fb_store_next_pending(s, &seq, id, sizeof(id), source, sizeof(source),
                                               &body, &received),
                         1);
                /* its receipt time: the age max_alert_age reads, not the time of processing */
                CHECK(received >= now - 60 && received <= now);
        }
        CHECK_STR(id, "a2");
        CHECK_STR(source, "stdin");
        /* after a2 nothing is pending */
        CHECK_EQ(fb_store_next_pending(s, &seq, id, sizeof(id), NULL, 0, &body, NULL), 0);
        CHECK_EQ(fb_store_count_pending(s, &p), 0);
        CHECK_EQ(p, 1);
        CHECK_EQ(count_status(s, "done"), 1);
        CHECK_EQ(fb_store_set_cursor(s, "journal", "s=1"), 0);
        CHECK_EQ(fb_store_set_cursor(s, "journal", "s=2"), 0);
        CHECK_EQ(fb_store_get_cursor(s, "journal", id, sizeof(id)), 1);
        CHECK_STR(id, "s=2");
        CHECK_EQ(fb_store_get_cursor(s, "http", id, sizeof(id)), 0);
        fb_buf_init(&out, 1 << 20);
        CHECK_EQ(fb_store_show(s, "a1", &out), 0);
        CHECK_CONTAINS(fb_buf_cstr(&out), "\"status\":\"done\"");
        CHECK_CONTAINS(fb_buf_cstr(&out), "\"action\":\"pause\",\"result\":\"done\"");
        CHECK_CONTAINS(fb_buf_cstr(&out), "\"body\":\"{\\\"x\\\":1}\"");
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_show(s, "nope", &out), -ENOENT);
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_history(s, 0, NULL, &out), 0);
        CHECK_CONTAINS(fb_buf_cstr(&out), "{\"id\":\"a1\"");
        CHECK_CONTAINS(fb_buf_cstr(&out), "{\"id\":\"a2\"");
        /* by status: a1 is done, a2 pending */
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_history(s, 0, "pending", &out), 0);
        CHECK(strstr(fb_buf_cstr(&out), "{\"id\":\"a2\"") && !strstr(fb_buf_cstr(&out), "a1"));
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_history(s, 0, "done", &out), 0);
        CHECK(strstr(fb_buf_cstr(&out), "{\"id\":\"a1\"") && !strstr(fb_buf_cstr(&out), "a2"));
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_history(s, 0, "failed", &out), 0);
        CHECK_EQ(out.len, 0);
        /* retention: nothing received before an hour ago; then a1 (done) with its pause, its
         * report path and its id, never a2 (pending) */
        {
                uint64_t pruned = 9, pending = 9;
                struct fb_buf ids;

                fb_buf_init(&ids, 4096);
                fb_buf_reset(&out);
                CHECK_EQ(fb_store_prune(s, (int64_t)time(NULL) - 3600, INT64_MAX, INT64_MAX, 10,
                                        &out, &ids, &pruned),
                         0);
                CHECK_EQ(pruned, 0);
                /* a1's pause is one the breaker counts: within its window, a1 stays */
                CHECK_EQ(fb_store_prune(s, (int64_t)time(NULL) + 10, INT64_MAX,
                                        (int64_t)time(NULL) - 600, 10, &out, &ids, &pruned),
                         0);
                CHECK_EQ(pruned, 0);
                CHECK_EQ(fb_store_prune(s, (int64_t)time(NULL) + 10, INT64_MAX, INT64_MAX, 10, &out,
                                        &ids, &pruned),
                         0);
                CHECK_EQ(pruned, 1);
                CHECK_EQ(fb_store_count_pending(s, &pending), 0);
                CHECK_EQ(pending, 1);
                CHECK_STR(fb_buf_cstr(&out), "/r/a1.md");
                CHECK_STR(fb_buf_cstr(&ids), "a1");
                fb_buf_free(&ids);
                fb_buf_reset(&out);
                CHECK_EQ(fb_store_show(s, "a1", &out), -ENOENT);
                CHECK_EQ(fb_store_count_pending(s, &p), 0);
                CHECK_EQ(p, 1);
                CHECK_EQ(count_status(s, "done"), 0);
                /* the id is new again */
                CHECK_EQ(fb_store_ingest(s, a, 1, &n), 0);
                CHECK_EQ(n, 1);
        }
        fb_store_close(s);
        /* reopened: everything persisted, the pending one still pending */
        s = NULL;
        CHECK_EQ(fb_store_open(path, &s), 0);
        if (s) {
                seq = 0;
                CHECK_EQ(fb_store_next_pending(s, &seq, id, sizeof(id), NULL, 0, &body, NULL), 1);
                CHECK_STR(id, "a2");
                CHECK_EQ(fb_store_finish(s, "a2", "failed", NULL, NULL, NULL, NULL), 0);
                seq = 0;
                /* a1 again, stored anew after retention deleted it */
                CHECK_EQ(fb_store_next_pending(s, &seq, id, sizeof(id), NULL, 0, &body, NULL), 1);
                CHECK_STR(id, "a1");
                fb_store_close(s);
        }
        fb_buf_free(&body);
        fb_buf_free(&out);
}

/* show takes the start of an id, as docker takes the start of a container's: the one alert
 * whose id starts so, in any case; the whole id wins over longer ones it starts; several are
 * an error, and glob characters match nothing. */
TEST(show_by_prefix) {
        struct fb_store *s = NULL;
        struct fb_store_alert a[] = {
                { "0a1b2c3d-0000-4000-8000-000000000001", "http", "{}", 2, NULL, false },
                { "0a1b2c3d-0000-4000-8000-000000000002", "http", "{}", 2, NULL, false },
                { "0a1b", "http", "{}", 2, NULL, false },
                { "ff00", "stdin", "{}", 2, NULL, false },
        };
        static const char *const none[] = { "",
                                            "0a1b*",
                                            "*",
                                            "?a1b",
                                            "0a1b%",
                                            "0a1b_",
                                            "0a1b2c3d-0000-4000-8000-0000000000012",
                                            "ee",
                                            "0a1b2c3d-0000-4000-8000-000000000001-and-more" };
        struct fb_buf out;
        size_t i;

        unlink(path);
        CHECK_EQ(fb_store_open(path, &s), 0);
        if (!s)
                return;
        CHECK_EQ(fb_store_ingest(s, a, 4, NULL), 0);
        fb_buf_init(&out, 1 << 20);
        CHECK_EQ(fb_store_show(s, "ff", &out), 0);
        CHECK_CONTAINS(fb_buf_cstr(&out), "{\"id\":\"ff00\"");
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_show(s, "0A1B2C3D-0000-4000-8000-000000000002", &out), 0);
        CHECK_CONTAINS(fb_buf_cstr(&out), "{\"id\":\"0a1b2c3d-0000-4000-8000-000000000002\"");
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_show(s, "0a1b2c3d-0000-4000-8000-00000000000", &out), -ENOTUNIQ);
        CHECK_EQ(out.len, 0);
        CHECK_EQ(fb_store_show(s, "0a1", &out), -ENOTUNIQ);
        CHECK_EQ(fb_store_show(s, "0a1b", &out), 0);
        CHECK_CONTAINS(fb_buf_cstr(&out), "{\"id\":\"0a1b\",");
        for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
                fb_buf_reset(&out);
                if (fb_store_show(s, none[i], &out) != -ENOENT)
                        CHECK_STR(none[i], "(names no alert)");
        }
        fb_buf_free(&out);
        fb_store_close(s);
        unlink(path);
}

/* A journal alert's cursor becomes the source's only when the alert is processed; entries
 * that were not alerts may move it only while no journal alert waits. */
TEST(journal_cursor_follows_processing) {
        char p2[300], cur[64];
        struct fb_store *s = NULL;
        struct fb_store_alert a[] = {
                { "j1", "journal", "{}", 2, "s=j1", false },
                { "j2", "journal", "{}", 2, "s=j2", false },
                { "h1", "http", "{}", 2, NULL, false },
        };

        snprintf(p2, sizeof(p2), "%s/cursor.db", dir);
        CHECK_EQ(fb_store_open(p2, &s), 0);
        if (!s)
                return;
        CHECK_EQ(fb_store_ingest(s, a, 3, NULL), 0);
        CHECK_EQ(fb_store_get_cursor(s, "journal", cur, sizeof(cur)), 0); /* stored, not done */
        CHECK_EQ(fb_store_pending_with_cursor(s, "journal"), 1);
        CHECK_EQ(fb_store_finish(s, "j1", "done", NULL, NULL, NULL, NULL), 0);
        CHECK_EQ(fb_store_get_cursor(s, "journal", cur, sizeof(cur)), 1);
        CHECK_STR(cur, "s=j1");
        CHECK_EQ(fb_store_finish(s, "h1", "done", NULL, NULL, NULL, NULL), 0); /* no cursor */
        CHECK_EQ(fb_store_get_cursor(s, "journal", cur, sizeof(cur)), 1);
        CHECK_STR(cur, "s=j1");
        CHECK_EQ(fb_store_get_cursor(s, "http", cur, sizeof(cur)), 0);
        CHECK_EQ(fb_store_batch_begin(s), 0);
        CHECK_EQ(fb_store_finish(s, "j2", "failed", NULL, NULL, NULL, NULL), 0);
        fb_store_batch_abort(s); /* a batch that did not commit moves nothing */
        CHECK_EQ(fb_store_get_cursor(s, "journal", cur, sizeof(cur)), 1);
        CHECK_STR(cur, "s=j1");
        CHECK_EQ(fb_store_finish(s, "j2", "failed", NULL, NULL, NULL, NULL), 0);
        CHECK_EQ(fb_store_get_cursor(s, "journal", cur, sizeof(cur)), 1);
        CHECK_STR(cur, "s=j2");
        CHECK_EQ(fb_store_pending_with_cursor(s, "journal"), 0);
        fb_store_close(s);
        unlink(p2);
}

/* A repeat folded into its incident: counted on the first alert, its own row kept without its
 * body, or dropped; only inside a batch. */
TEST(fold_into_incident) {
        char p2[300];
        struct fb_store *s = NULL;
        struct fb_store_alert a[] = {
                { "aa00", "http", "{\"x\":1}", 7, NULL, false },
                { "bb01", "http", "{\"x\":2}", 7, NULL, false },
                { "bb02", "http", "{\"x\":3}", 7, NULL, false },
        };
        struct fb_buf out;

        snprintf(p2, sizeof(p2), "%s/fold.db", dir);
        CHECK_EQ(fb_store_open(p2, &s), 0);
        if (!s)
                return;
        CHECK_EQ(fb_store_ingest(s, a, 3, NULL), 0);
        CHECK_EQ(fb_store_fold(s, "bb01", "aa00", 100, true), -EINVAL); /* outside a batch */
        CHECK_EQ(fb_store_batch_begin(s), 0);
        CHECK_EQ(fb_store_finish(s, "aa00", "done", "R", "suspicious", "/r/head.md", NULL), 0);
        CHECK_EQ(fb_store_finish(s, "bb01", "done", "R", NULL, NULL, NULL), 0);
        CHECK_EQ(fb_store_fold(s, "bb01", "aa00", 100, true), 0);
        CHECK_EQ(fb_store_finish(s, "bb02", "done", "R", NULL, NULL, NULL), 0);
        CHECK_EQ(fb_store_fold(s, "bb02", "aa00", 90, false), 0);
        CHECK_EQ(fb_store_batch_end(s), 0);
        fb_buf_init(&out, 1 << 20);
        CHECK_EQ(fb_store_show(s, "aa00", &out), 0);
        CHECK_CONTAINS(out.data, "\"repeats\":2,\"last_seen\":100,");
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_show(s, "bb01", &out), 0);
        CHECK_CONTAINS(out.data, "\"incident\":\"aa00\"");
        CHECK_CONTAINS(out.data, "\"body\":\"\"");
        fb_buf_reset(&out);
        CHECK_EQ(fb_store_show(s, "bb02", &out), -ENOENT);
        /* retention leaves an open incident's head (repeated at or after open_since) alone:
         * its report is still being rewritten; once the incident is quiet, it goes */
        {
                uint64_t n = 9;

                CHECK_EQ(fb_store_prune(s, (int64_t)time(NULL) + 10, 100, INT64_MAX, 10, NULL, NULL,
                                        &n),
                         0);
                CHECK_EQ(n, 1); /* bb01 */
                fb_buf_reset(&out);
                CHECK_EQ(fb_store_show(s, "aa00", &out), 0);
                CHECK_EQ(fb_store_prune(s, (int64_t)time(NULL) + 10, 101, INT64_MAX, 10, NULL, NULL,
                                        &n),
                         0);
                CHECK_EQ(n, 1);
                fb_buf_reset(&out);
                CHECK_EQ(fb_store_show(s, "aa00", &out), -ENOENT);
        }
        fb_buf_free(&out);
        fb_store_close(s);
        unlink(p2);
}

/* A chunk of retention names every report it deletes: before, only the first of each chunk
 * was named, and the rest stayed on disk with no row. */
TEST(prune_names_every_report) {
        char p2[300];
        struct fb_store *s = NULL;
        struct fb_store_alert a[] = {
                { "c1", "http", "{}", 2, NULL, false },
                { "c2", "http", "{}", 2, NULL, false },
                { "c3", "http", "{}", 2, NULL, false },
        };
        struct fb_buf reports, ids;
        uint64_t n = 0;

        snprintf(p2, sizeof(p2), "%s/prune.db", dir);
        CHECK_EQ(fb_store_open(p2, &s), 0);
        if (!s)
                return;
        CHECK_EQ(fb_store_ingest(s, a, 3, NULL), 0);
        CHECK_EQ(fb_store_batch_begin(s), 0);
        CHECK_EQ(fb_store_finish(s, "c1", "done", "R", NULL, "/r/c1.md", NULL), 0);
        CHECK_EQ(fb_store_finish(s, "c2", "done", "R", NULL, "/r/c2.md", NULL), 0);
        CHECK_EQ(fb_store_finish(s, "c3", "failed", "R", NULL, "/r/c3.md", NULL), 0);
        CHECK_EQ(fb_store_batch_end(s), 0);
        fb_buf_init(&reports, 4096);
        fb_buf_init(&ids, 4096);
        CHECK_EQ(fb_store_prune(s, (int64_t)time(NULL) + 10, INT64_MAX, INT64_MAX, 10, &reports,
                                &ids, &n),
                 0);
        CHECK_EQ(n, 3);
        CHECK_EQ(reports.len, 3 * sizeof("/r/c1.md"));
        CHECK(reports.data && memcmp(reports.data, "/r/c1.md\0/r/c2.md\0/r/c3.md", 27) == 0);
        CHECK_EQ(ids.len, 3 * sizeof("c1"));
        fb_buf_free(&reports);
        fb_buf_free(&ids);
        fb_store_close(s);
        unlink(p2);
}

TEST(schema_versions) {
        char p2[300];
        struct fb_store *s = NULL;
        sqlite3 *db;

        /* a file from a newer firebreak is refused, not rewritten */
        snprintf(p2, sizeof(p2), "%s/newer.db", dir);
        CHECK_EQ(sqlite3_open(p2, &db), SQLITE_OK);
        CHECK_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        CHECK_EQ(fb_store_open(p2, &s), -EPROTO);
        unlink(p2);
        /* a version 1 file (before the cursor column) is migrated, its alerts kept */
        snprintf(p2, sizeof(p2), "%s/v1.db", dir);
        CHECK_EQ(sqlite3_open(p2, &db), SQLITE_OK);
        CHECK_EQ(sqlite3_exec(db,
                              "CREATE TABLE alerts (seq INTEGER PRIMARY KEY AUTOINCREMENT, id "
                              "TEXT NOT NULL UNIQUE, received INTEGER NOT NULL, source TEXT NOT "
                              "NULL, body BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'pending', "
                              "processed INTEGER, rule TEXT, verdict TEXT, report TEXT);"
                              "CREATE TABLE actions (alert_id TEXT NOT NULL, container TEXT, "
                              "action TEXT NOT NULL, result TEXT NOT NULL, time INTEGER NOT "
                              "NULL, duration_us INTEGER, detail TEXT);"
                              "CREATE TABLE cursors (source TEXT PRIMARY KEY, cursor TEXT NOT "
                              "NULL);"
                              "INSERT INTO alerts (id, received, source, body) VALUES "
                              "('old', 1, 'http', '{}');"
                              "PRAGMA user_version = 1",
                              NULL, NULL, NULL),
                 SQLITE_OK);
        sqlite3_close(db);
        CHECK_EQ(fb_store_open(p2, &s), 0);
        if (s) {
                struct fb_buf body;
                char id[64];
                int64_t seq = 0;
                int v = 0;

                fb_buf_init(&body, 1 << 20);
                CHECK_EQ(fb_store_next_pending(s, &seq, id, sizeof(id), NULL, 0, &body, NULL), 1);
                CHECK_STR(id, "old");
                CHECK_EQ(fb_store_finish(s, "old", "done", NULL, NULL, NULL, NULL), 0);
                fb_buf_free(&body);
                fb_store_close(s);
                CHECK_EQ(sqlite3_open(p2, &db), SQLITE_OK);
                {
                        sqlite3_stmt *st = NULL;

                        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
                        if (st && sqlite3_step(st) == SQLITE_ROW)
                                v = sqlite3_column_int(st, 0);
                        sqlite3_finalize(st);
                }
                sqlite3_close(db);
                CHECK_EQ(v, FB_STORE_SCHEMA_VERSION);
        }
        unlink(p2);
        /* not a database */
        snprintf(p2, sizeof(p2), "%s/junk.db", dir);
        {
                FILE *f = fopen(p2, "w");

                fputs("this is not a database, just text that is long enough to matter......."
                      "...................................................................",
                      f);
                fclose(f);
        }
        CHECK(fb_store_open(p2, &s) < 0);
        unlink(p2);
        /* a directory cannot hold a store */
        CHECK(fb_store_open(dir, &s) < 0);
        /* nor a symbolic link, to a store or to nothing yet: the service does not follow one
         * planted in its state directory */
        {
                char link[300];

                snprintf(link, sizeof(link), "%s/link.db", dir);
                CHECK_EQ(symlink(path, link), 0);
                CHECK(fb_store_open(link, &s) < 0);
                unlink(link);
                snprintf(p2, sizeof(p2), "%s/nothing.db", dir);
                CHECK_EQ(symlink(p2, link), 0);
                CHECK(fb_store_open(link, &s) < 0);
                CHECK(access(p2, F_OK) < 0);
                unlink(link);
        }
}

/* The service opens the store twice (its pipeline and its ingest). Another process that opens
 * and closes the database while the service runs (an operator's `sqlite3 state.db`, a backup
 * script) must not take the service's WAL from under it: an alert acknowledged after that must
 * still be there when the service died without closing (kill -9). Here the service is a child
 * process, and this process is the other one. */
TEST(wal_survives_another_process) {
        char p[300], wal[310];
        struct fb_store_alert a1 = { "w1", "http", "{\"x\":1}", 7, NULL, false };
        struct fb_store_alert a2 = { "w2", "http", "{\"x\":2}", 7, NULL, false };
        int up[2], go[2], status = -1;
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char c = 0;
        pid_t pid;

        snprintf(p, sizeof(p), "%s/wal.db", dir);
        snprintf(wal, sizeof(wal), "%s-wal", p);
        CHECK_EQ(pipe(up), 0);
        CHECK_EQ(pipe(go), 0);
        pid = fork();
        if (pid == 0) {
                struct fb_store *pipeline = NULL, *ingest = NULL;

                if (fb_store_open(p, &pipeline) < 0 || fb_store_open(p, &ingest) < 0 ||
                    fb_store_ingest(ingest, &a1, 1, NULL) < 0 || write(up[1], "u", 1) != 1 ||
                    read(go[0], &c, 1) != 1 || fb_store_ingest(ingest, &a2, 1, NULL) < 0)
                        _exit(1);
                _exit(0); /* killed: nothing closed, nothing checkpointed */
        }
        CHECK(pid > 0);
        if (pid <= 0)
                return;
        CHECK_EQ(read(up[0], &c, 1), 1);
        /* another process reads the store and closes it */
        CHECK_EQ(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        CHECK_EQ(sqlite3_exec(db, "SELECT count(*) FROM alerts", NULL, NULL, NULL), SQLITE_OK);
        CHECK_EQ(sqlite3_close(db), SQLITE_OK);
        CHECK_EQ(access(wal, F_OK), 0);
        CHECK_EQ(write(go[1], "g", 1), 1);
        CHECK_EQ(waitpid(pid, &status, 0), pid);
        CHECK_EQ(status, 0);
        /* both alerts survived the service's death */
        CHECK_EQ(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        CHECK_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM alerts", -1, &st, NULL), SQLITE_OK);
        CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
        CHECK_EQ(sqlite3_column_int(st, 0), 2);
        sqlite3_finalize(st);
        sqlite3_close(db);
        close(up[0]);
        close(up[1]);
        close(go[0]);
        close(go[1]);
        unlink(p);
        unlink(wal);
        snprintf(wal, sizeof(wal), "%s-shm", p);
        unlink(wal);
}

int main(void) {
        int r;

        if (!mkdtemp(dir))
                return 1;
        snprintf(path, sizeof(path), "%s/state.db", dir);
        RUN(ingest_dedup_order);
        RUN(show_by_prefix);
        RUN(journal_cursor_follows_processing);
        RUN(fold_into_incident);
        RUN(prune_names_every_report);
        RUN(schema_versions);
        RUN(wal_survives_another_process);
        r = t_summary();
        unlink(path);
        snprintf(path, sizeof(path), "%s/state.db-wal", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/state.db-shm", dir);
        unlink(path);
        rmdir(dir);
        return r;
}
