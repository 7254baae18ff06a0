/* bench.c: triage throughput on one core, beside a jansson-only parse baseline run in the same
 * process, and the CLI's peak RSS over 10,000- and 100,000-alert streams.
 *
 * Usage: bench FIREBREAK_BINARY ALERT_FILE [N]          timings and RSS
 *        bench --mode MODE ALERT_FILE N                 one mode once (for callgrind)
 * Each timing is repeated 7 times, interleaved, and the median is reported, so that machine
 * noise hits all variants alike. Figures are printed, never asserted. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/alert.h"
#include "firebreak/fileio.h"
#include "firebreak/kb.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/triage.h"

#define REPS 7

enum mode { BASELINE, PARSE, TRIAGE_JSON, TRIAGE_MD, _MODES };
static const char *const mode_keys[] = { "baseline", "parse", "json", "md" };
static const char *const mode_names[] = { "jansson parse only (baseline)",
                                          "firebreak read+validate", "firebreak triage -> JSON",
                                          "firebreak triage -> Markdown" };

static struct fb_kb *kb;
static char *stream;
static size_t stream_len, n_alerts;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds to process the stream in one mode. */
static double run(enum mode m) {
        struct fb_report rep;
        struct fb_buf out;
        double t0 = now();
        size_t done = 0;

        if (m == BASELINE) {
                const char *p = stream, *end = stream + stream_len;

                while (p < end) {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        json_error_t err;
                        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &err);

                        if (!j)
                                abort();
                        json_decref(j);
                        done++;
                        p = nl + 1;
                }
        } else {
                struct fb_alert_reader *rd = NULL;
                int fd = memfd_create("bench", MFD_CLOEXEC);

                fb_write_all(fd, stream, stream_len);
                lseek(fd, 0, SEEK_SET);
                fb_report_init(&rep);
                fb_buf_init(&out, 4 << 20);
                t0 = now();
                fb_alert_reader_new(fd, &rd);
                for (;;) {
                        const struct fb_alert *a;
                        struct fb_alert_error err;
                        int r = fb_alert_reader_next(rd, &a, &err);

                        if (r <= 0)
                                break;
                        done++;
                        if (m == PARSE)
                                continue;
                        fb_triage(kb, a, &rep);
                        fb_buf_reset(&out);
                        if (m == TRIAGE_JSON)
                                fb_report_json(&rep, &out);
                        else
                                fb_report_md(&rep, &out);
                }
                fb_alert_reader_free(rd);
                close(fd);
                fb_report_done(&rep);
                fb_buf_free(&out);
        }
        if (done != n_alerts) {
                fprintf(stderr, "bench: processed %zu of %zu alerts\n", done, n_alerts);
                exit(1);
        }
        return now() - t0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* Peak RSS (KiB) of `firebreak triage --format F` reading n alerts from a file. */
static long cli_rss(const char *fb, const char *format, size_t n, const char *line,
                    size_t line_len) {
        char path[] = "/tmp/fb-bench-XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC), status;
        struct rusage ru;
        size_t i;
        pid_t pid;

        for (i = 0; i < n; i++)
                fb_write_all(fd, line, line_len);
        pid = fork();
        if (pid == 0) {
                int in = open(path, O_RDONLY), nul = open("/dev/null", O_WRONLY);

                dup2(in, 0);
                dup2(nul, 1);
                execl(fb, fb, "triage", "--format", format, (char *)NULL);
                _exit(127);
        }
        wait4(pid, &status, 0, &ru);
        close(fd);
        unlink(path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -1;
        return ru.ru_maxrss;
}

int main(int argc, char **argv) {
        struct fb_yaml_error err;
        char where[256], *alert = NULL, *line;
        double t[_MODES][REPS], med[_MODES];
        size_t len, i, line_len, n = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;
        long r10 = 0, r100 = 0, m100 = 0, self = 0;
        struct rusage ru;
        int m, k, only = -1;
        cpu_set_t one;

        if (argc < 3) {
                fprintf(stderr, "usage: bench FIREBREAK ALERT_FILE [N] | bench --mode M FILE N\n");
                return 2;
        }
        if (strcmp(argv[1], "--mode") == 0) {
                for (m = 0; m < _MODES; m++)
                        if (strcmp(argv[2], mode_keys[m]) == 0)
                                only = m;
                if (strcmp(argv[2], "setup") == 0)
                        only = _MODES;
                if (only < 0 || argc < 5)
                        return 2;
                /* keep the positions of the timing form: argv[2] FILE, argv[3] N */
                argv += 1;
                argc -= 1;
                n = strtoul(argv[3], NULL, 10);
        }
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        if (sched_setaffinity(0, sizeof(one), &one) < 0)
                perror("bench: sched_setaffinity (figures are not pinned to one core)");
        if (fb_kb_new_builtin(&kb, &err, where, sizeof(where)) < 0 ||
            fb_read_file(argv[2], 1 << 20, &alert, &len) < 0)
                return 1;
        /* one compact line, as Falco writes them */
        {
                json_error_t jerr;
                json_t *j = json_loads(alert, 0, &jerr);

                if (!j)
                        return 1;
                line = json_dumps(j, JSON_COMPACT);
                json_decref(j);
        }
        line_len = strlen(line);
        line = realloc(line, line_len + 2);
        line[line_len++] = '\n';
        line[line_len] = '\0';
        if (only < 0) {
                /* before the stream buffer exists: a forked child's ru_maxrss starts at the
                 * parent's resident size */
                getrusage(RUSAGE_SELF, &ru);
                self = ru.ru_maxrss;
                r10 = cli_rss(argv[1], "json", 10000, line, line_len);
                r100 = cli_rss(argv[1], "json", 100000, line, line_len);
                m100 = cli_rss(argv[1], "md", 100000, line, line_len);
        }
        stream = malloc(line_len * n);
        for (i = 0; i < n; i++)
                memcpy(stream + i * line_len, line, line_len);
        stream_len = line_len * n;
        n_alerts = n;

        if (only >= 0) {
                if (only < _MODES)
                        run((enum mode)only);
                return 0;
        }
        printf("bench: %zu alerts of %zu bytes (%s), %d interleaved runs, median, CPU 0\n", n,
               line_len - 1, argv[2], REPS);
        run(TRIAGE_MD); /* warm up caches and the allocator */
        for (k = 0; k < REPS; k++)
                for (m = 0; m < _MODES; m++)
                        t[m][k] = run((enum mode)m);
        for (m = 0; m < _MODES; m++) {
                qsort(t[m], REPS, sizeof(double), cmp_double);
                med[m] = t[m][REPS / 2];
        }
        for (m = 0; m < _MODES; m++)
                printf("  %-32s %9.0f alerts/s  %6.1f us/alert  %5.2fx baseline  (min %.0f, max "
                       "%.0f alerts/s)\n",
                       mode_names[m], (double)n / med[m], med[m] * 1e6 / (double)n,
                       med[m] / med[BASELINE], (double)n / t[m][REPS - 1], (double)n / t[m][0]);
        printf("  peak RSS of `firebreak triage`: %ld KiB for 10,000 alerts, %ld KiB for 100,000 "
               "(JSON); %ld KiB for 100,000 (Markdown); forked from a %ld KiB parent\n",
               r10, r100, m100, self);
        free(stream);
        free(line);
        free(alert);
        fb_kb_free(kb);
        return 0;
}
