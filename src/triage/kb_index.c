/* kb_index.c: finds what the knowledge base holds: rules by name, earlier name or retired name,
 * techniques by id, through open-addressing indexes rebuilt after every load (triage asks for
 * every alert, so a larger knowledge base costs no more per alert). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firebreak/kb.h"

#include "kb_impl.h"

/* FNV-1a, not keyed: the table holds the knowledge base's ids only (at most half full), so an
 * alert tag made to collide costs a probe over those ids, no more; tags are bounded in length. */
static size_t id_hash(const char *s, size_t n) {
        uint64_t h = 0xcbf29ce484222325u;

        while (n--)
                h = (h ^ (unsigned char)*s++) * 0x100000001b3u;
        return (size_t)(h ^ (h >> 32));
}

/* Triage looks up every technique tag of every alert: one probe instead of a pass over some
 * fifty. Of equal ids the first is kept, as the pass found it. */
int fb_kb_index_techniques(struct fb_kb *kb) {
        size_t size = 16, mask, i;
        uint32_t *x;

        while (size < 2 * kb->n_techniques)
                size <<= 1;
        mask = size - 1;
        x = calloc(size, sizeof(*x));
        if (!x)
                return -ENOMEM;
        for (i = 0; i < kb->n_techniques; i++) {
                const char *id = kb->techniques[i].id;
                size_t h;

                if (!id)
                        continue; /* the entry whose load failed */
                h = id_hash(id, strlen(id)) & mask;
                while (x[h] && strcmp(kb->techniques[x[h] - 1].id, id) != 0)
                        h = (h + 1) & mask;
                if (!x[h])
                        x[h] = (uint32_t)(i + 1);
        }
        free(kb->technique_index);
        kb->technique_index = x;
        kb->technique_mask = mask;
        return 0;
}

#define RETIRED 0x80000000u

/* Whether the rule or retired rule v goes by name (a rule by its own name or an alias). */
static bool index_matches(const struct fb_kb *kb, uint32_t v, const char *name, size_t len) {
        const struct fb_kb_rule *r;
        size_t i;

        if (v & RETIRED)
                return strncmp(kb->retired[(v & ~RETIRED) - 1].rule, name, len) == 0 &&
                       kb->retired[(v & ~RETIRED) - 1].rule[len] == '\0';
        r = &kb->rules[v - 1];
        if (strncmp(r->rule, name, len) == 0 && r->rule[len] == '\0')
                return true;
        for (i = 0; i < r->n_aliases; i++)
                if (strncmp(r->aliases[i], name, len) == 0 && r->aliases[i][len] == '\0')
                        return true;
        return false;
}

/* Adds name (a rule's, alias-th alias's, or a retired rule's) unless it is there already: a
 * rule's own name wins over an alias and a retired name, and the first of equal ones wins. */
static void index_add(struct fb_kb *kb, const char *name, uint32_t v) {
        size_t h = id_hash(name, strlen(name)) & kb->rule_mask;

        while (kb->rule_index[h]) {
                uint32_t w = kb->rule_index[h];

                if (index_matches(kb, w, name, strlen(name)))
                        return;
                h = (h + 1) & kb->rule_mask;
        }
        kb->rule_index[h] = v;
}

/* Every rule name, then every alias (an alias never hides a rule of that name), then the
 * retired names; at most half full. */
int fb_kb_index_rules(struct fb_kb *kb) {
        size_t size = 16, n = kb->n_rules + kb->n_retired, i, j;

        for (i = 0; i < kb->n_rules; i++)
                n += kb->rules[i].n_aliases;
        while (size < 2 * n)
                size <<= 1;
        free(kb->rule_index);
        kb->rule_index = calloc(size, sizeof(uint32_t));
        if (!kb->rule_index)
                return -ENOMEM;
        kb->rule_mask = size - 1;
        for (i = 0; i < kb->n_rules; i++)
                index_add(kb, kb->rules[i].rule, (uint32_t)(i + 1));
        for (i = 0; i < kb->n_rules; i++)
                for (j = 0; j < kb->rules[i].n_aliases; j++)
                        index_add(kb, kb->rules[i].aliases[j], (uint32_t)(i + 1));
        for (i = 0; i < kb->n_retired; i++)
                index_add(kb, kb->retired[i].rule, (uint32_t)(i + 1) | RETIRED);
        return 0;
}

