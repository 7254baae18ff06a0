/* kb_impl.h: the knowledge base's state, shared by its loader (kb.c) and its indexes
 * (kb_index.c). Private to src/triage. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/kb.h"

struct fb_kb {
        char *version;
        struct fb_kb_rule *rules;
        size_t n_rules;
        struct fb_kb_retired *retired;
        size_t n_retired;
        /* open addressing over every rule name, alias and retired name: a rule's index + 1, or
         * a retired one's index + 1 with RETIRED set; 0 empty. Rebuilt after every load. */
        uint32_t *rule_index;
        size_t rule_mask;
        struct fb_kb_rule generic;
        bool have_generic;
        struct fb_kb_steps common_investigate, common_contain;
        struct fb_kb_tactic *tactics;
        size_t n_tactics;
        struct fb_kb_technique *techniques;
        size_t n_techniques;
        uint32_t *technique_index; /* open addressing: a technique's index + 1, 0 empty */
        size_t technique_mask;
        size_t n_files;
};

/* (Re)build the technique index and the rule index after a load. Return 0 or -ENOMEM. */
int fb_kb_index_techniques(struct fb_kb *kb);
int fb_kb_index_rules(struct fb_kb *kb);
/* The technique whose id is exactly the n bytes at id, or NULL. */
const struct fb_kb_technique *fb_kb_technique_n(const struct fb_kb *kb, const char *id, size_t n);
