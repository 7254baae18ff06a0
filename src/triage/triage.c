/* triage.c: verdict, field-grounded analysis, MITRE mapping and safe commands for one alert. */
#define _GNU_SOURCE
#include "triage_impl.h"

#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "firebreak/cleanup.h"
#include "firebreak/engine.h"
#include "firebreak/limits.h"
#include "firebreak/strutil.h"

static const char *const confidence_names[] = { "high", "medium", "low" };
static const char *const severity_names[] = { "critical", "high", "medium", "low", "info" };

const char *fb_confidence_to_string(enum fb_confidence c) {
        return (unsigned)c < FB_ELEMENTSOF(confidence_names) ? confidence_names[c] : "unknown";
}

const char *fb_severity_to_string(enum fb_severity s) {
        return (unsigned)s < FB_ELEMENTSOF(severity_names) ? severity_names[s] : "unknown";
}

const char *fb_verdict_phrase(enum fb_verdict v) {
        switch (v) {
        case FB_VERDICT_MALICIOUS:
                return "malicious";
        case FB_VERDICT_SUSPICIOUS:
                return "suspicious";
        case FB_VERDICT_LIKELY_TEST:
                return "likely a detection test";
        case FB_VERDICT_BENIGN:
                return "benign";
        case FB_VERDICT_OPERATIONAL:
                return "about Falco's own operation, not a security verdict";
        }
        return "unknown";
}

void fb_report_init(struct fb_report *r) {
        *r = (struct fb_report){ .forms = FB_REPORT_MD | FB_REPORT_JSON };
        fb_buf_init(&r->arena, FB_REPORT_MAX_BYTES);
        fb_buf_init(&r->scratch, FB_REPORT_MAX_BYTES);
}

void fb_report_done(struct fb_report *r) {
        fb_buf_free(&r->arena);
        fb_buf_free(&r->scratch);
}

/* ---- verdict ----------------------------------------------------------------------------- */

static enum fb_severity severity_of(enum fb_priority p) {
        switch (p) {
        case FB_PRIO_EMERGENCY:
        case FB_PRIO_ALERT:
        case FB_PRIO_CRITICAL:
                return FB_SEVERITY_CRITICAL;
        case FB_PRIO_ERROR:
                return FB_SEVERITY_HIGH;
        case FB_PRIO_WARNING:
                return FB_SEVERITY_MEDIUM;
        case FB_PRIO_NOTICE:
                return FB_SEVERITY_LOW;
        default:
                return FB_SEVERITY_INFO;
        }
}

/* How much Falco's own event matters for detection, whatever priority its configuration gave
 * it: lost events by their share and cause, a silent driver, a snapshot. */
static enum fb_severity falco_severity(struct fb_report *r) {
        int64_t drops, evts = 0, buf = 0;

        if (int_field(r, "n_drops", &drops) >= 0) {
                if (int_field(r, "n_drops_buffer", &buf) < 0)
                        int_field(r, "n_drops_buffer_total", &buf);
                int_field(r, "n_evts", &evts);
                if (buf <= 0)
                        return FB_SEVERITY_LOW; /* page faults: not a capacity problem */
                return evts > 0 && buf * 10 >= evts ? FB_SEVERITY_HIGH : FB_SEVERITY_MEDIUM;
        }
        if (strcmp(r->alert->rule, "Falco internal: timeouts notification") == 0)
                return FB_SEVERITY_MEDIUM; /* no event at all: no syscall rule can fire */
        return FB_SEVERITY_INFO;
}

