/* report_md.c: Markdown rendering. Every alert value arrives here either inside report texts
 * (already code spans) or as a field, which is rendered with fb_md_code(). */
#include "firebreak/report_md.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "firebreak/strutil.h"

static void text(struct fb_buf *b, const struct fb_report *r, struct fb_text t) {
        fb_buf_put(b, fb_report_str(r, t), t.len);
}

/* A report text inside a table cell: texts carry code spans made for running text, so every '|'
 * gets the backslash GFM needs to keep the cell whole (a display-escaped value never ends in a
 * lone backslash: fb_escape_display() doubles them). */
static void cell(struct fb_buf *b, const struct fb_report *r, struct fb_text t) {
        const char *s = fb_report_str(r, t), *end = s + t.len;

        while (s < end) {
                const char *bar = memchr(s, '|', (size_t)(end - s));

                if (!bar) {
                        fb_buf_put(b, s, (size_t)(end - s));
                        break;
                }
                fb_buf_put(b, s, (size_t)(bar - s));
                fb_buf_puts(b, "\\|");
                s = bar + 1;
        }
}

static void field_value(struct fb_buf *b, const struct fb_field *f) {
        char num[64];
        size_t len;

        switch (f->type) {
        case FB_VALUE_STRING:
                fb_md_code(b, f->str, f->len, true);
                return;
        case FB_VALUE_INT:
                num[0] = '`';
                len = 1 + fb_format_int64(num + 1, f->i);
                num[len++] = '`';
                num[len] = '\0';
                break;
        case FB_VALUE_UINT:
                snprintf(num, sizeof(num), "`%" PRIu64 "`", f->u);
                break;
        case FB_VALUE_REAL:
                num[0] = '`';
                len = 1 + fb_format_double(num + 1, f->d);
                num[len++] = '`';
                num[len] = '\0';
                break;
        case FB_VALUE_BOOL:
                snprintf(num, sizeof(num), "`%s`", f->i ? "true" : "false");
                break;
        case FB_VALUE_NULL:
                snprintf(num, sizeof(num), "*not set*");
                break;
        case FB_VALUE_LIST:
                /* the items, each as a value of its own: a list of 0 says so */
                if (f->len == 0)
                        fb_buf_puts(b, "*empty list*");
                for (size_t i = 0; i < f->len; i++) {
                        struct fb_field x = fb_field_item(f, i);

                        if (i)
                                fb_buf_puts(b, ", ");
                        field_value(b, &x); /* a scalar: no deeper */
                }
                return;
        }
        fb_buf_puts(b, num);
}

static void steps(struct fb_buf *b, const struct fb_report *r, const char *heading,
                  const struct fb_report_step *s, size_t n) {
        size_t i;

        if (n == 0)
                return;
        fb_buf_puts(b, "\n## ");
        fb_buf_puts(b, heading);
        fb_buf_putc(b, '\n');
        for (i = 0; i < n; i++) {
                fb_buf_putc(b, '\n');
                text(b, r, s[i].text);
                fb_buf_putc(b, '\n');
                if (s[i].commands.len) {
                        fb_buf_puts(b, "```sh\n");
                        text(b, r, s[i].commands);
                        fb_buf_puts(b, "\n```\n");
                }
                if (s[i].omitted.len) {
                        fb_buf_puts(b, "\n*");
                        text(b, r, s[i].omitted);
                        fb_buf_puts(b, "*\n");
                }
        }
}

static void list(struct fb_buf *b, const struct fb_report *r, const struct fb_text *t, size_t n) {
        size_t i;

        for (i = 0; i < n; i++) {
                fb_buf_puts(b, "- ");
                text(b, r, t[i]);
                fb_buf_putc(b, '\n');
        }
}

