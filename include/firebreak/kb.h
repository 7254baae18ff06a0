/* kb.h: the rule knowledge base: what each Falco rule means and what to do about it.
 *
 * Data lives in YAML (policies/kb/, built into the binary; users add or override rules
 * with their own files). Loading validates everything: unknown keys, missing keys, wrong types
 * and unknown command template variables are errors with file, line and column. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "firebreak/yaml.h"

enum fb_verdict {
        FB_VERDICT_MALICIOUS,
        FB_VERDICT_SUSPICIOUS,
        FB_VERDICT_LIKELY_TEST,
        FB_VERDICT_BENIGN,
        FB_VERDICT_OPERATIONAL, /* Falco's own health, not a security verdict */
};

/* "malicious", "suspicious", "likely-test", "benign", "operational". */
const char *fb_verdict_to_string(enum fb_verdict v);
int fb_verdict_from_string(const char *s, enum fb_verdict *ret);

/* One investigation, containment or prevention step: Markdown text written by the KB author
 * (trusted), and command templates whose @{var} placeholders are filled only with validated or
 * shell-quoted values (see triage.h for the variables). */
/* A command template compiled at load: literal text (raw and JSON-escaped) followed by a
 * variable (an index into fb_kb_template_vars, or -1 at the end). */
struct fb_kb_piece {
        const char *lit; /* into the step's command text */
        size_t lit_len;
        const char *lit_json; /* into the step's JSON-escaped command text */
        size_t lit_json_len;
        int var;
};

struct fb_kb_cmd {
        struct fb_kb_piece *pieces;
        size_t n;
};

/* A text of the knowledge base's prose in both of a report's forms, made and measured once at
 * load (triage puts some twenty of them in every report). */
struct fb_kb_text {
        char *md;   /* as the file has it: Markdown */
        char *json; /* md as a JSON string literal, quotes included */
        size_t md_len, json_len;
};

/* Where a step applies (its 'when'): FB_KB_WHEN_ANY without one. */
enum fb_kb_when {
        FB_KB_WHEN_ANY,
        FB_KB_WHEN_CONTAINER, /* "container": any container */
        FB_KB_WHEN_DOCKER,    /* "docker": a container outside Kubernetes */
        FB_KB_WHEN_K8S,       /* "k8s": a pod's container */
        FB_KB_WHEN_HOST,      /* "host" */
        FB_KB_WHEN_K8S_AUDIT, /* "k8s-audit": an alert of the k8s audit plugin */
        FB_KB_WHEN_CLOUD,     /* "cloud": an AWS or GCP audit log's alert */
        FB_KB_WHEN_SAAS,      /* "saas": a GitHub or Okta alert */
        FB_KB_WHEN_FALCO,     /* "falco": Falco's own event (a "Falco internal: ..." alert) */
        FB_KB_WHEN_AWS,       /* "aws": CloudTrail */
        FB_KB_WHEN_GCP,       /* "gcp": the GCP audit log */
        FB_KB_WHEN_GITHUB,    /* "github" */
        FB_KB_WHEN_OKTA,      /* "okta" */
};

/* The event source a rule belongs to (its rules file's `source`). */
enum fb_kb_source {
        FB_KB_SOURCE_SYSCALL,
        FB_KB_SOURCE_K8S_AUDIT,
        FB_KB_SOURCE_AWS_CLOUDTRAIL,
        FB_KB_SOURCE_GCP_AUDITLOG,
        FB_KB_SOURCE_GITHUB,
        FB_KB_SOURCE_OKTA,
        FB_KB_SOURCE_INTERNAL, /* Falco's own events */
        _FB_KB_SOURCE_MAX,
};

/* "syscall", "k8s_audit", ... as Falco names them ("internal" for Falco's own events). */
const char *fb_kb_source_to_string(enum fb_kb_source s);
/* Returns 0, or -EINVAL for a source the knowledge base does not know. */
int fb_kb_source_from_string(const char *s, size_t len, enum fb_kb_source *ret);

struct fb_kb_step {
        struct fb_kb_text text;
        char **commands;
        char **commands_json;       /* each JSON-escaped, without quotes; @{var} left as is */
        struct fb_kb_cmd *compiled; /* each command split at its variables */
        size_t n_commands;
        enum fb_kb_when when;
};

