/* serve.c: `firebreak serve`, and `history` / `show` over its store. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/cli.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/policy.h"
#include "firebreak/serve.h"
#include "firebreak/store.h"
#include "firebreak/strutil.h"

#define DEFAULT_CONFIG FB_SYSCONFDIR "/firebreak/firebreak.yaml"
#define MAX_SINCE_S (3650ull * 86400) /* ten years, as retention */

static void usage(FILE *f) {
        fprintf(f, "Usage: firebreak serve [--config FILE] [--dry-run] [--stdin] [--check]\n"
                   "       firebreak history [--config FILE] [--since AGE] [--status S]\n"
                   "       firebreak show [--config FILE] ID\n"
                   "\n"
                   "serve    the response service: sources (the journal, HTTP, a FIFO, standard\n"
                   "         input) commit each alert to the store before acknowledging it (the\n"
                   "         journal: only entries from the configured Falco units; its cursor\n"
                   "         advances once the alert is processed); one pipeline\n"
                   "         triages, decides, acts and writes the report, then marks it done.\n"
                   "         Alerts stored but not processed at the last stop go first. Under\n"
                   "         systemd: READY=1, STATUS=, WATCHDOG=1; SIGHUP rereads the\n"
                   "         configuration and its policy and puts both in force, or neither\n"
                   "         (state_dir and sources wait for a restart); SIGTERM finishes the\n"
                   "         alert in progress and stops.\n"
                   "history  one JSON line per stored alert (status, verdict, report, actions)\n"
                   "show     one alert: its body as received and every action, as JSON; ID\n"
                   "         may be the start of an id, as long as one alert's id starts so\n"
                   "\n"
                   "Options:\n"
                   "  -c, --config FILE   default " DEFAULT_CONFIG " (when present)\n"
                   "  -n, --dry-run       decide and record, touch nothing\n"
                   "      --check         serve: check the configuration, the policy it names,\n"
                   "                      the token file and the FIFO, print what would run,\n"
                   "                      and exit (0 valid, 2 not); starts nothing\n"
                   "      --stdin         also read JSON lines from standard input; the only\n"
                   "                      source, it stops the service once it ends and its\n"
                   "                      alerts are processed (Falco's program_output)\n"
                   "      --since AGE     history: only alerts received at most AGE ago: seconds,\n"
                   "                      or a duration such as 15m, 2h or 7d\n"
                   "      --status S      history: only alerts that are pending, done or failed\n"
                   "  -h, --help          show this help\n"
                   "\n"
                   "Exit status: 0 stopped cleanly, or found; 1 no such alert (or, for the start\n"
                   "of an id, several); 2 usage or configuration error; 3 the store could not\n"
                   "be read.\n");
}

/* serve --check: the configuration loaded; the rest checked and summarised. */
static int check(const char *path, const struct fb_serve_config *c, bool dry) {
        struct fb_policy *p;
        size_t token_len, i;
        const char *sep = "";

        if (fb_serve_config_verify(c, &p, &token_len) < 0)
                return FB_EXIT_USAGE;
        printf("%s: valid; the service would run in %s mode", path,
               dry || c->dry_run || p->dry_run ? "dry-run" : "enforce");
        if (dry || c->dry_run || p->dry_run)
                printf(" (%s)", dry          ? "--dry-run"
                                : c->dry_run ? "dry_run: true"
                                             : "the policy's mode");
        printf("\n  state %s; reports %s (%s); ", c->state_dir, c->reports_dir,
               c->json ? "json" : "md");
        if (!c->retention_s)
                printf("processed alerts kept for ever\n");
        else if (c->retention_s % 86400 == 0)
                printf("processed alerts kept %llu d, %s\n",
                       (unsigned long long)c->retention_s / 86400,
                       c->keep_evidence ? "their evidence for ever" : "with their evidence");
        else
                printf("processed alerts kept %llu s, %s\n", (unsigned long long)c->retention_s,
                       c->keep_evidence ? "their evidence for ever" : "with their evidence");
        printf("  policy %s: mode %s; %zu rules; breaker %u disruptive actions per %llu s\n",
               c->policy, p->dry_run ? "dry-run" : "enforce", p->n_rules, p->max_disruptive_actions,
               (unsigned long long)p->window_s);
        printf("  engine %s", fb_engine_kind_to_string(c->engine));
        if (c->engine != FB_ENGINE_CONTAINERD)
                printf(", docker %s", c->docker_socket[0] ? c->docker_socket
                                                          : "(DOCKER_HOST, else /run/docker.sock)");
        if (c->engine != FB_ENGINE_DOCKER)
                printf(", containerd %s", c->containerd_socket[0]
                                                  ? c->containerd_socket
                                                  : "/run/containerd/containerd.sock");
        printf(" (not contacted by --check)");
        printf("\n  sources:");
        if (c->journal) {
                printf(" journal (%s from", c->journal_identifier);
                for (i = 0; i < c->n_journal_units; i++)
                        printf("%s %s", i ? "," : "", c->journal_units[i]);
                printf(")");
                sep = ";";
        }
        if (c->http_listen[0]) {
                printf("%s http %s", sep, c->http_listen);
                if (token_len)
                        printf(" (token of %zu characters: bearer, or Basic auth password)",
                               token_len);
                if (strncmp(c->http_listen, "unix:", 5) == 0) {
                        printf(" (peer uids:");
                        for (i = 0; i < c->n_http_peer_uids; i++)
                                printf(" %u", c->http_peer_uids[i]);
                        printf("%s)", c->n_http_peer_uids ? "" : " 0");
                }
                sep = ";";
        }
        if (c->fifo[0]) {
                printf("%s fifo %s", sep, c->fifo);
                sep = ";";
        }
        if (c->stdin_source) {
                printf("%s stdin", sep);
                sep = ";";
        }
        printf("%s\n", sep[0] ? "" : " none: only alerts already stored would be processed");
        fb_policy_free(p);
        return FB_EXIT_OK;
}

