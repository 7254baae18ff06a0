/* engineopt.c: --engine and --containerd-socket, shared by every verb that touches
 * containers, and opening the engine they select with one kind of error message. */
#include <errno.h>
#include <string.h>

#include "firebreak/cli.h"
#include "firebreak/log.h"

int fb_cli_engine_option(int opt, const char *arg, struct fb_engine_config *cfg,
                         enum fb_engine_kind *kind) {
        switch (opt) {
        case FB_CLI_OPT_ENGINE:
                if (fb_engine_kind_from_string(arg, kind) < 0) {
                        log_error("--engine is docker, containerd or auto");
                        return -1;
                }
                return 1;
        case FB_CLI_OPT_CONTAINERD_SOCKET:
                cfg->containerd_socket = arg;
                return 1;
        default:
                return 0;
        }
}

int fb_cli_open_engine(const struct fb_engine_config *cfg, enum fb_engine_kind kind,
                       struct fb_engine **ret) {
        int r = fb_engine_open(cfg, kind, ret);

        if (r == -EINVAL)
                log_error(kind == FB_ENGINE_CONTAINERD
                                  ? "CONTAINERD_NAMESPACE holds a name that is not a namespace"
                                  : "DOCKER_HOST must be a unix:// address");
        else if (r < 0) {
                char what[2300];

                fb_engine_describe(cfg, kind, what, sizeof(what));
                log_error_errno(r, "cannot reach %s: %m", what);
        }
        return r;
}
