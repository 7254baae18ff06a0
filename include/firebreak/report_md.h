/* report_md.h: renders a triage report as Markdown (the seed reports' structure, sound content). */
#pragma once

#include "firebreak/buf.h"
#include "firebreak/triage.h"

/* Appends the Markdown report to out. Returns 0, or out's error (-E2BIG, -ENOMEM). */
int fb_report_md(const struct fb_report *r, struct fb_buf *out);
