/* fuzz-kb: arbitrary bytes as a user knowledge base file (YAML tree + KB validation). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firebreak/fileio.h"
#include "firebreak/kb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fb_yaml_error err;
        struct fb_kb *kb = NULL;
        char where[256], path[64];
        int fd;

        if (fb_kb_new_builtin(&kb, &err, where, sizeof(where)) < 0)
                abort();
        fd = memfd_create("kb", MFD_CLOEXEC);
        if (fd < 0 || fb_write_all(fd, data, size) < 0)
                abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        (void)fb_kb_load_path(kb, path, &err, where, sizeof(where));
        if (kb && fb_kb_n_rules(kb) > 0)
                (void)fb_kb_find(kb, "Fileless execution via memfd_create");
        fb_kb_free(kb);
        close(fd);
        return 0;
}
