/* respond.h: the action plan executor: policy match, guards, then each action through the
 * engine (or recorded as "would ..." in dry-run), with an audit line per decision. */
#pragma once

#include <stdbool.h>

#include "firebreak/alert.h"
#include "firebreak/engine.h"
#include "firebreak/policy.h"
#include "firebreak/response.h"

struct fb_responder_config {
        const struct fb_policy *policy;
        struct fb_engine *engine; /* NULL: unreachable, engine_error says why */
        int engine_error;
        bool dry_run;
        const char *state_dir; /* evidence/ and audit.jsonl go here */
};

struct fb_responder;

/* Opens <state_dir>/audit.jsonl for appending. Returns 0 or -errno. */
int fb_responder_new(const struct fb_responder_config *cfg, struct fb_responder **ret);
void fb_responder_free(struct fb_responder *r);

/* Decides and acts for one alert. Fills *out. Returns 0 when everything planned was done (or
 * recorded), 1 when some action failed in the engine, -errno when the audit log cannot be
 * written. */
int fb_respond(struct fb_responder *r, const struct fb_alert *a, struct fb_response *out);
