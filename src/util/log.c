/* log.c: stderr logging with errno-returning helpers. */
#include "firebreak/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firebreak/strutil.h"

static int max_level = LOG_INFO;
static int to_journal = -1; /* unknown until the first message */

/* Is stderr the journal's stream (systemd sets JOURNAL_STREAM to its device:inode)? Then a
 * "<N>" prefix gives each line its priority (journald's SyslogLevelPrefix, on by default), so
 * that errors are found with `journalctl -p err`; without it every line is PRIORITY=6. */
static bool stderr_is_journal(void) {
        const char *js = getenv("JOURNAL_STREAM"), *colon = js ? strchr(js, ':') : NULL;
        uint64_t dev, ino;
        struct stat st;

        return colon && fb_parse_uint64(js, (size_t)(colon - js), &dev) == 0 &&
               fb_parse_uint64(colon + 1, strlen(colon + 1), &ino) == 0 &&
               fstat(STDERR_FILENO, &st) == 0 && (uint64_t)st.st_dev == dev &&
               (uint64_t)st.st_ino == ino;
}

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

                if (to_journal < 0)
                        to_journal = stderr_is_journal();
                errno = e;
                va_start(ap, fmt);
                if (to_journal)
                        fprintf(stderr, "<%d>", level & LOG_PRIMASK);
                fputs("firebreak: ", stderr);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
                va_end(ap);
        }
        return -e;
}
