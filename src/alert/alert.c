/* alert.c: Falco JSON -> struct fb_alert (typed, bounded, validated), and alert ids. The
 * streaming reader that frames alerts before this parses them is reader.c. */
#define _GNU_SOURCE
#include "firebreak/alert.h"

#include "alert_impl.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "firebreak/buf.h"
#include "firebreak/cleanup.h"
#include "firebreak/hash.h"
#include "firebreak/jarena.h"
#include "firebreak/strutil.h"

static const char *const prio_names[_FB_PRIO_MAX] = {
        [FB_PRIO_EMERGENCY] = "Emergency",
        [FB_PRIO_ALERT] = "Alert",
        [FB_PRIO_CRITICAL] = "Critical",
        [FB_PRIO_ERROR] = "Error",
        [FB_PRIO_WARNING] = "Warning",
        [FB_PRIO_NOTICE] = "Notice",
        [FB_PRIO_INFORMATIONAL] = "Informational",
        [FB_PRIO_DEBUG] = "Debug",
};

int fb_priority_from_string(const char *s, enum fb_priority *ret) {
        int p;

        for (p = 0; p < _FB_PRIO_MAX; p++)
                if (fb_streq_ci(s, prio_names[p])) {
                        *ret = (enum fb_priority)p;
                        return 0;
                }
        if (fb_streq_ci(s, "info")) {
                *ret = FB_PRIO_INFORMATIONAL;
                return 0;
        }
        return -EINVAL;
}

const char *fb_priority_to_string(enum fb_priority p) {
        return (unsigned)p < _FB_PRIO_MAX ? prio_names[p] : "Unknown";
}

struct alert_storage {
        struct fb_alert pub;
        const char *tags[FB_ALERT_MAX_TAGS];
        struct fb_field fields[FB_ALERT_MAX_FIELDS];
        /* output_fields by key: open addressing, at most half full, slot = field index + 1 */
        uint16_t index[2 * FB_ALERT_MAX_FIELDS];
        size_t index_mask;
        struct fb_jarena *arena; /* where this alert's trees are parsed; NULL: on the heap */
        bool arena_claimed;      /* a claim was tried (none is tried twice) */
        bool root_in_arena;      /* pub.root lies wholly in arena: its reset frees it */
};

static struct alert_storage *storage(struct fb_alert *a) {
        return (struct alert_storage *)a; /* pub is the first member */
}

int fb_alert_new(struct fb_alert **ret) {
        struct alert_storage *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->pub.tags = s->tags;
        s->pub.fields = s->fields;
        *ret = &s->pub;
        return 0;
}

static void alert_clear(struct fb_alert *a) {
        const char **tags = a->tags;
        struct fb_field *fields = a->fields;

        if (!storage(a)->root_in_arena)
                json_decref(a->root);
        storage(a)->root_in_arena = false;
        *a = (struct fb_alert){ .tags = tags, .fields = fields };
}

void fb_alert_reset(struct fb_alert *a) {
        if (a)
                alert_clear(a);
}

void fb_alert_free(struct fb_alert *a) {
        if (!a)
                return;
        alert_clear(a);
        fb_jarena_release(storage(a)->arena);
        free(storage(a));
}

/* ---- integers above INT64_MAX ------------------------------------------------------------ */

/* Falco writes its unsigned 64-bit fields as JSON numbers, and those can pass INT64_MAX: a
 * syscall argument printed raw (evt.rawarg.*) is the traced program's to choose. jansson refuses
 * such a number ("too big integer") and with it the whole alert. When that is what stopped the parse,
 * the number is rewritten as a marker object {"KEY":"DIGITS"} and the text parsed again, at most
 * FB_ALERT_MAX_BIG_INTS times. KEY is random per process, so no alert can forge a marker; every
 * reader of the tree takes a marker for its number: scalar() (FB_VALUE_UINT), hash_value() (tag
 * u) and fb_alert_dump(). Negative numbers past INT64_MIN, and anything past UINT64_MAX, stay
 * refused. */
static char big_key[40];      /* "fb.u64." and 32 hex digits, once big_ready */
static atomic_bool big_ready; /* false: no marker was ever made in this process */
static pthread_once_t big_once = PTHREAD_ONCE_INIT;

static void big_key_init(void) {
        uint8_t r[16];

        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
                return; /* no key: no rewrite, the alert is refused as before */
        memcpy(big_key, "fb.u64.", 7);
        fb_hex(r, sizeof(r), big_key + 7);
        atomic_store_explicit(&big_ready, true, memory_order_release);
}

static bool big_key_ready(void) {
        return atomic_load_explicit(&big_ready, memory_order_acquire);
}

