/* bench.c: triage throughput on one core, beside a jansson-only parse baseline run in the same
 * process, and the CLI's peak RSS over 10,000- and 100,000-alert streams.
 *
 * Usage: bench FIREBREAK_BINARY ALERT_FILE [N]          timings and RSS
 *        bench --mode MODE ALERT_FILE N                 one mode once (for callgrind)
 *        bench --latency SOCKET CONTAINER_ID N          alert -> paused, beside a raw pause
 *        bench --latency-containerd SOCKET ID N         the same through containerd (moby)
 * The modes take turns over the stream, 250 alerts at a time, so that all of them meet the same
 * noise of a shared machine; that is repeated 11 times and medians are reported: of the rates,
 * and of each repetition's ratio to the baseline beside it. Figures are printed, never
 * asserted. */
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

#include <curl/curl.h>

#include "firebreak/alert.h"
#include "containerd.pb-c.h"
#include "firebreak/engine.h"
#include "firebreak/grpc.h"
#include "firebreak/policy.h"
#include "firebreak/respond.h"
#include "firebreak/fileio.h"
#include "firebreak/kb.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/triage.h"

#define REPS 11

enum mode { BASELINE, PARSE, TRIAGE_JSON, TRIAGE_MD, _MODES };
static const char *const mode_keys[] = { "baseline", "parse", "json", "md" };
static const char *const mode_names[] = { "jansson parse only (baseline)",
                                          "firebreak read+validate", "firebreak triage -> JSON",
                                          "firebreak triage -> Markdown" };

static struct fb_kb *kb;
static char *stream;
static size_t stream_len, n_alerts;

/* The machine's CPU time so far, from /proc/stat's first line: *steal is what the hypervisor
 * gave to other guests, *total everything. The share stolen during a run says how far a figure
 * can be trusted on a shared machine (this one has seen a third of its time stolen). */
static void cpu_times(unsigned long long *steal, unsigned long long *total) {
        unsigned long long v[8] = { 0 };
        FILE *f = fopen("/proc/stat", "re");
        int i;

        *steal = *total = 0;
        if (!f)
                return;
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
                for (i = 0; i < 8; i++)
                        *total += v[i];
                *steal = v[7];
        }
        fclose(f);
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One mode's pass over the stream, taken a block of alerts at a time so that the modes can
 * take turns: every mode then meets the same noise of a shared machine, spread over the whole
 * measurement, instead of each one its own stretch of it. */
struct runner {
        enum mode m;
        const char *p; /* BASELINE: the next line */
        int fd;
        struct fb_alert_reader *rd;
        struct fb_report rep;
        struct fb_buf out;
        size_t done;
        double t; /* seconds spent in step() */
};

static void runner_init(struct runner *r, enum mode m) {
        *r = (struct runner){ .m = m, .p = stream, .fd = -1 };
        if (m == BASELINE)
                return;
        r->fd = memfd_create("bench", MFD_CLOEXEC);
        fb_write_all(r->fd, stream, stream_len);
        lseek(r->fd, 0, SEEK_SET);
        fb_report_init(&r->rep);
        /* as the CLI and the service do: triage prepares the form that is rendered */
        r->rep.forms = m == TRIAGE_MD ? FB_REPORT_MD : FB_REPORT_JSON;
        fb_buf_init(&r->out, 4 << 20);
        fb_alert_reader_new(r->fd, &r->rd);
}

