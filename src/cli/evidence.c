/* evidence.c: `firebreak evidence verify DIR`: is an evidence bundle still what was captured? */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "firebreak/buf.h"
#include "firebreak/cli.h"
#include "firebreak/evidence.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/strutil.h"

static void usage(FILE *f) {
        fprintf(f, "Usage: firebreak evidence verify [--manifest-sha256 HEX] DIR\n"
                   "\n"
                   "Checks an evidence bundle written by the inspect and capture actions: every\n"
                   "file that manifest.json lists must be present with its size and SHA-256, no\n"
                   "other file may be present, and manifest.sha256 must match the manifest. With\n"
                   "--manifest-sha256 (the hash the report and audit log recorded) a manifest\n"
                   "rewritten to match changed files is caught too.\n"
                   "\n"
                   "Options:\n"
                   "  -m, --manifest-sha256 HEX  the manifest hash recorded when it was captured\n"
                   "  -h, --help                 show this help\n"
                   "\n"
                   "Exit status: 0 intact; 1 something does not match; 2 usage, or the bundle\n"
                   "cannot be read.\n");
}

int fb_verb_evidence(int argc, char **argv) {
        static const struct option opts[] = {
                { "manifest-sha256", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *expect = NULL;
        struct fb_buf out;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) >= 0) {
                switch (opt) {
                case 'm':
                        if (strlen(optarg) != 64 || !fb_is_lower_hex(optarg, 64)) {
                                log_error("--manifest-sha256 takes 64 lowercase hex digits");
                                return FB_EXIT_USAGE;
                        }
                        expect = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        if (argc - optind != 2 || strcmp(argv[optind], "verify") != 0) {
                usage(stderr);
                return FB_EXIT_USAGE;
        }
        fb_buf_init(&out, 1 << 20);
        r = fb_evidence_verify(argv[optind + 1], expect, &out);
        if (r < 0) {
                fb_buf_free(&out);
                log_error_errno(r, "%s: cannot read the bundle: %m", argv[optind + 1]);
                return FB_EXIT_USAGE;
        }
        if (out.len)
                (void)fb_write_all(r ? STDERR_FILENO : STDOUT_FILENO, out.data, out.len);
        fb_buf_free(&out);
        return r ? FB_EXIT_INPUT : FB_EXIT_OK;
}
