/* evidence.h: evidence bundles. For one alert and one container: the alert, the engine's
 * inspection, processes, filesystem changes and recent output, each file with its SHA-256 in a
 * manifest, under <state dir>/evidence/<alert id>/. */
#pragma once

#include <stddef.h>

#include "firebreak/alert.h"
#include "firebreak/engine.h"

#define FB_EVIDENCE_LOG_TAIL 200u

/* Captures the bundle. ret_dir receives the directory, manifest_sha256 the manifest's hash.
 * A part the engine cannot give is recorded in the manifest as missing, with the error; the
 * bundle is still written. Returns 0, or -errno when the directory or a file cannot be
 * written. */
int fb_evidence_capture(struct fb_engine *e, const struct fb_container *c, const struct fb_alert *a,
                        const char *state_dir, char *ret_dir, size_t dir_len,
                        char manifest_sha256[65]);