static void response(struct fb_buf *b, const struct fb_response *x) {
        size_t i;

        fb_buf_puts(b, "\n## Response\n\n");
        if (x->rules[0]) {
                fb_buf_puts(b, "Policy rule ");
                fb_md_code(b, x->rules, strlen(x->rules), false);
                fb_buf_puts(b, x->dry_run ? ", **dry-run**: decided and recorded, nothing touched"
                                          : ", enforce");
                fb_buf_puts(b, ".");
                if (x->target[0]) {
                        fb_buf_puts(b, " Target: container `");
                        fb_buf_puts(b, x->target); /* 64 hex digits, from the engine */
                        fb_buf_puts(b, "` (the alert's id resolved through ");
                        fb_buf_puts(b, x->engine);
                        if (x->engine_ns[0]) {
                                fb_buf_puts(b, ", namespace ");
                                fb_md_code(b, x->engine_ns, strlen(x->engine_ns), false);
                        }
                        fb_buf_puts(b, ").");
                        if (x->k8s_pod[0]) {
                                /* labels are the creator's text */
                                fb_buf_puts(b, " Kubernetes: pod ");
                                fb_md_code(b, x->k8s_pod, strlen(x->k8s_pod), false);
                                fb_buf_puts(b, " in namespace ");
                                fb_md_code(b, x->k8s_namespace, strlen(x->k8s_namespace), false);
                                fb_buf_puts(b, ", container ");
                                fb_md_code(b, x->k8s_container, strlen(x->k8s_container), false);
                                fb_buf_puts(b, ".");
                        }
                }
                fb_buf_putc(b, '\n');
        }
        if (x->note[0]) {
                fb_buf_puts(b, x->note); /* firebreak's own text */
                fb_buf_putc(b, '\n');
        }
        if (x->queued_s > 0)
                fb_buf_printf(b,
                              "The alert waited %lld s in firebreak's queue before this response; "
                              "its age for `max_alert_age` is counted at receipt.\n",
                              (long long)x->queued_s);
        if (x->n_actions)
                fb_buf_putc(b, '\n');
        for (i = 0; i < x->n_actions; i++) {
                const struct fb_response_action *a = &x->actions[i];
                char ms[32];

                fb_buf_puts(b, "- `");
                fb_buf_puts(b, fb_action_to_string(a->action));
                fb_buf_puts(b, "`: **");
                fb_buf_puts(b, fb_act_result_to_string(a->result));
                fb_buf_puts(b, "**");
                if (a->result == FB_ACT_DONE || a->result == FB_ACT_ALREADY ||
                    a->result == FB_ACT_FAILED) {
                        snprintf(ms, sizeof(ms), " in %.1f ms", (double)a->duration_us / 1000.0);
                        fb_buf_puts(b, ms);
                }
                fb_buf_puts(b, " — ");
                /* details can quote the engine, which quotes container names */
                fb_md_code(b, a->detail, strlen(a->detail), false);
                fb_buf_putc(b, '\n');
        }
        if (x->n_captures) {
                fb_buf_puts(b, "\nFileless payloads captured from the container's processes (the "
                               "image behind `/proc/PID/exe`):\n\n"
                               "| pid | executable | size | SHA-256 | file | ELF |\n"
                               "|---|---|---|---|---|---|\n");
                for (i = 0; i < x->n_captures; i++) {
                        const struct fb_response_capture *c = &x->captures[i];

                        fb_buf_printf(b, "| %d | ", c->pid);
                        /* the memfd's name is the attacker's choice */
                        fb_md_code(b, c->exe, strlen(c->exe), true);
                        fb_buf_printf(b, " | %llu%s | `%s` | `%s/%s` | ",
                                      (unsigned long long)c->size,
                                      c->truncated ? " (truncated)" : "", c->sha256,
                                      x->evidence_dir, c->file);
                        fb_md_code(b, c->elf, strlen(c->elf), true);
                        fb_buf_puts(b, " |\n");
                }
        }
        if (x->manifest_sha256[0]) {
                fb_buf_puts(b, "\nEvidence bundle: ");
                fb_md_code(b, x->evidence_dir, strlen(x->evidence_dir), false);
                fb_buf_puts(b, ", manifest SHA-256 `");
                fb_buf_puts(b, x->manifest_sha256);
                fb_buf_puts(
                        b,
                        "`. Check that nothing in it changed:\n\n```sh\nfirebreak evidence verify "
                        "--manifest-sha256 ");
                fb_buf_puts(b, x->manifest_sha256);
                fb_buf_putc(b, ' ');
                fb_shell_quote(b, x->evidence_dir, strlen(x->evidence_dir));
                fb_buf_puts(b, "\n```\n");
        }
}

