/* triage.c: `firebreak triage`: a report for every alert, no engine, no policy. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firebreak/alert.h"
#include "firebreak/cleanup.h"
#include "firebreak/cli.h"
#include "firebreak/fileio.h"
#include "firebreak/kb.h"
#include "firebreak/limits.h"
#include "firebreak/log.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/strutil.h"
#include "firebreak/triage.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: firebreak triage [OPTIONS] [FILE|-]...\n"
                "\n"
                "Writes a triage report for every Falco alert in FILE (standard input when no\n"
                "FILE or '-'). Input: one JSON alert, JSON lines, or JSON arrays of alerts.\n"
                "Nothing is contacted and nothing is changed.\n"
                "\n"
                "Options:\n"
                "  -f, --format md|json   report format (default md)\n"
                "  -o, --output-dir DIR   write DIR/<alert-id>.md|.json and print one line per\n"
                "                         alert, instead of the reports on standard output\n"
                "      --kb PATH          add knowledge base YAML (a file, or a directory of\n"
                "                         *.yaml); repeatable; replaces /etc/firebreak/kb.d\n"
                "  -h, --help             show this help\n"
                "\n"
                "Exit status: 0 all alerts reported; 1 some input was rejected (the rest was\n"
                "reported); 2 usage or knowledge base error; 3 a report could not be written.\n");
}

int fb_verb_triage(int argc, char **argv) {
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "output-dir", required_argument, NULL, 'o' },
                { "kb", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct fb_cli_report_opts o = { 0 };
        struct fb_cli_reports c = { 0 };
        int opt, k, rc;

        while ((opt = getopt_long(argc, argv, "f:o:h", opts, NULL)) >= 0) {
                k = fb_cli_report_option(opt, optarg, &c, &o);
                if (k < 0)
                        return FB_EXIT_USAGE;
                if (k > 0)
                        continue;
                if (opt == 'h') {
                        usage(stdout);
                        return FB_EXIT_OK;
                }
                usage(stderr);
                return FB_EXIT_USAGE;
        }
        rc = fb_cli_reports_prepare(&c, &o);
        if (rc != 0)
                return rc;
        rc = fb_cli_reports_run(&c, argv + optind, argc - optind);
        fb_kb_free(c.kb);
        return rc;
}
