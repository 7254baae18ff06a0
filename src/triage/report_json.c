/* report_json.c: JSON rendering, written directly (no intermediate tree) to keep triage close
 * to the cost of parsing. Strings go through fb_json_str(), which escapes everything needed. */
#include "firebreak/report_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "firebreak/strutil.h"

#define FB_STR_(x) #x
#define FB_STR(x) FB_STR_(x)

static void jstr(struct fb_buf *b, const char *s) {
        if (s)
                fb_json_str(b, s, strlen(s));
        else
                fb_buf_puts(b, "null");
}

/* Report texts are made by triage from escaped values and KB prose: the light escaper fits. */
static void jtext(struct fb_buf *b, const struct fb_report *r, struct fb_text t) {
        if (t.ext_json)
                fb_buf_put(b, t.ext_json, t.ext_json_len);
        else
                fb_json_str_safe(b, fb_report_str(r, t), t.len);
}

static void key(struct fb_buf *b, const char *k) {
        /* keys are literals of this file */
        fb_buf_putc(b, '"');
        fb_buf_puts(b, k);
        fb_buf_puts(b, "\":");
}

static void texts(struct fb_buf *b, const struct fb_report *r, const char *k,
                  const struct fb_text *t, size_t n) {
        size_t i;

        key(b, k);
        fb_buf_putc(b, '[');
        for (i = 0; i < n; i++) {
                if (i)
                        fb_buf_putc(b, ',');
                jtext(b, r, t[i]);
        }
        fb_buf_putc(b, ']');
}

static void steps(struct fb_buf *b, const struct fb_report *r, const char *k,
                  const struct fb_report_step *s, size_t n) {
        size_t i;

        key(b, k);
        fb_buf_putc(b, '[');
        for (i = 0; i < n; i++) {
                if (i)
                        fb_buf_putc(b, ',');
                fb_buf_puts(b, "{\"text\":");
                jtext(b, r, s[i].text);
                fb_buf_puts(b, ",\"commands\":[");
                /* one string per command, made by triage from the pre-escaped templates */
                fb_buf_put(b, fb_report_str(r, s[i].commands_json), s[i].commands_json.len);
                fb_buf_puts(b, "],\"omitted\":");
                if (s[i].omitted.len)
                        jtext(b, r, s[i].omitted);
                else
                        fb_buf_puts(b, "null");
                fb_buf_putc(b, '}');
        }
        fb_buf_putc(b, ']');
}

static void value(struct fb_buf *b, const struct fb_field *f) {
        switch (f->type) {
        case FB_VALUE_STRING:
                fb_json_str(b, f->str, f->len);
                break;
        case FB_VALUE_INT: {
                char num[24];

                fb_buf_put(b, num, fb_format_int64(num, f->i));
                break;
        }
        case FB_VALUE_UINT:
                /* past INT64_MAX: a string of its digits, as protobuf's JSON mapping writes
                 * a 64-bit integer; many JSON readers (jansson, jq before 1.7, Go's and
                 * JavaScript's defaults) cannot hold it exactly, or at all */
                fb_buf_printf(b, "\"%" PRIu64 "\"", f->u);
                break;
        case FB_VALUE_REAL:
                if (isfinite(f->d)) {
                        char num[32];

                        fb_buf_put(b, num, fb_format_double(num, f->d));
                } else
                        fb_buf_puts(b, "null");
                break;
        case FB_VALUE_BOOL:
                fb_buf_puts(b, f->i ? "true" : "false");
                break;
        case FB_VALUE_NULL:
                fb_buf_puts(b, "null");
                break;
        case FB_VALUE_LIST:
                fb_buf_putc(b, '[');
                for (size_t i = 0; i < f->len; i++) {
                        struct fb_field x = fb_field_item(f, i);

                        if (i)
                                fb_buf_putc(b, ',');
                        value(b, &x); /* a scalar: no deeper */
                }
                fb_buf_putc(b, ']');
                break;
        }
}

static void field(struct fb_buf *b, const struct fb_field *f) {
        /* keys are checked against [A-Za-z0-9._-[]/:] by the alert model: nothing to escape */
        fb_buf_putc(b, '"');
        fb_buf_put(b, f->key, f->key_len);
        fb_buf_puts(b, "\":");
        value(b, f);
}

