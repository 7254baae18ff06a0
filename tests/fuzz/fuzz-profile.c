/* fuzz-profile: arbitrary bytes as a seccomp profile; what parses is compiled with libseccomp
 * and its compiled BPF is run on memfd_create by the interpreter behind `seccomp check`. */
#include <stdint.h>
#include <stdlib.h>

#include "firebreak/compile.h"
#include "firebreak/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fb_seccomp_profile *p = NULL;
        struct fb_seccomp_filter *f = NULL;
        struct fb_memfd_check c;
        char err[256];

        if (fb_profile_parse((const char *)data, size, &p, err, sizeof(err)) == 0) {
                if (fb_seccomp_compile(p, &f, NULL, err, sizeof(err)) == 0) {
                        /* libseccomp's own output must always be a program we can run */
                        if (fb_seccomp_check_memfd(f, p, &c) < 0)
                                abort();
                        fb_seccomp_filter_free(f);
                }
                fb_profile_free(p);
        }
        return 0;
}
