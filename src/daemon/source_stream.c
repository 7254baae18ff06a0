/* source_stream.c: JSON lines from standard input or a FIFO (Falco's program_output and
 * file_output). Each complete line is one alert; a line longer than FB_ALERT_MAX_BYTES is
 * dropped up to its end, with one error. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/log.h"

struct stream {
        struct fb_serve *s;
        char *buf;
        size_t len;
        bool skipping; /* inside an overlong line */
        unsigned long line;
};

static void one_line(struct stream *st, const char *p, size_t n) {
        char id[FB_ALERT_ID_MAX + 1], err[300];
        bool dup;
        int r;

        st->line++;
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
        if (n == 0)
                return;
        r = fb_serve_ingest(st->s, SRC_STREAM, p, n, id, sizeof(id), &dup, err, sizeof(err));
        if (r == -EINVAL)
                log_error("stream line %lu: rejected: %s", st->line, err);
        else if (r < 0)
                log_error("stream line %lu: %s", st->line, err);
}

static int on_input(sd_event_source *es, int fd, uint32_t revents, void *u) {
        struct stream *st = u;
        ssize_t k;

        for (;;) {
                char *nl;

                k = read(fd, st->buf + st->len, FB_ALERT_MAX_BYTES + 1 - st->len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return 0;
                if (k <= 0)
                        break;
                st->len += (size_t)k;
                while ((nl = memchr(st->buf, '\n', st->len))) {
                        size_t n = (size_t)(nl - st->buf);

                        if (!st->skipping)
                                one_line(st, st->buf, n);
                        else
                                st->line++;
                        st->skipping = false;
                        memmove(st->buf, nl + 1, st->len - n - 1);
                        st->len -= n + 1;
                }
                if (st->len > FB_ALERT_MAX_BYTES) {
                        if (!st->skipping)
                                log_error("stream line %lu: longer than %u bytes: dropped",
                                          st->line + 1, FB_ALERT_MAX_BYTES);
                        st->skipping = true;
                        st->len = 0;
                }
        }
        /* end of input (stdin closed): a last line without newline still counts */
        if (st->len && !st->skipping)
                one_line(st, st->buf, st->len);
        st->len = 0;
        if (k < 0)
                log_error("stream: read: %s", strerror(errno));
        return sd_event_source_set_enabled(es, SD_EVENT_OFF);
}

static void free_stream(void *u) {
        struct stream *st = u;

        free(st->buf);
        free(st);
}

int fb_stream_source_add(struct fb_serve *s, int fd) {
        struct stream *st = calloc(1, sizeof(*st));
        sd_event_source *es = NULL;
        int r, fl;

        if (!st || !(st->buf = malloc(FB_ALERT_MAX_BYTES + 1))) {
                free(st);
                return -ENOMEM;
        }
        st->s = s;
        fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        r = sd_event_add_io(s->event, &es, fd, EPOLLIN, on_input, st);
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
