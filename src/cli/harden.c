/* harden.c: `firebreak harden plan|apply|verify|rollback|audit`: roll the memfd profile out to
 * a Docker host. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firebreak/cli.h"
#include "firebreak/engine.h"
#include "firebreak/log.h"
#include "firebreak/rollout.h"

#ifndef FB_LIBEXECDIR
#define FB_LIBEXECDIR "/usr/local/libexec/firebreak"
#endif

static void usage(FILE *f) {
        fprintf(f,
                "Usage: firebreak harden plan|apply|verify|rollback|audit [OPTIONS]\n"
                "\n"
                "plan      what the host and engine look like, and what apply would change\n"
                "apply     install the profile and set it as dockerd's default seccomp profile\n"
                "          in daemon.json (other keys kept, original backed up, invalid JSON\n"
                "          refused); restart dockerd through systemd when it is a unit, else\n"
                "          say how. Changes nothing without --yes.\n"
                "verify    run the static probe in a canary container under the engine's\n"
                "          default profile: every attack must fail; /info must name the profile\n"
                "rollback  restore the original daemon.json and restart (needs --yes)\n"
                "audit     every container: the profile it runs with, protected now and after a\n"
                "          restart; exit 1 when a running container is unprotected\n"
                "\n"
                "Options:\n"
                "  -m, --mode strict|compat   the profile (default strict)\n"
                "  -y, --yes                  really apply or roll back\n"
                "      --daemon-json FILE     default: dockerd's --config-file, else\n"
                "                             /etc/docker/daemon.json\n"
                "      --profile-dir DIR      where the profile goes (default "
                "/etc/firebreak/seccomp)\n"
                "      --sysctl               also set vm.memfd_noexec (1 strict, 2 compat) now\n"
                "                             and in DIR/60-firebreak-memfd.conf\n"
                "      --sysctl-dir DIR       default /etc/sysctl.d\n"
                "      --kubernetes           also install the OCI profile for kubelet\n"
                "      --kubelet-dir DIR      default /var/lib/kubelet/seccomp\n"
                "      --no-restart           leave restarting dockerd to the operator\n"
                "      --image IMAGE          verify: the canary's image (must exist locally)\n"
                "      --probe FILE           verify: the static probe (default " FB_LIBEXECDIR
                "/firebreak-probe)\n"
                "      --json                 audit: JSON output\n"
                "      --docker-socket PATH   the Docker engine (default: DOCKER_HOST, else\n"
                "                             /run/docker.sock)\n"
                "  -h, --help                 show this help\n"
                "\n"
                "Exit status: 0 done, or hardened; 1 not hardened, or refused; 2 usage or\n"
                "invalid input; 3 a file could not be written; 4 the engine failed.\n");
}

int fb_verb_harden(int argc, char **argv) {
        enum {
                O_DAEMON = 256,
                O_PDIR,
                O_SYSCTL,
                O_SDIR,
                O_K8S,
                O_KDIR,
                O_NORESTART,
                O_IMAGE,
                O_PROBE,
                O_JSON,
                O_SOCK
        };
        static const struct option opts[] = {
                { "mode", required_argument, NULL, 'm' },
                { "yes", no_argument, NULL, 'y' },
                { "daemon-json", required_argument, NULL, O_DAEMON },
                { "profile-dir", required_argument, NULL, O_PDIR },
                { "sysctl", no_argument, NULL, O_SYSCTL },
                { "sysctl-dir", required_argument, NULL, O_SDIR },
                { "kubernetes", no_argument, NULL, O_K8S },
                { "kubelet-dir", required_argument, NULL, O_KDIR },
                { "no-restart", no_argument, NULL, O_NORESTART },
                { "image", required_argument, NULL, O_IMAGE },
                { "probe", required_argument, NULL, O_PROBE },
                { "json", no_argument, NULL, O_JSON },
                { "docker-socket", required_argument, NULL, O_SOCK },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct fb_harden_config c = { .probe = FB_LIBEXECDIR "/firebreak-probe" };
        struct fb_engine_config ecfg = { .timeout_ms = 30000 };
        const char *verb;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "m:yh", opts, NULL)) >= 0) {
                switch (opt) {
                case 'm':
                        if (strcmp(optarg, "strict") != 0 && strcmp(optarg, "compat") != 0) {
                                log_error("--mode is strict or compat");
                                return FB_EXIT_USAGE;
                        }
                        c.mode = strcmp(optarg, "strict") == 0 ? FB_PROFILE_STRICT
                                                               : FB_PROFILE_COMPAT;
                        break;
                case 'y':
                        c.yes = true;
                        break;
                case O_DAEMON:
                        c.daemon_json = optarg;
                        break;
                case O_PDIR:
                        c.profile_dir = optarg;
                        break;
                case O_SYSCTL:
                        c.sysctl = true;
                        break;
                case O_SDIR:
                        c.sysctl_dir = optarg;
                        break;
                case O_K8S:
                        c.kubernetes = true;
                        break;
                case O_KDIR:
                        c.kubelet_dir = optarg;
                        break;
                case O_NORESTART:
                        c.no_restart = true;
                        break;
                case O_IMAGE:
                        c.image = optarg;
                        break;
                case O_PROBE:
                        c.probe = optarg;
                        break;
                case O_JSON:
                        c.json = true;
                        break;
                case O_SOCK:
                        ecfg.docker_socket = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return FB_EXIT_OK;
                default:
                        usage(stderr);
                        return FB_EXIT_USAGE;
                }
        }
        if (argc - optind != 1) {
                usage(stderr);
                return FB_EXIT_USAGE;
        }
        verb = argv[optind];
        if (strcmp(verb, "plan") && strcmp(verb, "apply") && strcmp(verb, "verify") &&
            strcmp(verb, "rollback") && strcmp(verb, "audit")) {
                log_error("unknown harden verb '%s'; see 'firebreak harden --help'", verb);
                return FB_EXIT_USAGE;
        }
        if (strcmp(verb, "verify") == 0 && !c.image) {
                log_error("verify needs --image IMAGE (an image present on this host)");
                return FB_EXIT_USAGE;
        }
        if (strcmp(verb, "verify") == 0 && access(c.probe, X_OK) != 0) {
                log_error("%s: the static probe is missing (make builds build/firebreak-probe; "
                          "or pass --probe)",
                          c.probe);
                return FB_EXIT_USAGE;
        }
        r = fb_engine_open_docker(&ecfg, &c.engine);
        if (r < 0) {
                char what[2300];

                fb_engine_describe(&ecfg, FB_ENGINE_DOCKER, what, sizeof(what));
                log_error_errno(r, "cannot reach %s: %m", what);
                return r == -EINVAL ? FB_EXIT_USAGE : FB_EXIT_ENGINE;
        }
        if (strcmp(verb, "plan") == 0)
                r = fb_harden_plan(&c, stdout);
        else if (strcmp(verb, "apply") == 0)
                r = fb_harden_apply(&c, stdout);
        else if (strcmp(verb, "verify") == 0)
                r = fb_harden_verify(&c, stdout);
        else if (strcmp(verb, "rollback") == 0)
                r = fb_harden_rollback(&c, stdout);
        else
                r = fb_harden_audit(&c, stdout);
        fb_engine_free(c.engine);
        return r;
}
