/* policy.h: the operator's response policy (YAML): which alerts get which actions, and the
 * guards that limit them. Loading validates everything and reports errors with line and
 * column; a plan that contradicts the engine's semantics (stop or kill after pause, which would
 * unpause the container) is rejected. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/alert.h"
#include "firebreak/engine.h"
#include "firebreak/yaml.h"

enum fb_action {
        FB_ACTION_INSPECT, /* evidence bundle: inspect, top, changes, logs, manifest */
        FB_ACTION_PAUSE,
        FB_ACTION_STOP,
        FB_ACTION_KILL,
        FB_ACTION_CAPTURE, /* memfd executables of the container's processes, with /proc facts */
        FB_ACTION_NOTIFY,  /* every notifier of the policy; runs after the other actions */
        FB_ACTION_MEMFD_NOEXEC, /* vm.memfd_noexec=2 in the container's pid namespace */
        _FB_ACTION_MAX,
};

const char *fb_action_to_string(enum fb_action a);
/* pause, stop, kill and memfd-noexec change a container; inspect, capture and notify do not */
bool fb_action_is_disruptive(enum fb_action a);

#define FB_POLICY_MAX_ACTIONS 8u
#define FB_POLICY_MAX_RULES 256u
/* How many rules can apply to one alert: rules with `continue: true` chain, so a policy may
 * have at most FB_POLICY_MAX_MATCHED - 1 of them (checked at load: a longer chain was cut
 * without a word at respond's buffer). */
#define FB_POLICY_MAX_MATCHED 16u
#define FB_POLICY_MAX_PROTECT 256u

enum fb_protect_kind {
        FB_PROTECT_NAME,  /* container.name: glob */
        FB_PROTECT_IMAGE, /* container.image.repository: glob */
        FB_PROTECT_LABEL, /* container.label: "key=value glob" */
        FB_PROTECT_K8S_NS /* k8s.ns.name: glob */
};

struct fb_protect {
        enum fb_protect_kind kind;
        char *pattern; /* for labels: "key=value" */
};

#define FB_POLICY_MAX_NOTIFIERS 16u
#define FB_NOTIFIER_MAX_HEADERS 16u
#define FB_NOTIFIER_MAX_URL 2048u
#define FB_NOTIFIER_MAX_SECRET 4096u

enum fb_notify_format {
        FB_NOTIFY_WEBHOOK, /* JSON: verdict, summary, actions, report */
        FB_NOTIFY_SLACK,   /* Slack-compatible incoming webhook: {"text": ...} */
};

struct fb_notifier_config {
        char *name;
        enum fb_notify_format format;
        char *url;       /* http:// or https://; a secret when it came from url_file */
        bool url_secret; /* never shown: logs and audit lines name the notifier only */
        char **headers;  /* "Name: value"; values from header_files are secrets too */
        size_t n_headers;
        unsigned timeout_ms; /* per attempt */
        unsigned retries;    /* further attempts after the first fails */
        unsigned backoff_ms; /* before the first retry; doubles each time */
};

struct fb_policy_rule {
        char *name;
        unsigned line;
        /* match */
        char **rules; /* exact names or globs; none = any */
        size_t n_rules;
        bool has_priority;
        char prio_op; /* '>' means ">=" (at least as severe), '<' "<=", '=' */
        enum fb_priority priority;
        char **tags; /* all must be present */
        size_t n_tags;
        char *source;                     /* NULL = any */
        char **field_keys, **field_globs; /* "!" prefix negates */
        size_t n_fields;
        /* `container:` conditions on what the engine reports, which no alert can forge: the
         * image's repository, exactly (normalized: "docker.io/library/alpine"), and the image
         * id ("sha256:" and 64 hex digits). NULL = any. A rule with one matches only a
         * container the engine has inspected, whole. */
        char *image;
        char *image_id;
        /* then */
        enum fb_action actions[FB_POLICY_MAX_ACTIONS];
        size_t n_actions;
        bool cont; /* continue to later rules after this one matches */
};

struct fb_policy {
        bool dry_run; /* mode: dry-run */
        unsigned max_disruptive_actions;
        uint64_t window_s;
        uint64_t max_alert_age_s;
        struct fb_protect *protect;
        size_t n_protect;
        struct fb_policy_rule *rules;
        size_t n_rules;
        struct fb_notifier_config *notifiers;
        size_t n_notifiers;
};

/* Parses a policy. Returns 0, -EINVAL with *err (line, column, text), -EFBIG or -ENOMEM. */
int fb_policy_parse(const char *data, size_t len, struct fb_policy **ret,
                    struct fb_yaml_error *err);
/* Reads and parses a file. Also -errno from reading. */
int fb_policy_load(const char *path, struct fb_policy **ret, struct fb_yaml_error *err);
void fb_policy_free(struct fb_policy *p);

/* The rules that match an alert, in order: the first match, and further ones while a
 * matching rule says continue. c is the container as the engine reported it, NULL when it is
 * not known (no engine, no such container): then no rule with `container:` conditions
 * matches. Returns how many were stored in ret (at most max). */
size_t fb_policy_match(const struct fb_policy *p, const struct fb_alert *a,
                       const struct fb_container *c, const struct fb_policy_rule **ret, size_t max);
/* Whether matching this alert depends on the engine's facts: a rule with `container:`
 * conditions matches the alert's own fields before a rule without them has decided. The
 * alert's container must then be inspected before the rules are matched; for any other alert
 * no engine call is made for matching. */
bool fb_policy_needs_container(const struct fb_policy *p, const struct fb_alert *a);

/* "10m" -> 600. Units s, m, h, d; at most 30 days (_max: at most max_s seconds). Returns 0 or
 * -EINVAL. */
int fb_parse_duration(const char *s, uint64_t *ret);
int fb_parse_duration_max(const char *s, uint64_t max_s, uint64_t *ret);
