/* log.h: one logging entry point; messages go to stderr prefixed with the program name. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

/* Set by main(): messages above this level are dropped. LOG_INFO by default. */
void fb_log_set_max_level(int level);
int fb_log_get_max_level(void);

/* Logs one line. Returns -abs(error) so callers can write
 *         return fb_log_errno(LOG_ERR, r, "Failed to open %s: %m", path);
 * errno is set to abs(error) before formatting, so %m names it. error 0 returns 0. */
int fb_log_errno(int level, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define fb_log(level, ...) ((void)fb_log_errno((level), 0, __VA_ARGS__))
#define log_error(...) fb_log(LOG_ERR, __VA_ARGS__)
#define log_warning(...) fb_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...) fb_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) fb_log(LOG_DEBUG, __VA_ARGS__)
#define log_error_errno(r, ...) fb_log_errno(LOG_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) fb_log_errno(LOG_WARNING, (r), __VA_ARGS__)