/* Up to k more alerts; false when the stream is done. */
static bool step(struct runner *r, size_t k) {
        const char *end = stream + stream_len;
        double t0 = now();
        bool more = true;

        while (k-- > 0 && more) {
                if (r->m == BASELINE) {
                        const char *nl;
                        json_error_t err;
                        json_t *j;

                        if (r->p >= end) {
                                more = false;
                                break;
                        }
                        nl = memchr(r->p, '\n', (size_t)(end - r->p));
                        j = json_loadb(r->p, (size_t)(nl - r->p), 0, &err);
                        if (!j)
                                abort();
                        json_decref(j);
                        r->p = nl + 1;
                } else {
                        const struct fb_alert *a;
                        struct fb_alert_error err;

                        if (fb_alert_reader_next(r->rd, &a, &err) <= 0) {
                                more = false;
                                break;
                        }
                        if (r->m != PARSE) {
                                fb_triage(kb, a, &r->rep);
                                fb_buf_reset(&r->out);
                                if (r->m == TRIAGE_JSON)
                                        fb_report_json(&r->rep, &r->out);
                                else
                                        fb_report_md(&r->rep, &r->out);
                        }
                }
                r->done++;
        }
        r->t += now() - t0;
        return more;
}

static void runner_done(struct runner *r) {
        if (r->done != n_alerts) {
                fprintf(stderr, "bench: processed %zu of %zu alerts\n", r->done, n_alerts);
                exit(1);
        }
        if (r->m == BASELINE)
                return;
        fb_alert_reader_free(r->rd);
        close(r->fd);
        fb_report_done(&r->rep);
        fb_buf_free(&r->out);
}

/* Seconds to process the stream in one mode, alone. */
static double run(enum mode m) {
        struct runner r;

        runner_init(&r, m);
        while (step(&r, SIZE_MAX))
                ;
        runner_done(&r);
        return r.t;
}

/* Every mode over the stream, in turns of BLOCK alerts (the order rotating from turn to turn);
 * t[m]: the seconds each took. */
