/* serve.h: `firebreak serve`, the response service: sources commit alerts to the store, one
 * pipeline processes them in order (triage, policy, actions, report), and the store records
 * each as done with its actions. Runs under systemd (Type=notify, watchdog, SIGHUP reload,
 * SIGTERM drain) or in the foreground. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "firebreak/engine.h"
#include "firebreak/yaml.h"

struct fb_serve_config {
        char path[1024];        /* the file it came from, "" for the defaults: SIGHUP rereads it */
        bool force_dry_run;     /* --dry-run: stays on whatever a reloaded file says */
        char state_dir[1024];   /* state.db, audit.jsonl, evidence/ */
        char reports_dir[1024]; /* one report per alert */
        bool json;              /* report format */
        char policy[1024];
        bool dry_run;
        /* processed alerts older than this are deleted, with their actions, reports and evidence
         * bundles; 0: kept for ever. An alert id is known as a duplicate as long as it is stored. */
        uint64_t retention_s;
        bool keep_evidence; /* retention leaves evidence bundles (the operator archives them) */
        /* repeats of an alert (rule, container, host) each within this of the one before fold
         * into the first as one incident; 0: never */
        uint64_t incident_window_s;
        /* firebreak's disk use (state_dir and reports_dir) bound: past half, evidence is not
         * collected and folded repeats keep no row; past it, the oldest processed alerts go
         * before retention would take them */
        uint64_t max_disk;
        enum fb_engine_kind engine;
        char docker_socket[1024], containerd_socket[1024];
        /* sources */
        bool stdin_source;
        char fifo[1024];            /* "" when none */
        char http_listen[128];      /* "127.0.0.1:8765" or "unix:/run/...", "" when none */
        char http_token_file[1024]; /* "": none (a unix socket only) */
        /* GET /metrics takes the ingest token, or this one (a scraper's, which cannot post) */
        char http_metrics_token_file[1024];
        size_t http_max_body;
        /* a unix socket's peers: the uids that may POST (SO_PEERCRED); default root only */
        uint32_t http_peer_uids[16];
        size_t n_http_peer_uids;
        bool journal;                /* follow the journal for Falco's syslog alerts */
        char journal_identifier[64]; /* SYSLOG_IDENTIFIER, "falco" */
        char journal_units[8][256];  /* the trusted writers (_SYSTEMD_UNIT) */
        size_t n_journal_units;
};

/* Defaults, then the YAML file at path (NULL: defaults only; every key optional; unknown keys
 * refused). Returns 0, -EINVAL with err, or -errno from reading. */
int fb_serve_config_load(const char *path, struct fb_serve_config *c, struct fb_yaml_error *err);
void fb_serve_config_defaults(struct fb_serve_config *c);
/* Applies a YAML document over c (call fb_serve_config_defaults() first). */
int fb_serve_config_parse(const char *data, size_t len, struct fb_serve_config *c,
                          struct fb_yaml_error *err);

struct fb_policy;
/* `serve --check`: what a start would refuse, found without starting anything: the policy the
 * configuration names loads, the HTTP token file reads and is long enough, the FIFO is a FIFO.
 * Binds nothing, opens no store, creates nothing. Each problem is logged with its file (and
 * line and column). Returns 0 with *policy (fb_policy_free() it) and *token_len (0: no token
 * file), or -EINVAL after logging every problem found. */
int fb_serve_config_verify(const struct fb_serve_config *c, struct fb_policy **policy,
                           size_t *token_len);

/* Runs until SIGTERM or SIGINT. SIGHUP rereads the configuration and the policy it names, and
 * puts them in force together, or neither: the reports, format, dry-run, policy and engine
 * keys take effect at once; a changed state_dir or source is logged and waits for a restart.
 * Returns an exit code. */
int fb_serve_run(const struct fb_serve_config *c);
