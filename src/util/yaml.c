/* yaml.c: libyaml event stream -> bounded tree with positions. */
#include "firebreak/yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "firebreak/buf.h"
#include "firebreak/cleanup.h"
#include "firebreak/strutil.h"
#include "firebreak/limits.h"

struct fb_yaml_doc {
        struct fb_yaml_node *root;
        /* every node, for freeing */
        struct fb_yaml_node **all;
        size_t n_all, cap_all;
};

int fb_yaml_errorf(struct fb_yaml_error *err, const struct fb_yaml_node *node, const char *fmt,
                   ...) {
        char raw[sizeof(err->text)];
        struct fb_buf b;
        va_list ap;

        if (err) {
                err->line = node ? node->line : 0;
                err->column = node ? node->column : 0;
                va_start(ap, fmt);
                vsnprintf(raw, sizeof(raw), fmt, ap);
                va_end(ap);
                /* messages quote the file (keys, values): make them safe for a terminal */
                fb_buf_init(&b, sizeof(err->text) * 4);
                fb_escape_display(&b, raw, strlen(raw));
                snprintf(err->text, sizeof(err->text), "%s",
                         fb_buf_cstr(&b) ? fb_buf_cstr(&b) : "(unprintable)");
                fb_buf_free(&b);
        }
        return -EINVAL;
}

