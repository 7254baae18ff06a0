/* buf.c: capped growable buffer with a sticky error. */
#include "firebreak/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

void fb_buf_init(struct fb_buf *b, size_t max) {
        *b = (struct fb_buf){ .max = max };
}

void fb_buf_free(struct fb_buf *b) {
        if (!b)
                return;
        free(b->data);
        fb_buf_init(b, b->max);
}

void fb_buf_reset(struct fb_buf *b) {
        b->len = 0;
        b->err = 0;
        if (b->data)
                b->data[0] = '\0';
}

/* Makes room for n more bytes plus a NUL. */
static bool reserve(struct fb_buf *b, size_t n) {
        size_t need, ncap;
        char *p;

        if (b->err)
                return false;
        if (n > b->max || b->len > b->max - n) {
                b->err = -E2BIG;
                return false;
        }
        need = b->len + n + 1;
        if (need <= b->cap)
                return true;
        ncap = b->cap ? b->cap : 256;
        while (ncap < need)
                ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
        if (ncap > b->max + 1)
                ncap = b->max + 1;
        p = realloc(b->data, ncap);
        if (!p) {
                b->err = -ENOMEM;
                return false;
        }
        b->data = p;
        b->cap = ncap;
        return true;
}

void fb_buf_put_slow(struct fb_buf *b, const void *p, size_t n) {
        uintptr_t src = (uintptr_t)p, base = (uintptr_t)b->data;

        if (n == 0)
                return;
        /* appending a piece of the buffer to itself: reserve() may move it, so keep its offset */
        if (b->data && src >= base && src < base + b->cap) {
                size_t off = (size_t)(src - base);

                if (!reserve(b, n))
                        return;
                memmove(b->data + b->len, b->data + off, n);
                b->len += n;
                b->data[b->len] = '\0';
                return;
        }
        if (!reserve(b, n))
                return;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void fb_buf_putc_slow(struct fb_buf *b, char c) {
        if (!reserve(b, 1))
                return;
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
}

void fb_buf_vprintf(struct fb_buf *b, const char *fmt, va_list ap) {
        va_list aq;
        int n;

        if (b->err)
                return;
        /* format straight into the free space; only when it does not fit, grow and redo */
        if (b->cap - b->len < 64) {
                size_t want = b->max - b->len < 64 ? b->max - b->len : 64;

                if (want > 0 && !reserve(b, want))
                        return;
                if (!b->data && !reserve(b, 0))
                        return;
        }
        va_copy(aq, ap);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, aq);
        va_end(aq);
        if (n < 0) {
                b->data[b->len] = '\0';
                b->err = -EINVAL;
                return;
        }
        if ((size_t)n >= b->cap - b->len) {
                b->data[b->len] = '\0';
                if (!reserve(b, (size_t)n))
                        return;
                vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        }
        b->len += (size_t)n;
}

void fb_buf_printf(struct fb_buf *b, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fb_buf_vprintf(b, fmt, ap);
        va_end(ap);
}

const char *fb_buf_cstr(struct fb_buf *b) {
        if (b->err)
                return NULL;
        return b->data ? b->data : "";
}

char *fb_buf_steal(struct fb_buf *b, size_t *ret_len) {
        char *p;

        if (b->err || !b->data)
                return NULL;
        p = b->data;
        if (ret_len)
                *ret_len = b->len;
        fb_buf_init(b, b->max);
        return p;
}
