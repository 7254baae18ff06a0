/* strutil.c: escaping and quoting for untrusted strings, and the one checked number parser. */
#include "firebreak/strutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence at s (n bytes left). Returns its length and stores the code point,
 * or returns 0 for an invalid or truncated sequence (overlongs and surrogates included). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp) {
        uint32_t cp;
        size_t len, i;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if (s[0] >= 0xC2 && s[0] <= 0xDF) {
                len = 2;
                cp = s[0] & 0x1F;
        } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
                len = 3;
                cp = s[0] & 0x0F;
        } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
                len = 4;
                cp = s[0] & 0x07;
        } else
                return 0;
        if (n < len)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        *ret_cp = cp;
        return len;
}

/* Code points above ASCII that change how text is displayed or laid out. */
static bool is_unsafe_cp(uint32_t cp) {
        return (cp >= 0x80 && cp <= 0x9F) ||     /* C1 controls, incl. CSI 0x9B */
               cp == 0x061C ||                   /* Arabic letter mark */
               cp == 0x200E || cp == 0x200F ||   /* LRM, RLM */
               (cp >= 0x2028 && cp <= 0x202E) || /* line/para separators, LRE..RLO */
               (cp >= 0x2066 && cp <= 0x2069) || /* LRI..PDI */
               cp == 0xFEFF;                     /* BOM / zero-width no-break space */
}

/* The length of the character at p if it is valid UTF-8 and safe to show as it is, else 0. */
static size_t safe_utf8_len(const unsigned char *p, size_t n, uint32_t *ret_cp) {
        size_t len = utf8_decode(p, n, ret_cp);

        return len > 0 && !is_unsafe_cp(*ret_cp) ? len : 0;
}

static const char hexdig[] = "0123456789abcdef";

static void put_hex_byte(struct fb_buf *b, unsigned char c) {
        char e[4] = { '\\', 'x', hexdig[c >> 4], hexdig[c & 15] };

        fb_buf_put(b, e, sizeof(e));
}

static void put_u4(struct fb_buf *b, uint32_t cp) {
        char e[6] = { '\\',
                      'u',
                      hexdig[(cp >> 12) & 15],
                      hexdig[(cp >> 8) & 15],
                      hexdig[(cp >> 4) & 15],
                      hexdig[cp & 15] };

        fb_buf_put(b, e, sizeof(e));
}

/* Walks s and calls the display escaper for one unsafe unit; copies runs of safe bytes.
 * pipe_escape additionally turns '|' into '\|' (Markdown tables). */
static void escape_display(struct fb_buf *b, const char *s, size_t len, bool pipe_escape) {
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, run = 0;

        while (i < len) {
                unsigned char c;
                uint32_t cp = 0;
                size_t n = 0;

                /* 8 plain bytes at a time: none a control, DEL, '\\', '|' or non-ASCII */
                while (len - i >= 8) {
                        const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
                        uint64_t x, bs, bar, del;

                        memcpy(&x, p + i, 8);
                        bs = x ^ (ones * '\\');
                        bar = pipe_escape ? x ^ (ones * '|') : ones;
                        del = x ^ (ones * 0x7f);
                        if ((((x - ones * 0x20) & ~x) | ((bs - ones) & ~bs) |
                             ((bar - ones) & ~bar) | ((del - ones) & ~del) | x) &
                            highs)
                                break;
                        i += 8;
                        run += 8;
                }
                if (i >= len)
                        break;
                c = p[i];
                if (c >= 0x20 && c < 0x7F && c != '\\' && !(pipe_escape && c == '|')) {
                        i++;
                        run++;
                        continue;
                }
                if (c >= 0x80) {
                        size_t ok = safe_utf8_len(p + i, len - i, &cp);

                        if (ok) {
                                i += ok;
                                run += ok;
                                continue;
                        }
                        n = utf8_decode(p + i, len - i, &cp);
                } else
                        n = 1;
                fb_buf_put(b, p + i - run, run);
                run = 0;
                if (c == '\\')
                        fb_buf_put(b, "\\\\", 2);
                else if (c == '|')
                        fb_buf_put(b, "\\|", 2);
                else if (c == '\n')
                        fb_buf_put(b, "\\n", 2);
                else if (c == '\t')
                        fb_buf_put(b, "\\t", 2);
                else if (c == '\r')
                        fb_buf_put(b, "\\r", 2);
                else if (n == 0) {
                        put_hex_byte(b, c);
                        n = 1;
                } else if (c >= 0x80)
                        put_u4(b, cp);
                else
                        put_hex_byte(b, c);
                i += n;
        }
        fb_buf_put(b, p + i - run, run);
}