#define BLOCK 250
static void run_interleaved(double t[_MODES]) {
        struct runner r[_MODES];
        unsigned turn = 0, m, left = _MODES;
        bool live[_MODES];

        for (m = 0; m < _MODES; m++) {
                runner_init(&r[m], (enum mode)m);
                live[m] = true;
        }
        while (left > 0) {
                for (m = 0; m < _MODES; m++) {
                        unsigned i = (m + turn) % _MODES;

                        if (live[i] && !step(&r[i], BLOCK)) {
                                live[i] = false;
                                left--;
                        }
                }
                turn++;
        }
        for (m = 0; m < _MODES; m++) {
                runner_done(&r[m]);
                t[m] = r[m].t;
        }
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static size_t discard(char *p, size_t s, size_t n, void *u) {
        (void)p;
        (void)u;
        return s * n;
}

static double raw_pause(CURL *c, const char *sock, const char *id, const char *op, long *code) {
        char url[256];
        double t0;

        snprintf(url, sizeof(url), "http://localhost/v1.41/containers/%s/%s", id, op);
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        t0 = now();
        if (curl_easy_perform(c) != CURLE_OK)
                abort();
        t0 = now() - t0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
        return t0;
}

static int cmp_d(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* Alert -> paused through firebreak, beside the raw pause call on the same socket. Rounds
 * alternate the two; the container is unpaused between rounds, outside the timings. */
/* The raw call the engine makes for a pause (or resume), straight through libcurl / grpc. */
struct rawc {
        bool ctd;
        CURL *c;
        struct fb_grpc *g;
        const char *sock, *id;
};

/* The raw call; *ok: the engine did it (204, grpc OK). */
static double raw_call(struct rawc *x, bool pause, bool *ok) {
        Fbctd__ContainerRequest req = FBCTD__CONTAINER_REQUEST__INIT;
        uint8_t buf[128];
        struct fb_buf out;
        char msg[256];
        double t0;
        long http = 0;
        int code = -1;
        size_t len;

        if (!x->ctd) {
                t0 = raw_pause(x->c, x->sock, x->id, pause ? "pause" : "unpause", &http);
                *ok = http == 204;
                return t0;
        }
        req.container_id = (char *)x->id;
        len = fbctd__container_request__pack(&req, buf);
        fb_buf_init(&out, 4096);
        t0 = now();
        if (fb_grpc_call(x->g, "moby",
                         pause ? "/containerd.services.tasks.v1.Tasks/Pause"
                               : "/containerd.services.tasks.v1.Tasks/Resume",
                         buf, len, &out, &code, msg, sizeof(msg)) < 0)
                abort();
        t0 = now() - t0;
        fb_buf_free(&out);
        *ok = code == 0;
        return t0;
}

/* A timed raw pause, or an unpause that is retried until the engine did it: a round has to
 * start from a running container, and an unpause right after a pause can find the cgroup
 * freezer still settling. */
static double raw_op(struct rawc *x, bool pause) {
        struct timespec ms10 = { 0, 10000000 };
        bool ok;
        double t = raw_call(x, pause, &ok);
        int tries = 0;

        while (!pause && !ok && ++tries < 100) {
                nanosleep(&ms10, NULL);
                raw_call(x, false, &ok);
        }
        return t;
}

/* The responder's state directory (its audit log) goes with the run. */
static void drop_state(const char *state) {
        char p[128];

        snprintf(p, sizeof(p), "%s/audit.jsonl", state);
        unlink(p);
        rmdir(state);
}

static int latency(const char *sock, const char *id, size_t n, bool ctd) {
        static const char policy_doc[] = "guards: {max_disruptive_actions: 100000, window: 1s}\n"
                                         "rules:\n  - name: bench\n    match: {}\n"
                                         "    actions: [pause]\n";
        struct fb_engine_config ecfg = { .docker_socket = sock,
                                         .containerd_socket = sock,
                                         .containerd_namespaces = "moby" };
        struct rawc x = { .ctd = ctd, .sock = sock, .id = id };
        struct fb_responder_config rcfg = { 0 };
        struct fb_responder *resp = NULL;
        struct fb_policy *policy = NULL;
        struct fb_yaml_error err;
        struct fb_report rep;
        struct fb_response out;
        struct fb_alert *a = NULL;
        double *raw = calloc(n, sizeof(double)), *fb = calloc(n, sizeof(double));
        char state[] = "/tmp/fb-bench-state-XXXXXX", json[1024], ts[64];
        CURL *c = curl_easy_init();
        size_t i;

        x.c = c;
        if (!raw || !fb || !c || !mkdtemp(state) ||
            fb_policy_parse(policy_doc, strlen(policy_doc), &policy, &err) < 0 ||
            fb_engine_open(&ecfg, ctd ? FB_ENGINE_CONTAINERD : FB_ENGINE_DOCKER, &rcfg.engine) <
                    0 ||
            (ctd && fb_grpc_new(sock, 5000, &x.g) < 0))
                return 1;
        rcfg.policy = policy;
        rcfg.state_dir = state;
        if (fb_responder_new(&rcfg, &resp) < 0 || fb_alert_new(&a) < 0)
                return 1;
        fb_report_init(&rep);
        for (i = 0; i < n; i++) {
                struct fb_alert_error aerr;
                time_t t = time(NULL);
                struct tm tm;
                double t0;

                raw[i] = raw_op(&x, true);
                raw_op(&x, false);

                gmtime_r(&t, &tm);
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
                snprintf(json, sizeof(json),
                         "{\"rule\":\"Fileless execution via memfd_create\",\"priority\":"
                         "\"Critical\",\"source\":\"syscall\",\"time\":\"%s\",\"tags\":["
                         "\"T1620\"],\"output_fields\":{\"container.id\":\"%.12s\","
                         "\"proc.name\":\"3\",\"proc.exepath\":\"memfd:x\",\"proc.pid\":%zu}}",
                         ts, id, i + 1); /* distinct alerts: one second holds several rounds */
                t0 = now();
                if (fb_alert_parse(a, json, strlen(json), &aerr) < 0 ||
                    fb_triage(kb, a, &rep) < 0 || fb_respond(resp, a, &rep, 0, &out) != 0 ||
                    out.actions[0].result != FB_ACT_DONE) {
                        fprintf(stderr, "bench: round %zu: the pause was not done: %s\n", i,
                                out.n_actions ? out.actions[0].detail : "no action");
                        drop_state(state);
                        return 1;
                }
                fb[i] = now() - t0;
                raw_op(&x, false);
        }
        qsort(raw, n, sizeof(double), cmp_d);
        qsort(fb, n, sizeof(double), cmp_d);
        printf("bench: alert -> paused through %s (%zu rounds, interleaved, one container)\n",
               ctd ? "containerd" : "Docker", n);
        printf("  raw %s (same socket)  p50 %6.2f ms  p99 %6.2f ms\n",
               ctd ? "Tasks/Pause gRPC call  " : "pause call (libcurl)   ", raw[n / 2] * 1e3,
               raw[n * 99 / 100] * 1e3);
        printf("  firebreak: parse, triage, policy, guards, resolve, inspect, pause, audit\n"
               "                                         p50 %6.2f ms  p99 %6.2f ms\n",
               fb[n / 2] * 1e3, fb[n * 99 / 100] * 1e3);
        printf("  firebreak adds %.2f ms at p50 (%.2fx the raw call)\n",
               (fb[n / 2] - raw[n / 2]) * 1e3, fb[n / 2] / raw[n / 2]);
        fb_report_done(&rep);
        fb_alert_free(a);
        fb_responder_free(resp);
        fb_engine_free(rcfg.engine);
        fb_policy_free(policy);
        curl_easy_cleanup(c);
        fb_grpc_free(x.g);
        free(raw);
        free(fb);
        drop_state(state);
        return 0;
}

int main(int argc, char **argv) {
        struct fb_yaml_error err;
        char where[256], *alert = NULL, *line;
        double t[_MODES][REPS], ratio[_MODES][REPS], med[_MODES];
        unsigned long long steal0, total0, steal1, total1;
        size_t len, i, line_len, n = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;
        int m, k, only = -1;
        cpu_set_t one;

        if (argc < 3) {
                fprintf(stderr, "usage: bench FIREBREAK ALERT_FILE [N] | bench --mode M FILE N | "
                                "bench --latency[-containerd] SOCKET ID N\n");
                return 2;
        }
        if (strcmp(argv[1], "--latency") == 0 || strcmp(argv[1], "--latency-containerd") == 0) {
                if (argc < 5 || fb_kb_new_builtin(&kb, &err, where, sizeof(where)) < 0)
                        return 2;
                return latency(argv[2], argv[3], strtoul(argv[4], NULL, 10),
                               strcmp(argv[1], "--latency-containerd") == 0);
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
        printf("bench: %zu alerts of %zu bytes (%s), modes in turns of %d alerts, %d runs, median, "
               "CPU 0\n",
               n, line_len - 1, argv[2], BLOCK, REPS);
        run(TRIAGE_MD); /* warm up caches and the allocator */
        cpu_times(&steal0, &total0);
        for (k = 0; k < REPS; k++) {
                double tk[_MODES];

                run_interleaved(tk);
                for (m = 0; m < _MODES; m++) {
                        t[m][k] = tk[m];
                        ratio[m][k] = tk[m] / tk[BASELINE];
                }
        }
        for (m = 0; m < _MODES; m++) {
                qsort(t[m], REPS, sizeof(double), cmp_double);
                qsort(ratio[m], REPS, sizeof(double), cmp_double);
                med[m] = t[m][REPS / 2];
        }
        for (m = 0; m < _MODES; m++)
                printf("  %-32s %9.0f alerts/s  %6.1f us/alert  %5.2fx baseline (ratios "
                       "%.2f..%.2f; "
                       "alerts/s %.0f..%.0f)\n",
                       mode_names[m], (double)n / med[m], med[m] * 1e6 / (double)n,
                       ratio[m][REPS / 2], ratio[m][0], ratio[m][REPS - 1],
                       (double)n / t[m][REPS - 1], (double)n / t[m][0]);
        cpu_times(&steal1, &total1);
        if (total1 > total0)
                printf("  CPU time stolen by the hypervisor during the runs: %.0f%%\n",
                       100.0 * (double)(steal1 - steal0) / (double)(total1 - total0));
        free(stream);
        free(line);
        free(alert);
        fb_kb_free(kb);
        return 0;
}
