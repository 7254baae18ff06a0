/* triage.h: turns one alert and the knowledge base into a report: verdict, analysis grounded in
 * the alert's fields, MITRE mapping, and steps with commands that are safe to paste.
 *
 * Every text in a report is Markdown inline text in which every value that came from the alert
 * is a code span made by fb_md_code(); so Markdown and JSON renderings carry the same facts and
 * no alert value can change the document's structure. Commands are built only from validated
 * values (hex ids, numbers, DNS names) or shell-quoted ones; a command that needs a value the
 * alert lacks, or has in an unsafe form, is omitted and the report says why. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "firebreak/alert.h"
#include "firebreak/buf.h"
#include "firebreak/kb.h"
#include "firebreak/response.h"

enum fb_confidence {
        FB_CONFIDENCE_HIGH,
        FB_CONFIDENCE_MEDIUM,
        FB_CONFIDENCE_LOW,
};

enum fb_severity {
        FB_SEVERITY_CRITICAL,
        FB_SEVERITY_HIGH,
        FB_SEVERITY_MEDIUM,
        FB_SEVERITY_LOW,
        FB_SEVERITY_INFO,
};

const char *fb_confidence_to_string(enum fb_confidence c);
const char *fb_severity_to_string(enum fb_severity s);

/* A NUL-terminated text: in the report's arena (offsets survive the arena growing), or, for the
 * knowledge base's own prose, the KB's string and its JSON form, which reports copy as they are
 * instead of escaping them again for every alert. */
struct fb_text {
        size_t off, len;
        const char *ext;      /* KB text, or NULL for an arena text */
        const char *ext_json; /* ext as a JSON string literal */
        size_t ext_json_len;
};

struct fb_report_step {
        struct fb_text text;          /* Markdown */
        struct fb_text commands;      /* shell lines, one command per line; len 0 if none */
        struct fb_text commands_json; /* the same as JSON strings joined by ',' */
        struct fb_text omitted;       /* why commands were left out; len 0 if none were */
};

struct fb_report_mitre {
        const char *tactic_id, *tactic;       /* NULL when the alert has no tactic tag */
        const char *technique_id, *technique; /* NULL when it has no technique tag */
        bool from_kb; /* the knowledge base's mapping of the rule; else one of Falco's tags */
        struct fb_text text; /* "Defense Evasion (TA0005) — `T1620` ..." */
};

#define FB_REPORT_MAX_ITEMS 24u

/* Where an alert's event happened, decided first: every step and sentence of the report follows
 * from it. */
enum fb_place {
        FB_PLACE_UNKNOWN,   /* a syscall alert that says neither container nor host */
        FB_PLACE_HOST,      /* a process on the host, outside any container */
        FB_PLACE_CONTAINER, /* a process in a container outside Kubernetes */
        FB_PLACE_POD,       /* a process in a Kubernetes pod's container */
        FB_PLACE_K8S_API,   /* a request to the Kubernetes API server (k8s audit log) */
        FB_PLACE_CLOUD,     /* an AWS account or GCP project (CloudTrail, GCP audit log) */
        FB_PLACE_SAAS,      /* a GitHub or Okta organisation */
        FB_PLACE_FALCO,     /* Falco itself ("Falco internal: ..." events) */
};

/* "host", "container", "pod", "kubernetes-api", "cloud", "saas", "falco", "unknown". */
const char *fb_place_to_string(enum fb_place p);

/* The renderings a caller makes of a report (struct fb_report's forms): triage writes each
 * step's commands in those forms only. */
enum fb_report_form {
        FB_REPORT_MD = 1u << 0,   /* fb_report_md(): commands */
        FB_REPORT_JSON = 1u << 1, /* fb_report_json(): commands_json */
};

struct fb_report {
        /* the caller's: the renderings it will make of the report (enum fb_report_form);
         * fb_report_init() sets both, and a rendering triage did not prepare has no commands */
        unsigned forms;

        const struct fb_alert *alert;
        const struct fb_kb *kb;
        const struct fb_kb_rule *entry; /* the rule's entry, or the generic one */
        bool generic;

        enum fb_verdict verdict;
        enum fb_confidence confidence;
        enum fb_severity severity;

        /* where it happened: place first, the flags follow from it */
        enum fb_place place;
        enum fb_kb_source source; /* the event source, from the alert or its fields */
        bool in_container, on_host, in_k8s;
        bool k8s_audit;       /* a request to the API server (a k8s audit plugin's alert) */
        bool container_event; /* a container's start (evt.type container): proc.* and user.*
                               * hold Falco's placeholders, not a process or a person */
        char cid[65];         /* validated container id, "" if none */

        struct fb_text title;      /* rule name for the heading, Markdown */
        struct fb_text headline;   /* the summary paragraph */
        struct fb_text where;      /* container / host, one line */
        struct fb_text mitre_line; /* every entry's text, joined with "; " */
        struct fb_text reasons[FB_REPORT_MAX_ITEMS];
        size_t n_reasons;
        struct fb_text analysis[FB_REPORT_MAX_ITEMS];
        size_t n_analysis;
        struct fb_report_mitre mitre[FB_REPORT_MAX_ITEMS];
        size_t n_mitre;
        struct fb_report_step investigate[FB_REPORT_MAX_ITEMS];
        size_t n_investigate;
        struct fb_report_step contain[FB_REPORT_MAX_ITEMS];
        size_t n_contain;
        struct fb_report_step prevent[FB_REPORT_MAX_ITEMS];
        size_t n_prevent;
        struct fb_text not_covered[FB_REPORT_MAX_ITEMS];
        size_t n_not_covered;
        struct fb_text benign[FB_REPORT_MAX_ITEMS];
        size_t n_benign;

        /* triage's own: field lookups cached by key address (keys are string literals), a
         * direct-mapped table; valid where gen matches the report's */
        struct {
                const char *key;
                const struct fb_field *f;
                unsigned gen;
        } lookup[64];
        unsigned gen;

        /* set by the responder after triage; NULL for a triage-only report */
        const struct fb_response *response;

        struct fb_buf arena;
        struct fb_buf scratch;
};

/* Prepares an empty report; its buffers are reused by every fb_triage() call. */
void fb_report_init(struct fb_report *r);
void fb_report_done(struct fb_report *r);

/* Fills r for alert a. Returns 0, or -E2BIG / -ENOMEM when the report would exceed
 * FB_REPORT_MAX_BYTES or memory ran out. r refers to a and kb: keep both alive while using r. */
int fb_triage(const struct fb_kb *kb, const struct fb_alert *a, struct fb_report *r);

/* The text t of report r. */
static inline const char *fb_report_str(const struct fb_report *r, struct fb_text t) {
        if (t.ext)
                return t.ext;
        return t.len ? r->arena.data + t.off : "";
}

/* When field f of r's alert holds one of Falco's placeholders rather than a fact: a phrase for
 * the reader; NULL for a real value. */
const char *fb_triage_placeholder(const struct fb_report *r, const struct fb_field *f);

/* "likely a detection test", "malicious", ... for sentences. */
const char *fb_verdict_phrase(enum fb_verdict v);

/* The firebreak version that reports name; the Makefile defines FB_VERSION. */
#ifndef FB_VERSION
#define FB_VERSION "0.0.0-unknown"
#endif