void fb_escape_display(struct fb_buf *b, const char *s, size_t len) {
        escape_display(b, s, len, false);
}

bool fb_needs_display_escape(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < len) {
                uint32_t cp = 0;
                size_t n = 0;

                if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\') {
                        i++;
                        continue;
                }
                if (p[i] < 0x80)
                        return true;
                n = utf8_decode(p + i, len - i, &cp);
                if (n == 0 || is_unsafe_cp(cp))
                        return true;
                i += n;
        }
        return false;
}

/* Bytes that keep a value off fb_md_code()'s plain path: 1 anywhere, 2 in a table cell. */
static const unsigned char md_special[256] = {
        [0x00 ... 0x1F] = 1, ['`'] = 1, ['\\'] = 1, [0x7F ... 0xFF] = 1, ['|'] = 2,
};

void fb_md_code(struct fb_buf *b, const char *s, size_t len, bool in_table) {
        const unsigned char *p = (const unsigned char *)s, stop = in_table ? 3 : 1;
        size_t i, run = 0, maxrun = 0;
        const char *first;

        /* the common value: printable ASCII, no backtick, backslash or (in tables) '|', no
         * space at either end; it needs a single backtick on each side and nothing else */
        if (len > 0 && s[0] != ' ' && s[len - 1] != ' ') {
                for (i = 0; i < len && !(md_special[p[i]] & stop); i++)
                        ;
                if (i == len) {
                        fb_buf_putc(b, '`');
                        fb_buf_put(b, s, len);
                        fb_buf_putc(b, '`');
                        return;
                }
        }
        bool pad;

        if (len == 0) {
                fb_buf_puts(b, "*(empty)*");
                return;
        }
        /* the longest run of backticks decides the fence; most values have none */
        first = memchr(s, '`', len);
        for (i = first ? (size_t)(first - s) : len; i < len; i++) {
                if (s[i] == '`') {
                        run++;
                        if (run > maxrun)
                                maxrun = run;
                } else
                        run = 0;
        }
        /* A span that starts or ends with a backtick or a space needs a space of padding on both
         * sides, which CommonMark strips again. */
        pad = s[0] == '`' || s[len - 1] == '`' || s[0] == ' ' || s[len - 1] == ' ';
        for (i = 0; i <= maxrun; i++)
                fb_buf_putc(b, '`');
        if (pad)
                fb_buf_putc(b, ' ');
        escape_display(b, s, len, in_table);
        if (pad)
                fb_buf_putc(b, ' ');
        for (i = 0; i <= maxrun; i++)
                fb_buf_putc(b, '`');
}

/* 1 for the bytes fb_json_str() must look at: controls, '"', '\\', DEL and non-ASCII. */
static const unsigned char json_special[256] = {
        [0x00 ... 0x1F] = 1,
        ['"'] = 1,
        ['\\'] = 1,
        [0x7F ... 0xFF] = 1,
};

static size_t json_scan(const unsigned char *p, size_t i, size_t len, bool ascii);

/* Does any of the 8 bytes at p need fb_json_str()'s attention (a control, '"', '\\', DEL or
 * non-ASCII)? */
static inline bool json_special8(const unsigned char *p) {
        const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
        uint64_t x;

        memcpy(&x, p, 8);
        return (((x - ones * 0x20) & ~x & highs) | /* a byte below 0x20 */
                ((((x ^ (ones * '"')) - ones) & ~(x ^ (ones * '"'))) & highs) |
                ((((x ^ (ones * '\\')) - ones) & ~(x ^ (ones * '\\'))) & highs) |
                ((((x ^ (ones * 0x7f)) - ones) & ~(x ^ (ones * 0x7f))) & highs) | (x & highs)) != 0;
}

