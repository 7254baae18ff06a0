/* source_journal.c: Falco's alerts from the systemd journal. Falco under systemd writes its
 * JSON alerts through syslog (SYSLOG_IDENTIFIER=falco); anyone can write that identifier, so
 * an entry is trusted only when journald's own _SYSTEMD_UNIT field names a configured Falco
 * unit. Each alert is stored with its entry's cursor, and that cursor becomes the source's
 * only when the pipeline has processed the alert (fb_store_finish()); after a restart the
 * journal is followed again from there, and what is read twice is a duplicate the store
 * skips. On the first start, with no cursor, only new entries are read. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "daemon.h"
#include "firebreak/log.h"

#define JOURNAL_BATCH 64 /* entries per commit: one fsync for a burst */
#define DRAIN_ROUNDS 16  /* batches per turn of the event loop */

struct fb_journal_source {
        struct fb_serve *s;
        sd_journal *j;
        sd_event_source *io, *timer;
        unsigned long untrusted; /* forged entries seen: the first and every 100th are logged */
        /* the batch being read: bodies and cursors owned here */
        struct fb_store_alert a[JOURNAL_BATCH];
        char id[JOURNAL_BATCH][FB_ALERT_ID_MAX + 1];
        char *body[JOURNAL_BATCH], *cursor[JOURNAL_BATCH];
        size_t n;
};

/* The value of FIELD=value in the current entry, without the name. */
static int field(sd_journal *j, const char *name, const char **val, size_t *len) {
        size_t n = strlen(name);
        const void *d;
        size_t l;
        int r = sd_journal_get_data(j, name, &d, &l);

        if (r < 0)
                return r;
        if (l <= n || ((const char *)d)[n] != '=')
                return -EBADMSG;
        *val = (const char *)d + n + 1;
        *len = l - n - 1;
        return 0;
}

static bool trusted(const struct fb_journal_source *js, const char *unit, size_t len) {
        for (size_t i = 0; i < js->s->cfg.n_journal_units; i++)
                if (strlen(js->s->cfg.journal_units[i]) == len &&
                    memcmp(js->s->cfg.journal_units[i], unit, len) == 0)
                        return true;
        return false;
}

static void clear_batch(struct fb_journal_source *js) {
        for (size_t i = 0; i < js->n; i++) {
                free(js->body[i]);
                free(js->cursor[i]);
                js->body[i] = js->cursor[i] = NULL;
        }
        js->n = 0;
}

/* The current entry: skipped (0), or added to the batch (1). */
static int take_entry(struct fb_journal_source *js) {
        struct fb_serve *s = js->s;
        const char *msg, *unit;
        size_t len, ulen;
        char err[300], ubuf[256];
        bool ok;
        int r;

        /* the unit first, copied: data from sd_journal_get_data() is valid only until the next
         * call, and MESSAGE is used last */
        r = field(js->j, "_SYSTEMD_UNIT", &unit, &ulen);
        ok = r >= 0 && trusted(js, unit, ulen);
        snprintf(ubuf, sizeof(ubuf), "%.*s", r < 0 ? 0 : (int)(ulen < 255 ? ulen : 255),
                 r < 0 ? "" : unit);
        r = field(js->j, "MESSAGE", &msg, &len);
        if (r < 0 || len == 0 || msg[0] != '{')
                return 0; /* Falco's own log lines, not alerts */
        if (!ok) {
                atomic_fetch_add(&s->m.rejected[SRC_JOURNAL], 1);
                if (js->untrusted++ % 100 == 0)
                        log_warning("journal: an alert-shaped entry from %s%s%s is not from a "
                                    "configured Falco unit: ignored (%lu so far)",
                                    ubuf[0] ? "unit '" : "outside any unit", ubuf,
                                    ubuf[0] ? "'" : "", js->untrusted);
                return 0;
        }
        if (len > FB_ALERT_MAX_BYTES) {
                atomic_fetch_add(&s->m.rejected[SRC_JOURNAL], 1);
                log_error("journal: an alert of %zu bytes is over the %u-byte limit: ignored", len,
                          FB_ALERT_MAX_BYTES);
                return 0;
        }
        r = fb_serve_check(s, SRC_JOURNAL, msg, len, js->id[js->n], sizeof(js->id[js->n]), err,
                           sizeof(err));
        if (r < 0) {
                log_error("journal: rejected an alert: %s", err);
                return 0;
        }
        js->body[js->n] = malloc(len);
        if (!js->body[js->n])
                return -ENOMEM;
        memcpy(js->body[js->n], msg, len);
        r = sd_journal_get_cursor(js->j, &js->cursor[js->n]);
        if (r < 0) {
                free(js->body[js->n]);
                js->body[js->n] = NULL;
                return r;
        }
        js->a[js->n] = (struct fb_store_alert){ .id = js->id[js->n],
                                                .source = "journal",
                                                .body = js->body[js->n],
                                                .body_len = len,
                                                .cursor = js->cursor[js->n] };
        js->n++;
        return 1;
}

static int arm_retry(struct fb_journal_source *js, uint64_t usec) {
        int r = sd_event_source_set_time_relative(js->timer, usec);

        return r < 0 ? r : sd_event_source_set_enabled(js->timer, SD_EVENT_ONESHOT);
}

/* Reads what is new, a batch at a time, each batch committed in one transaction. A batch the
 * store cannot take is read again after a second, from the cursor before it. */
