/* mitre.c: the MITRE ATT&CK mapping: the knowledge base's, most specific technique for the rule
 * first, then Falco's own tags, kept visible beside it. */
#define _GNU_SOURCE
#include <stdio.h>
#include "triage_impl.h"

static bool is_technique_tag(const char *t) {
        return t[0] == 'T' && t[1] >= '0' && t[1] <= '9';
}

static bool is_tactic_id_tag(const char *t) {
        return t[0] == 'T' && t[1] == 'A' && t[2] >= '0' && t[2] <= '9';
}

/* Techniques pair with the alert's first tactic (Falco tags each rule with one); tactic ids used
 * as tags (TA0003) and further tactics get entries of their own. */
void fb_triage_mitre(struct fb_report *r) {
        const struct fb_alert *a = r->alert;
        const struct fb_kb_tactic *tactics[FB_ALERT_MAX_TAGS];
        size_t n_tactics = 0, i, j, start;
        bool used_first = false;

        /* the knowledge base's techniques, unless an alert's tags name the same */
        for (i = 0; !r->generic && i < r->entry->n_mitre; i++) {
                const struct fb_kb_technique *q = fb_kb_technique(r->kb, r->entry->mitre[i]);
                struct fb_report_mitre *m = ITEM(r, mitre);

                if (!m)
                        break;
                *m = (struct fb_report_mitre){ .technique_id = r->entry->mitre[i],
                                               .technique = q ? q->name : NULL,
                                               .from_kb = true };
        }

        for (i = 0; i < a->n_tags; i++) {
                const struct fb_kb_tactic *t = NULL;

                if (strncmp(a->tags[i], "mitre_", 6) == 0)
                        t = fb_kb_tactic(r->kb, a->tags[i]);
                else if (is_tactic_id_tag(a->tags[i]))
                        t = fb_kb_tactic_by_id(r->kb, a->tags[i]);
                for (j = 0; t && j < n_tactics; j++)
                        if (tactics[j] == t)
                                t = NULL;
                if (t)
                        tactics[n_tactics++] = t;
        }
        for (i = 0; i < a->n_tags; i++) {
                const struct fb_kb_technique *q;
                struct fb_report_mitre *m;

                if (!is_technique_tag(a->tags[i]))
                        continue;
                for (j = 0; j < r->n_mitre && r->mitre[j].from_kb; j++)
                        if (strcmp(r->mitre[j].technique_id, a->tags[i]) == 0)
                                break;
                if (j < r->n_mitre && r->mitre[j].from_kb) {
                        /* Falco tags it so too: the KB's entry gets the tactic */
                        if (n_tactics > 0 && !r->mitre[j].tactic) {
                                r->mitre[j].tactic_id = tactics[0]->id;
                                r->mitre[j].tactic = tactics[0]->name;
                                used_first = true;
                        }
                        continue;
                }
                m = ITEM(r, mitre);
                if (!m)
                        break;
                q = fb_kb_technique(r->kb, a->tags[i]);
                *m = (struct fb_report_mitre){ .technique_id = a->tags[i],
                                               .technique = q ? q->name : NULL };
                if (n_tactics > 0) {
                        m->tactic_id = tactics[0]->id;
                        m->tactic = tactics[0]->name;
                        used_first = true;
                }
        }
        for (j = used_first ? 1 : 0; j < n_tactics; j++) {
                struct fb_report_mitre *m = ITEM(r, mitre);

                if (!m)
                        break;
                *m = (struct fb_report_mitre){ .tactic_id = tactics[j]->id,
                                               .tactic = tactics[j]->name };
        }
        for (i = 0; i < r->n_mitre; i++) {
                struct fb_report_mitre *m = &r->mitre[i];

                start = text_begin(r);
                if (m->tactic) {
                        put(r, m->tactic);
                        put(r, " (");
                        put(r, m->tactic_id);
                        put(r, ")");
                }
                if (m->tactic && m->technique_id)
                        put(r, " — ");
                if (m->technique_id) {
                        val_s(r, m->technique_id);
                        put(r, " ");
                        put(r,
                            m->technique ? m->technique : "(technique not in the knowledge base)");
                }
                if (r->n_mitre > 0 && r->mitre[0].from_kb)
                        put(r, m->from_kb ? " (firebreak's mapping)" : " (Falco's tag)");
                m->text = text_end(r, start);
        }
        start = text_begin(r);
        for (i = 0; i < r->n_mitre; i++) {
                if (i > 0)
                        put(r, "; ");
                /* copies from the arena into itself: fb_buf_put allows that */
                fb_buf_put(&r->arena, fb_report_str(r, r->mitre[i].text), r->mitre[i].text.len);
        }
        if (r->n_mitre == 0)
                put(r, "no MITRE ATT&CK tags on this alert");
        r->mitre_line = text_end(r, start);
}
