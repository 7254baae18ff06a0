/* container.c: `firebreak container inspect|pause|unpause ID`: manual operations through the
 * same engine code the responder uses. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firebreak/cli.h"
#include "firebreak/engine.h"
#include "firebreak/fileio.h"
#include "firebreak/log.h"
#include "firebreak/strutil.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: firebreak container [OPTIONS] inspect|pause|unpause ID\n"
                "\n"
                "Operates on one container through the container engine. ID is a hexadecimal id\n"
                "or id prefix (Falco sends 12 digits); it must match exactly one container, and\n"
                "it is matched against ids only, never against names.\n"
                "\n"
                "  inspect   print the container's id, name, image, state, pid and privilege\n"
                "            as JSON (--raw: the engine's own JSON)\n"
                "  pause     freeze every process of the container (idempotent)\n"
                "  unpause   thaw it again (idempotent)\n"
                "\n"
                "Options:\n"
                "      --docker-socket PATH  the Docker engine's socket (default: DOCKER_HOST,\n"
                "                            unix:// only, else "
                "/run/docker.sock)\n" FB_CLI_ENGINE_HELP
                "      --timeout MS          per call (default 5000)\n"
                "      --raw                 inspect: print the engine's JSON\n"
                "  -h, --help                show this help\n"
                "\n"
                "Exit status: 0 done (also when already in the state); 1 no such container, more\n"
                "than one match, or not running; 2 usage error; 4 the engine failed or could not\n"
                "be reached.\n");
}

/* The engine's message, escaped: it can quote container names. */
static const char *engine_msg(const struct fb_engine *e, struct fb_buf *b) {
        const char *m = fb_engine_last_error(e);

        fb_buf_reset(b);
        if (!*m)
                return "";
        fb_buf_puts(b, ": ");
        fb_escape_display(b, m, strlen(m));
        return fb_buf_cstr(b) ? fb_buf_cstr(b) : "";
}

static int exit_for(int r) {
        switch (r) {
        case -ENOENT:
        case -ENOTUNIQ:
        case -EBUSY:
                return FB_EXIT_INPUT;
        case -EINVAL:
                return FB_EXIT_USAGE;
        default:
                return FB_EXIT_ENGINE;
        }
}

static void print_json(const struct fb_engine *e, const struct fb_container *c) {
        struct fb_buf b;

        fb_buf_init(&b, 8192);
        fb_buf_puts(&b, "{\"id\":\"");
        fb_buf_puts(&b, c->id);
        fb_buf_puts(&b, "\",\"name\":");
        fb_json_str(&b, c->name, strlen(c->name));
        fb_buf_puts(&b, ",\"image\":");
        fb_json_str(&b, c->image, strlen(c->image));
        fb_buf_puts(&b, ",\"state\":");
        fb_json_str(&b, c->state, strlen(c->state));
        fb_buf_printf(&b, ",\"pid\":%d,\"privileged\":%s,\"engine\":\"%s\",\"api_version\":",
                      (int)c->pid, c->privileged ? "true" : "false", fb_engine_name(e));
        fb_json_str(&b, fb_engine_api_version(e), strlen(fb_engine_api_version(e)));
        fb_buf_puts(&b, ",\"namespace\":");
        if (c->ns[0])
                fb_json_str(&b, c->ns, strlen(c->ns));
        else
                fb_buf_puts(&b, "null");
        fb_buf_puts(&b, "}\n");
        if (fb_buf_cstr(&b))
                fputs(fb_buf_cstr(&b), stdout);
        fb_buf_free(&b);
}

int fb_verb_container(int argc, char **argv) {
        static const struct option opts[] = {
                { "docker-socket", required_argument, NULL, 's' },
                { "timeout", required_argument, NULL, 't' },
                { "raw", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                FB_CLI_ENGINE_OPTIONS,
                {},
        };
        enum fb_engine_kind kind = FB_ENGINE_AUTO;
        struct fb_engine_config cfg = { 0 };
        struct fb_engine *e = NULL;
        char id[FB_CONTAINER_ID_LEN + 1];
        const char *op, *arg;
        struct fb_buf msg;
        bool raw = false;
        uint64_t ms;
        int opt, r, rc = FB_EXIT_OK;

        while ((opt = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                r = fb_cli_engine_option(opt, optarg, &cfg, &kind);
                if (r < 0)
                        return FB_EXIT_USAGE;
                if (r > 0)
                        continue;
                switch (opt) {
                case 's':
                        cfg.docker_socket = optarg;
                        break;
                case 't':
                        if (fb_parse_uint64(optarg, strlen(optarg), &ms) < 0 || ms == 0 ||
                            ms > 600000) {
                                log_error("--timeout takes milliseconds, 1 to 600000");
                                return FB_EXIT_USAGE;
                        }
                        cfg.timeout_ms = (unsigned)ms;
                        break;
                case 'r':
                        raw = true;
                        break;
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        if (argc - optind != 2) {
                usage(stderr);
                return FB_EXIT_USAGE;
        }
        op = argv[optind];
        arg = argv[optind + 1];
        if (strcmp(op, "inspect") != 0 && strcmp(op, "pause") != 0 && strcmp(op, "unpause") != 0) {
                log_error("unknown operation; use inspect, pause or unpause");
                return FB_EXIT_USAGE;
        }
        r = fb_cli_open_engine(&cfg, kind, &e);
        if (r < 0)
                return r == -EINVAL ? FB_EXIT_USAGE : FB_EXIT_ENGINE;
        fb_buf_init(&msg, 2048);
        r = fb_engine_resolve(e, arg, id);
        if (r == -EINVAL)
                log_error("'%s' is not a container id: use 1 to 64 lowercase hex digits",
                          fb_needs_display_escape(arg, strlen(arg)) ? "(unprintable)" : arg);
        else if (r == -ENOENT)
                log_error("no container has an id starting with %s", arg);
        else if (r == -ENOTUNIQ)
                log_error("more than one container has an id starting with %s; give more digits",
                          arg);
        else if (r < 0)
                log_error_errno(r, "resolving %s: %m%s", arg, engine_msg(e, &msg));
        if (r < 0) {
                rc = exit_for(r);
                goto out;
        }
        if (strcmp(op, "inspect") == 0) {
                struct fb_container c;
                struct fb_buf rawbuf;

                fb_buf_init(&rawbuf, 8u << 20);
                r = fb_engine_inspect(e, id, &c, raw ? &rawbuf : NULL);
                if (r >= 0 && raw) {
                        fb_write_all(STDOUT_FILENO, rawbuf.data, rawbuf.len);
                        fputs("\n", stdout);
                } else if (r >= 0)
                        print_json(e, &c);
                fb_buf_free(&rawbuf);
        } else {
                bool pause = strcmp(op, "pause") == 0;

                r = pause ? fb_engine_pause(e, id) : fb_engine_unpause(e, id);
                if (r >= 0)
                        printf("%s%s %s\n", r == 1 ? "already " : "", pause ? "paused" : "unpaused",
                               id);
        }
        if (r < 0) {
                log_error_errno(r, "%s %s: %m%s", op, id, engine_msg(e, &msg));
                rc = exit_for(r);
        }
out:
        fb_buf_free(&msg);
        fb_engine_free(e);
        return rc;
}