void fb_json_str(struct fb_buf *b, const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, run = 0;

        /* short plain values (most alert fields): 8 bytes a turn, one copy */
        if (len <= 64) {
                while (len - i >= 8 && !json_special8(p + i))
                        i += 8;
                while (i < len && !json_special[p[i]])
                        i++;
                if (i == len) {
                        fb_buf_putc(b, '"');
                        fb_buf_put(b, s, len);
                        fb_buf_putc(b, '"');
                        return;
                }
                i = 0;
        }
        fb_buf_putc(b, '"');
        while (i < len) {
                unsigned char c;
                uint32_t cp = 0;
                size_t n = 0, from = i;

                /* the common case: a run of plain ASCII, 32 bytes a turn, then 8, while no
                 * byte is a control (< 0x20), '"', '\\', DEL or non-ASCII (high bit) */
                i = json_scan(p, i, len, true);
                while (len - i >= 8 && !json_special8(p + i))
                        i += 8;
                run += i - from;
                while (i < len && !json_special[p[i]]) {
                        i++;
                        run++;
                }
                if (i >= len)
                        break;
                c = p[i];
                if (c >= 0x80) {
                        size_t ok = safe_utf8_len(p + i, len - i, &cp);

                        if (ok) {
                                i += ok;
                                run += ok;
                                continue;
                        }
                        n = utf8_decode(p + i, len - i, &cp);
                }
                fb_buf_put(b, p + i - run, run);
                run = 0;
                if (c == '"' || c == '\\') {
                        char e[2] = { '\\', (char)c };

                        fb_buf_put(b, e, 2);
                        i++;
                } else if (c == '\n') {
                        fb_buf_put(b, "\\n", 2);
                        i++;
                } else if (c < 0x80) {
                        put_u4(b, c);
                        i++;
                } else if (n == 0) {
                        fb_buf_put(b, "\\ufffd", 6);
                        i++;
                } else {
                        put_u4(b, cp);
                        i += n;
                }
        }
        fb_buf_put(b, p + i - run, run);
        fb_buf_putc(b, '"');
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

/* The index of the first control byte, '"' or '\\' (ascii: or byte from DEL up) in p[i..len),
 * 32 bytes at a time; the tail of under 32 bytes is left to the caller. */
__attribute__((target("avx2"))) static size_t json_scan_avx2(const unsigned char *p, size_t i,
                                                             size_t len, bool ascii) {
        const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\'),
                      space = _mm256_set1_epi8(0x20), del = _mm256_set1_epi8(0x7f);

        while (len - i >= 32) {
                __m256i x = _mm256_loadu_si256((const __m256i *)(p + i));
                /* unsigned x < 0x20  <=>  max(x, 0x20) != x */
                __m256i ctl = _mm256_xor_si256(_mm256_max_epu8(x, space), x);
                __m256i hit =
                        _mm256_or_si256(_mm256_cmpeq_epi8(x, quote), _mm256_cmpeq_epi8(x, bslash));
                unsigned m = (unsigned)_mm256_movemask_epi8(hit) |
                             ~(unsigned)_mm256_movemask_epi8(
                                     _mm256_cmpeq_epi8(ctl, _mm256_setzero_si256()));

                /* unsigned x >= 0x7f  <=>  max(x, 0x7f) == x */
                if (ascii)
                        m |= (unsigned)_mm256_movemask_epi8(
                                _mm256_cmpeq_epi8(_mm256_max_epu8(x, del), x));

                if (m)
                        return i + (size_t)__builtin_ctz(m);
                i += 32;
        }
        return i;
}

static int have_avx2 = -1;

static unsigned xcr0(void) {
        unsigned eax, edx;

        __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
        return eax;
}

static size_t json_scan(const unsigned char *p, size_t i, size_t len, bool ascii) {
        if (have_avx2 < 0) {
                unsigned a, b, c, d;

                /* AVX2: leaf 7 EBX bit 5, and the OS saves YMM state (OSXSAVE + XCR0 bits 1-2) */
                have_avx2 = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 5)) &&
                            __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27)) && (xcr0() & 6) == 6;
        }
        return have_avx2 ? json_scan_avx2(p, i, len, ascii) : i;
}
#else
static size_t json_scan(const unsigned char *p, size_t i, size_t len, bool ascii) {
        (void)p;
        (void)len;
        (void)ascii;
        return i;
}
#endif

