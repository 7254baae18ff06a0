/* reader.c: the streaming reader: frames alerts (JSON lines, concatenated or pretty-printed
 * objects, a top-level array) from a file descriptor, with line and column for every error,
 * before fb_alert_parse() reads each one. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_impl.h"
#include "firebreak/alert.h"
#include "firebreak/buf.h"
#include "firebreak/cleanup.h"
#include "firebreak/strutil.h"

/* ---- streaming reader ------------------------------------------------------------------- */

enum reader_state {
        S_BETWEEN, /* between values, at top level or inside an array */
        S_VALUE,   /* inside an object being framed */
        S_SKIP,    /* skipping stray text up to the end of the line */
};

/* Bytes the framer must look at, outside and inside JSON strings. */
static const unsigned char frame_special[256] = {
        ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1, ['\n'] = 1,
};
static const unsigned char string_special[256] = { ['"'] = 1, ['\\'] = 1, ['\n'] = 1 };

/* The index of the first '"', '\\' or newline in p[i..n), or n: 8 bytes at a time first. */
static size_t skip_string(const unsigned char *p, size_t i, size_t n) {
        const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;

        while (n - i >= 8) {
                uint64_t x, q, b, l;

                memcpy(&x, p + i, 8);
                q = x ^ (ones * '"');
                b = x ^ (ones * '\\');
                l = x ^ (ones * '\n');
                if (((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) |
                    ((l - ones) & ~l & highs))
                        break;
                i += 8;
        }
        while (i < n && !string_special[p[i]])
                i++;
        return i;
}

struct fb_alert_reader {
        int fd;
        bool eof;
        char rbuf[64 * 1024];
        size_t rpos, rlen;
        uint64_t rbase; /* stream offset of rbuf[0] */

        enum reader_state state;
        bool in_array;       /* inside a top-level [ ... ] */
        unsigned long line;  /* line of the next byte */
        uint64_t line_start; /* stream offset where that line starts */
        size_t index;        /* values and stray-text runs seen so far */

        /* the object being framed */
        struct fb_buf frame;
        unsigned long f_line, f_col;
        unsigned depth;
        bool in_str, esc;
        bool too_deep;
        bool line_mode;  /* more followed the opening brace on its line: a JSON line */
        bool first_line; /* still on the line of the opening brace */
        bool oversize;   /* past FB_ALERT_MAX_BYTES: framed to its end, not stored */

        struct fb_alert *alert;
};

int fb_alert_reader_new(int fd, struct fb_alert_reader **ret) {
        struct fb_alert_reader *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        if (fb_alert_new(&r->alert) < 0) {
                free(r);
                return -ENOMEM;
        }
        r->fd = fd;
        r->line = 1;
        fb_buf_init(&r->frame, FB_ALERT_MAX_BYTES);
        *ret = r;
        return 0;
}

void fb_alert_reader_free(struct fb_alert_reader *r) {
        if (!r)
                return;
        fb_alert_free(r->alert);
        fb_buf_free(&r->frame);
        free(r);
}

static int reader_fill(struct fb_alert_reader *r) {
        ssize_t n;

        if (r->rpos < r->rlen)
                return 1;
        if (r->eof)
                return 0;
        for (;;) {
                n = read(r->fd, r->rbuf, sizeof(r->rbuf));
                if (n >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        r->rbase += r->rlen;
        r->rpos = 0;
        r->rlen = (size_t)n;
        if (n == 0) {
                r->eof = true;
                return 0;
        }
        return 1;
}

static int frame_error(struct fb_alert_reader *r, struct fb_alert_error *err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int frame_error(struct fb_alert_reader *r, struct fb_alert_error *err, const char *fmt,
                       ...) {
        va_list ap;

        err->index = r->index;
        err->line = r->f_line;
        err->column = r->f_col;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Is the tree nested deeper than max? (stops as soon as it knows) */
static bool tree_deeper(json_t *v, unsigned depth, unsigned max) {
        json_t *x;
        size_t i;

        if (!json_is_object(v) && !json_is_array(v))
                return false;
        if (depth > max)
                return true;
        if (json_is_object(v)) {
                for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                        x = json_object_iter_value(it);
                        if ((json_is_object(x) || json_is_array(x)) &&
                            tree_deeper(x, depth + 1, max))
                                return true;
                }
        } else {
                json_array_foreach(v, i, x) if ((json_is_object(x) || json_is_array(x)) &&
                                                tree_deeper(x, depth + 1, max)) return true;
        }
        return false;
}

/* The fast path for the common case, one alert per line (Falco's json_output): jansson parses
 * the line in place. Returns 1 with *ret, -EINVAL for an alert that parsed but is invalid, or
 * 0 when the line is anything else (a syntax error, more than one value, too deep): then the
 * framer takes it and reports exactly as it always does. */
static int parse_line(struct fb_alert_reader *r, const char *line, size_t len,
                      const struct fb_alert **ret, struct fb_alert_error *err) {
        json_error_t jerr;
        json_t *root;
        bool in_arena;
        int k;

        root = fb_alert_load_tree(r->alert, line, len, &jerr, &in_arena);
        if (!root)
                return 0;
        if (tree_deeper(root, 1, FB_ALERT_MAX_DEPTH)) {
                json_decref(root);
                return 0;
        }
        k = fb_alert_from_json(r->alert, root, err);
        fb_alert_adopt_tree(r->alert, root, in_arena);
        if (k == -EINVAL) {
                err->index = r->index;
                err->line = r->f_line;
                err->column = r->f_col;
                return -EINVAL;
        }
        if (k < 0)
                return k;
        *ret = r->alert;
        return 1;
}

/* A whole object was framed: parse it. */
static int frame_done(struct fb_alert_reader *r, const struct fb_alert **ret,
                      struct fb_alert_error *err) {
        int k;

        r->state = S_BETWEEN;
        if (fb_buf_error(&r->frame) == -ENOMEM)
                return -ENOMEM;
        if (r->oversize)
                return frame_error(r, err, "alert larger than %u bytes", FB_ALERT_MAX_BYTES);
        if (r->too_deep)
                return frame_error(r, err, "alert nested deeper than %u levels",
                                   FB_ALERT_MAX_DEPTH);
        k = fb_alert_parse_framed(r->alert, r->frame.data, r->frame.len, err);
        if (k == -EINVAL) {
                /* jansson's line/column are relative to the frame */
                bool syntax = strncmp(err->text, "invalid JSON", 12) == 0;

                if (syntax && err->line <= 1)
                        err->column += r->f_col - 1;
                else if (!syntax) {
                        err->line = 1;
                        err->column = r->f_col;
                }
                err->line += r->f_line - 1;
                err->index = r->index;
                return -EINVAL;
        }
        if (k < 0)
                return k;
        *ret = r->alert;
        return 1;
}

static void frame_start(struct fb_alert_reader *r, uint64_t at) {
        r->state = S_VALUE;
        r->index++;
        r->f_line = r->line;
        r->f_col = (unsigned long)(at - r->line_start + 1);
        r->depth = 1;
        r->in_str = r->esc = r->too_deep = r->oversize = false;
        r->line_mode = false;
        r->first_line = true;
        fb_buf_reset(&r->frame);
        fb_buf_putc(&r->frame, '{');
}

/* Appends p[0..n) to the frame unless that makes it too large (then it is marked oversize and
 * framed to its end without storing). */
static void frame_store(struct fb_alert_reader *r, const char *p, size_t n) {
        if (r->oversize)
                return;
        if (r->frame.len + n > FB_ALERT_MAX_BYTES) {
                r->oversize = true;
                return;
        }
        fb_buf_put(&r->frame, p, n);
}

int fb_alert_reader_next(struct fb_alert_reader *r, const struct fb_alert **ret,
                         struct fb_alert_error *err) {
        *err = (struct fb_alert_error){ 0 };
        for (;;) {
                const unsigned char *p;
                size_t i, n, run_start = 0;
                int k = reader_fill(r);

                if (k < 0)
                        return k;
                if (k == 0) {
                        if (r->state == S_VALUE) {
                                r->state = S_BETWEEN;
                                return frame_error(r, err,
                                                   "truncated: the input ends inside this alert");
                        }
                        if (r->in_array) {
                                r->in_array = false;
                                err->index = r->index;
                                err->line = r->line;
                                err->column =
                                        (unsigned long)(r->rbase + r->rlen - r->line_start + 1);
                                snprintf(err->text, sizeof(err->text),
                                         "truncated: the input ends inside a JSON array");
                                return -EINVAL;
                        }
                        return 0;
                }
                p = (const unsigned char *)r->rbuf + r->rpos;
                n = r->rlen - r->rpos;
                for (i = 0; i < n; i++) {
                        uint64_t at = r->rbase + r->rpos + i; /* stream offset of p[i] */
                        unsigned char c;
                        int result = 0;

                        if (r->state == S_VALUE) {
                                /* skip what the framer need not look at */
                                if (r->in_str) {
                                        /* a pending escape (from the end of the previous read)
                                         * makes this byte ordinary: look at it below */
                                        if (!r->esc)
                                                i = skip_string(p, i, n);
                                } else if (!r->first_line || r->line_mode)
                                        while (i < n && !frame_special[p[i]])
                                                i++;
                                if (i >= n)
                                        break;
                                at = r->rbase + r->rpos + i;
                        }
                        c = p[i];
                        switch (r->state) {
                        case S_BETWEEN:
                                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                                        break;
                                if (c == '{') {
                                        const unsigned char *nl =
                                                r->in_array ? NULL : memchr(p + i, '\n', n - i);

                                        frame_start(r, at);
                                        run_start = i + 1;
                                        if (nl && (size_t)(nl - (p + i)) <= FB_ALERT_MAX_BYTES) {
                                                result = parse_line(r, (const char *)p + i,
                                                                    (size_t)(nl - (p + i)), ret,
                                                                    err);
                                                if (result != 0) {
                                                        /* consumed through the newline */
                                                        r->state = S_BETWEEN;
                                                        r->line++;
                                                        r->line_start = r->rbase + r->rpos +
                                                                        (size_t)(nl - p) + 1;
                                                        r->rpos += (size_t)(nl - p) + 1;
                                                        return result;
                                                }
                                        }
                                        break;
                                }
                                if (c == '[' && !r->in_array) {
                                        r->in_array = true;
                                        break;
                                }
                                if (r->in_array && (c == ',' || c == ']')) {
                                        r->in_array = c == ',';
                                        break;
                                }
                                r->index++;
                                r->f_line = r->line;
                                r->f_col = (unsigned long)(at - r->line_start + 1);
                                r->state = S_SKIP;
                                /* Falco's text output starts with the time */
                                result = frame_error(
                                        r, err,
                                        c >= '0' && c <= '9'
                                                ? "unexpected text outside an alert (expected "
                                                  "'{' or '['): Falco's text output? Falco "
                                                  "writes JSON with json_output: true"
                                                : "unexpected text outside an alert (expected "
                                                  "'{' or '[')");
                                break;
                        case S_SKIP:
                                if (c == '\n')
                                        r->state = S_BETWEEN;
                                break;
                        case S_VALUE:
                                if (r->first_line && c != '\n' && c != ' ' && c != '\t' &&
                                    c != '\r')
                                        r->line_mode = true;
                                if (c == '\n' && r->line_mode) {
                                        /* a JSON line ended before its object did */
                                        frame_store(r, (const char *)p + run_start, i - run_start);
                                        r->state = S_BETWEEN;
                                        result = frame_error(
                                                r, err,
                                                "truncated: the line ends inside this alert");
                                        break;
                                }
                                if (c == '\n')
                                        r->first_line = false;
                                if (r->in_str) {
                                        if (r->esc)
                                                r->esc = false;
                                        else if (c == '\\')
                                                r->esc = true;
                                        else if (c == '"')
                                                r->in_str = false;
                                } else if (c == '"')
                                        r->in_str = true;
                                else if (c == '{' || c == '[') {
                                        if (++r->depth > FB_ALERT_MAX_DEPTH)
                                                r->too_deep = true;
                                } else if ((c == '}' || c == ']') && --r->depth == 0) {
                                        frame_store(r, (const char *)p + run_start,
                                                    i + 1 - run_start);
                                        result = frame_done(r, ret, err);
                                }
                                break;
                        }
                        if (c == '\n') {
                                r->line++;
                                r->line_start = at + 1;
                        }
                        if (result != 0) {
                                r->rpos += i + 1;
                                return result;
                        }
                        /* an escape makes the next byte ordinary: step over it here, since the
                         * skip loop above would stop on a '"' or '\\' it must not interpret */
                        if (r->state == S_VALUE && r->esc && i + 1 < n) {
                                r->esc = false;
                                i++;
                                if (p[i] == '\n') {
                                        r->line++;
                                        r->line_start = r->rbase + r->rpos + i + 1;
                                        if (r->line_mode) {
                                                frame_store(r, (const char *)p + run_start,
                                                            i - run_start);
                                                r->state = S_BETWEEN;
                                                r->rpos += i + 1;
                                                return frame_error(r, err,
                                                                   "truncated: the line ends "
                                                                   "inside this alert");
                                        }
                                        r->first_line = false;
                                }
                        }
                }
                if (r->state == S_VALUE)
                        frame_store(r, (const char *)p + run_start, n - run_start);
                r->rpos += n;
        }
}
