/* alert.h: Falco alerts as typed, bounded, validated values, and a streaming reader.
 *
 * Every field of an alert is attacker-controlled. This module only checks form (types, lengths,
 * encodings, formats) and never interprets values; what they mean is triage's business. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/limits.h"

struct json_t;

/* Falco priorities, most severe first (so "more severe" is "lower value"). */
enum fb_priority {
        FB_PRIO_EMERGENCY,
        FB_PRIO_ALERT,
        FB_PRIO_CRITICAL,
        FB_PRIO_ERROR,
        FB_PRIO_WARNING,
        FB_PRIO_NOTICE,
        FB_PRIO_INFORMATIONAL,
        FB_PRIO_DEBUG,
        _FB_PRIO_MAX,
};

/* Parses a priority name in any case ("Critical", "INFO", "informational"). Returns 0 or -EINVAL. */
int fb_priority_from_string(const char *s, enum fb_priority *ret);
/* Falco's spelling: "Emergency" ... "Debug". */
const char *fb_priority_to_string(enum fb_priority p);

enum fb_value_type {
        FB_VALUE_NULL,
        FB_VALUE_STRING,
        FB_VALUE_INT,
        FB_VALUE_REAL,
        FB_VALUE_BOOL,
        FB_VALUE_LIST, /* a JSON array of the others: fb_field_item() */
        FB_VALUE_UINT, /* an integer above INT64_MAX, up to UINT64_MAX (Falco's unsigned fields) */
};

/* One output_fields entry. Strings point into the alert and live as long as it does. */
struct fb_field {
        const char *key; /* e.g. "proc.aname[2]" */
        size_t key_len;
        enum fb_value_type type;
        const char *str;  /* STRING: valid UTF-8, may contain NUL-free control characters */
        size_t len;       /* STRING: bytes; LIST: items */
        const void *list; /* LIST: the array, owned by the alert */
        int64_t i;        /* INT; BOOL as 0/1 */
        uint64_t u;       /* UINT */
        double d;         /* REAL */
};

/* Alert id: the Falcosidekick uuid (lowercased) or the first 32 hex digits of the SHA-256 of the
 * alert's canonical encoding (independent of key order and spacing; see alert.c). Always safe as
 * a file name. */
#define FB_ALERT_ID_MAX 37

struct fb_alert {
        struct json_t *root; /* owns every string below */
        char id[FB_ALERT_ID_MAX];
        bool id_from_uuid;

        const char *rule;
        size_t rule_len;
        enum fb_priority priority;
        const char *time;     /* as written, RFC 3339 */
        int64_t time_ns;      /* nanoseconds since the epoch, UTC */
        const char *source;   /* NULL when absent */
        const char *hostname; /* NULL when absent */
        size_t hostname_len;
        const char *output; /* NULL when absent */
        size_t output_len;

        const char **tags;
        size_t n_tags;
        struct fb_field *fields; /* sorted by key, keys unique */
        size_t n_fields;
        /* output_fields and tags with a name Falco never writes (a byte outside its field
         * names' set, or too long): each is left out, not the alert; the first one's name,
         * display-escaped, for the report */
        size_t n_left_out;
        char left_out[96];
};

/* Where and why an alert was rejected. */
struct fb_alert_error {
        size_t index;         /* 1-based position of the alert in its stream (0 if single) */
        unsigned long line;   /* 1-based, in the input */
        unsigned long column; /* 1-based, in bytes */
        char text[256];       /* what is wrong; any quoted input is display-escaped */
};

/* Allocates an empty alert whose storage is reused by fb_alert_parse(). Returns 0 or -ENOMEM. */
int fb_alert_new(struct fb_alert **ret);
/* Frees an alert. Accepts NULL. */
void fb_alert_free(struct fb_alert *a);
/* Releases what the last parse held (the JSON tree); the alert can be parsed into again. */
void fb_alert_reset(struct fb_alert *a);

/* Parses and validates one alert from a JSON object of len bytes, replacing a's contents.
 * Returns 0, -EINVAL with *err filled (syntax, type, encoding, format, limits), -E2BIG when len is
 * larger than FB_ALERT_MAX_BYTES, or -ENOMEM. On failure a holds no alert. */
int fb_alert_parse(struct fb_alert *a, const char *data, size_t len, struct fb_alert_error *err);

/* Appends the alert as compact JSON with sorted keys (for evidence). Returns 0 or -ENOMEM. */
struct fb_buf;
int fb_alert_dump(const struct fb_alert *a, struct fb_buf *out);

/* Looks up an output_fields key. Returns the field or NULL. */
const struct fb_field *fb_alert_field(const struct fb_alert *a, const char *key);
/* The same for the key of len bytes at key (a caller that knows the length). */
const struct fb_field *fb_alert_field_n(const struct fb_alert *a, const char *key, size_t len);
/* Item i (< f->len) of a LIST field, as a field of its own (its key f's) of any other type. */
struct fb_field fb_field_item(const struct fb_field *f, size_t i);
/* The string value of key, or NULL when absent, null or not a string. */
const char *fb_alert_str(const struct fb_alert *a, const char *key, size_t *ret_len);
/* The integer value of key (strings holding a decimal integer count too). Returns 0 or -ENOENT. */
int fb_alert_int(const struct fb_alert *a, const char *key, int64_t *ret);
/* True if the alert has tag t. */
bool fb_alert_has_tag(const struct fb_alert *a, const char *t);

/* Reads alerts from a descriptor: one JSON object, JSON lines, concatenated objects, or JSON
 * arrays of objects, in any mix. Memory is bounded by FB_ALERT_MAX_BYTES whatever the stream's
 * length. An object that has more on the line of its opening brace is a JSON line and must end
 * on that line; an opening brace alone on its line starts a pretty-printed object. */
struct fb_alert_reader;

/* name is used in messages only. The reader does not own fd. Returns 0 or -ENOMEM. */
int fb_alert_reader_new(int fd, struct fb_alert_reader **ret);
void fb_alert_reader_free(struct fb_alert_reader *r);

/* Returns 1 and *ret (owned by the reader, valid until the next call) for the next alert; 0 at
 * the end of the stream; -EINVAL with *err for one bad alert or stray text (call again: the
 * stream goes on); or -errno for a read error (final). */
int fb_alert_reader_next(struct fb_alert_reader *r, const struct fb_alert **ret,
                         struct fb_alert_error *err);
