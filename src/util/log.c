/* log.c: stderr logging with errno-returning helpers. */
#include "firebreak/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int max_level = LOG_INFO;

void fb_log_set_max_level(int level) {
        max_level = level;
}

int fb_log_get_max_level(void) {
        return max_level;
}

int fb_log_errno(int level, int error, const char *fmt, ...) {
        int e = abs(error);

        if (level <= max_level) {
                va_list ap;

                errno = e;
                va_start(ap, fmt);
                fputs("firebreak: ", stderr);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
                va_end(ap);
        }
        return -e;
}
