/* incident.c: repeats of one alert fold into an incident. The first alert of a rule from a
 * container (on a host) is processed in full; a repeat of it within the window is counted on
 * it, with the values that changed, and gets no report, evidence or actions of its own. The
 * first alert's report is rewritten with the count (at most once a second, and at the end).
 *
 * An alert's author chooses how often it fires: without this, a loop that reads /etc/shadow
 * would write a report, a store row and an audit line per alert, and fill the disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "firebreak/clock.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/strutil.h"

#define INCIDENTS_MAX 256u  /* open at once; the least recently seen goes first */
#define HEAD_FIELDS 48u     /* of the first alert, compared with each repeat */
#define VALUE_MAX 128u      /* bytes of a value kept for comparison and display */
#define VARIED_MAX 16u      /* fields whose changes are shown */
#define SAMPLES 3u          /* values shown per changed field */
#define REWRITE_US 1000000u /* the report is rewritten at most this often */

struct varied {
        char key[FB_ALERT_MAX_KEY_LEN + 1];
        uint64_t alerts; /* repeats in which it differed from the first alert */
        char samples[SAMPLES][VALUE_MAX];
        unsigned n_samples;
        bool more; /* other values than the samples were seen */
};

struct fb_incident {
        bool used;
        uint64_t hash;
        char *key; /* rule, container and host, NUL-separated: checked after the hash */
        size_t key_len;
        char head[FB_ALERT_ID_MAX + 1];
        char report_dir[1024], report_name[FB_ALERT_ID_MAX + 8];
        bool json;
        char *rendered; /* the first alert's report as written */
        size_t rendered_len;
        int64_t first_ns, last_ns; /* alert times */
        uint64_t repeats, window_s;
        uint64_t seen_us, written_us; /* fb_mono_us(): last repeat, last rewrite */
        bool dirty;                   /* repeats since the last rewrite */
        char head_keys[HEAD_FIELDS][FB_ALERT_MAX_KEY_LEN + 1];
        char head_vals[HEAD_FIELDS][VALUE_MAX];
        unsigned n_head;
        struct varied varied[VARIED_MAX];
        unsigned n_varied;
        uint64_t other_fields; /* changes in fields past VARIED_MAX */
};

struct fb_incidents {
        uint64_t window_s;
        struct fb_incident slots[INCIDENTS_MAX];
};

int fb_incidents_new(uint64_t window_s, struct fb_incidents **ret) {
        struct fb_incidents *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->window_s = window_s;
        *ret = t;
        return 0;
}

static void drop(struct fb_incident *i) {
        free(i->key);
        free(i->rendered);
        memset(i, 0, sizeof(*i));
}

void fb_incidents_free(struct fb_incidents *t) {
        size_t i;

        if (!t)
                return;
        for (i = 0; i < INCIDENTS_MAX; i++) {
                fb_incident_flush(&t->slots[i], true); /* the last counts into their reports */
                drop(&t->slots[i]);
        }
        free(t);
}

/* FNV-1a: a quick filter before the keys are compared. */
static uint64_t hash64(const char *p, size_t n) {
        uint64_t h = 0xcbf29ce484222325ULL;

        while (n--)
                h = (h ^ (unsigned char)*p++) * 0x100000001b3ULL;
        return h;
}

/* rule \0 container.id \0 hostname: which alerts are repeats of one another. */
static char *make_key(const struct fb_alert *a, size_t *len) {
        size_t cl = 0;
        const char *cid = fb_alert_str(a, "container.id", &cl);
        size_t hl = a->hostname ? a->hostname_len : 0;
        char *k;

        *len = a->rule_len + 1 + cl + 1 + hl;
        k = malloc(*len);
        if (!k)
                return NULL;
        memcpy(k, a->rule, a->rule_len);
        k[a->rule_len] = '\0';
        if (cl)
                memcpy(k + a->rule_len + 1, cid, cl);
        k[a->rule_len + 1 + cl] = '\0';
        if (hl)
                memcpy(k + a->rule_len + 2 + cl, a->hostname, hl);
        return k;
}

