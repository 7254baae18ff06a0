/* report_json.h: renders a triage report as one JSON object (one line), with the same facts as the
 * Markdown report plus typed alert fields. The schema is documented in firebreak(8). */
#pragma once

#include "firebreak/buf.h"
#include "firebreak/triage.h"

#define FB_REPORT_JSON_VERSION 1

/* Appends the JSON report and a newline to out. Returns 0, or out's error. */
int fb_report_json(const struct fb_report *r, struct fb_buf *out);