static void decide(struct fb_report *r, const struct fb_signals *sig) {
        const struct fb_alert *a = r->alert;
        size_t start;

        r->severity = severity_of(a->priority);
        if (r->place == FB_PLACE_FALCO) {
                r->verdict = FB_VERDICT_OPERATIONAL;
                r->confidence = FB_CONFIDENCE_HIGH;
                r->severity = falco_severity(r);
                start = text_begin(r);
                put(r, "Falco reports on its own operation (its rule name begins with `Falco "
                       "internal:`): this is no evidence of an attack, and the verdict is not a "
                       "security one. What it can mean for detection (events Falco did not see) "
                       "is in the analysis.");
                reason(r, start);
                return;
        }
        if (sig->runc_self) {
                /* a pattern, not proof: benign only with the runtime's lineage, and then only
                 * with medium confidence until the steps confirm the binary */
                r->verdict = sig->runc_lineage ? FB_VERDICT_BENIGN : FB_VERDICT_SUSPICIOUS;
                r->confidence = FB_CONFIDENCE_MEDIUM;
                r->severity = sig->runc_lineage ? FB_SEVERITY_INFO : FB_SEVERITY_MEDIUM;
                start = text_begin(r);
                put(r, "The process looks like a container runtime (runc or crun) re-executing "
                       "itself from its own memfd, which runc does by design on every container "
                       "start and `exec`.");
                reason(r, start);
                start = text_begin(r);
                if (sig->runc_lineage)
                        put(r,
                            "Its parent is a container runtime process, as it should be. Confirm "
                            "with the first Investigate step that the installed runtime is the "
                            "package's own before closing the alert.");
                else
                        put(r, "Its parent is not a container runtime process, which runc's "
                               "would be: treat it as suspicious until the lineage is "
                               "explained.");
                reason(r, start);
                return;
        }
        if (r->alert->rule_len == 9 && memcmp(r->alert->rule, "Test rule", 9) == 0 &&
            r->alert->output && strstr(r->alert->output, "This is a test from falcosidekick")) {
                r->verdict = FB_VERDICT_LIKELY_TEST;
                r->confidence = FB_CONFIDENCE_HIGH;
                r->severity = FB_SEVERITY_INFO;
                start = text_begin(r);
                put(r, "This is Falcosidekick's test alert (its `--test` option and its UI's test "
                       "button send exactly this rule and output); its fields are fixed sample "
                       "values, not an event. Confirm that someone tested Falcosidekick at that "
                       "time.");
                reason(r, start);
                return;
        }
        if (!sig->gen_lookalike && (sig->gen_image || sig->gen_process)) {
                r->verdict = FB_VERDICT_LIKELY_TEST;
                r->confidence = sig->gen_image && sig->gen_process ? FB_CONFIDENCE_HIGH
                                                                   : FB_CONFIDENCE_MEDIUM;
                r->severity = FB_SEVERITY_LOW;
                start = text_begin(r);
                if (sig->gen_image && sig->gen_process)
                        put(r, "The image is Falco's event generator and its `event-generator` "
                               "process started the behaviour.");
                else if (sig->gen_image)
                        put(r, "The image is Falco's event generator, but neither this process "
                               "nor the ancestors the alert names is `event-generator`.");
                else if (str(r, "container.image.repository", NULL))
                        put(r, "An `event-generator` process (this one or an ancestor) started "
                               "the behaviour, but the image is not Falco's event generator.");
                else
                        put(r, "An `event-generator` process (this one or an ancestor) started "
                               "the behaviour; the alert names no image to confirm it.");
                reason(r, start);
                start = text_begin(r);
                put(r, "If nobody on the team runs Falco drills on this host, this verdict "
                       "does not hold: treat the alert as the rule's own verdict says, ");
                put(r, fb_verdict_phrase(r->entry->verdict));
                put(r, r->entry->verdict == FB_VERDICT_MALICIOUS ? ", and contain it."
                                                                 : ", and investigate.");
                reason(r, start);
                return;
        }
        r->verdict = r->entry->verdict;
        r->confidence = FB_CONFIDENCE_MEDIUM;
        start = text_begin(r);
        if (r->generic) {
                put(r, "firebreak has no specific knowledge of this rule; the verdict follows "
                       "from its priority and tags.");
                r->confidence = FB_CONFIDENCE_LOW;
        } else {
                if (sig->gen_lookalike)
                        put(r, "The image is named like Falco's event generator but is not "
                               "Docker Hub's `falcosecurity/event-generator`: that is no sign "
                               "of a drill. ");
                put(r, "firebreak recognised no test tool and no runtime pattern in the alert, "
                       "so the rule's default applies: ");
                put(r, fb_verdict_phrase(r->verdict));
                put(r, r->entry->benign.n
                               ? ". Rule out the legitimate causes listed at the end of this "
                                 "report before acting on it: each says how to confirm it."
                               : ".");
        }
        reason(r, start);
        if (str(r, "evt.res", NULL) && !str_eq(r, "evt.res", "SUCCESS")) {
                start = text_begin(r);
                put(r, "The system call failed, so the attempt did not take effect; the intent "
                       "remains.");
                reason(r, start);
                if (r->severity < FB_SEVERITY_LOW)
                        r->severity++;
        }
        if (r->verdict == FB_VERDICT_MALICIOUS && r->severity > FB_SEVERITY_HIGH)
                r->severity = FB_SEVERITY_HIGH;
}

/* ---- the report -------------------------------------------------------------------------- */

static void headline(struct fb_report *r) {
        const struct fb_alert *a = r->alert;
        size_t start = text_begin(r);

        put(r, "At ");
        val_s(r, a->time);
        put(r, ", Falco");
        if (a->hostname) {
                put(r, " on host ");
                val(r, a->hostname, a->hostname_len);
                /* Falco in a container without the host's name reports its own container's */
                if ((a->hostname_len == 12 || a->hostname_len == 64) &&
                    fb_is_lower_hex(a->hostname, a->hostname_len))
                        put(r, " (a container id: the name of the container Falco runs in, not "
                               "of the machine; Falco's pod or container shows which node)");
        }
        if (r->generic)
                put(r, " raised an alert");
        else {
                put(r, " saw ");
                put(r, r->entry->detects);
        }
        if (str(r, "evt.res", NULL) && !str_eq(r, "evt.res", "SUCCESS")) {
                size_t l;
                const char *res = str(r, "evt.res", &l);

                put(r, " (attempted only: the call failed with ");
                val(r, res, l);
                put(r, ")");
        }
        if (r->place == FB_PLACE_FALCO)
                put(r, ", about ");
        else
                put(r, r->on_host ? ", on " : ", in ");
        fb_buf_put(&r->arena, fb_report_str(r, r->where), r->where.len);
        put(r, ". The ");
        put(r, fb_priority_to_string(a->priority));
        put(r, " rule ");
        fb_buf_put(&r->arena, fb_report_str(r, r->title), r->title.len);
        put(r, " fired.");
        r->headline = text_end(r, start);
}