/* A field's value as text, cut to at most n - 1 bytes. */
static void value_text(const struct fb_field *f, char *out, size_t n) {
        switch (f->type) {
        case FB_VALUE_STRING: {
                size_t k = f->len < n ? f->len : n - 1;

                /* a value cut short ends on a whole UTF-8 character */
                if (k < f->len)
                        while (k > 0 && ((unsigned char)f->str[k] & 0xc0) == 0x80)
                                k--;
                memcpy(out, f->str, k);
                out[k] = '\0';
                break;
        }
        case FB_VALUE_INT:
                snprintf(out, n, "%" PRId64, f->i);
                break;
        case FB_VALUE_UINT:
                snprintf(out, n, "%" PRIu64, f->u);
                break;
        case FB_VALUE_REAL:
                snprintf(out, n, "%g", f->d);
                break;
        case FB_VALUE_BOOL:
                snprintf(out, n, "%s", f->i ? "true" : "false");
                break;
        case FB_VALUE_LIST:
                snprintf(out, n, "(a list of %zu)", f->len);
                break;
        default:
                snprintf(out, n, "null");
        }
}

/* evt.time and its kin change with every alert: first and last seen say that already. */
static bool compared(const struct fb_field *f) {
        return !(f->key_len >= 8 && memcmp(f->key, "evt.time", 8) == 0) &&
               f->key_len <= FB_ALERT_MAX_KEY_LEN;
}

struct fb_incident *fb_incidents_find(struct fb_incidents *t, const struct fb_alert *a) {
        size_t len, i;
        char *key;
        uint64_t h;
        struct fb_incident *found = NULL;

        if (t->window_s == 0)
                return NULL;
        key = make_key(a, &len);
        if (!key)
                return NULL;
        h = hash64(key, len);
        for (i = 0; i < INCIDENTS_MAX && !found; i++) {
                struct fb_incident *x = &t->slots[i];
                int64_t gap;

                if (!x->used || x->hash != h || x->key_len != len || memcmp(x->key, key, len) != 0)
                        continue;
                /* its own incident (the alert processed again after a failed commit) is none */
                if (strcmp(x->head, a->id) == 0)
                        continue;
                gap = a->time_ns - x->last_ns;
                if (gap < 0)
                        gap = -gap;
                if ((uint64_t)(gap / 1000000000) <= t->window_s)
                        found = x;
        }
        free(key);
        return found;
}

int fb_incidents_open(struct fb_incidents *t, const struct fb_alert *a, const char *report_dir,
                      const char *report_name, bool json, const char *rendered, size_t len) {
        struct fb_incident *x = NULL;
        size_t kl, i;
        char *key;

        if (t->window_s == 0)
                return 0;
        key = make_key(a, &kl);
        if (!key)
                return -ENOMEM;
        /* the same key's slot, else a free one, else the least recently seen */
        for (i = 0; i < INCIDENTS_MAX; i++) {
                struct fb_incident *y = &t->slots[i];

                if (y->used && y->key_len == kl && memcmp(y->key, key, kl) == 0) {
                        x = y;
                        break;
                }
                if (!x || (x->used && (!y->used || y->seen_us < x->seen_us)))
                        x = y;
        }
        if (x->used && x->dirty)
                fb_incident_flush(x, true);
        drop(x);
        x->rendered = malloc(len ? len : 1);
        if (!x->rendered) {
                free(key);
                return -ENOMEM;
        }
        memcpy(x->rendered, rendered, len);
        x->rendered_len = len;
        x->used = true;
        x->key = key;
        x->key_len = kl;
        x->hash = hash64(key, kl);
        snprintf(x->head, sizeof(x->head), "%s", a->id);
        snprintf(x->report_dir, sizeof(x->report_dir), "%s", report_dir);
        snprintf(x->report_name, sizeof(x->report_name), "%s", report_name);
        x->json = json;
        x->window_s = t->window_s;
        x->first_ns = x->last_ns = a->time_ns;
        x->seen_us = fb_mono_us();
        for (i = 0; i < a->n_fields && x->n_head < HEAD_FIELDS; i++) {
                const struct fb_field *f = &a->fields[i];

                if (!compared(f))
                        continue;
                snprintf(x->head_keys[x->n_head], sizeof(x->head_keys[0]), "%.*s", (int)f->key_len,
                         f->key);
                value_text(f, x->head_vals[x->n_head], VALUE_MAX);
                x->n_head++;
        }
        return 0;
}

