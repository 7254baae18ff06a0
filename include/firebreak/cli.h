/* cli.h: the verbs of the firebreak command line, one file each under src/cli/. */
#pragma once

/* Exit codes, shared by every verb and documented in firebreak(8). */
enum {
        FB_EXIT_OK = 0,
        FB_EXIT_INPUT = 1,  /* some input was rejected (bad alert, unreadable file); rest done */
        FB_EXIT_USAGE = 2,  /* bad command line, or configuration/knowledge base invalid */
        FB_EXIT_OUTPUT = 3, /* a report or result could not be written */
        FB_EXIT_ENGINE = 4, /* the container engine could not be reached or failed */
};

#include <stdbool.h>

#include "firebreak/buf.h"
#include "firebreak/response.h"
#include "firebreak/triage.h"

struct fb_responder;

/* The loop that triage and respond share: read alerts from inputs, triage each, let the
 * responder act (respond only), render, write. */
struct fb_cli_reports {
        struct fb_kb *kb;
        bool json;
        const char *outdir;             /* NULL: reports on standard output */
        struct fb_responder *responder; /* NULL: triage only */
        /* state */
        struct fb_report report;
        struct fb_response response;
        struct fb_buf out;
        unsigned long n_ok, n_bad;
        bool write_failed, action_failed;
};

#define FB_CLI_MAX_KB_PATHS 16

/* Options both triage and respond take, collected before the run. */
struct fb_cli_report_opts {
        char *kb_paths[FB_CLI_MAX_KB_PATHS];
        int n_kb;
};

/* Handles -f/--format, -o/--output-dir and --kb (getopt value 'k') into c and o. Returns 1 when
 * opt was one of them, 0 when it was not, or -1 after logging a usage error. */
int fb_cli_report_option(int opt, const char *arg, struct fb_cli_reports *c,
                         struct fb_cli_report_opts *o);

/* Creates the output directory and loads the knowledge base. Returns 0 or an exit code. */
int fb_cli_reports_prepare(struct fb_cli_reports *c, const struct fb_cli_report_opts *o);

/* Processes every input ("-" is standard input; none means "-") and returns the exit code:
 * FB_EXIT_OUTPUT, FB_EXIT_ENGINE (an action failed), FB_EXIT_INPUT, or FB_EXIT_OK. */
int fb_cli_reports_run(struct fb_cli_reports *c, char **inputs, int n);

/* --engine docker|containerd|auto and --containerd-socket, as getopt values. */
#include "firebreak/engine.h"
enum { FB_CLI_OPT_ENGINE = 1000, FB_CLI_OPT_CONTAINERD_SOCKET };
#define FB_CLI_ENGINE_OPTIONS                                                                      \
        { "engine", required_argument, NULL, FB_CLI_OPT_ENGINE }, {                                \
                "containerd-socket", required_argument, NULL, FB_CLI_OPT_CONTAINERD_SOCKET         \
        }
#define FB_CLI_ENGINE_HELP                                                                         \
        "      --engine KIND        docker, containerd or auto (default: auto, Docker first)\n"    \
        "      --containerd-socket PATH  containerd's socket (default: CONTAINERD_ADDRESS,\n"      \
        "                           else /run/containerd/containerd.sock); CONTAINERD_NAMESPACE\n" \
        "                           narrows the namespaces searched (k8s.io, moby, default)\n"
/* Handles those options. Returns 1 when opt was one of them, 0 when not, -1 after a usage
 * error was logged. */
int fb_cli_engine_option(int opt, const char *arg, struct fb_engine_config *cfg,
                         enum fb_engine_kind *kind);
/* Opens the selected engine; logs why when it cannot. Returns 0 or -errno (-EINVAL: a
 * configuration error). */
int fb_cli_open_engine(const struct fb_engine_config *cfg, enum fb_engine_kind kind,
                       struct fb_engine **ret);

/* Each verb gets argv starting at its own name and returns an exit code. */
int fb_verb_triage(int argc, char **argv);
int fb_verb_container(int argc, char **argv);
int fb_verb_respond(int argc, char **argv);
int fb_verb_policy(int argc, char **argv);
int fb_verb_evidence(int argc, char **argv);
int fb_verb_seccomp(int argc, char **argv);
int fb_verb_harden(int argc, char **argv);
int fb_verb_serve(int argc, char **argv);

/* Loads the built-in knowledge base plus --kb paths (and /etc/firebreak/kb.d when present and
 * no --kb was given). Logs any error with its file, line and column. Returns 0 or -errno. */
struct fb_kb;
int fb_cli_load_kb(char **paths, int n_paths, struct fb_kb **ret);
