/* evidence.h: evidence bundles. One directory per alert, <state dir>/evidence/<alert id>/,
 * holds the alert, what the engine knows of the container (inspect, processes, filesystem
 * changes, recent output) and the fileless payloads of its processes, each file with its
 * SHA-256 and size in manifest.json. manifest.sha256 holds the manifest's own hash, which the
 * report and the audit log also record: a file changed after the fact fails `evidence verify`,
 * and a manifest rewritten to match no longer matches the recorded hash. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "firebreak/alert.h"
#include "firebreak/buf.h"
#include "firebreak/engine.h"
#include "firebreak/response.h"

#define FB_EVIDENCE_LOG_TAIL 200u
#define FB_EVIDENCE_MAX_FILES 128u
#define FB_CAPTURE_MAX_EXE (64u << 20)     /* bytes of one executable image */
#define FB_CAPTURE_MAX_PROCFILE (1u << 20) /* cmdline, environ, maps */
#define FB_CAPTURE_MAX_FDS 1024u
#define FB_CAPTURE_MAX_PIDS 4096u /* processes looked at per container */
/* Evidence never takes the last this many percent of its filesystem: a flood of alerts, each
 * with a capture of up to FB_CAPTURE_MAX_EXE, must not fill the disk the store needs. */
#define FB_EVIDENCE_KEEP_FREE_PCT 5u

struct fb_evidence;

/* Creates the bundle directory (mode 0700) and writes alert.json into it. Returns 0, -ENOSPC
 * when the state directory's filesystem has less than FB_EVIDENCE_KEEP_FREE_PCT free (a
 * capture that would go below it fails the same way), or -errno. */
int fb_evidence_open(const char *state_dir, const struct fb_alert *a, const char *engine,
                     const char *container_id, struct fb_evidence **ret);
/* Writes manifest.json and manifest.sha256 and frees the bundle. manifest_sha256 receives the
 * manifest's hash. Returns 0 or -errno; the bundle is freed either way. Accepts NULL. */
int fb_evidence_close(struct fb_evidence *ev, char manifest_sha256[65]);
const char *fb_evidence_dir(const struct fb_evidence *ev);

/* Adds the engine's view: inspect.json, pids.json, changes.json, logs.txt. A part the engine
 * cannot give is recorded in the manifest as missing, with the error. Returns 0, or -errno when
 * a file cannot be written. */
int fb_evidence_collect(struct fb_evidence *ev, struct fb_engine *e, const char *container_id);

/* For each process of the container (host pids from the engine, each checked to be in the
 * container's cgroup) whose executable is a memfd: copies the image through /proc/PID/exe
 * (at most FB_CAPTURE_MAX_EXE bytes) as memfd-PID.exe, and writes memfd-PID.json (ELF summary,
 * exe link, open fds), memfd-PID.cmdline, .environ and .maps. Works on a paused container.
 * Fills caps (at most max) and *n. Returns 0 (also when no process runs from a memfd),
 * -EACCES when the kernel refuses to show a process's executable (no CAP_SYS_PTRACE), or
 * -errno when the engine or a file write fails. */
int fb_evidence_capture_memfd(struct fb_evidence *ev, struct fb_engine *e, const char *container_id,
                              struct fb_response_capture *caps, size_t max, size_t *n);

/* Deletes the bundle of alert_id under state_dir/evidence (retention): its files, then the
 * directory, never following a link. Returns 1 when a bundle went, 0 when there was none, or
 * -errno (-EINVAL for an id that is not an alert id's form). */
int fb_evidence_remove(const char *state_dir, const char *alert_id);

/* Checks a bundle: manifest.json parses and names the bundle's alert; every file it lists
 * exists with that size and SHA-256; no other file is present; manifest.sha256 matches; and,
 * when expect is not NULL, the manifest's hash equals it. Appends one line per finding to out.
 * Returns 0 when intact, 1 when something does not match, or -errno when the bundle cannot be
 * read. */
int fb_evidence_verify(const char *dir, const char *expect, struct fb_buf *out);
