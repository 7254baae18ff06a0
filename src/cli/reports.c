/* reports.c: the alert loop triage and respond share: read, triage, respond, render, write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firebreak/alert.h"
#include "firebreak/cleanup.h"
#include "firebreak/cli.h"
#include "firebreak/fileio.h"
#include "firebreak/limits.h"
#include "firebreak/log.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/respond.h"
#include "firebreak/strutil.h"

static int emit_report(struct fb_cli_reports *c, const struct fb_alert *a) {
        int r;

        c->report.forms = c->json ? FB_REPORT_JSON : FB_REPORT_MD;
        r = fb_triage(c->kb, a, &c->report);
        if (r < 0)
                return log_error_errno(r, "alert %s: cannot build the report: %m", a->id);
        if (c->responder) {
                r = fb_respond(c->responder, a, &c->report, 0, &c->response);
                if (r < 0)
                        return log_error_errno(r, "alert %s: cannot write the audit log: %m",
                                               a->id);
                if (r > 0) {
                        size_t i;

                        c->action_failed = true;
                        for (i = 0; i < c->response.n_actions; i++)
                                if (c->response.actions[i].result == FB_ACT_FAILED)
                                        log_error(
                                                "alert %s: %s failed", a->id,
                                                fb_action_to_string(c->response.actions[i].action));
                }
                c->report.response = &c->response;
        }
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
                /* the index line, written at once like a report (not through stdio's buffer),
                 * so that it keeps its place among the error lines when both streams go to one
                 * file; the rule name comes from the alert: escaped for the terminal */
                fb_buf_reset(&c->out);
                fb_buf_printf(&c->out, "%s  %-11s  %s/%s  ", a->id,
                              fb_verdict_to_string(c->report.verdict), c->outdir, name);
                fb_escape_display(&c->out, a->rule, a->rule_len);
                fb_buf_putc(&c->out, '\n');
        } else if (!c->json && c->n_ok > 0)
                fb_buf_puts(&c->out, "\n"); /* blank line between Markdown reports */
        r = fb_write_all(STDOUT_FILENO, c->out.data, c->out.len);
        if (r < 0) {
                c->write_failed = true;
                return log_error_errno(r, "standard output: %m");
        }
        return 0;
}

static int emit(struct fb_cli_reports *c, const struct fb_alert *a) {
        int r = emit_report(c, a);

        /* notifications name the report: they go out once it is written (or failed) */
        if (c->responder)
                fb_respond_report_done(c->responder);
        return r;
}

static int triage_input(struct fb_cli_reports *c, const char *path) {
        _cleanup_close_ int fd = -1;
        struct fb_alert_reader *rd = NULL;
        const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
        size_t seen;
        int r;

        fd = fb_open_input(path);
        if (fd < 0) {
                c->n_bad++;
                return log_error_errno(fd, "%s: %m", shown);
        }
        r = fb_alert_reader_new(fd, &rd);
        if (r < 0)
                return log_error_errno(r, "%s: %m", shown);
        for (seen = 0;; seen++) {
                const struct fb_alert *a;
                struct fb_alert_error err;

                r = fb_alert_reader_next(rd, &a, &err);
                if (r == 0) {
                        /* an empty file, or only whitespace: say so rather than nothing */
                        if (seen == 0)
                                log_warning("%s: no alerts in it", shown);
                        break;
                }
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

int fb_cli_report_option(int opt, const char *arg, struct fb_cli_reports *c,
                         struct fb_cli_report_opts *o) {
        switch (opt) {
        case 'f':
                if (strcmp(arg, "md") == 0 || strcmp(arg, "markdown") == 0)
                        c->json = false;
                else if (strcmp(arg, "json") == 0)
                        c->json = true;
                else {
                        log_error("--format must be md or json");
                        return -1;
                }
                return 1;
        case 'o':
                c->outdir = arg;
                return 1;
        case 'k':
                if (o->n_kb >= FB_CLI_MAX_KB_PATHS) {
                        log_error("at most %d --kb paths", FB_CLI_MAX_KB_PATHS);
                        return -1;
                }
                o->kb_paths[o->n_kb++] = (char *)arg;
                return 1;
        default:
                return 0;
        }
}

int fb_cli_reports_prepare(struct fb_cli_reports *c, const struct fb_cli_report_opts *o) {
        int r;

        if (c->outdir && (r = fb_mkdir_p(c->outdir, 0750)) < 0) {
                log_error_errno(r, "%s: %m", c->outdir);
                return FB_EXIT_OUTPUT;
        }
        if (fb_cli_load_kb((char **)o->kb_paths, o->n_kb, &c->kb) < 0)
                return FB_EXIT_USAGE;
        return 0;
}

int fb_cli_reports_run(struct fb_cli_reports *c, char **inputs, int n) {
        int i;

        fb_report_init(&c->report);
        fb_buf_init(&c->out, FB_REPORT_MAX_BYTES);
        if (n == 0)
                triage_input(c, "-");
        for (i = 0; i < n && !c->write_failed; i++)
                triage_input(c, inputs[i]);
        fb_buf_free(&c->out);
        fb_report_done(&c->report);
        if (c->outdir)
                fprintf(stderr, "firebreak: %lu report(s) written to %s, %lu alert(s) rejected\n",
                        c->n_ok, c->outdir, c->n_bad);
        if (c->write_failed)
                return FB_EXIT_OUTPUT;
        if (c->action_failed)
                return FB_EXIT_ENGINE;
        return c->n_bad ? FB_EXIT_INPUT : FB_EXIT_OK;
}
