/* source_stream.c: JSON lines from standard input or a FIFO (Falco's program_output and
 * file_output). Each complete line is one alert; a line longer than FB_ALERT_MAX_BYTES is
 * dropped up to its end, with one error. Each stream is read on a thread of its own, so that
 * the event loop (signals, the pipeline, the watchdog) never waits on it and the pipeline's
 * yielding to ingest applies to it as to HTTP; the lines of a read are committed together. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/log.h"

/* Lines per commit: a burst pays one fsync per STREAM_BATCH alerts, not one per alert. */
#define STREAM_BATCH 64

struct fb_stream_source {
        struct fb_serve *s;
        int fd;
        int stop_fd; /* eventfd: fb_stream_source_stop() */
        pthread_t thread;
        bool started;
        char *buf;
        size_t len;
        bool skipping; /* inside an overlong line */
        bool hinted;   /* the hint for a pretty-printed alert was given */
        atomic_bool ended;
        unsigned long line;
        struct ingest_item items[STREAM_BATCH]; /* their bodies point into buf */
        unsigned long item_line[STREAM_BATCH];
        size_t n;
};

/* Commits the alerts taken so far in one transaction. */
static void commit(struct fb_stream_source *st) {
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

static void one_line(struct fb_stream_source *st, const char *p, size_t n) {
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
                /* a pretty-printed alert (a sample file, jq's default output) starts with a
                 * line of its own; the lines after it fail one by one */
                bool pretty = !st->hinted && n == 1 && (p[0] == '{' || p[0] == '[');

                log_error("stream line %lu: rejected: %s%s", st->line, err,
                          pretty ? " (each line is one alert, as Falco writes them: compact a "
                                   "pretty-printed alert first, e.g. jq -c . FILE)"
                                 : "");
                st->hinted |= pretty;
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

/* The complete lines of what was read, committed before the buffer moves. */
static void take_lines(struct fb_stream_source *st) {
        size_t off = 0;
        char *nl;

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
                        log_error("stream line %lu: longer than %u bytes: dropped", st->line + 1,
                                  FB_ALERT_MAX_BYTES);
                st->skipping = true;
                st->len = 0;
        }
}

/* Reads until the end of the input (stdin closed; a FIFO opened read-write has none) or until
 * stopped. A file (serve --stdin < alerts.jsonl) polls readable to its end. */
static void *reader(void *u) {
        struct fb_stream_source *st = u;
        ssize_t k = 0;

        for (;;) {
                struct pollfd p[2] = { { .fd = st->fd, .events = POLLIN },
                                       { .fd = st->stop_fd, .events = POLLIN } };

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        k = -1;
                        break;
                }
                if (p[1].revents)
                        return NULL;
                k = read(st->fd, st->buf + st->len, FB_ALERT_MAX_BYTES + 1 - st->len);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0)
                        break;
                st->len += (size_t)k;
                take_lines(st);
        }
        if (k < 0)
                log_error("stream: read: %s", strerror(errno));
        /* the end of the input: a last line without newline still counts */
        if (st->len && !st->skipping)
                one_line(st, st->buf, st->len);
        commit(st);
        st->len = 0;
        /* after the last commit: the pipeline that sees the flag finds every alert stored */
        atomic_store(&st->ended, true);
        fb_serve_wake(st->s);
        return NULL;
}

bool fb_stream_source_ended(const struct fb_stream_source *st) {
        return st && atomic_load(&st->ended);
}

/* Owns fd from here on, also on failure. */
int fb_stream_source_start(struct fb_serve *s, int fd, struct fb_stream_source **ret) {
        struct fb_stream_source *st = calloc(1, sizeof(*st));
        int r, fl;

        if (!st) {
                if (fd != STDIN_FILENO)
                        close(fd);
                return -ENOMEM;
        }
        st->s = s;
        st->fd = fd;
        st->buf = malloc(FB_ALERT_MAX_BYTES + 1);
        st->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r = !st->buf ? -ENOMEM : st->stop_fd < 0 ? -errno : 0;
        if (r >= 0) {
                fl = fcntl(fd, F_GETFL);
                if (fl >= 0)
                        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
                r = -pthread_create(&st->thread, NULL, reader, st);
                st->started = r == 0;
        }
        if (r < 0) {
                fb_stream_source_stop(st);
                return r;
        }
        *ret = st;
        return 0;
}

/* After its last commit; the committer must still run. NULL is accepted. */
void fb_stream_source_stop(struct fb_stream_source *st) {
        uint64_t one = 1;

        if (!st)
                return;
        if (st->started) {
                (void)!write(st->stop_fd, &one, sizeof(one));
                pthread_join(st->thread, NULL);
        }
        if (st->stop_fd >= 0)
                close(st->stop_fd);
        if (st->fd != STDIN_FILENO)
                close(st->fd);
        free(st->buf);
        free(st);
}
