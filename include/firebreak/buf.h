/* buf.h: a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Appends never fail loudly: the first failure is remembered (sticky) and every later append is a
 * no-op, so a renderer can append freely and check fb_buf_error() once at the end. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct fb_buf {
        char *data; /* NUL-terminated when len > 0 or after fb_buf_cstr() */
        size_t len;
        size_t cap;
        size_t max; /* hard cap on len; appends past it fail with -E2BIG */
        int err;    /* 0, -ENOMEM or -E2BIG: the first failure */
};

/* Initializes an empty buffer that may grow to max bytes. Allocates nothing. */
void fb_buf_init(struct fb_buf *b, size_t max);
/* Frees the storage; the buffer may be reused after fb_buf_init(). Accepts NULL. */
void fb_buf_free(struct fb_buf *b);
/* Empties the buffer, keeping its storage, and clears the error. */
void fb_buf_reset(struct fb_buf *b);

/* p may point into b itself (a copy of part of the buffer is appended). */
void fb_buf_put_slow(struct fb_buf *b, const void *p, size_t n);
static inline void fb_buf_put(struct fb_buf *b, const void *p, size_t n) {
        /* inline while it fits and p is not inside the buffer (the slow path handles both) */
        if (n < b->cap - b->len && !b->err &&
            ((const char *)p < b->data || (const char *)p >= b->data + b->cap)) {
                memcpy(b->data + b->len, p, n);
                b->len += n;
                b->data[b->len] = '\0';
        } else
                fb_buf_put_slow(b, p, n);
}
static inline void fb_buf_puts(struct fb_buf *b, const char *s) {
        fb_buf_put(b, s, strlen(s));
}
void fb_buf_putc_slow(struct fb_buf *b, char c);
/* Appends one byte; inline while there is room (renderers call it per character). */
static inline void fb_buf_putc(struct fb_buf *b, char c) {
        if (b->len + 1 < b->cap && !b->err) {
                b->data[b->len++] = c;
                b->data[b->len] = '\0';
        } else
                fb_buf_putc_slow(b, c);
}
void fb_buf_printf(struct fb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fb_buf_vprintf(struct fb_buf *b, const char *fmt, va_list ap);

/* Returns 0, -ENOMEM or -E2BIG: the first failure since init/reset. */
static inline int fb_buf_error(const struct fb_buf *b) {
        return b->err;
}

/* Returns the contents as a NUL-terminated string ("" when empty), or NULL after an error. */
const char *fb_buf_cstr(struct fb_buf *b);

/* Hands the storage to the caller (NUL-terminated) and leaves the buffer empty. Returns NULL on
 * error or when nothing was ever appended. */
char *fb_buf_steal(struct fb_buf *b, size_t *ret_len);