void fb_json_str_safe(struct fb_buf *b, const char *s, size_t len) {
        fb_buf_putc(b, '"');
        fb_json_escape_safe(b, s, len);
        fb_buf_putc(b, '"');
}

void fb_json_escape_safe(struct fb_buf *b, const char *s, size_t len) {
        const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, start = 0;

        while (i < len) {
                i = json_scan(p, i, len, false);
                /* 8 bytes at a time while none is a control, '"' or '\\' */
                while (len - i >= 8) {
                        uint64_t x, q, bs;

                        memcpy(&x, p + i, 8);
                        q = x ^ (ones * '"');
                        bs = x ^ (ones * '\\');
                        if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) &
                            highs)
                                break;
                        i += 8;
                }
                while (i < len && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
                        i++;
                if (i >= len)
                        break;
                fb_buf_put(b, p + start, i - start);
                if (p[i] == '"' || p[i] == '\\') {
                        char e[2] = { '\\', (char)p[i] };

                        fb_buf_put(b, e, 2);
                } else if (p[i] == '\n')
                        fb_buf_put(b, "\\n", 2);
                else
                        put_u4(b, p[i]);
                start = ++i;
        }
        fb_buf_put(b, p + start, len - start);
}

static bool shell_safe_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("_./:=@%+,-", c) != NULL;
}

int fb_shell_quote(struct fb_buf *b, const char *s, size_t len) {
        size_t i;
        bool plain = true;

        if (len == 0 || fb_needs_display_escape(s, len) || memchr(s, '\\', len))
                return -EINVAL;
        for (i = 0; i < len && plain; i++)
                plain = s[i] != '\0' && shell_safe_char(s[i]);
        if (plain) {
                fb_buf_put(b, s, len);
                return 0;
        }
        fb_buf_putc(b, '\'');
        for (i = 0; i < len; i++) {
                if (s[i] == '\'')
                        fb_buf_puts(b, "'\\''");
                else
                        fb_buf_putc(b, s[i]);
        }
        fb_buf_putc(b, '\'');
        return 0;
}

int fb_parse_uint64(const char *s, size_t len, uint64_t *ret) {
        uint64_t v = 0;
        size_t i;

        if (len == 0 || len > 20)
                return -EINVAL;
        for (i = 0; i < len; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                d = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int fb_parse_uint64_prefix(const char *s, uint64_t *ret, const char **end) {
        size_t n = 0;
        int r;

        while (s[n] >= '0' && s[n] <= '9')
                n++;
        r = fb_parse_uint64(s, n, ret);
        if (r >= 0 && end)
                *end = s + n;
        return r;
}

int fb_parse_int64(const char *s, size_t len, int64_t *ret) {
        bool neg = len > 0 && s[0] == '-';
        uint64_t v;
        int r;

        r = fb_parse_uint64(s + neg, len - neg, &v);
        if (r < 0)
                return r;
        if (neg) {
                if (v > (uint64_t)INT64_MAX + 1)
                        return -ERANGE;
                *ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        } else {
                if (v > INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t)v;
        }
        return 0;
}

size_t fb_format_int64(char *out, int64_t v) {
        char tmp[21];
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        size_t n = 0, i;

        do {
                tmp[n++] = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                tmp[n++] = '-';
        for (i = 0; i < n; i++)
                out[i] = tmp[n - 1 - i];
        return n;
}

bool fb_is_lower_hex(const char *s, size_t len) {
        size_t i;

        if (len == 0)
                return false;
        for (i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

bool fb_endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool fb_streq_ci(const char *a, const char *b) {
        for (; *a && *b; a++, b++) {
                char x = *a, y = *b;

                if (x >= 'A' && x <= 'Z')
                        x = (char)(x - 'A' + 'a');
                if (y >= 'A' && y <= 'Z')
                        y = (char)(y - 'A' + 'a');
                if (x != y)
                        return false;
        }
        return *a == *b;
}

size_t fb_format_double(char *out, double d) {
        int prec, n = 0;

        for (prec = 15; prec <= 17; prec++) {
                n = snprintf(out, 32, "%.*g", prec, d);
                if (n > 0 && n < 32 && strtod(out, NULL) == d)
                        break;
        }
        return n > 0 && n < 32 ? (size_t)n : 0;
}