const char *fb_kb_version(const struct fb_kb *kb) {
        return kb->version;
}

size_t fb_kb_n_rules(const struct fb_kb *kb) {
        return kb->n_rules;
}

const struct fb_kb_rule *fb_kb_rule_at(const struct fb_kb *kb, size_t i) {
        return i < kb->n_rules ? &kb->rules[i] : NULL;
}

/* The index's entry for name, or 0. */
static uint32_t lookup(const struct fb_kb *kb, const char *name) {
        size_t len = strlen(name), h;

        if (!kb->rule_index)
                return 0;
        for (h = id_hash(name, len) & kb->rule_mask; kb->rule_index[h]; h = (h + 1) & kb->rule_mask)
                if (index_matches(kb, kb->rule_index[h], name, len))
                        return kb->rule_index[h];
        return 0;
}

const struct fb_kb_rule *fb_kb_find(const struct fb_kb *kb, const char *rule) {
        uint32_t v = lookup(kb, rule);

        return v && !(v & RETIRED) ? &kb->rules[v - 1] : NULL;
}

const struct fb_kb_retired *fb_kb_find_retired(const struct fb_kb *kb, const char *rule) {
        uint32_t v = lookup(kb, rule);

        return v & RETIRED ? &kb->retired[(v & ~RETIRED) - 1] : NULL;
}

const struct fb_kb_rule *fb_kb_generic(const struct fb_kb *kb) {
        return &kb->generic;
}

const struct fb_kb_steps *fb_kb_common(const struct fb_kb *kb, const char *section) {
        return strcmp(section, "contain") == 0 ? &kb->common_contain : &kb->common_investigate;
}

const struct fb_kb_tactic *fb_kb_tactic(const struct fb_kb *kb, const char *tag) {
        size_t i;

        for (i = 0; i < kb->n_tactics; i++)
                if (strcmp(kb->tactics[i].tag, tag) == 0)
                        return &kb->tactics[i];
        return NULL;
}

const struct fb_kb_tactic *fb_kb_tactic_by_id(const struct fb_kb *kb, const char *id) {
        size_t n = strcspn(id, "-"), i; /* "TA0005-defense-evasion" */

        for (i = 0; i < kb->n_tactics; i++)
                if (strncmp(kb->tactics[i].id, id, n) == 0 && kb->tactics[i].id[n] == '\0')
                        return &kb->tactics[i];
        return NULL;
}

/* The technique whose id is the n bytes at id. */
const struct fb_kb_technique *fb_kb_technique_n(const struct fb_kb *kb, const char *id, size_t n) {
        size_t h;

        if (!kb->technique_index)
                return NULL;
        for (h = id_hash(id, n) & kb->technique_mask; kb->technique_index[h];
             h = (h + 1) & kb->technique_mask) {
                const struct fb_kb_technique *q = &kb->techniques[kb->technique_index[h] - 1];

                if (strncmp(q->id, id, n) == 0 && q->id[n] == '\0')
                        return q;
        }
        return NULL;
}

const struct fb_kb_technique *fb_kb_technique(const struct fb_kb *kb, const char *id) {
        /* "T1562-impair-defenses", as some plugins tag: the id ends at the '-' */
        size_t n = strcspn(id, "-");
        const struct fb_kb_technique *q = fb_kb_technique_n(kb, id, n);
        const char *dot = memchr(id, '.', n);

        if (!q && dot)
                q = fb_kb_technique_n(kb, id, (size_t)(dot - id)); /* its parent */
        return q;
}
