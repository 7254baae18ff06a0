/* test.h: a minimal test harness. One process per module; each TEST is a case; a failed check
 * prints file:line, the expression and both values and marks the case failed; the last line is
 * "N passed, N failed, N skipped". With FIREBREAK_TEST_STRICT=1 a skip counts as a failure. */
#pragma once

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned t_passed, t_failed, t_skipped;
static bool t_case_failed, t_case_skipped;
static const char *t_case;
static bool t_quiet; /* set while probing that a checker can fail */

#define TEST(name) static void name(void)

#define RUN(fn)                                                                                    \
        do {                                                                                       \
                t_case = #fn;                                                                      \
                t_case_failed = t_case_skipped = false;                                            \
                fn();                                                                              \
                if (t_case_skipped)                                                                \
                        t_skipped++;                                                               \
                else if (t_case_failed) {                                                          \
                        t_failed++;                                                                \
                        printf("FAIL %s\n", #fn);                                                  \
                } else {                                                                           \
                        t_passed++;                                                                \
                        printf("ok   %s\n", #fn);                                                  \
                }                                                                                  \
                fflush(stdout);                                                                    \
        } while (0)

#define T_FAIL(...)                                                                                \
        do {                                                                                       \
                if (!t_quiet) {                                                                    \
                        printf("  %s:%d: %s: ", __FILE__, __LINE__, t_case);                       \
                        printf(__VA_ARGS__);                                                       \
                        printf("\n");                                                              \
                }                                                                                  \
                t_case_failed = true;                                                              \
        } while (0)

#define CHECK(expr)                                                                                \
        do {                                                                                       \
                if (!(expr))                                                                       \
                        T_FAIL("CHECK(%s) is false", #expr);                                       \
        } while (0)

#define CHECK_INT(a, op, b)                                                                        \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                if (!(_a op _b))                                                                   \
                        T_FAIL("%s %s %s: %lld vs %lld", #a, #op, #b, _a, _b);                     \
        } while (0)
#define CHECK_EQ(a, b) CHECK_INT(a, ==, b)

#define CHECK_STR(a, b)                                                                            \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
                        T_FAIL("%s == %s: \"%s\" vs \"%s\"", #a, #b, _a ? _a : "(null)",           \
                               _b ? _b : "(null)");                                                \
        } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
        do {                                                                                       \
                const char *_h = (hay), *_n = (needle);                                            \
                if (!_h || !strstr(_h, _n))                                                        \
                        T_FAIL("%s does not contain \"%s\"%s%.300s%s", #hay, _n,                   \
                               _h ? " (starts: \"" : "", _h ? _h : "", _h ? "\")" : "");           \
        } while (0)

#define CHECK_NOT_CONTAINS(hay, needle)                                                            \
        do {                                                                                       \
                const char *_h = (hay), *_n = (needle), *_p = _h ? strstr(_h, _n) : NULL;          \
                if (_p)                                                                            \
                        T_FAIL("%s contains \"%s\" at: \"%.120s\"", #hay, _n, _p);                 \
        } while (0)

#define SKIP(...)                                                                                  \
        do {                                                                                       \
                printf("skip %s: ", t_case);                                                       \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
                t_case_skipped = true;                                                             \
                return;                                                                            \
        } while (0)

static inline int t_summary(void) {
        const char *strict = getenv("FIREBREAK_TEST_STRICT");

        if (strict && strcmp(strict, "1") == 0 && t_skipped) {
                printf("strict mode: %u skipped case(s) count as failures\n", t_skipped);
                t_failed += t_skipped;
                t_skipped = 0;
        }
        printf("%u passed, %u failed, %u skipped\n", t_passed, t_failed, t_skipped);
        return t_failed ? 1 : 0;
}

/* Path of a test data file, from the source tree (tests are run from the top). */
static inline const char *t_data(const char *rel) {
        static char p[4096];

        snprintf(p, sizeof(p), "tests/data/%s", rel);
        return p;
}