const char *fb_incident_head(const struct fb_incident *x) {
        return x->head;
}

static void note_change(struct fb_incident *x, const char *key, const char *v) {
        struct varied *w = NULL;
        unsigned i;

        for (i = 0; i < x->n_varied; i++)
                if (strcmp(x->varied[i].key, key) == 0)
                        w = &x->varied[i];
        if (!w) {
                if (x->n_varied == VARIED_MAX) {
                        x->other_fields++;
                        return;
                }
                w = &x->varied[x->n_varied++];
                memcpy(w->key, key, strnlen(key, sizeof(w->key) - 1)); /* head_keys: as long */
        }
        w->alerts++;
        for (i = 0; i < w->n_samples; i++)
                if (strcmp(w->samples[i], v) == 0)
                        return;
        if (w->n_samples < SAMPLES)
                snprintf(w->samples[w->n_samples++], VALUE_MAX, "%s", v);
        else
                w->more = true;
}

void fb_incident_add(struct fb_incident *x, const struct fb_alert *a) {
        char v[VALUE_MAX];
        unsigned i;

        x->repeats++;
        if (a->time_ns > x->last_ns)
                x->last_ns = a->time_ns;
        if (a->time_ns < x->first_ns)
                x->first_ns = a->time_ns;
        x->seen_us = fb_mono_us();
        x->dirty = true;
        for (i = 0; i < x->n_head; i++) {
                const struct fb_field *f = fb_alert_field(a, x->head_keys[i]);

                if (f)
                        value_text(f, v, sizeof(v));
                else
                        snprintf(v, sizeof(v), "(absent)");
                if (strcmp(v, x->head_vals[i]) != 0)
                        note_change(x, x->head_keys[i], v);
        }
}