static int set_error_at(struct fb_yaml_error *err, yaml_mark_t m, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int set_error_at(struct fb_yaml_error *err, yaml_mark_t m, const char *fmt, ...) {
        va_list ap;

        err->line = (unsigned)m.line + 1;
        err->column = (unsigned)m.column + 1;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static struct fb_yaml_node *node_new(struct fb_yaml_doc *doc, enum fb_yaml_kind kind,
                                     yaml_mark_t m) {
        struct fb_yaml_node *n;

        if (doc->n_all == doc->cap_all) {
                size_t ncap = doc->cap_all ? doc->cap_all * 2 : 64;
                struct fb_yaml_node **a = realloc(doc->all, ncap * sizeof(*a));

                if (!a)
                        return NULL;
                doc->all = a;
                doc->cap_all = ncap;
        }
        n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->kind = kind;
        n->line = (unsigned)m.line + 1;
        n->column = (unsigned)m.column + 1;
        doc->all[doc->n_all++] = n;
        return n;
}

static int node_append(struct fb_yaml_node *parent, struct fb_yaml_node *child) {
        /* capacity is 4, then doubles: grow when n reaches 0, 4, 8, 16... */
        if (parent->n == 0 || (parent->n >= 4 && (parent->n & (parent->n - 1)) == 0)) {
                size_t ncap = parent->n ? parent->n * 2 : 4;
                struct fb_yaml_node **a = realloc(parent->items, ncap * sizeof(*a));

                if (!a)
                        return -ENOMEM;
                parent->items = a;
        }
        parent->items[parent->n++] = child;
        return 0;
}

void fb_yaml_free(struct fb_yaml_doc *doc) {
        size_t i;

        if (!doc)
                return;
        for (i = 0; i < doc->n_all; i++) {
                free(doc->all[i]->value);
                free(doc->all[i]->items);
                free(doc->all[i]);
        }
        free(doc->all);
        free(doc);
}
FB_DEFINE_CLEANUP(struct fb_yaml_doc *, fb_yaml_free)

const struct fb_yaml_node *fb_yaml_root(const struct fb_yaml_doc *doc) {
        return doc->root;
}

int fb_yaml_parse(const char *data, size_t len, struct fb_yaml_doc **ret,
                  struct fb_yaml_error *err) {
        _cleanup_(fb_yaml_freep) struct fb_yaml_doc *doc = NULL;
        struct fb_yaml_node *stack[FB_YAML_MAX_DEPTH + 1];
        size_t depth = 0, docs = 0;
        yaml_parser_t parser;
        int r = 0;
        bool done = false;

        *err = (struct fb_yaml_error){ 0 };
        if (len > FB_YAML_MAX_BYTES)
                return -EFBIG;
        doc = calloc(1, sizeof(*doc));
        if (!doc || !yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

        while (!done && r >= 0) {
                struct fb_yaml_node *n = NULL;
                yaml_event_t ev;

                if (!yaml_parser_parse(&parser, &ev)) {
                        r = set_error_at(err, parser.problem_mark, "%s%s%s",
                                         parser.problem ? parser.problem : "syntax error",
                                         parser.context ? " " : "",
                                         parser.context ? parser.context : "");
                        break;
                }
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++docs > 1)
                                r = set_error_at(err, ev.start_mark,
                                                 "only one YAML document is allowed");
                        break;
                case YAML_ALIAS_EVENT:
                        r = set_error_at(err, ev.start_mark, "YAML aliases are not supported");
                        break;
                case YAML_SCALAR_EVENT:
                        n = node_new(doc, FB_YAML_SCALAR, ev.start_mark);
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        n->len = ev.data.scalar.length;
                        n->value = malloc(n->len + 1);
                        if (!n->value) {
                                r = -ENOMEM;
                                break;
                        }
                        memcpy(n->value, ev.data.scalar.value, n->len);
                        n->value[n->len] = '\0';
                        n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                        break;
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (depth >= FB_YAML_MAX_DEPTH) {
                                r = set_error_at(err, ev.start_mark,
                                                 "nesting deeper than %u levels",
                                                 FB_YAML_MAX_DEPTH);
                                break;
                        }
                        n = node_new(doc,
                                     ev.type == YAML_SEQUENCE_START_EVENT ? FB_YAML_SEQUENCE
                                                                          : FB_YAML_MAPPING,
                                     ev.start_mark);
                        if (!n)
                                r = -ENOMEM;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        depth--;
                        break;
                default:
                        break;
                }
                if (r >= 0 && doc->n_all > FB_YAML_MAX_NODES)
                        r = set_error_at(err, ev.start_mark, "more than %u YAML nodes",
                                         FB_YAML_MAX_NODES);
                if (r >= 0 && n) {
                        if (depth > 0)
                                r = node_append(stack[depth - 1], n);
                        else
                                doc->root = n;
                        if (r >= 0 && n->kind != FB_YAML_SCALAR)
                                stack[depth++] = n;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
        if (r < 0)
                return r;
        if (!doc->root) {
                yaml_mark_t m = { 0 };

                doc->root = node_new(doc, FB_YAML_MAPPING, m);
                if (!doc->root)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(doc);
        return 0;
}

const struct fb_yaml_node *fb_yaml_get(const struct fb_yaml_node *map, const char *key) {
        size_t i;

        if (!map || map->kind != FB_YAML_MAPPING)
                return NULL;
        for (i = 0; i + 1 < map->n; i += 2)
                if (map->items[i]->kind == FB_YAML_SCALAR && strcmp(map->items[i]->value, key) == 0)
                        return map->items[i + 1];
        return NULL;
}

bool fb_yaml_is_null(const struct fb_yaml_node *n) {
        return n && n->kind == FB_YAML_SCALAR && n->plain &&
               (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
                strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0);
}

int fb_yaml_check_keys(const struct fb_yaml_node *map, const char *const *allowed,
                       struct fb_yaml_error *err) {
        size_t i, j;

        if (!map || map->kind != FB_YAML_MAPPING)
                return fb_yaml_errorf(err, map, "expected a mapping");
        for (i = 0; i + 1 < map->n; i += 2) {
                const struct fb_yaml_node *k = map->items[i];
                const char *const *a;
                bool ok = false;

                if (k->kind != FB_YAML_SCALAR)
                        return fb_yaml_errorf(err, k, "keys must be plain strings");
                for (a = allowed; *a && !ok; a++)
                        ok = strcmp(*a, k->value) == 0;
                if (!ok)
                        return fb_yaml_errorf(err, k, "unknown key '%s'", k->value);
                for (j = 0; j < i; j += 2)
                        if (strcmp(map->items[j]->value, k->value) == 0)
                                return fb_yaml_errorf(err, k, "duplicate key '%s'", k->value);
        }
        return 0;
}