static int drain(struct fb_journal_source *js) {
        struct fb_serve *s = js->s;
        char *before = NULL, *last = NULL;
        size_t inserted, seen;
        bool more;
        int r;

        for (int round = 0;; round++) {
                if (round == DRAIN_ROUNDS) {
                        /* a long backlog (days of journal after a long stop) goes in slices: the
                         * event loop, the pipeline and the watchdog get their turn between */
                        free(before);
                        return arm_retry(js, 0);
                }
                free(before);
                before = NULL;
                (void)sd_journal_get_cursor(js->j, &before); /* none before the first entry */
                clear_batch(js);
                seen = 0;
                r = 0;
                while (js->n < JOURNAL_BATCH && seen < 4 * JOURNAL_BATCH &&
                       (r = sd_journal_next(js->j)) > 0) {
                        seen++;
                        r = take_entry(js);
                        if (r < 0)
                                break;
                }
                more = r != 0; /* 0: the end of the journal */
                if (r < 0 && js->n == 0 && seen == 0) {
                        log_error_errno(r, "journal: cannot read: %m");
                        break;
                }
                if (js->n) {
                        pthread_mutex_lock(&s->write_lock);
                        r = fb_store_ingest(s->store, js->a, js->n, &inserted);
                        pthread_mutex_unlock(&s->write_lock);
                        if (r < 0) {
                                log_error_errno(r,
                                                "journal: the store could not commit %zu "
                                                "alerts: %m; reading them again in 1 s",
                                                js->n);
                                if (before)
                                        sd_journal_seek_cursor(js->j, before);
                                else
                                        sd_journal_seek_head(js->j);
                                if (before)
                                        sd_journal_next(js->j); /* back on "before" itself */
                                clear_batch(js);
                                free(before);
                                return arm_retry(js, 1000000);
                        }
                        atomic_fetch_add(&s->m.received[SRC_JOURNAL], inserted);
                        atomic_fetch_add(&s->m.duplicates[SRC_JOURNAL], js->n - inserted);
                        if (inserted)
                                fb_serve_wake(s);
                } else if (seen && fb_store_pending_with_cursor(s->store, "journal") == 0 &&
                           sd_journal_get_cursor(js->j, &last) >= 0) {
                        /* only entries that were not alerts, and no alert waits: move on */
                        pthread_mutex_lock(&s->write_lock);
                        (void)fb_store_set_cursor(s->store, "journal", last);
                        pthread_mutex_unlock(&s->write_lock);
                        free(last);
                        last = NULL;
                }
                clear_batch(js);
                if (seen == 0 || !more)
                        break;
        }
        free(before);
        return 0;
}

static int on_journal(sd_event_source *es, int fd, uint32_t revents, void *u) {
        struct fb_journal_source *js = u;
        int r = sd_journal_process(js->j);

        if (r < 0)
                log_error_errno(r, "journal: %m");
        return drain(js);
}

static int on_retry(sd_event_source *es, uint64_t usec, void *u) {
        return drain(u);
}

/* Where to start: after the saved cursor, or at the end of the journal. */
static int seek_start(struct fb_journal_source *js) {
        char cur[512];
        int r = fb_store_get_cursor(js->s->store, "journal", cur, sizeof(cur));

        if (r > 0 && sd_journal_seek_cursor(js->j, cur) >= 0) {
                /* on the saved entry when it is still there: that one is done */
                if (sd_journal_next(js->j) > 0 && sd_journal_test_cursor(js->j, cur) <= 0)
                        sd_journal_previous(js->j); /* rotated away: start at the next one */
                log_info("journal: resuming after the saved cursor");
                return 0;
        }
        if (r < 0)
                return r;
        r = sd_journal_seek_tail(js->j);
        if (r >= 0)
                (void)sd_journal_previous(js->j); /* the last entry is old: start after it */
        log_info("journal: no saved cursor; reading new entries only");
        return r;
}

int fb_journal_source_start(struct fb_serve *s, struct fb_journal_source **ret) {
        struct fb_journal_source *js = calloc(1, sizeof(*js));
        char match[128];
        int r;

        if (!js)
                return -ENOMEM;
        js->s = s;
        r = sd_journal_open(&js->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0) {
                free(js);
                return log_error_errno(r, "journal: cannot open: %m");
        }
        /* before anything else: the inotify watches exist from here on, nothing is missed */
        r = sd_journal_get_fd(js->j);
        if (r < 0) {
                sd_journal_close(js->j);
                free(js);
                return log_error_errno(r, "journal: cannot watch: %m");
        }
        /* the bound: a longer MESSAGE is refused, not read whole */
        sd_journal_set_data_threshold(js->j, FB_ALERT_MAX_BYTES + 16);
        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", s->cfg.journal_identifier);
        r = sd_journal_add_match(js->j, match, 0);
        if (r >= 0)
                r = seek_start(js);
        if (r >= 0)
                r = sd_event_add_io(s->event, &js->io, sd_journal_get_fd(js->j),
                                    (uint32_t)sd_journal_get_events(js->j), on_journal, js);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &js->timer, CLOCK_MONOTONIC, 1000000, 0,
                                               on_retry, js);
        if (r >= 0)
                r = sd_event_source_set_enabled(js->timer, SD_EVENT_OFF);
        if (r < 0) {
                log_error_errno(r, "journal: cannot follow: %m");
                fb_journal_source_stop(js);
                return r;
        }
        *ret = js;
        /* what arrived while firebreak was down */
        return drain(js);
}

void fb_journal_source_stop(struct fb_journal_source *js) {
        if (!js)
                return;
        sd_event_source_disable_unref(js->io);
        sd_event_source_disable_unref(js->timer);
        clear_batch(js);
        sd_journal_close(js->j);
        free(js);
}
