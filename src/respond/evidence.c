/* evidence.c: evidence bundles with a SHA-256 manifest. */
#define _GNU_SOURCE
#include "firebreak/evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firebreak/buf.h"
#include "firebreak/fileio.h"
#include "firebreak/hash.h"
#include "firebreak/strutil.h"
#include "firebreak/triage.h"

#define PART_MAX (8u << 20)

static int add_file(const char *dir, const char *name, struct fb_buf *data, struct fb_buf *manifest,
                    bool *first) {
        char hex[FB_SHA256_HEX_LEN + 1];
        int r;

        fb_sha256_hex(data->data ? data->data : "", data->len, hex);
        r = fb_write_file_atomic(dir, name, data->data ? data->data : "", data->len, 0600);
        if (r < 0)
                return r;
        fb_buf_printf(manifest, "%s{\"name\":\"%s\",\"size\":%zu,\"sha256\":\"%s\"}",
                      *first ? "" : ",", name, data->len, hex);
        *first = false;
        return 0;
}

static void add_missing(struct fb_buf *manifest, const char *name, int error, bool *first) {
        fb_buf_printf(manifest, "%s{\"name\":\"%s\",\"missing\":\"%s\"}", *first ? "" : ",", name,
                      strerror(-error));
        *first = false;
}

int fb_evidence_capture(struct fb_engine *e, const struct fb_container *c, const struct fb_alert *a,
                        const char *state_dir, char *ret_dir, size_t dir_len,
                        char manifest_sha256[65]) {
        struct fb_buf data, manifest;
        char dir[4096], now[64];
        pid_t *pids = NULL;
        size_t n = 0, i;
        struct tm tm;
        time_t t = time(NULL);
        bool first = true;
        int r, k;

        if ((size_t)snprintf(dir, sizeof(dir), "%s/evidence/%s", state_dir, a->id) >= sizeof(dir))
                return -ENAMETOOLONG;
        r = fb_mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        fb_buf_init(&data, PART_MAX);
        fb_buf_init(&manifest, 1 << 20);
        gmtime_r(&t, &tm);
        strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fb_buf_printf(&manifest,
                      "{\"alert_id\":\"%s\",\"container_id\":\"%s\",\"engine\":\"%s\","
                      "\"created\":\"%s\",\"firebreak\":\"%s\",\"files\":[",
                      a->id, c->id, fb_engine_name(e), now, FB_VERSION);

        r = fb_alert_dump(a, &data);
        if (r >= 0)
                r = add_file(dir, "alert.json", &data, &manifest, &first);

        fb_buf_reset(&data);
        k = r < 0 ? r : fb_engine_inspect(e, c->id, &(struct fb_container){ 0 }, &data);
        if (r >= 0)
                r = k < 0 ? (add_missing(&manifest, "inspect.json", k, &first), 0)
                          : add_file(dir, "inspect.json", &data, &manifest, &first);

        fb_buf_reset(&data);
        k = r < 0 ? r : fb_engine_top(e, c->id, &pids, &n);
        if (r >= 0 && k >= 0) {
                fb_buf_putc(&data, '[');
                for (i = 0; i < n; i++)
                        fb_buf_printf(&data, "%s%d", i ? "," : "", (int)pids[i]);
                fb_buf_puts(&data, "]\n");
                r = add_file(dir, "pids.json", &data, &manifest, &first);
        } else if (r >= 0)
                add_missing(&manifest, "pids.json", k, &first);
        free(pids);

        fb_buf_reset(&data);
        k = r < 0 ? r : fb_engine_changes(e, c->id, &data);
        if (r >= 0)
                r = k < 0 ? (add_missing(&manifest, "changes.json", k, &first), 0)
                          : add_file(dir, "changes.json", &data, &manifest, &first);

        fb_buf_reset(&data);
        k = r < 0 ? r : fb_engine_logs(e, c->id, FB_EVIDENCE_LOG_TAIL, &data);
        if (r >= 0)
                r = k < 0 ? (add_missing(&manifest, "logs.txt", k, &first), 0)
                          : add_file(dir, "logs.txt", &data, &manifest, &first);

        fb_buf_puts(&manifest, "]}\n");
        if (r >= 0)
                r = fb_buf_error(&manifest);
        if (r >= 0)
                r = fb_write_file_atomic(dir, "manifest.json", manifest.data, manifest.len, 0600);
        if (r >= 0) {
                fb_sha256_hex(manifest.data, manifest.len, manifest_sha256);
                snprintf(ret_dir, dir_len, "%s", dir);
        }
        fb_buf_free(&data);
        fb_buf_free(&manifest);
        return r;
}
