/* respond.c: `firebreak respond`: triage, then the policy's actions through the engine, with a
 * Response section in each report and an audit line per decision. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firebreak/cli.h"
#include "firebreak/engine.h"
#include "firebreak/fileio.h"
#include "firebreak/kb.h"
#include "firebreak/log.h"
#include "firebreak/policy.h"
#include "firebreak/respond.h"
#include "firebreak/strutil.h"

#ifndef FB_SYSCONFDIR
#define FB_SYSCONFDIR "/etc"
#endif
#ifndef FB_STATEDIR
#define FB_STATEDIR "/var/lib/firebreak"
#endif

static void usage(FILE *f) {
        fprintf(f,
                "Usage: firebreak respond [OPTIONS] [FILE|-]...\n"
                "\n"
                "For every Falco alert: writes the triage report, decides by the policy what to\n"
                "do, and does it through the container engine: the report gains a Response\n"
                "section, and <state dir>/audit.jsonl a line per decision. With --dry-run (or\n"
                "mode: dry-run in the policy) the same decisions are recorded as \"would ...\"\n"
                "and no container is touched.\n"
                "\n"
                "Options:\n"
                "  -p, --policy FILE        response policy (default " FB_SYSCONFDIR
                "/firebreak/policy.yaml)\n"
                "  -n, --dry-run            decide and record, touch nothing (always wins)\n"
                "  -s, --state-dir DIR      evidence and audit log (default " FB_STATEDIR ")\n"
                "      --docker-socket PATH the Docker engine (default: DOCKER_HOST, unix://\n"
                "                           only, else /run/docker.sock)\n" FB_CLI_ENGINE_HELP
                "  -f, --format md|json     report format (default md)\n"
                "  -o, --output-dir DIR     one report file per alert instead of standard output\n"
                "      --kb PATH            add knowledge base YAML (repeatable)\n"
                "  -h, --help               show this help\n"
                "\n"
                "Exit status: 0 done; 1 some input was rejected; 2 usage, policy or knowledge\n"
                "base error; 3 a report could not be written; 4 an action failed in the engine.\n");
}

int fb_verb_respond(int argc, char **argv) {
        static const struct option opts[] = {
                { "policy", required_argument, NULL, 'p' },
                { "dry-run", no_argument, NULL, 'n' },
                { "state-dir", required_argument, NULL, 's' },
                { "docker-socket", required_argument, NULL, 'D' },
                { "format", required_argument, NULL, 'f' },
                { "output-dir", required_argument, NULL, 'o' },
                { "kb", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                FB_CLI_ENGINE_OPTIONS,
                {},
        };
        enum fb_engine_kind kind = FB_ENGINE_AUTO;
        const char *policy_path = FB_SYSCONFDIR "/firebreak/policy.yaml";
        struct fb_responder_config rcfg = { .state_dir = FB_STATEDIR };
        struct fb_engine_config ecfg = { 0 };
        struct fb_cli_reports c = { 0 };
        struct fb_policy *policy = NULL;
        struct fb_yaml_error err;
        struct fb_cli_report_opts o = { 0 };
        bool dry_run = false;
        int opt, r, rc, k;

        while ((opt = getopt_long(argc, argv, "p:ns:f:o:h", opts, NULL)) >= 0) {
                k = fb_cli_report_option(opt, optarg, &c, &o);
                if (k == 0)
                        k = fb_cli_engine_option(opt, optarg, &ecfg, &kind);
                if (k < 0)
                        return FB_EXIT_USAGE;
                if (k > 0)
                        continue;
                switch (opt) {
                case 'p':
                        policy_path = optarg;
                        break;
                case 'n':
                        dry_run = true;
                        break;
                case 's':
                        rcfg.state_dir = optarg;
                        break;
                case 'D':
                        ecfg.docker_socket = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        r = fb_policy_load(policy_path, &policy, &err);
        if (r == -EINVAL) {
                log_error("%s:%u:%u: %s", policy_path, err.line, err.column, err.text);
                return FB_EXIT_USAGE;
        }
        if (r < 0) {
                log_error_errno(r, "%s: %m", policy_path);
                return FB_EXIT_USAGE;
        }
        rcfg.policy = policy;
        rcfg.dry_run = dry_run || policy->dry_run;
        r = fb_engine_open(&ecfg, kind, &rcfg.engine);
        if (r < 0) {
                rcfg.engine_error = r;
                rcfg.engine = NULL;
                if (r == -EINVAL) {
                        log_error("DOCKER_HOST must be a unix:// address, and "
                                  "CONTAINERD_NAMESPACE namespace names");
                        fb_policy_free(policy);
                        return FB_EXIT_USAGE;
                }
                /* alerts are still reported; each action says the engine was unreachable */
                char what[2300];

                fb_engine_describe(&ecfg, kind, what, sizeof(what));
                log_warning_errno(r, "cannot reach %s: %m; alerts are reported, actions fail",
                                  what);
        }
        rcfg.report_dir = c.outdir;
        rcfg.report_ext = c.json ? "json" : "md";
        r = fb_responder_new(&rcfg, &c.responder);
        if (r < 0) {
                log_error_errno(r, "%s: cannot open the audit log: %m", rcfg.state_dir);
                rc = FB_EXIT_OUTPUT;
                goto out;
        }
        rc = fb_cli_reports_prepare(&c, &o);
        if (rc == 0)
                rc = fb_cli_reports_run(&c, argv + optind, argc - optind);
out:
        fb_kb_free(c.kb);
        fb_responder_free(c.responder);
        fb_engine_free(rcfg.engine);
        fb_policy_free(policy);
        return rc;
}

int fb_verb_policy(int argc, char **argv) {
        struct fb_policy *p = NULL;
        struct fb_yaml_error err;
        size_t i, j;
        int r;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: firebreak policy check FILE\n"
                       "\n"
                       "Loads a response policy and reports the first error with its line and\n"
                       "column, or summarises the rules. Exit status: 0 valid, 2 invalid.\n");
                return FB_EXIT_OK;
        }
        if (argc != 3 || strcmp(argv[1], "check") != 0) {
                log_error("usage: firebreak policy check FILE");
                return FB_EXIT_USAGE;
        }
        r = fb_policy_load(argv[2], &p, &err);
        if (r == -EINVAL) {
                log_error("%s:%u:%u: %s", argv[2], err.line, err.column, err.text);
                return FB_EXIT_USAGE;
        }
        if (r < 0) {
                log_error_errno(r, "%s: %m", argv[2]);
                return FB_EXIT_USAGE;
        }
        printf("%s: valid: mode %s; breaker %u disruptive actions per %llu s; alerts older than "
               "%llu s are not acted on; %zu protect entries; %zu rules\n",
               argv[2], p->dry_run ? "dry-run" : "enforce", p->max_disruptive_actions,
               (unsigned long long)p->window_s, (unsigned long long)p->max_alert_age_s,
               p->n_protect, p->n_rules);
        for (i = 0; i < p->n_rules; i++) {
                printf("  %s (line %u):", p->rules[i].name, p->rules[i].line);
                for (j = 0; j < p->rules[i].n_actions; j++)
                        printf(" %s", fb_action_to_string(p->rules[i].actions[j]));
                printf("%s", p->rules[i].cont ? " (continue)" : "");
                /* what the engine must report for the rule to apply, as it was normalized */
                if (p->rules[i].image)
                        printf(" [engine image %s]", p->rules[i].image);
                if (p->rules[i].image_id)
                        printf(" [engine image id %s]", p->rules[i].image_id);
                printf("\n");
        }
        fb_policy_free(p);
        return FB_EXIT_OK;
}