static void rfc3339(int64_t ns, char *out, size_t n) {
        time_t t = (time_t)(ns / 1000000000);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void section_md(const struct fb_incident *x, uint64_t window_s, struct fb_buf *b) {
        char first[32], last[32];
        unsigned i, j;

        rfc3339(x->first_ns, first, sizeof(first));
        rfc3339(x->last_ns, last, sizeof(last));
        fb_buf_printf(b,
                      "\n## Incident\n\nThis alert opened an incident: **%" PRIu64
                      " alerts** of this rule from this container on this host (this one and "
                      "%" PRIu64 " repeats), the first at %s, the last at %s. A repeat within "
                      "%" PRIu64 " s of the one before is folded here: it is stored and counted, "
                      "and gets no report, evidence or actions of its own, since this alert's "
                      "response covers it (`firebreak history` lists them with this alert's id "
                      "as their incident).\n",
                      x->repeats + 1, x->repeats, first, last, window_s);
        if (!x->n_varied) {
                fb_buf_puts(b, "\nEvery repeat had the same output fields as this alert.\n");
                return;
        }
        fb_buf_puts(b, "\nValues that changed in the repeats:\n\n");
        for (i = 0; i < x->n_varied; i++) {
                const struct varied *w = &x->varied[i];

                fb_buf_puts(b, "- ");
                fb_md_code(b, w->key, strlen(w->key), false);
                fb_buf_printf(b, ": in %" PRIu64 " repeat%s; ", w->alerts,
                              w->alerts == 1 ? "" : "s");
                fb_buf_puts(b, w->more ? "values include " : "values ");
                for (j = 0; j < w->n_samples; j++) {
                        if (j)
                                fb_buf_puts(b, ", ");
                        fb_md_code(b, w->samples[j], strlen(w->samples[j]), false);
                }
                fb_buf_puts(b, "\n");
        }
        if (x->other_fields)
                fb_buf_printf(b, "- and %" PRIu64 " changes in further fields\n", x->other_fields);
}

static void section_json(const struct fb_incident *x, uint64_t window_s, struct fb_buf *b) {
        char first[32], last[32];
        unsigned i, j;

        rfc3339(x->first_ns, first, sizeof(first));
        rfc3339(x->last_ns, last, sizeof(last));
        fb_buf_printf(b,
                      ",\"incident\":{\"alerts\":%" PRIu64 ",\"first\":\"%s\",\"last\":\"%s\","
                      "\"window_s\":%" PRIu64 ",\"varied\":[",
                      x->repeats + 1, first, last, window_s);
        for (i = 0; i < x->n_varied; i++) {
                const struct varied *w = &x->varied[i];

                fb_buf_puts(b, i ? ",{\"field\":" : "{\"field\":");
                fb_json_str(b, w->key, strlen(w->key));
                fb_buf_printf(b, ",\"repeats\":%" PRIu64 ",\"values\":[", w->alerts);
                for (j = 0; j < w->n_samples; j++) {
                        if (j)
                                fb_buf_putc(b, ',');
                        fb_json_str(b, w->samples[j], strlen(w->samples[j]));
                }
                fb_buf_printf(b, "],\"more\":%s}", w->more ? "true" : "false");
        }
        fb_buf_printf(b, "],\"other_changes\":%" PRIu64 "}}\n", x->other_fields);
}

/* Rewrites the first alert's report with the incident, when repeats came since the last
 * rewrite and (unless force) a second has passed. */
int fb_incident_flush(struct fb_incident *x, bool force) {
        char path[sizeof(x->report_dir) + sizeof(x->report_name) + 1];
        struct fb_buf b;
        size_t len = x->rendered_len;
        int r;

        if (!x->used || !x->dirty || (!force && fb_mono_us() - x->written_us < REWRITE_US))
                return 0;
        /* retention took the first alert (an incident open longer, in alert time, than its
         * receipts show): its report is not brought back without a row that would delete it */
        snprintf(path, sizeof(path), "%s/%s", x->report_dir, x->report_name);
        if (access(path, F_OK) < 0 && errno == ENOENT) {
                log_info("incident %s: its first alert was deleted by retention; the next repeat "
                         "opens a new incident",
                         x->head);
                drop(x);
                return 0;
        }
        fb_buf_init(&b, x->rendered_len + 64 * 1024);
        if (x->json) {
                /* the report object, reopened: everything before its closing brace */
                while (len && (x->rendered[len - 1] == '\n' || x->rendered[len - 1] == ' '))
                        len--;
                if (len && x->rendered[len - 1] == '}')
                        len--;
                fb_buf_put(&b, x->rendered, len);
                section_json(x, x->window_s, &b);
        } else {
                fb_buf_put(&b, x->rendered, len);
                section_md(x, x->window_s, &b);
        }
        r = fb_buf_error(&b);
        if (r >= 0)
                r = fb_write_file_replace(x->report_dir, x->report_name, b.data, b.len, 0640,
                                          false);
        fb_buf_free(&b);
        if (r < 0)
                return log_error_errno(r, "incident %s: cannot rewrite its report %s/%s: %m",
                                       x->head, x->report_dir, x->report_name);
        x->dirty = false;
        x->written_us = fb_mono_us();
        return 0;
}
