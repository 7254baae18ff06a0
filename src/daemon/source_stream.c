/* source_stream.c: JSON lines from standard input or a FIFO (Falco's program_output and
 * file_output). Each complete line is one alert; a line longer than FB_ALERT_MAX_BYTES is
 * dropped up to its end, with one error. The lines of a read are committed together. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/log.h"

/* Lines per commit: a burst pays one fsync per STREAM_BATCH alerts, not one per alert. */
#define STREAM_BATCH 64

struct stream {
        struct fb_serve *s;
        int fd;
        char *buf;
        size_t len;
        bool skipping; /* inside an overlong line */
        unsigned long line;
        struct ingest_item items[STREAM_BATCH]; /* their bodies point into buf */
        unsigned long item_line[STREAM_BATCH];
        size_t n;
};

/* Commits the alerts taken so far in one transaction. */
static void commit(struct stream *st) {
        size_t i;

        if (st->n == 0)
                return;
        fb_serve_commit(st->s, st->items, st->n);
        for (i = 0; i < st->n; i++)
                if (st->items[i].result < 0)
                        log_error("stream line %lu: the store could not commit it: %s",
                                  st->item_line[i], strerror(-st->items[i].result));
        st->n = 0;
}

static void one_line(struct stream *st, const char *p, size_t n) {
        struct ingest_item *it = &st->items[st->n];
        char err[300];
        int r;

        st->line++;
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
        if (n == 0)
                return;
        r = fb_serve_check(st->s, SRC_STREAM, p, n, it->id, sizeof(it->id), err, sizeof(err));
        if (r == -EINVAL) {
                log_error("stream line %lu: rejected: %s", st->line, err);
                return;
        }
        if (r < 0) {
                log_error("stream line %lu: %s", st->line, strerror(-r));
                return;
        }
        fb_serve_item(it, SRC_STREAM, p, n);
        st->item_line[st->n++] = st->line;
        if (st->n == STREAM_BATCH)
                commit(st);
}

/* One read a turn, its complete lines committed before the buffer moves: a writer that keeps
 * the FIFO full does not hold the event loop (signals, the pipeline, the watchdog). */
static int take(sd_event_source *es, struct stream *st) {
        int fd = st->fd;
        size_t off = 0;
        ssize_t k;
        char *nl;

        do
                k = read(fd, st->buf + st->len, FB_ALERT_MAX_BYTES + 1 - st->len);
        while (k < 0 && errno == EINTR);
        if (k < 0 && errno == EAGAIN)
                return 0;
        if (k > 0) {
                st->len += (size_t)k;
                while ((nl = memchr(st->buf + off, '\n', st->len - off))) {
                        size_t n = (size_t)(nl - (st->buf + off));

                        if (!st->skipping)
                                one_line(st, st->buf + off, n);
                        else
                                st->line++;
                        st->skipping = false;
                        off += n + 1;
                }
                commit(st);
                memmove(st->buf, st->buf + off, st->len - off);
                st->len -= off;
                if (st->len > FB_ALERT_MAX_BYTES) {
                        if (!st->skipping)
                                log_error("stream line %lu: longer than %u bytes: dropped",
                                          st->line + 1, FB_ALERT_MAX_BYTES);
                        st->skipping = true;
                        st->len = 0;
                }
                return 0;
        }
        /* end of input (stdin closed): a last line without newline still counts */
        if (st->len && !st->skipping)
                one_line(st, st->buf, st->len);
        commit(st);
        st->len = 0;
        if (k < 0)
                log_error("stream: read: %s", strerror(errno));
        return sd_event_source_set_enabled(es, SD_EVENT_OFF);
}

static int on_input(sd_event_source *es, int fd, uint32_t revents, void *u) {
        return take(es, u);
}

static int on_turn(sd_event_source *es, void *u) {
        return take(es, u);
}

static void free_stream(void *u) {
        struct stream *st = u;

        free(st->buf);
        free(st);
}

int fb_stream_source_add(struct fb_serve *s, int fd) {
        struct stream *st = calloc(1, sizeof(*st));
        sd_event_source *es = NULL;
        struct stat sb;
        int r, fl;

        if (!st || !(st->buf = malloc(FB_ALERT_MAX_BYTES + 1))) {
                free(st);
                return -ENOMEM;
        }
        st->s = s;
        st->fd = fd;
        fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        /* a file (serve --stdin < alerts.jsonl) cannot be polled: it is read a turn at a time
         * until its end */
        r = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)
                    ? sd_event_add_defer(s->event, &es, on_turn, st)
                    : sd_event_add_io(s->event, &es, fd, EPOLLIN, on_input, st);
        if (r < 0) {
                free(st->buf);
                free(st);
                return r;
        }
        /* the event loop owns the source and frees the stream with it */
        sd_event_source_set_destroy_callback(es, free_stream);
        sd_event_source_set_floating(es, true);
        sd_event_source_unref(es);
        return 0;
}
