/* yaml.h: YAML documents as a small read-only tree with line/column on every node.
 *
 * Built from libyaml's event stream so that untrusted documents stay bounded: no aliases (they
 * make "billion laughs" documents), at most FB_YAML_MAX_DEPTH levels and FB_YAML_MAX_NODES nodes,
 * exactly one document. Only this module includes <yaml.h>. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum fb_yaml_kind {
        FB_YAML_SCALAR,
        FB_YAML_SEQUENCE,
        FB_YAML_MAPPING,
};

struct fb_yaml_node {
        enum fb_yaml_kind kind;
        unsigned line, column; /* 1-based */
        /* scalar: the value, NUL-terminated (libyaml guarantees valid UTF-8) */
        char *value;
        size_t len;
        bool plain; /* scalar written without quotes (so "null", "~" mean null) */
        /* sequence: n items; mapping: n/2 pairs stored key, value, key, value... */
        struct fb_yaml_node **items;
        size_t n;
};

struct fb_yaml_doc;

/* Where a problem is, and what it is. */
struct fb_yaml_error {
        unsigned line, column;
        char text[256];
};

/* Parses data (len bytes). Returns 0 and *ret, or -EINVAL with *err filled (syntax error, alias,
 * too deep, too many nodes, more than one document), -EFBIG when len > FB_YAML_MAX_BYTES, or
 * -ENOMEM. An empty document yields a root that is an empty mapping. */
int fb_yaml_parse(const char *data, size_t len, struct fb_yaml_doc **ret,
                  struct fb_yaml_error *err);
void fb_yaml_free(struct fb_yaml_doc *doc);
const struct fb_yaml_node *fb_yaml_root(const struct fb_yaml_doc *doc);

/* Returns the value for key in a mapping, or NULL (also when node is not a mapping). */
const struct fb_yaml_node *fb_yaml_get(const struct fb_yaml_node *map, const char *key);

/* True for a plain scalar null: "", "~", "null", "Null", "NULL". */
bool fb_yaml_is_null(const struct fb_yaml_node *n);

/* Fills *err with a message at node's position, display-escaped (it may quote the file).
 * Returns -EINVAL. */
int fb_yaml_errorf(struct fb_yaml_error *err, const struct fb_yaml_node *node, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Checks that every key of map is one of the NULL-terminated allowed keys and that no key
 * repeats. Returns 0 or -EINVAL with *err naming the first offending key. */
int fb_yaml_check_keys(const struct fb_yaml_node *map, const char *const *allowed,
                       struct fb_yaml_error *err);