static void response(struct fb_buf *b, const struct fb_response *x) {
        size_t i;

        fb_buf_puts(b, x->dry_run ? "{\"mode\":\"dry-run\",\"policy_rules\":"
                                  : "{\"mode\":\"enforce\",\"policy_rules\":");
        fb_json_str(b, x->rules, strlen(x->rules));
        fb_buf_puts(b, ",\"target\":");
        jstr(b, x->target[0] ? x->target : NULL);
        fb_buf_puts(b, ",\"engine\":");
        jstr(b, x->engine);
        fb_buf_puts(b, ",\"engine_namespace\":");
        jstr(b, x->engine_ns[0] ? x->engine_ns : NULL);
        fb_buf_puts(b, ",\"kubernetes\":");
        if (x->k8s_pod[0]) {
                fb_buf_puts(b, "{\"namespace\":");
                jstr(b, x->k8s_namespace);
                fb_buf_puts(b, ",\"pod\":");
                jstr(b, x->k8s_pod);
                fb_buf_puts(b, ",\"container\":");
                jstr(b, x->k8s_container);
                fb_buf_putc(b, '}');
        } else
                fb_buf_puts(b, "null");
        fb_buf_printf(b, ",\"queued_s\":%lld,\"note\":", (long long)x->queued_s);
        jstr(b, x->note[0] ? x->note : NULL);
        fb_buf_puts(b, ",\"actions\":[");
        for (i = 0; i < x->n_actions; i++) {
                const struct fb_response_action *a = &x->actions[i];

                fb_buf_puts(b, i ? ",{\"action\":\"" : "{\"action\":\"");
                fb_buf_puts(b, fb_action_to_string(a->action));
                fb_buf_puts(b, "\",\"result\":\"");
                fb_buf_puts(b, fb_act_result_to_string(a->result));
                fb_buf_puts(b, "\",\"detail\":");
                fb_json_str(b, a->detail, strlen(a->detail));
                fb_buf_printf(b, ",\"duration_us\":%llu}", (unsigned long long)a->duration_us);
        }
        fb_buf_puts(b, "],\"evidence_dir\":");
        jstr(b, x->evidence_dir[0] ? x->evidence_dir : NULL);
        fb_buf_puts(b, ",\"manifest_sha256\":");
        jstr(b, x->manifest_sha256[0] ? x->manifest_sha256 : NULL);
        fb_buf_puts(b, ",\"captures\":[");
        for (i = 0; i < x->n_captures; i++) {
                const struct fb_response_capture *c = &x->captures[i];

                fb_buf_printf(b, "%s{\"pid\":%d,\"exe\":", i ? "," : "", c->pid);
                fb_json_str(b, c->exe, strlen(c->exe));
                fb_buf_printf(b, ",\"size\":%llu,\"truncated\":%s,\"sha256\":\"%s\",\"file\":",
                              (unsigned long long)c->size, c->truncated ? "true" : "false",
                              c->sha256);
                fb_json_str(b, c->file, strlen(c->file));
                fb_buf_puts(b, ",\"elf\":");
                fb_json_str(b, c->elf, strlen(c->elf));
                fb_buf_putc(b, '}');
        }
        fb_buf_puts(b, "]}");
}

