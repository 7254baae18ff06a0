/* alert_impl.h: what alert.c gives the streaming reader (reader.c), whose fast path parses a
 * JSON line in place, as fb_alert_parse() does (private to src/alert). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "firebreak/alert.h"

/* jansson's parse of one alert, in the alert's own arena when one is free (jarena.h); the
 * previous alert is dropped first. *in_arena: the whole tree lies in the arena. */
json_t *fb_alert_load_tree(struct fb_alert *a, const char *data, size_t len, json_error_t *jerr,
                           bool *in_arena);
/* Validates root into a (which takes a reference). Returns 0, -EINVAL with *err, -ENOMEM. */
int fb_alert_from_json(struct fb_alert *a, json_t *root, struct fb_alert_error *err);
/* After fb_alert_from_json(): the alert owns root; the caller's reference is settled. */
void fb_alert_adopt_tree(struct fb_alert *a, json_t *root, bool in_arena);
/* fb_alert_parse() of an alert whose nesting the caller has checked (the reader's framer
 * counts it as it frames). */
int fb_alert_parse_framed(struct fb_alert *a, const char *data, size_t len,
                          struct fb_alert_error *err);