static void title(struct fb_report *r) {
        size_t start = text_begin(r);

        if (r->generic || strcmp(r->entry->rule, r->alert->rule) != 0)
                val(r, r->alert->rule, r->alert->rule_len);
        else {
                put(r, "*");
                put(r, r->entry->rule);
                put(r, "*");
        }
        r->title = text_end(r, start);
}

/* The alert names a rule by a name Falco's rules no longer use: an earlier name of a current
 * rule (whose entry this report uses), or a retired rule. */
static void renamed_or_retired(struct fb_report *r) {
        const struct fb_kb_retired *x;
        size_t start;

        if (!r->generic && strcmp(r->entry->rule, r->alert->rule) != 0) {
                start = text_begin(r);
                put(r, "**Renamed rule.** The alert names the rule ");
                val(r, r->alert->rule, r->alert->rule_len);
                put(r, ", an earlier name of the rule Falco's rules now call *");
                put(r, r->entry->rule);
                put(r, "*: the Falco that sent it runs older rules. This report uses the current "
                       "rule's knowledge; compare its condition with the one your Falco loads.");
                analysis_item(r, start);
                return;
        }
        if (!r->generic || !(x = fb_kb_find_retired(r->kb, r->alert->rule)))
                return;
        start = text_begin(r);
        put(r, "**Retired rule.** ");
        fb_buf_put(&r->arena, x->note.md, x->note.md_len);
        analysis_item(r, start);
}

static void copy_strings(const struct fb_kb_strings *s, struct fb_text *out, size_t *n) {
        size_t i;

        for (i = 0; i < s->n && *n < FB_REPORT_MAX_ITEMS; i++)
                out[(*n)++] = kb_text(&s->v[i]);
}

int fb_triage(const struct fb_kb *kb, const struct fb_alert *a, struct fb_report *r) {
        struct fb_signals sig = { 0 };
        size_t start;

        /* reset what triage fills; the item arrays are only read up to their counts */
        r->alert = a;
        r->kb = kb;
        r->response = NULL;
        r->generic = r->in_container = r->on_host = r->in_k8s = r->k8s_audit = false;
        r->container_event = false;
        r->place = FB_PLACE_UNKNOWN;
        r->gen++; /* forgets every cached lookup (gen 0 is never valid: it starts at 1) */
        if (r->gen == 0)
                r->gen = 1;
        r->cid[0] = '\0';
        r->title = r->headline = r->where = r->mitre_line = (struct fb_text){ 0 };
        r->n_reasons = r->n_analysis = r->n_mitre = r->n_investigate = r->n_contain = 0;
        r->n_prevent = r->n_not_covered = r->n_benign = 0;
        fb_buf_reset(&r->arena);
        fb_buf_putc(&r->arena, '\0'); /* offset 0 is the empty text */
        r->entry = fb_kb_find(kb, a->rule);
        if (!r->entry) {
                r->entry = fb_kb_generic(kb);
                r->generic = true;
        }

        fb_triage_place(r);
        title(r);
        r->analysis[r->n_analysis++] = kb_text(&r->entry->explain);
        renamed_or_retired(r);
        fb_triage_analyze(r);
        if (r->entry->analyzer && strcmp(r->entry->analyzer, "memfd") == 0)
                fb_triage_memfd(r, &sig);
        fb_triage_drill(r, &sig);
        fb_triage_benign_patterns(r);
        if (r->in_container && !r->in_k8s && str(r, "k8s.ns.name", NULL) == NULL &&
            field(r, "k8s.ns.name")) {
                start = text_begin(r);
                put(r, "**Kubernetes.** `k8s.ns.name` and `k8s.pod.name` are not set: this "
                       "container is not part of a Kubernetes pod.");
                analysis_item(r, start);
        }

        decide(r, &sig);
        fb_triage_mitre(r);
        headline(r);

        fb_triage_steps(r);
        copy_strings(&r->entry->not_covered, r->not_covered, &r->n_not_covered);
        copy_strings(&r->entry->benign, r->benign, &r->n_benign);

        if (fb_buf_error(&r->arena) < 0)
                return fb_buf_error(&r->arena);
        return fb_buf_error(&r->scratch);
}
