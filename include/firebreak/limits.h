/* limits.h: every bound on untrusted input, in one place (STYLE: "named size limits"). */
#pragma once

/* One alert as it arrives (a JSON object), in bytes. Falco's own alerts are 1-4 KiB. */
#define FB_ALERT_MAX_BYTES (256u * 1024u)
/* Nesting of JSON values in one alert: root object -> output_fields -> value is 2. */
#define FB_ALERT_MAX_DEPTH 8u
/* Entries in output_fields. Falco's stable rules emit fewer than 40. */
#define FB_ALERT_MAX_FIELDS 512u
/* Entries in tags, and the length of one tag. */
#define FB_ALERT_MAX_TAGS 64u
#define FB_ALERT_MAX_TAG_LEN 128u
/* Length of an output_fields key such as proc.aname[2]. */
#define FB_ALERT_MAX_KEY_LEN 128u
/* Items in one list value of output_fields (Falco writes a list field, such as the k8s audit
 * plugin's ka.req.pod.containers.image, as a JSON array of scalars). */
#define FB_ALERT_MAX_LIST_ITEMS 256u
/* Integers above INT64_MAX in one alert (Falco's unsigned 64-bit fields): each costs jansson
 * another parse of the alert, since it refuses them (alert.c). */
#define FB_ALERT_MAX_BIG_INTS 16u
/* Length of a string value in output_fields (command lines can be long). */
#define FB_ALERT_MAX_VALUE_LEN (16u * 1024u)
/* Length of rule, hostname, source. */
#define FB_ALERT_MAX_NAME_LEN 512u
/* Length of the free-text "output" line. */
#define FB_ALERT_MAX_OUTPUT_LEN (64u * 1024u)

/* YAML documents (knowledge base, policies, config). */
#define FB_YAML_MAX_BYTES (4u * 1024u * 1024u)
#define FB_YAML_MAX_DEPTH 32u
#define FB_YAML_MAX_NODES 500000u

/* Knowledge base: user files loaded on top of the built-in one. */
#define FB_KB_MAX_FILES 64u
#define FB_KB_MAX_RULES 4096u

/* One rendered report. Past it, rendering fails cleanly instead of growing. */
#define FB_REPORT_MAX_BYTES (2u * 1024u * 1024u)
