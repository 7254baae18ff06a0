/* triage_impl.h: what triage's files share: the report's text arena, the alert's fields as
 * triage reads them (through a per-alert cache), and the passes that fb_triage() runs. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "firebreak/cleanup.h"
#include "firebreak/strutil.h"
#include "firebreak/triage.h"

/* ---- building texts ---------------------------------------------------------------------- */

static inline size_t text_begin(struct fb_report *r) {
        return r->arena.len;
}

static inline struct fb_text text_end(struct fb_report *r, size_t start) {
        struct fb_text t = { .off = start, .len = r->arena.len - start };

        fb_buf_putc(&r->arena, '\0');
        return t;
}

static inline void put(struct fb_report *r, const char *s) {
        fb_buf_puts(&r->arena, s);
}

static inline void put_int(struct fb_report *r, int64_t v) {
        char num[24];

        fb_buf_put(&r->arena, num, fb_format_int64(num, v));
}

/* An untrusted value, as a code span. */
static inline void val(struct fb_report *r, const char *s, size_t len) {
        fb_md_code(&r->arena, s, len, false);
}

static inline void val_s(struct fb_report *r, const char *s) {
        val(r, s, strlen(s));
}

#define ITEM(r, arr) ((r)->n_##arr < FB_REPORT_MAX_ITEMS ? &(r)->arr[(r)->n_##arr++] : NULL)

static inline void add_text(struct fb_report *r, struct fb_text *slot, size_t start) {
        struct fb_text t = text_end(r, start);

        if (slot)
                *slot = t;
}

/* ---- reading fields ---------------------------------------------------------------------- */

/* The field for key, through the per-alert cache: triage asks for the same few keys again and
 * again, always as string literals, so the literal's address identifies the key. The readers
 * take the key's length, which their macros give as strlen(key): for a literal that is a
 * constant, so no lookup measures its key. */
static inline const struct fb_field *field_n(struct fb_report *r, const char *key, size_t klen) {
        size_t i = ((uintptr_t)key >> 3) % FB_ELEMENTSOF(r->lookup);

        if (r->lookup[i].gen != r->gen || r->lookup[i].key != key) {
                r->lookup[i].key = key;
                r->lookup[i].f = fb_alert_field_n(r->alert, key, klen);
                r->lookup[i].gen = r->gen;
        }
        return r->lookup[i].f;
}
#define field(r, key) field_n(r, key, strlen(key))

/* A non-empty string field, or NULL. */
static inline const char *str_n(struct fb_report *r, const char *key, size_t klen, size_t *len) {
        const struct fb_field *f = field_n(r, key, klen);

        if (len)
                *len = 0;
        /* "<NA>" is Falco's placeholder for a value it does not have (JSON output writes null
         * since 0.3x; older releases, and the text output, "<NA>") */
        if (!f || f->type != FB_VALUE_STRING || f->len == 0 ||
            (f->len == 4 && memcmp(f->str, "<NA>", 4) == 0))
                return NULL;
        if (len)
                *len = f->len;
        return f->str;
}
#define str(r, key, len) str_n(r, key, strlen(key), len)

static inline bool str_eq_n(struct fb_report *r, const char *key, size_t klen, const char *want,
                            size_t want_len) {
        size_t l;
        const char *s = str_n(r, key, klen, &l);

        return s && l == want_len && memcmp(s, want, l) == 0;
}
#define str_eq(r, key, want) str_eq_n(r, key, strlen(key), want, strlen(want))

/* An integer field (or a string holding one). Returns 0 or -ENOENT. */
static inline int int_field_n(struct fb_report *r, const char *key, size_t klen, int64_t *ret) {
        const struct fb_field *f = field_n(r, key, klen);

        if (f && f->type == FB_VALUE_INT) {
                *ret = f->i;
                return 0;
        }
        if (f && f->type == FB_VALUE_STRING && fb_parse_int64(f->str, f->len, ret) >= 0)
                return 0;
        return -ENOENT;
}
#define int_field(r, key, ret) int_field_n(r, key, strlen(key), ret)

static inline bool all_digits(const char *s, size_t len) {
        size_t i;

        if (len == 0)
                return false;
        for (i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* A string literal with its length, for tables that lookups go through for every alert. */
struct lit {
        const char *s;
        size_t len;
};
#define LIT(x)                                                                                     \
        { x, sizeof(x) - 1 }

static inline bool is_shell(const char *s, size_t len) {
        static const struct lit shells[] = { LIT("sh"),   LIT("bash"),   LIT("ash"), LIT("dash"),
                                             LIT("zsh"),  LIT("ksh"),    LIT("csh"), LIT("tcsh"),
                                             LIT("fish"), LIT("busybox") };
        size_t i;

        for (i = 0; s && i < FB_ELEMENTSOF(shells); i++)
                if (len == shells[i].len && memcmp(s, shells[i].s, len) == 0)
                        return true;
        return false;
}

static inline bool is_shim(const char *s, size_t len) {
        return s && len >= 15 && memcmp(s, "containerd-shim", 15) == 0;
}

static inline void analysis_item(struct fb_report *r, size_t start) {
        add_text(r, ITEM(r, analysis), start);
}

static inline void reason(struct fb_report *r, size_t start) {
        add_text(r, ITEM(r, reasons), start);
}

static inline struct fb_text kb_text(const struct fb_kb_text *t) {
        return (struct fb_text){
                .len = t->md_len, .ext = t->md, .ext_json = t->json, .ext_json_len = t->json_len
        };
}

struct fb_signals {
        bool runc_self;     /* runc re-executing itself from a memfd */
        bool runc_lineage;  /* ... started by the runtime, as runc is */
        bool gen_image;     /* image is Docker Hub's falcosecurity/event-generator */
        bool gen_lookalike; /* image is named .../event-generator, but not that one */
        bool gen_process;   /* lineage includes event-generator */
};

/* place.c: where the event happened (sets in_container, on_host, in_k8s, k8s_audit, cid and
 * where). */
void fb_triage_place(struct fb_report *r);
/* analyze.c: what the alert's fields say about the process, its lineage, session, timing,
 * result, files and connections. */
void fb_triage_analyze(struct fb_report *r);
/* patterns.c: the known patterns that change a verdict (runc's memfd, Falco's event
 * generator), with what confirms each. */
void fb_triage_memfd(struct fb_report *r, struct fb_signals *sig);
void fb_triage_drill(struct fb_report *r, struct fb_signals *sig);
/* the control plane's own identities, package managers: each with what confirms it */
void fb_triage_benign_patterns(struct fb_report *r);
/* mitre.c: the MITRE ATT&CK mapping and its line. */
void fb_triage_mitre(struct fb_report *r);
/* steps.c: investigate, contain and prevent steps with their commands. */
void fb_triage_steps(struct fb_report *r);