static int load(const char *path, bool given, struct fb_serve_config *c) {
        struct fb_yaml_error err = { 0 };
        int r;

        if (!given && access(path, F_OK) != 0)
                path = NULL; /* no config file: the defaults */
        r = fb_serve_config_load(path, c, &err);
        if (r == -EINVAL)
                log_error("%s:%u:%u: %s", path, err.line, err.column, err.text);
        else if (r < 0)
                log_error_errno(r, "%s: %m", path);
        return r;
}

int fb_verb_serve(int argc, char **argv) {
        enum { O_STDIN = 256, O_SINCE, O_CHECK, O_STATUS };
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "dry-run", no_argument, NULL, 'n' },
                { "stdin", no_argument, NULL, O_STDIN },
                { "since", required_argument, NULL, O_SINCE },
                { "check", no_argument, NULL, O_CHECK },
                { "status", required_argument, NULL, O_STATUS },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *config = DEFAULT_CONFIG, *verb = argv[0], *status = NULL;
        struct fb_serve_config c;
        struct fb_store *st = NULL;
        struct fb_buf out;
        bool given = false, dry = false, in = false, chk = false;
        uint64_t since = 0;
        char path[1100];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "c:nh", opts, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        config = optarg;
                        given = true;
                        break;
                case 'n':
                        dry = true;
                        break;
                case O_STDIN:
                        in = true;
                        break;
                case O_CHECK:
                        chk = true;
                        break;
                case O_STATUS:
                        if (strcmp(optarg, "pending") != 0 && strcmp(optarg, "done") != 0 &&
                            strcmp(optarg, "failed") != 0) {
                                log_error("--status takes pending, done or failed");
                                return FB_EXIT_USAGE;
                        }
                        status = optarg;
                        break;
                case O_SINCE:
                        /* seconds, or a duration as the policy writes one: 15m, 2h, 7d */
                        if (fb_parse_uint64(optarg, strlen(optarg), &since) < 0 &&
                            fb_parse_duration_max(optarg, MAX_SINCE_S, &since) < 0) {
                                log_error("--since takes a number of seconds or a duration such "
                                          "as 15m, 2h or 7d");
                                return FB_EXIT_USAGE;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        if (load(config, given, &c) < 0)
                return FB_EXIT_USAGE;
        if (strcmp(verb, "serve") == 0) {
                if (optind != argc) {
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
                c.stdin_source |= in;
                if (chk)
                        return check(given || access(config, F_OK) == 0 ? config
                                                                        : "(no file: the defaults)",
                                     &c, dry);
                c.dry_run |= dry;
                c.force_dry_run = dry;
                if (given || access(config, F_OK) == 0)
                        snprintf(c.path, sizeof(c.path), "%s", config);
                return fb_serve_run(&c);
        }
        if ((strcmp(verb, "show") == 0) != (argc - optind == 1) || argc - optind > 1) {
                usage(stderr);
                return FB_EXIT_USAGE;
        }
        snprintf(path, sizeof(path), "%s/state.db", c.state_dir);
        if (access(path, R_OK) != 0) {
                log_error("%s: no store here (has firebreak serve run with this config?)", path);
                return FB_EXIT_OUTPUT;
        }
        r = fb_store_open_readonly(path, &st);
        if (r < 0) {
                log_error_errno(r, "%s: %m", path);
                return FB_EXIT_OUTPUT;
        }
        fb_buf_init(&out, 256u << 20);
        if (strcmp(verb, "show") == 0)
                r = fb_store_show(st, argv[optind], &out);
        else
                r = fb_store_history(st, since ? (int64_t)time(NULL) - (int64_t)since : 0, status,
                                     &out);
        fb_store_close(st);
        if (r == -ENOENT || r == -ENOTUNIQ) {
                fb_buf_free(&out);
                if (r == -ENOENT)
                        log_error("no alert with that id in %s", path);
                else
                        log_error("more than one alert's id starts with \"%s\": give more of it",
                                  argv[optind]);
                return FB_EXIT_INPUT;
        }
        if (r >= 0 && out.len)
                r = fb_write_all(STDOUT_FILENO, out.data, out.len);
        fb_buf_free(&out);
        if (r < 0) {
                log_error_errno(r, "%m");
                return FB_EXIT_OUTPUT;
        }
        return FB_EXIT_OK;
}
