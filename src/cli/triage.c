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

#define MAX_KB_PATHS 16

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

struct ctx {
        struct fb_kb *kb;
        bool json;
        const char *outdir;
        struct fb_report report;
        struct fb_buf out;
        unsigned long n_ok, n_bad;
        bool write_failed;
};

static int emit(struct ctx *c, const struct fb_alert *a) {
        int r;

        r = fb_triage(c->kb, a, &c->report);
        if (r < 0)
                return log_error_errno(r, "alert %s: cannot build the report: %m", a->id);
        fb_buf_reset(&c->out);
        r = c->json ? fb_report_json(&c->report, &c->out) : fb_report_md(&c->report, &c->out);
        if (r < 0)
                return log_error_errno(r, "alert %s: cannot render the report: %m", a->id);
        if (c->outdir) {
                char name[FB_ALERT_ID_MAX + 8];

                snprintf(name, sizeof(name), "%s.%s", a->id, c->json ? "json" : "md");
                r = fb_write_file_atomic(c->outdir, name, c->out.data, c->out.len, 0640);
                if (r < 0) {
                        c->write_failed = true;
                        return log_error_errno(r, "%s/%s: %m", c->outdir, name);
                }
                /* the rule name comes from the alert: escaped for the terminal */
                fb_buf_reset(&c->out);
                fb_escape_display(&c->out, a->rule, a->rule_len);
                printf("%s  %-11s  %s/%s  %s\n", a->id, fb_verdict_to_string(c->report.verdict),
                       c->outdir, name, fb_buf_cstr(&c->out) ? fb_buf_cstr(&c->out) : "");
        } else {
                if (!c->json && c->n_ok > 0)
                        fb_buf_puts(&c->out, "\n"); /* blank line between Markdown reports */
                r = fb_write_all(STDOUT_FILENO, c->out.data, c->out.len);
                if (r < 0) {
                        c->write_failed = true;
                        return log_error_errno(r, "standard output: %m");
                }
        }
        return 0;
}

static int triage_input(struct ctx *c, const char *path) {
        _cleanup_close_ int fd = -1;
        struct fb_alert_reader *rd = NULL;
        const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
        int r;

        fd = fb_open_input(path);
        if (fd < 0) {
                c->n_bad++;
                return log_error_errno(fd, "%s: %m", shown);
        }
        r = fb_alert_reader_new(fd, &rd);
        if (r < 0)
                return log_error_errno(r, "%s: %m", shown);
        for (;;) {
                const struct fb_alert *a;
                struct fb_alert_error err;

                r = fb_alert_reader_next(rd, &a, &err);
                if (r == 0)
                        break;
                if (r == -EINVAL) {
                        c->n_bad++;
                        log_error("%s: alert %zu (line %lu, column %lu): %s", shown, err.index,
                                  err.line, err.column, err.text);
                        continue;
                }
                if (r < 0) {
                        c->n_bad++;
                        log_error_errno(r, "%s: read error: %m", shown);
                        break;
                }
                if (emit(c, a) < 0) {
                        if (c->write_failed)
                                break;
                        c->n_bad++;
                        continue;
                }
                c->n_ok++;
        }
        fb_alert_reader_free(rd);
        return 0;
}

int fb_verb_triage(int argc, char **argv) {
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "output-dir", required_argument, NULL, 'o' },
                { "kb", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        char *kb_paths[MAX_KB_PATHS];
        int n_kb = 0, opt, i, r;
        struct ctx c = { 0 };

        while ((opt = getopt_long(argc, argv, "f:o:h", opts, NULL)) >= 0) {
                switch (opt) {
                case 'f':
                        if (strcmp(optarg, "md") == 0 || strcmp(optarg, "markdown") == 0)
                                c.json = false;
                        else if (strcmp(optarg, "json") == 0)
                                c.json = true;
                        else {
                                log_error("--format must be md or json");
                                return FB_EXIT_USAGE;
                        }
                        break;
                case 'o':
                        c.outdir = optarg;
                        break;
                case 'k':
                        if (n_kb >= MAX_KB_PATHS) {
                                log_error("at most %d --kb paths", MAX_KB_PATHS);
                                return FB_EXIT_USAGE;
                        }
                        kb_paths[n_kb++] = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        if (c.outdir && (r = fb_mkdir_p(c.outdir, 0750)) < 0) {
                log_error_errno(r, "%s: %m", c.outdir);
                return FB_EXIT_OUTPUT;
        }
        if (fb_cli_load_kb(kb_paths, n_kb, &c.kb) < 0)
                return FB_EXIT_USAGE;
        fb_report_init(&c.report);
        fb_buf_init(&c.out, FB_REPORT_MAX_BYTES);

        if (optind >= argc)
                triage_input(&c, "-");
        for (i = optind; i < argc && !c.write_failed; i++)
                triage_input(&c, argv[i]);

        fb_buf_free(&c.out);
        fb_report_done(&c.report);
        fb_kb_free(c.kb);
        if (c.outdir)
                fprintf(stderr, "firebreak: %lu report(s) written to %s, %lu alert(s) rejected\n",
                        c.n_ok, c.outdir, c.n_bad);
        if (c.write_failed)
                return FB_EXIT_OUTPUT;
        return c.n_bad ? FB_EXIT_INPUT : FB_EXIT_OK;
}