int fb_report_md(const struct fb_report *r, struct fb_buf *b) {
        const struct fb_alert *a = r->alert;
        const char *note;
        size_t i;

        fb_buf_puts(b, "# Alert Analysis Report — ");
        text(b, r, r->title);
        fb_buf_puts(b, "\n\n## Summary\n");
        text(b, r, r->headline);
        fb_buf_puts(b, "\n\n**Verdict: ");
        fb_buf_puts(b, fb_verdict_phrase(r->verdict));
        fb_buf_puts(b, "** (confidence ");
        fb_buf_puts(b, fb_confidence_to_string(r->confidence));
        fb_buf_puts(b, ", severity ");
        fb_buf_puts(b, fb_severity_to_string(r->severity));
        fb_buf_puts(b, ").\n\n");
        list(b, r, r->reasons, r->n_reasons);

        fb_buf_puts(b, "\n| | |\n|---|---|\n| Alert id | `");
        fb_buf_puts(b, a->id); /* hex or a checked uuid */
        fb_buf_puts(b, a->id_from_uuid ? "` (uuid) |\n| Rule / priority / source | "
                                       : "` (hash of the alert) |\n| Rule / priority / source | ");
        cell(b, r, r->title);
        fb_buf_puts(b, " / ");
        fb_buf_puts(b, fb_priority_to_string(a->priority));
        fb_buf_puts(b, " / ");
        if (a->source)
                fb_md_code(b, a->source, strlen(a->source), true);
        else
                fb_buf_puts(b, "*not set*");
        fb_buf_puts(b, " |\n| MITRE ATT&CK | ");
        cell(b, r, r->mitre_line);
        fb_buf_puts(b, " |\n| Host | ");
        if (a->hostname)
                fb_md_code(b, a->hostname, a->hostname_len, true);
        else
                fb_buf_puts(b, "*not set*");
        fb_buf_puts(b, " |\n| Where | ");
        cell(b, r, r->where);
        fb_buf_puts(b, " |\n");

        fb_buf_puts(b, "\n## Event details\n\n| Falco field | value |\n|---|---|\n| `time` | `");
        fb_buf_puts(b, a->time); /* RFC 3339, checked */
        fb_buf_puts(b, "` |\n");
        if (a->n_tags) {
                fb_buf_puts(b, "| `tags` | ");
                for (i = 0; i < a->n_tags; i++) {
                        if (i)
                                fb_buf_puts(b, ", ");
                        fb_md_code(b, a->tags[i], strlen(a->tags[i]), true);
                }
                fb_buf_puts(b, " |\n");
        }
        for (i = 0; i < a->n_fields; i++) {
                const struct fb_field *f = &a->fields[i];

                fb_buf_puts(b, "| ");
                fb_md_code(b, f->key, f->key_len, true);
                fb_buf_puts(b, " | ");
                field_value(b, f);
                note = fb_triage_placeholder(r, f);
                if (note) {
                        fb_buf_puts(b, " *(");
                        fb_buf_puts(b, note);
                        fb_buf_puts(b, ")*");
                }
                fb_buf_puts(b, " |\n");
        }
        if (a->n_fields == 0)
                fb_buf_puts(b, "| *output_fields* | *none in the alert* |\n");
        if (a->n_left_out) {
                fb_buf_printf(b,
                              "| *left out* | %zu field%s or tag%s whose name%s Falco never writes "
                              "(first: ",
                              a->n_left_out, a->n_left_out == 1 ? "" : "s",
                              a->n_left_out == 1 ? "" : "s", a->n_left_out == 1 ? "" : "s");
                fb_md_code(b, a->left_out, strlen(a->left_out), true);
                fb_buf_puts(b, "); see the raw alert |\n");
        }
        if (a->output) {
                fb_buf_puts(b, "\nFalco's output line: ");
                fb_md_code(b, a->output, a->output_len, false);
                fb_buf_putc(b, '\n');
        }

        fb_buf_puts(b, "\n## Analysis\n");
        list(b, r, r->analysis, r->n_analysis);
        if (r->response && r->response->active)
                response(b, r->response);

        fb_buf_puts(b, "\n## MITRE ATT&CK\n");
        if (r->n_mitre == 0)
                fb_buf_puts(b, "No MITRE ATT&CK tags on this alert.\n");
        for (i = 0; i < r->n_mitre; i++) {
                fb_buf_puts(b, "- ");
                text(b, r, r->mitre[i].text);
                fb_buf_putc(b, '\n');
        }

        if ((r->n_investigate || r->n_contain) && (r->in_container || r->on_host))
                fb_buf_puts(b, "\nRun the commands below in one shell session, in order: later "
                               "blocks use the variables (`id`, `cid`, `pid`) that earlier ones "
                               "set.\n");
        steps(b, r, "Investigate", r->investigate, r->n_investigate);
        steps(b, r, "Contain", r->contain, r->n_contain);
        steps(b, r, "Prevent", r->prevent, r->n_prevent);
        if (r->n_not_covered) {
                fb_buf_puts(b, "\n### What this does not cover\n");
                list(b, r, r->not_covered, r->n_not_covered);
        }
        if (r->n_benign) {
                fb_buf_puts(b, "\n## Legitimate causes to rule out\n");
                list(b, r, r->benign, r->n_benign);
        }
        fb_buf_printf(b, "\n---\nfirebreak %s · knowledge base %s · entry %s · alert `%s`\n",
                      FB_VERSION, fb_kb_version(r->kb), r->generic ? "generic" : "rule-specific",
                      a->id);
        return fb_buf_error(b);
}