/* Decimal digits as a uint64_t: false when empty, longer than 20 digits or past UINT64_MAX. */
static bool parse_u64(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        size_t i;

        if (n == 0 || n > 20)
                return false;
        for (i = 0; i < n; i++) {
                unsigned d = (unsigned)(s[i] - '0');

                if (d > 9 || v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

/* Is v a marker? Then *ret is its number. */
static bool big_marker(json_t *v, uint64_t *ret) {
        json_t *d;

        if (!big_key_ready() || json_object_size(v) != 1 || !(d = json_object_get(v, big_key)) ||
            !json_is_string(d))
                return false;
        return parse_u64(json_string_value(d), json_string_length(d), ret);
}

/* The literal that ends at end (jansson's error position) when it is a non-negative integer
 * that fits 64 bits: *start is where it begins. */
static bool big_literal(const char *text, size_t end, size_t *start) {
        size_t i = end;
        uint64_t v;

        while (i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9')
                i--;
        if (i > 0 && text[i - 1] == '-')
                return false;
        *start = i;
        return parse_u64(text + i, end - i, &v);
}

/* Where a parse of the rewritten text failed, in the caller's text: each marker before the
 * error on its line moved the column by the marker's added length (markers hold no newline). */
static void big_unshift(json_error_t *jerr, const char *text, const size_t *at, unsigned n,
                        size_t grow) {
        size_t pos = (size_t)(jerr->position > 0 ? jerr->position : 0);
        unsigned k;

        for (k = 0; k < n; k++)
                if (at[k] < pos && !memchr(text + at[k], '\n', pos - at[k])) {
                        jerr->column -= (int)grow;
                        jerr->position -= (int)grow;
                } else if (at[k] < pos)
                        jerr->position -= (int)grow;
}

/* Without JSON_ALLOW_NUL jansson refuses \u0000 in a string (and a raw control character is no
 * JSON): no string of the tree holds a NUL, so the C strings the alert hands out are whole.
 * fb_alert_from_json() relies on it and takes trees from here only. */
static json_t *load_json(struct alert_storage *s, const char *data, size_t len, json_error_t *jerr,
                         bool *in_arena) {
        json_t *root;

        if (!s->arena) {
                *in_arena = false;
                return json_loadb(data, len, JSON_REJECT_DUPLICATES, jerr);
        }
        fb_jarena_begin(s->arena);
        root = json_loadb(data, len, JSON_REJECT_DUPLICATES, jerr);
        *in_arena = fb_jarena_end(s->arena);
        return root;
}

/* The parse again after jansson refused a number above INT64_MAX (see above); NULL, with *jerr
 * as the caller's text would have it, when the text has another error or too many of them. */
static json_t *load_big(struct alert_storage *s, const char *data, size_t len, json_error_t *jerr,
                        bool *in_arena) {
        _cleanup_free_ char *text = NULL;
        size_t at[FB_ALERT_MAX_BIG_INTS], n = len, start, grow;
        json_t *root = NULL;
        unsigned k;

        pthread_once(&big_once, big_key_init);
        if (!big_key_ready())
                return NULL;
        grow = strlen(big_key) + 7; /* {"KEY":"  "} around the digits */
        for (k = 0; json_error_code(jerr) == json_error_numeric_overflow; k++) {
                const char *cur = text ? text : data;
                size_t end = (size_t)jerr->position, m;
                char *next;

                if (end > n || !big_literal(cur, end, &start))
                        break; /* a real overflow, or past INT64_MIN: refused as it was */
                if (k == FB_ALERT_MAX_BIG_INTS) {
                        big_unshift(jerr, cur, at, k, grow);
                        snprintf(jerr->text, sizeof(jerr->text),
                                 "more than %u integers above 9223372036854775807",
                                 FB_ALERT_MAX_BIG_INTS);
                        return NULL;
                }
                next = malloc(n + grow);
                if (!next)
                        break;
                /* before, {"KEY":", the digits, "}, after */
                memcpy(next, cur, start);
                m = (size_t)(stpcpy(stpcpy(stpcpy(next + start, "{\""), big_key), "\":\"") - next);
                memcpy(next + m, cur + start, end - start);
                m += end - start;
                memcpy(next + m, "\"}", 2);
                memcpy(next + m + 2, cur + end, n - end);
                n += grow;
                free(text);
                text = next;
                at[k] = start;
                root = load_json(s, text, n, jerr, in_arena);
                if (root)
                        return root;
        }
        if (text)
                big_unshift(jerr, text, at, k, grow);
        return NULL;
}

/* jansson's parse of one alert, in the alert's own arena when one is free (jarena.h): the
 * previous alert is dropped first, since the arena holds one tree. *in_arena: the whole tree
 * lies in the arena, so dropping it needs no walk. */
json_t *fb_alert_load_tree(struct fb_alert *a, const char *data, size_t len, json_error_t *jerr,
                           bool *in_arena) {
        struct alert_storage *s = storage(a);
        json_t *root;

        alert_clear(a);
        if (!s->arena_claimed) {
                s->arena = fb_jarena_claim();
                s->arena_claimed = true;
        }
        root = load_json(s, data, len, jerr, in_arena);
        if (!root && json_error_code(jerr) == json_error_numeric_overflow)
                root = load_big(s, data, len, jerr, in_arena);
        return root;
}

/* The alert now owns root (alert_from_json took a reference): when root came whole from the
 * arena, its reference is left for the arena's next reset; otherwise it is dropped. */
void fb_alert_adopt_tree(struct fb_alert *a, json_t *root, bool in_arena) {
        if (in_arena && a->root == root)
                storage(a)->root_in_arena = true;
        else
                json_decref(root);
}

static int verr(struct fb_alert_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static int verr(struct fb_alert_error *err, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Copies at most 40 display-escaped bytes of an untrusted key into out, for messages. */
static const char *quote_key(const char *k, size_t len, char out[96]) {
        struct fb_buf b;

        fb_buf_init(&b, 80);
        fb_escape_display(&b, k, len > 40 ? 40 : len);
        snprintf(out, 96, "%s%s", fb_buf_cstr(&b) ? fb_buf_cstr(&b) : "?", len > 40 ? "..." : "");
        fb_buf_free(&b);
        return out;
}

/* jansson's messages quote the input ("near '...'"): make them safe for a terminal. */
static const char *escape_msg(const char *text, char out[160]) {
        struct fb_buf b;
        size_t len = strnlen(text, JSON_ERROR_TEXT_LENGTH);

        fb_buf_init(&b, 150);
        fb_escape_display(&b, text, len > 100 ? 100 : len);
        snprintf(out, 160, "%s", fb_buf_cstr(&b) ? fb_buf_cstr(&b) : "(unprintable)");
        fb_buf_free(&b);
        return out;
}

/* v is the value of key (NULL when absent). */
static int get_string(json_t *v, const char *key, bool required, size_t max, const char **ret,
                      size_t *ret_len, struct fb_alert_error *err) {
        size_t len;

        if (!v || json_is_null(v)) {
                if (required)
                        return verr(err, "missing required key \"%s\"", key);
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (!json_is_string(v))
                return verr(err, "key \"%s\": expected a string", key);
        len = json_string_length(v);
        if (len > max)
                return verr(err, "key \"%s\": longer than %zu bytes", key, max);
        if (required && len == 0)
                return verr(err, "key \"%s\": empty", key);
        *ret = json_string_value(v);
        *ret_len = len;
        return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *ret) {
        unsigned v = 0;
        size_t i;

        for (i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        *ret = v;
        return true;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM). Years 1970..2261 keep the
 * result inside int64 nanoseconds. Returns 0 or -EINVAL. */
static int parse_rfc3339(const char *s, size_t len, int64_t *ret) {
        static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        unsigned y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, fdig = 0;
        int64_t days, ns;
        size_t i = 19;
        int sign = 0;

        if (len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
            s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
                return -EINVAL;
        if (s[i] == '.') {
                for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
                        if (++fdig > 9)
                                return -EINVAL;
                        frac = frac * 10 + (unsigned)(s[i] - '0');
                }
                if (fdig == 0)
                        return -EINVAL;
                for (unsigned k = fdig; k < 9; k++)
                        frac *= 10;
        }
        if (i < len && (s[i] == 'Z' || s[i] == 'z'))
                i++;
        else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2, &oh) &&
                 s[i + 3] == ':' && digits(s + i + 4, 2, &om)) {
                sign = s[i] == '+' ? 1 : -1;
                i += 6;
        } else
                return -EINVAL;
        if (i != len || y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
            (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) || h > 23 ||
            mi > 59 || sec > 60 || oh > 23 || om > 59)
                return -EINVAL;
        days = days_from_civil(y, mo, d);
        ns = ((days * 86400 + h * 3600 + mi * 60 + sec) - sign * (int64_t)(oh * 3600 + om * 60)) *
                     1000000000 +
             frac;
        *ret = ns;
        return 0;
}

/* Keys look like proc.aname[2], k8s.ns.name, container.label.io.kubernetes.pod.name. */
static const unsigned char key_char[256] = {
        ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1, ['.'] = 1, ['_'] = 1,
        ['-'] = 1,         ['['] = 1,         [']'] = 1,         ['/'] = 1, [':'] = 1,
};

/* Every field name and tag of every alert passes here: four bytes a turn, without a branch per
 * byte (a bad byte is rare, and found at the end all the same). */
static bool valid_key(const char *k, size_t len) {
        const unsigned char *p = (const unsigned char *)k;
        unsigned ok = 1;
        size_t i = 0;

        if (len == 0 || len > FB_ALERT_MAX_KEY_LEN)
                return false;
        for (; i + 4 <= len; i += 4)
                ok &= key_char[p[i]] & key_char[p[i + 1]] & key_char[p[i + 2]] & key_char[p[i + 3]];
        for (; i < len; i++)
                ok &= key_char[p[i]];
        return ok;
}

static int field_cmp(const void *x, const void *y) {
        const struct fb_field *a = x, *b = y;

        return strcmp(a->key, b->key);
}

/* A multiply-xorshift over the key's 8-byte words (the last one overlapping the one before),
 * not cryptographic: keys are the alert's, but at most FB_ALERT_MAX_FIELDS of them, so keys made
 * to collide cost a linear probe over that bound, no more. A word at a time, since the index is
 * built for every alert and triage asks for some thirty keys of each (most of them absent). */
static size_t key_hash(const char *k, size_t len) {
        uint64_t h = 0x9e3779b97f4a7c15u ^ len, w = 0;
        size_t i;

        for (i = 0; i + 8 < len; i += 8) {
                memcpy(&w, k + i, 8);
                h = (h ^ w) * 0xff51afd7ed558ccdu;
                h ^= h >> 32;
        }
        if (len >= 8)
                memcpy(&w, k + len - 8, 8);
        else
                for (; i < len; i++)
                        w = w << 8 | (unsigned char)k[i];
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        return (size_t)(h ^ (h >> 32));
}

/* Triage asks for some thirty keys per alert; one probe each instead of a binary search. */
static void index_fields(struct fb_alert *a) {
        struct alert_storage *s = storage(a);
        size_t size = 16, i;

        _Static_assert(FB_ALERT_MAX_FIELDS < UINT16_MAX, "slots hold a field index + 1");
        while (size < 2 * a->n_fields)
                size <<= 1;
        memset(s->index, 0, size * sizeof(s->index[0]));
        s->index_mask = size - 1;
        for (i = 0; i < a->n_fields; i++) {
                size_t h = key_hash(a->fields[i].key, a->fields[i].key_len) & s->index_mask;

                while (s->index[h])
                        h = (h + 1) & s->index_mask;
                s->index[h] = (uint16_t)(i + 1);
        }
}

/* A scalar as a field's value: 0, or -EINVAL for an array or object (and *kind names it). */
static int scalar(json_t *v, struct fb_field *f, const char **kind) {
        switch (json_typeof(v)) {
        case JSON_NULL:
                f->type = FB_VALUE_NULL;
                return 0;
        case JSON_STRING:
                f->type = FB_VALUE_STRING;
                f->str = json_string_value(v);
                f->len = json_string_length(v);
                return 0;
        case JSON_INTEGER:
                f->type = FB_VALUE_INT;
                f->i = json_integer_value(v);
                return 0;
        case JSON_REAL:
                f->type = FB_VALUE_REAL;
                f->d = json_real_value(v);
                return 0;
        case JSON_TRUE:
        case JSON_FALSE:
                f->type = FB_VALUE_BOOL;
                f->i = json_is_true(v);
                return 0;
        case JSON_OBJECT:
                if (big_marker(v, &f->u)) {
                        f->type = FB_VALUE_UINT;
                        return 0;
                }
                *kind = "an object";
                return -EINVAL;
        default:
                *kind = "an array";
                return -EINVAL;
        }
}

/* Strings in a field, alone or in a list, are bounded. (None holds a NUL: see load_json().) */
static int check_str(const struct fb_field *f, const char *key, struct fb_alert_error *err) {
        if (f->type == FB_VALUE_STRING && f->len > FB_ALERT_MAX_VALUE_LEN)
                return verr(err, "output_fields.%s: longer than %u bytes", key,
                            FB_ALERT_MAX_VALUE_LEN);
        return 0;
}

struct fb_field fb_field_item(const struct fb_field *f, size_t i) {
        struct fb_field x = { .key = f->key, .key_len = f->key_len, .type = FB_VALUE_NULL };
        const char *kind;

        if (f->type == FB_VALUE_LIST && i < f->len)
                (void)scalar(json_array_get(f->list, i), &x, &kind); /* checked at parse */
        return x;
}

static int parse_fields(struct fb_alert *a, json_t *of, struct fb_alert_error *err) {
        const char *key;
        json_t *v;
        size_t i;

        if (!of || json_is_null(of))
                return 0;
        if (!json_is_object(of))
                return verr(err, "key \"output_fields\": expected an object");
        if (json_object_size(of) > FB_ALERT_MAX_FIELDS)
                return verr(err, "output_fields: more than %u fields", FB_ALERT_MAX_FIELDS);
        /* by iterator, not json_object_foreach(), which finds each key's iterator again */
        for (void *it = json_object_iter(of); it; it = json_object_iter_next(of, it)) {
                struct fb_field *f = &a->fields[a->n_fields];
                size_t klen = json_object_iter_key_len(it);

                key = json_object_iter_key(it);
                v = json_object_iter_value(it);

                if (!valid_key(key, klen)) {
                        /* a plugin README's alert has a name with a trailing space, and
                         * Falcosidekick's tests one with "?{]": it costs the field, never
                         * the alert */
                        if (a->n_left_out++ == 0)
                                quote_key(key, klen, a->left_out);
                        continue;
                }
                *f = (struct fb_field){ .key = key, .key_len = klen };
                if (json_is_array(v)) {
                        /* a list field (EPF_IS_LIST in Falco's libs): scalars only */
                        size_t j;
                        json_t *x;

                        if (json_array_size(v) > FB_ALERT_MAX_LIST_ITEMS)
                                return verr(err, "output_fields.%s: more than %u items", key,
                                            FB_ALERT_MAX_LIST_ITEMS);
                        json_array_foreach(v, j, x) {
                                struct fb_field item = { .key = key, .key_len = klen };
                                const char *kind;

                                if (scalar(x, &item, &kind) < 0)
                                        return verr(err,
                                                    "output_fields.%s: item %zu: expected a "
                                                    "string, number, boolean or null, got %s",
                                                    key, j, kind);
                                if (check_str(&item, key, err) < 0)
                                        return -EINVAL;
                        }
                        f->type = FB_VALUE_LIST;
                        f->list = v;
                        f->len = json_array_size(v);
                } else {
                        const char *kind;

                        if (scalar(v, f, &kind) < 0)
                                return verr(err,
                                            "output_fields.%s: expected a string, number, "
                                            "boolean, null or a list of those, got %s",
                                            key, kind);
                        if (check_str(f, key, err) < 0)
                                return -EINVAL;
                }
                a->n_fields++;
        }
        /* insertion sort: Falco sends output_fields sorted, so this is one linear pass. A
         * jansson object has unique keys; an equal pair is still refused, not trusted. */
        for (i = 1; i < a->n_fields; i++) {
                struct fb_field f;
                size_t j = i;
                int c = field_cmp(&a->fields[i - 1], &a->fields[i]);

                if (c < 0)
                        continue; /* in order already: no copy */
                f = a->fields[i];
                while (j > 0 && (c = field_cmp(&a->fields[j - 1], &f)) >= 0) {
                        if (c == 0)
                                return verr(err, "output_fields.%s: duplicate key", f.key);
                        a->fields[j] = a->fields[j - 1];
                        j--;
                }
                a->fields[j] = f;
        }
        index_fields(a);
        return 0;
}

static int parse_tags(struct fb_alert *a, json_t *tags, struct fb_alert_error *err) {
        size_t i;
        json_t *v;

        if (!tags || json_is_null(tags))
                return 0;
        if (!json_is_array(tags))
                return verr(err, "key \"tags\": expected an array of strings");
        if (json_array_size(tags) > FB_ALERT_MAX_TAGS)
                return verr(err, "tags: more than %u tags", FB_ALERT_MAX_TAGS);
        json_array_foreach(tags, i, v) {
                if (!json_is_string(v))
                        return verr(err, "tags[%zu]: expected a string", i);
                if (json_string_length(v) > FB_ALERT_MAX_TAG_LEN ||
                    !valid_key(json_string_value(v), json_string_length(v))) {
                        if (a->n_left_out++ == 0)
                                quote_key(json_string_value(v), json_string_length(v), a->left_out);
                        continue;
                }
                a->tags[a->n_tags++] = json_string_value(v);
        }
        return 0;
}

/* 8-4-4-4-12 hex digits. Stored lowercase. */
static int parse_uuid(struct fb_alert *a, const char *u, size_t len) {
        size_t i;

        if (len != 36)
                return -EINVAL;
        for (i = 0; i < 36; i++) {
                char c = u[i];

                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (c != '-')
                                return -EINVAL;
                } else if (c >= 'A' && c <= 'F')
                        c = (char)(c - 'A' + 'a');
                else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return -EINVAL;
                a->id[i] = c;
        }
        a->id[36] = '\0';
        a->id_from_uuid = true;
        return 0;
}

/* The canonical encoding an id is hashed over: injective and independent of key order and
 * spacing. null n; true t; false f; integer i + varint (above INT64_MAX: u + varint); real r +
 * 8 bytes (IEEE 754, big-endian); string s + varint length + bytes; array a + varint count +
 * items; object o + varint count + pairs in bytewise key order (a prefix first), each key encoded
 * as a string. Varints are LEB128 of the value as unsigned 64 bits (integers two's complement),
 * so every code is prefix-free. */
struct canon {
        struct fb_sha256 c;
        size_t n;
        uint8_t buf[4096]; /* the encoding goes to SHA-256 in large pieces */
};

static void canon_flush_put(struct canon *k, const void *p, size_t len) {
        if (k->n + len > sizeof(k->buf)) {
                fb_sha256_update(&k->c, k->buf, k->n);
                k->n = 0;
        }
        if (len > sizeof(k->buf)) {
                fb_sha256_update(&k->c, p, len);
                return;
        }
        memcpy(k->buf + k->n, p, len);
        k->n += len;
}

/* Some fifty pieces per alert, most of them keys and short values: the buffer's room is
 * checked inline, and up to 16 bytes are copied without a call, by two fixed-size moves that
 * overlap (reading within the piece only). */
static inline void canon_put(struct canon *k, const void *p, size_t len) {
        const uint8_t *s = p;
        uint8_t *d = k->buf + k->n;

        if (__builtin_expect(len > 16 || len > sizeof(k->buf) - k->n, 0)) {
                canon_flush_put(k, p, len);
                return;
        }
        if (len >= 8) {
                uint64_t a, b;

                memcpy(&a, s, 8);
                memcpy(&b, s + len - 8, 8);
                memcpy(d, &a, 8);
                memcpy(d + len - 8, &b, 8);
        } else if (len >= 4) {
                uint32_t a, b;

                memcpy(&a, s, 4);
                memcpy(&b, s + len - 4, 4);
                memcpy(d, &a, 4);
                memcpy(d + len - 4, &b, 4);
        } else
                for (size_t i = 0; i < len; i++)
                        d[i] = s[i];
        k->n += len;
}

static inline void put_u64(struct canon *k, char tag, uint64_t v) {
        uint8_t *b;
        size_t n = 1;

        if (sizeof(k->buf) - k->n < 11) {
                fb_sha256_update(&k->c, k->buf, k->n);
                k->n = 0;
        }
        b = k->buf + k->n;
        b[0] = (uint8_t)tag;
        if (v < 0x80) { /* most of them: a key's or a short value's length */
                b[1] = (uint8_t)v;
                k->n += 2;
                return;
        }
        do {
                b[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
                v >>= 7;
        } while (v);
        k->n += n;
}

static void put_be64(struct canon *k, char tag, uint64_t v) {
        uint8_t b[9] = { (uint8_t)tag };
        int i;

        for (i = 0; i < 8; i++)
                b[1 + i] = (uint8_t)(v >> (56 - 8 * i));
        canon_put(k, b, sizeof(b));
}

struct kv {
        const char *key;
        size_t len;
        json_t *value;
};

/* Keys in bytewise order, a prefix first: strcmp's order, as jansson keys hold no NUL. */
static int kv_cmp(const void *x, const void *y) {
        const struct kv *a = x, *b = y;
        int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

        if (c)
                return c;
        return a->len < b->len ? -1 : a->len > b->len;
}

static bool kv_less(const struct kv *a, const struct kv *b) {
        return kv_cmp(a, b) < 0;
}

/* Insertion sort for the objects an alert has (Falco's come nearly sorted), which beats
 * qsort's indirect calls there; qsort past KV_INSERTION_MAX keys, since an object under an
 * unknown key is bounded only by the alert's size and insertion sort is quadratic. */
#define KV_INSERTION_MAX 64u
static void kv_sort(struct kv *kvs, size_t n) {
        size_t i, j;

        if (n > KV_INSERTION_MAX) {
                qsort(kvs, n, sizeof(*kvs), kv_cmp);
                return;
        }
        for (i = 1; i < n; i++) {
                struct kv x = kvs[i];

                for (j = i; j > 0 && kv_less(&x, &kvs[j - 1]); j--)
                        kvs[j] = kvs[j - 1];
                kvs[j] = x;
        }
}

static int hash_value(struct canon *c, json_t *v, const struct fb_alert *fields);

/* output_fields as hash_value() encodes it, from the fields parse_fields() took out of it:
 * the same types and values, already in the same key order. */
static void hash_fields(struct canon *c, const struct fb_alert *a) {
        size_t i;

        put_u64(c, 'o', a->n_fields);
        for (i = 0; i < a->n_fields; i++) {
                const struct fb_field *f = &a->fields[i];
                uint64_t bits;

                put_u64(c, 's', f->key_len);
                canon_put(c, f->key, f->key_len);
                switch (f->type) {
                case FB_VALUE_NULL:
                        canon_put(c, "n", 1);
                        break;
                case FB_VALUE_BOOL:
                        canon_put(c, f->i ? "t" : "f", 1);
                        break;
                case FB_VALUE_INT:
                        put_u64(c, 'i', (uint64_t)f->i);
                        break;
                case FB_VALUE_UINT:
                        put_u64(c, 'u', f->u);
                        break;
                case FB_VALUE_REAL:
                        memcpy(&bits, &f->d, sizeof(bits));
                        put_be64(c, 'r', bits);
                        break;
                case FB_VALUE_STRING:
                        put_u64(c, 's', f->len);
                        canon_put(c, f->str, f->len);
                        break;
                case FB_VALUE_LIST:
                        (void)hash_value(c, (json_t *)f->list, NULL); /* scalars: no allocation */
                        break;
                }
        }
}

/* The canonical encoding of v; fields: the alert whose output_fields object v may hold (at the
 * top level only), to be encoded from its parsed fields instead of walked again. */
static int hash_value(struct canon *c, json_t *v, const struct fb_alert *fields) {
        switch (json_typeof(v)) {
        case JSON_NULL:
                canon_put(c, "n", 1);
                return 0;
        case JSON_TRUE:
                canon_put(c, "t", 1);
                return 0;
        case JSON_FALSE:
                canon_put(c, "f", 1);
                return 0;
        case JSON_INTEGER:
                put_u64(c, 'i', (uint64_t)json_integer_value(v));
                return 0;
        case JSON_REAL: {
                double d = json_real_value(v);
                uint64_t bits;

                memcpy(&bits, &d, sizeof(bits));
                put_be64(c, 'r', bits);
                return 0;
        }
        case JSON_STRING:
                put_u64(c, 's', json_string_length(v));
                canon_put(c, json_string_value(v), json_string_length(v));
                return 0;
        case JSON_ARRAY: {
                size_t i;
                json_t *x;

                put_u64(c, 'a', json_array_size(v));
                json_array_foreach(v, i, x) if (hash_value(c, x, NULL) < 0) return -ENOMEM;
                return 0;
        }
        case JSON_OBJECT: {
                struct kv stack_kv[64], *kvs = stack_kv;
                size_t n = json_object_size(v), i = 0;
                uint64_t u;
                int r = 0;

                if (n == 1 && big_marker(v, &u)) {
                        put_u64(c, 'u', u);
                        return 0;
                }
                if (n > FB_ELEMENTSOF(stack_kv)) {
                        kvs = malloc(n * sizeof(*kvs));
                        if (!kvs)
                                return -ENOMEM;
                }
                for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                        kvs[i].key = json_object_iter_key(it);
                        kvs[i].len = json_object_iter_key_len(it);
                        kvs[i++].value = json_object_iter_value(it);
                }
                kv_sort(kvs, n);
                put_u64(c, 'o', n);
                for (i = 0; i < n && r >= 0; i++) {
                        put_u64(c, 's', kvs[i].len);
                        canon_put(c, kvs[i].key, kvs[i].len);
                        if (fields && kvs[i].len == 13 &&
                            memcmp(kvs[i].key, "output_fields", 13) == 0 &&
                            json_is_object(kvs[i].value))
                                hash_fields(c, fields);
                        else
                                r = hash_value(c, kvs[i].value, NULL);
                }
                if (kvs != stack_kv)
                        free(kvs);
                return r;
        }
        }
        return -EINVAL;
}

/* The id of an alert without uuid: the same alert always gets the same id, whatever order or
 * spacing its keys had. */
static int hash_id(struct fb_alert *a) {
        struct canon k;
        uint8_t d[FB_SHA256_LEN];

        fb_sha256_init(&k.c);
        k.n = 0;
        if (hash_value(&k, a->root, a) < 0)
                return -ENOMEM;
        fb_sha256_update(&k.c, k.buf, k.n);
        fb_sha256_final(&k.c, d);
        fb_hex(d, 16, a->id);
        a->id_from_uuid = false;
        return 0;
}

int fb_alert_from_json(struct fb_alert *a, json_t *root, struct fb_alert_error *err) {
        json_t *v_rule = NULL, *v_prio = NULL, *v_time = NULL, *v_source = NULL, *v_host = NULL,
               *v_output = NULL, *v_uuid = NULL, *v_tags = NULL, *v_fields = NULL;
        const char *prio = NULL, *uuid = NULL;
        size_t len, time_len;
        int r;

        alert_clear(a);
        if (!json_is_object(root))
                return verr(err, "expected a JSON object");
        a->root = json_incref(root);

        /* one pass over the keys (unknown ones are allowed), then the checks in a fixed order;
         * by length, then a compare of known size (no call) */
        for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it)) {
                const char *key = json_object_iter_key(it);
                json_t **slot = NULL;

#define IS(lit) (memcmp(key, lit, sizeof(lit) - 1) == 0)
                switch (json_object_iter_key_len(it)) {
                case 4:
                        slot = IS("rule")   ? &v_rule
                               : IS("time") ? &v_time
                               : IS("tags") ? &v_tags
                               : IS("uuid") ? &v_uuid
                                            : NULL;
                        break;
                case 6:
                        slot = IS("source") ? &v_source : IS("output") ? &v_output : NULL;
                        break;
                case 8:
                        slot = IS("priority") ? &v_prio : IS("hostname") ? &v_host : NULL;
                        break;
                case 13:
                        slot = IS("output_fields") ? &v_fields : NULL;
                        break;
                }
#undef IS
                if (slot)
                        *slot = json_object_iter_value(it);
        }
        r = get_string(v_rule, "rule", true, FB_ALERT_MAX_NAME_LEN, &a->rule, &a->rule_len, err);
        if (r >= 0)
                r = get_string(v_prio, "priority", true, 32, &prio, &len, err);
        if (r >= 0 && fb_priority_from_string(prio, &a->priority) < 0)
                r = verr(err, "key \"priority\": not a Falco priority (Emergency..Debug)");
        if (r >= 0)
                r = get_string(v_time, "time", true, 64, &a->time, &time_len, err);
        if (r >= 0 && parse_rfc3339(a->time, time_len, &a->time_ns) < 0)
                r = verr(err, "key \"time\": not an RFC 3339 time (1970..2261)");
        if (r >= 0)
                r = get_string(v_source, "source", false, FB_ALERT_MAX_NAME_LEN, &a->source, &len,
                               err);
        if (r >= 0 && a->source && !valid_key(a->source, len))
                r = verr(err, "key \"source\": not a valid source name");
        if (r >= 0)
                r = get_string(v_host, "hostname", false, FB_ALERT_MAX_NAME_LEN, &a->hostname,
                               &a->hostname_len, err);
        if (r >= 0)
                r = get_string(v_output, "output", false, FB_ALERT_MAX_OUTPUT_LEN, &a->output,
                               &a->output_len, err);
        if (r >= 0)
                r = get_string(v_uuid, "uuid", false, 64, &uuid, &len, err);
        if (r >= 0 && uuid && parse_uuid(a, uuid, len) < 0)
                r = verr(err, "key \"uuid\": not a UUID");
        if (r >= 0)
                r = parse_tags(a, v_tags, err);
        if (r >= 0)
                r = parse_fields(a, v_fields, err);
        if (r >= 0 && !uuid)
                r = hash_id(a);
        if (r < 0)
                alert_clear(a);
        return r;
}

/* Parses a framed object (its depth already checked by the framer). */
int fb_alert_parse_framed(struct fb_alert *a, const char *data, size_t len,
                          struct fb_alert_error *err) {
        json_error_t jerr;
        json_t *root;
        char msg[160];
        bool in_arena;
        int r;

        if (len > FB_ALERT_MAX_BYTES) {
                alert_clear(a);
                verr(err, "alert larger than %u bytes", FB_ALERT_MAX_BYTES);
                return -E2BIG;
        }
        root = fb_alert_load_tree(a, data, len, &jerr, &in_arena);
        if (!root) {
                err->line = (unsigned long)(jerr.line > 0 ? jerr.line : 1);
                err->column = (unsigned long)(jerr.column > 0 ? jerr.column : 1);
                return verr(err, "invalid JSON: %s", escape_msg(jerr.text, msg));
        }
        r = fb_alert_from_json(a, root, err);
        fb_alert_adopt_tree(a, root, in_arena);
        return r;
}

/* Can the text nest deeper than FB_ALERT_MAX_DEPTH? Not with that many brackets or fewer, in
 * strings or not: an alert has three, and memchr counts them faster than json_depth() walks. */
static bool may_nest_deep(const char *data, size_t len) {
        const char *end = data + len;
        unsigned n = 0;

        for (const char *b = "{["; *b; b++)
                for (const char *p = data; (p = memchr(p, *b, (size_t)(end - p))) != NULL; p++)
                        if (++n > FB_ALERT_MAX_DEPTH)
                                return true;
        return false;
}

/* Nesting depth of JSON text, counting brackets outside strings. */
static unsigned json_depth(const char *data, size_t len) {
        unsigned depth = 0, max = 0;
        bool in_str = false;
        size_t i;

        for (i = 0; i < len; i++) {
                char c = data[i];

                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                } else if (c == '"')
                        in_str = true;
                else if (c == '{' || c == '[') {
                        if (++depth > max)
                                max = depth;
                } else if ((c == '}' || c == ']') && depth > 0)
                        depth--;
        }
        return max;
}

int fb_alert_parse(struct fb_alert *a, const char *data, size_t len, struct fb_alert_error *err) {
        if (len <= FB_ALERT_MAX_BYTES && may_nest_deep(data, len) &&
            json_depth(data, len) > FB_ALERT_MAX_DEPTH) {
                alert_clear(a);
                err->line = err->column = 1;
                return verr(err, "alert nested deeper than %u levels", FB_ALERT_MAX_DEPTH);
        }
        return fb_alert_parse_framed(a, data, len, err);
}

static int dump_cb(const char *buffer, size_t size, void *data) {
        fb_buf_put(data, buffer, size);
        return fb_buf_error(data) ? -1 : 0;
}

/* Markers back to their numbers in dumped text from offset `from`. A dump escapes every quote
 * inside a string, so {"KEY":" there is a marker's start and nothing else. */
static void big_unwrap(struct fb_buf *out, size_t from) {
        char needle[sizeof(big_key) + 8];
        size_t nl = (size_t)snprintf(needle, sizeof(needle), "{\"%s\":\"", big_key), i = from, w;

        if (!out->data)
                return;
        for (w = from; i < out->len;) {
                const char *p = memmem(out->data + i, out->len - i, needle, nl), *q;
                size_t n;

                if (!p || !(q = memchr(p + nl, '"', (size_t)(out->data + out->len - (p + nl)))))
                        break;
                n = (size_t)(p - (out->data + i)); /* the text before the marker, kept */
                memmove(out->data + w, out->data + i, n);
                w += n;
                memmove(out->data + w, p + nl, (size_t)(q - (p + nl))); /* the digits */
                w += (size_t)(q - (p + nl));
                i = (size_t)(q + 2 - out->data); /* past "} */
        }
        memmove(out->data + w, out->data + i, out->len - i);
        out->len = w + (out->len - i);
        out->data[out->len] = '\0';
}

int fb_alert_dump(const struct fb_alert *a, struct fb_buf *out) {
        size_t from = out->len;

        if (!a->root ||
            json_dump_callback(a->root, dump_cb, out, JSON_COMPACT | JSON_SORT_KEYS) < 0)
                return fb_buf_error(out) ? fb_buf_error(out) : -ENOMEM;
        if (big_key_ready()) /* markers were made in this process: this tree may hold one */
                big_unwrap(out, from);
        fb_buf_putc(out, '\n');
        return fb_buf_error(out);
}

const struct fb_field *fb_alert_field(const struct fb_alert *a, const char *key) {
        return fb_alert_field_n(a, key, strlen(key));
}

const struct fb_field *fb_alert_field_n(const struct fb_alert *a, const char *key, size_t len) {
        const struct alert_storage *s = (const struct alert_storage *)a;
        size_t h;

        if (a->n_fields == 0)
                return NULL;
        for (h = key_hash(key, len) & s->index_mask; s->index[h]; h = (h + 1) & s->index_mask) {
                const struct fb_field *f = &a->fields[s->index[h] - 1];

                if (f->key_len == len && memcmp(f->key, key, len) == 0)
                        return f;
        }
        return NULL;
}

const char *fb_alert_str(const struct fb_alert *a, const char *key, size_t *ret_len) {
        const struct fb_field *f = fb_alert_field(a, key);

        if (!f || f->type != FB_VALUE_STRING)
                return NULL;
        if (ret_len)
                *ret_len = f->len;
        return f->str;
}

int fb_alert_int(const struct fb_alert *a, const char *key, int64_t *ret) {
        const struct fb_field *f = fb_alert_field(a, key);

        if (f && f->type == FB_VALUE_INT) {
                *ret = f->i;
                return 0;
        }
        if (f && f->type == FB_VALUE_STRING && fb_parse_int64(f->str, f->len, ret) >= 0)
                return 0;
        return -ENOENT;
}

bool fb_alert_has_tag(const struct fb_alert *a, const char *t) {
        size_t i;

        for (i = 0; i < a->n_tags; i++)
                if (strcmp(a->tags[i], t) == 0)
                        return true;
        return false;
}
