/* fuzz-alert: arbitrary bytes -> streaming reader -> triage -> Markdown and JSON reports.
 * Beyond memory safety (ASan/UBSan), it checks the report invariants: no control byte other
 * than newline in either rendering, and the JSON report parses. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firebreak/alert.h"
#include "firebreak/fileio.h"
#include "firebreak/kb.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/triage.h"

static struct fb_kb *kb;
static struct fb_report rep;
static struct fb_buf out;

static void check_bytes(const char *s, size_t len) {
        size_t i;

        for (i = 0; i < len; i++)
                if (((unsigned char)s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fb_alert_reader *rd = NULL;
        int fd, n = 0;

        if (!kb) {
                struct fb_yaml_error err;
                char where[64];

                if (fb_kb_new_builtin(&kb, &err, where, sizeof(where)) < 0)
                        abort();
                fb_report_init(&rep);
                fb_buf_init(&out, 8 << 20);
        }
        fd = memfd_create("fuzz", MFD_CLOEXEC);
        if (fd < 0 || fb_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        fb_alert_reader_new(fd, &rd);
        for (;;) {
                const struct fb_alert *a;
                struct fb_alert_error err;
                int r = fb_alert_reader_next(rd, &a, &err);

                if (r == -EINVAL) {
                        check_bytes(err.text, strlen(err.text));
                        continue;
                }
                if (r <= 0 || ++n > 64)
                        break;
                if (fb_triage(kb, a, &rep) < 0)
                        continue;
                fb_buf_reset(&out);
                if (fb_report_md(&rep, &out) == 0)
                        check_bytes(out.data, out.len);
                fb_buf_reset(&out);
                if (fb_report_json(&rep, &out) == 0) {
                        json_error_t jerr;
                        json_t *j;

                        check_bytes(out.data, out.len);
                        j = json_loadb(out.data, out.len, 0, &jerr);
                        if (!j)
                                abort();
                        json_decref(j);
                }
        }
        fb_alert_reader_free(rd);
        close(fd);
        return 0;
}
