/* fuzz-manifest: arbitrary bytes as an evidence bundle's manifest.json, checked by
 * `evidence verify` against a bundle with one real file: no crash, no read outside the bundle. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firebreak/buf.h"
#include "firebreak/evidence.h"
#include "firebreak/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* relative: the fuzz runner works in a directory it removes afterwards */
        static char dir[] = "fb-fuzz-manifest-XXXXXX";
        static int ready;
        struct fb_buf out;

        if (!ready) {
                if (!mkdtemp(dir) || fb_write_file_atomic(dir, "alert.json", "{}\n", 3, 0600) < 0)
                        abort();
                ready = 1;
        }
        if (fb_write_file_atomic(dir, "manifest.json", data, size, 0600) < 0)
                abort();
        fb_buf_init(&out, 1 << 20);
        (void)fb_evidence_verify(dir, NULL, &out);
        fb_buf_free(&out);
        return 0;
}
