/* main.c: firebreak's entry point: global options and verb dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "firebreak/cli.h"
#include "firebreak/log.h"
#include "firebreak/triage.h"

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} verbs[] = {
        { "triage", fb_verb_triage, "write a triage report for each Falco alert" },
        { "respond", fb_verb_respond, "triage, then act on the container as the policy says" },
        { "container", fb_verb_container, "inspect, pause or unpause a container by id" },
        { "policy", fb_verb_policy, "check a response policy file" },
        { "evidence", fb_verb_evidence, "verify an evidence bundle against its manifest" },
        { "seccomp", fb_verb_seccomp, "generate, check and test a profile that denies memfd exec" },
        { "harden", fb_verb_harden, "roll the memfd profile out to a Docker host; audit it" },
        { "serve", fb_verb_serve, "the response service (systemd, HTTP, FIFO, stdin; SQLite)" },
        { "history", fb_verb_serve, "alerts the service stored, one JSON line each" },
        { "show", fb_verb_serve, "one stored alert with its actions" },
};

static void usage(FILE *f) {
        size_t i;

        fprintf(f, "Usage: firebreak [--verbose] VERB [OPTIONS] [ARGS]\n"
                   "       firebreak --help | --version\n"
                   "\n"
                   "An automated responder for Falco runtime-security alerts.\n"
                   "\n"
                   "Verbs:\n");
        for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\n'firebreak VERB --help' describes a verb; firebreak(8) describes all.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "verbose", no_argument, NULL, 'v' },
                {},
        };
        size_t i;
        int c;

        /* stop at the verb: its options are its own */
        while ((c = getopt_long(argc, argv, "+hVv", opts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                case 'V':
                        printf("firebreak %s\n", FB_VERSION);
                        return FB_EXIT_OK;
                case 'v':
                        fb_log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return FB_EXIT_USAGE;
        }
        for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                if (strcmp(argv[optind], verbs[i].name) == 0) {
                        int vargc = argc - optind;
                        char **vargv = argv + optind;

                        optind = 0; /* reset getopt for the verb (glibc: 0 re-initializes) */
                        return verbs[i].run(vargc, vargv);
                }
        log_error("unknown verb '%s'; see 'firebreak --help'", argv[optind]);
        return FB_EXIT_USAGE;
}