int fb_report_json(const struct fb_report *r, struct fb_buf *b) {
        const struct fb_alert *a = r->alert;
        size_t i, n;

        fb_buf_puts(b,
                    "{\"report_version\":" FB_STR(FB_REPORT_JSON_VERSION) ",\"alert\":{\"id\":\"");
        fb_buf_puts(b, a->id);
        fb_buf_puts(b,
                    a->id_from_uuid ? "\",\"id_source\":\"uuid\"," : "\",\"id_source\":\"hash\",");
        key(b, "rule");
        fb_json_str(b, a->rule, a->rule_len);
        fb_buf_puts(b, ",\"priority\":\"");
        fb_buf_puts(b, fb_priority_to_string(a->priority));
        fb_buf_puts(b, "\",\"time\":\"");
        fb_buf_puts(b, a->time); /* RFC 3339, checked */
        fb_buf_puts(b, "\",");
        key(b, "source");
        jstr(b, a->source);
        fb_buf_putc(b, ',');
        key(b, "hostname");
        jstr(b, a->hostname);
        fb_buf_puts(b, ",\"tags\":[");
        for (i = 0; i < a->n_tags; i++) {
                /* tags have the same checked charset as keys */
                fb_buf_puts(b, i ? ",\"" : "\"");
                fb_buf_puts(b, a->tags[i]);
                fb_buf_putc(b, '"');
        }
        fb_buf_puts(b, "],\"output_fields\":{");
        for (i = 0; i < a->n_fields; i++) {
                if (i)
                        fb_buf_putc(b, ',');
                field(b, &a->fields[i]);
        }
        fb_buf_puts(b, "},\"placeholders\":{");
        for (i = 0, n = 0; i < a->n_fields; i++) {
                const char *note = fb_triage_placeholder(r, &a->fields[i]);

                if (!note)
                        continue;
                if (n++)
                        fb_buf_putc(b, ',');
                fb_json_str(b, a->fields[i].key, a->fields[i].key_len);
                fb_buf_putc(b, ':');
                fb_json_str(b, note, strlen(note));
        }
        fb_buf_printf(b, "},\"left_out\":%zu,\"left_out_first\":", a->n_left_out);
        if (a->n_left_out)
                fb_json_str(b, a->left_out, strlen(a->left_out));
        else
                fb_buf_puts(b, "null");
        fb_buf_puts(b, ",\"output\":");
        if (a->output)
                fb_json_str(b, a->output, a->output_len);
        else
                fb_buf_puts(b, "null");
        fb_buf_puts(b, "},\"summary\":{\"title\":");
        jtext(b, r, r->title);
        fb_buf_puts(b, ",\"headline\":");
        jtext(b, r, r->headline);
        fb_buf_puts(b, ",\"entry\":");
        if (r->generic)
                fb_buf_puts(b, "null");
        else
                fb_json_str(b, r->entry->rule, strlen(r->entry->rule));
        fb_buf_puts(b, ",\"verdict\":\"");
        fb_buf_puts(b, fb_verdict_to_string(r->verdict));
        fb_buf_puts(b, "\",\"confidence\":\"");
        fb_buf_puts(b, fb_confidence_to_string(r->confidence));
        fb_buf_puts(b, "\",\"severity\":\"");
        fb_buf_puts(b, fb_severity_to_string(r->severity));
        fb_buf_puts(b, "\",");
        texts(b, r, "reasons", r->reasons, r->n_reasons);
        fb_buf_puts(b, ",\"where\":");
        jtext(b, r, r->where);
        fb_buf_puts(b, "},\"context\":{");
        fb_buf_puts(b, "\"place\":\"");
        fb_buf_puts(b, fb_place_to_string(r->place));
        fb_buf_puts(b, "\",");
        fb_buf_puts(b, r->in_container ? "\"in_container\":true," : "\"in_container\":false,");
        fb_buf_puts(b, r->on_host ? "\"on_host\":true," : "\"on_host\":false,");
        fb_buf_puts(b, r->in_k8s ? "\"in_kubernetes\":true," : "\"in_kubernetes\":false,");
        key(b, "container_id");
        jstr(b, r->cid[0] ? r->cid : NULL);
        fb_buf_puts(b, "},");
        texts(b, r, "analysis", r->analysis, r->n_analysis);
        fb_buf_puts(b, ",\"response\":");
        if (r->response && r->response->active)
                response(b, r->response);
        else
                fb_buf_puts(b, "null");
        fb_buf_puts(b, ",\"mitre\":[");
        for (i = 0; i < r->n_mitre; i++) {
                const struct fb_report_mitre *m = &r->mitre[i];

                if (i)
                        fb_buf_putc(b, ',');
                fb_buf_puts(b, "{\"tactic_id\":");
                jstr(b, m->tactic_id);
                fb_buf_puts(b, ",\"tactic\":");
                jstr(b, m->tactic);
                fb_buf_puts(b, ",\"technique_id\":");
                jstr(b, m->technique_id);
                fb_buf_puts(b, ",\"technique\":");
                jstr(b, m->technique);
                fb_buf_puts(b, m->from_kb ? ",\"from\":\"firebreak\"}" : ",\"from\":\"falco\"}");
        }
        fb_buf_puts(b, "],");
        steps(b, r, "investigate", r->investigate, r->n_investigate);
        fb_buf_putc(b, ',');
        steps(b, r, "contain", r->contain, r->n_contain);
        fb_buf_putc(b, ',');
        steps(b, r, "prevent", r->prevent, r->n_prevent);
        fb_buf_putc(b, ',');
        texts(b, r, "not_covered", r->not_covered, r->n_not_covered);
        fb_buf_putc(b, ',');
        texts(b, r, "benign_causes", r->benign, r->n_benign);
        fb_buf_puts(b, ",\"provenance\":{\"firebreak\":\"" FB_VERSION "\",\"kb_version\":");
        jstr(b, fb_kb_version(r->kb));
        fb_buf_puts(b, r->generic ? ",\"kb_entry\":\"generic\",\"alert_id\":\""
                                  : ",\"kb_entry\":\"rule-specific\",\"alert_id\":\"");
        fb_buf_puts(b, a->id);
        fb_buf_puts(b, "\"}}\n");
        return fb_buf_error(b);
}