struct fb_kb_steps {
        struct fb_kb_step *v;
        size_t n;
};

struct fb_kb_strings {
        struct fb_kb_text *v;
        size_t n;
};

struct fb_kb_rule {
        char *rule;     /* Falco rule name, exact */
        char **aliases; /* names the rule had in earlier Falco releases */
        size_t n_aliases;
        enum fb_kb_source source;
        char **mitre; /* the most specific ATT&CK techniques ("T1003.008"), each in the KB */
        size_t n_mitre;
        char *detects; /* what the rule detects, one sentence fragment: "a process ..." */
        struct fb_kb_text explain;   /* why it matters, a paragraph */
        enum fb_verdict verdict;     /* when no evidence in the alert points elsewhere */
        char *analyzer;              /* rule-specific field analysis in triage ("memfd"), or NULL */
        struct fb_kb_strings benign; /* legitimate causes */
        struct fb_kb_steps investigate;
        struct fb_kb_steps contain;
        struct fb_kb_steps prevent;
        struct fb_kb_strings not_covered; /* what the prevention does not stop */
        char *origin;                     /* "file:line" where it was defined */
};

/* A rule Falco's rules no longer ship, with what became of it (Markdown). */
struct fb_kb_retired {
        char *rule;
        struct fb_kb_text note;
};

struct fb_kb_tactic {
        char *tag;  /* Falco tag, "mitre_execution" */
        char *id;   /* "TA0002" */
        char *name; /* "Execution" */
};

struct fb_kb_technique {
        char *id;   /* "T1059.004" */
        char *name; /* "Command and Scripting Interpreter: Unix Shell" */
};

struct fb_kb;

/* Loads the built-in knowledge base. Returns 0, or -EINVAL with *err (a broken build), -ENOMEM. */
int fb_kb_new_builtin(struct fb_kb **ret, struct fb_yaml_error *err, char *where, size_t wlen);

/* Loads one YAML file (or every *.yaml in a directory, in name order) on top of kb: rules with
 * the same name replace earlier ones; mitre entries are added. Returns 0, -EINVAL with *err and
 * the file name in where, -EFBIG, -E2BIG (too many files or rules), or -errno. */
int fb_kb_load_path(struct fb_kb *kb, const char *path, struct fb_yaml_error *err, char *where,
                    size_t wlen);

void fb_kb_free(struct fb_kb *kb);

/* "2026.11": the version of the built-in data (user files do not change it). */
const char *fb_kb_version(const struct fb_kb *kb);
/* Number of rules with a specific entry. */
size_t fb_kb_n_rules(const struct fb_kb *kb);
const struct fb_kb_rule *fb_kb_rule_at(const struct fb_kb *kb, size_t i);

/* The entry for a Falco rule name (its current name or an earlier one), or NULL. */
const struct fb_kb_rule *fb_kb_find(const struct fb_kb *kb, const char *rule);
/* What became of a rule Falco's rules no longer ship, or NULL. */
const struct fb_kb_retired *fb_kb_find_retired(const struct fb_kb *kb, const char *rule);
/* The entry used for rules without their own. Never NULL. */
const struct fb_kb_rule *fb_kb_generic(const struct fb_kb *kb);
/* Steps every alert in a container (or on the host) gets before the rule's own. */
const struct fb_kb_steps *fb_kb_common(const struct fb_kb *kb, const char *section);

const struct fb_kb_tactic *fb_kb_tactic(const struct fb_kb *kb, const char *tag);
/* Looks a tactic up by its id ("TA0003"), for rules tagged with a tactic id. */
const struct fb_kb_tactic *fb_kb_tactic_by_id(const struct fb_kb *kb, const char *id);
/* Looks up "T1059.004"; falls back to the parent technique "T1059" when the sub-technique is
 * unknown. */
const struct fb_kb_technique *fb_kb_technique(const struct fb_kb *kb, const char *id);

/* Command template variables; a KB command naming any other @{var} is rejected at load. */
extern const char *const fb_kb_template_vars[];
