/* docker-engine: the Docker backend against a real dockerd, run by tests/test-docker.sh, which
 * starts the daemon and the containers and passes them in the environment:
 *   FB_TEST_DOCKER_SOCK   the daemon's socket
 *   FB_TEST_RUNNING       full id of a running container that writes to stdout and stderr
 *   FB_TEST_DECOY         full id of a container *named* like FB_TEST_RUNNING's 12-digit prefix
 *   FB_TEST_CREATED       full id of a created, never started container
 *   FB_TEST_AMBIGUOUS     a hex prefix shared by two or more containers
 *   FB_TEST_VICTIM, FB_TEST_VICTIM2   running containers the test may stop and kill */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firebreak/engine.h"
#include "test.h"

static struct fb_engine *e;
static const char *running, *decoy, *created, *ambiguous;

TEST(negotiates_and_reports) {
        CHECK_STR(fb_engine_name(e), "docker");
        CHECK_STR(fb_engine_api_version(e), "1.41");
        CHECK_STR(fb_engine_endpoint(e), getenv("FB_TEST_DOCKER_SOCK"));
}

TEST(resolves_ids_never_names) {
        char prefix[13], id[65];

        memcpy(prefix, running, 12);
        prefix[12] = '\0';
        /* a container is *named* exactly like this prefix; the id must still win */
        CHECK_EQ(fb_engine_resolve(e, prefix, id), 0);
        CHECK_STR(id, running);
        CHECK(strcmp(id, decoy) != 0);
        CHECK_EQ(fb_engine_resolve(e, running, id), 0);
        CHECK_STR(id, running);
        CHECK_EQ(fb_engine_resolve(e, "ffffffffffff0000", id), -ENOENT);
        CHECK_EQ(fb_engine_resolve(e, ambiguous, id), -ENOTUNIQ);
        CHECK_EQ(fb_engine_resolve(e, "ABC", id), -EINVAL);
        CHECK_EQ(fb_engine_resolve(e, "abc/../x", id), -EINVAL);
        CHECK_EQ(fb_engine_resolve(e, "", id), -EINVAL);
}

TEST(inspects) {
        struct fb_container c;
        struct fb_buf raw;

        fb_buf_init(&raw, 1 << 20);
        CHECK_EQ(fb_engine_inspect(e, running, &c, &raw), 0);
        CHECK_STR(c.id, running);
        CHECK_STR(c.name, "fb-test-running");
        CHECK_STR(c.image, "fb-busybox:test");
        CHECK_STR(c.state, "running");
        CHECK_INT(c.pid, >, 1);
        CHECK(!c.privileged);
        CHECK_CONTAINS(raw.data, running);
        fb_buf_free(&raw);
        /* only full ids are accepted here */
        CHECK_EQ(fb_engine_inspect(e, "0123", &c, NULL), -EINVAL);
        CHECK_EQ(fb_engine_inspect(
                         e, "0000000000000000000000000000000000000000000000000000000000000000", &c,
                         NULL),
                 -ENOENT);
}

TEST(pause_is_idempotent_and_keeps_evidence) {
        struct fb_container c;
        pid_t *pids = NULL;
        size_t n = 0;
        struct fb_buf buf;

        CHECK_EQ(fb_engine_pause(e, running), 0);
        CHECK_EQ(fb_engine_pause(e, running), 1);
        CHECK_EQ(fb_engine_inspect(e, running, &c, NULL), 0);
        CHECK_STR(c.state, "paused");
        /* top, changes and logs work on a paused container */
        CHECK_EQ(fb_engine_top(e, running, &pids, &n), 0);
        CHECK_INT(n, >=, 1);
        CHECK(n >= 1 && pids[0] == c.pid);
        free(pids);
        fb_buf_init(&buf, 1 << 20);
        CHECK_EQ(fb_engine_changes(e, running, &buf), 0);
        CHECK_CONTAINS(buf.data, "/tmp/dropped");
        fb_buf_reset(&buf);
        CHECK_EQ(fb_engine_logs(e, running, 50, &buf), 0);
        CHECK_CONTAINS(buf.data, "to-stdout");
        CHECK_CONTAINS(buf.data, "to-stderr");
        /* the 8-byte stream frame headers are gone: the text is printable */
        CHECK(buf.len > 0 && memchr(buf.data, '\0', buf.len) == NULL);
        fb_buf_free(&buf);
        CHECK_EQ(fb_engine_unpause(e, running), 0);
        CHECK_EQ(fb_engine_unpause(e, running), 1);
        CHECK_EQ(fb_engine_inspect(e, running, &c, NULL), 0);
        CHECK_STR(c.state, "running");
}

TEST(refuses_what_cannot_be_done) {
        /* a created container is not running: it cannot be paused */
        CHECK_EQ(fb_engine_pause(e, created), -EBUSY);
        CHECK_EQ(fb_engine_kill(e, running, "KILL; rm"), -EINVAL);
        CHECK_EQ(fb_engine_kill(e, running, ""), -EINVAL);
}

TEST(stop_and_kill) {
        const char *victim = getenv("FB_TEST_VICTIM");
        const char *victim2 = getenv("FB_TEST_VICTIM2");
        struct fb_container c;

        CHECK_EQ(fb_engine_stop(e, victim, 1), 0);
        CHECK_EQ(fb_engine_inspect(e, victim, &c, NULL), 0);
        CHECK_STR(c.state, "exited");
        CHECK_EQ(fb_engine_stop(e, victim, 1), 1);
        CHECK_EQ(fb_engine_kill(e, victim2, "KILL"), 0);
        CHECK_EQ(fb_engine_inspect(e, victim2, &c, NULL), 0);
        CHECK_STR(c.state, "exited");
        /* killing a container that is not running is refused by the engine */
        CHECK_EQ(fb_engine_kill(e, victim2, "KILL"), -EBUSY);
}

TEST(info) {
        struct fb_buf buf;

        fb_buf_init(&buf, 1 << 20);
        CHECK_EQ(fb_engine_info(e, &buf), 0);
        CHECK_CONTAINS(buf.data, "\"ServerVersion\"");
        fb_buf_free(&buf);
}

TEST(no_engine_is_a_clear_error) {
        struct fb_engine_config cfg = { .docker_socket = "/nonexistent/docker.sock" };
        struct fb_engine *x = NULL;

        CHECK_EQ(fb_engine_open_docker(&cfg, &x), -ECONNREFUSED);
        CHECK(x == NULL);
        setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
        CHECK_EQ(fb_engine_open_docker(NULL, &x), -EINVAL);
        unsetenv("DOCKER_HOST");
}

int main(void) {
        struct fb_engine_config cfg = { .docker_socket = getenv("FB_TEST_DOCKER_SOCK") };
        int r;

        running = getenv("FB_TEST_RUNNING");
        decoy = getenv("FB_TEST_DECOY");
        created = getenv("FB_TEST_CREATED");
        ambiguous = getenv("FB_TEST_AMBIGUOUS");
        if (!cfg.docker_socket || !running || !decoy || !created || !ambiguous) {
                printf("docker-engine: run me through tests/test-docker.sh\n");
                return 2;
        }
        r = fb_engine_open_docker(&cfg, &e);
        if (r < 0) {
                printf("cannot open the test dockerd: %s\n", strerror(-r));
                return 1;
        }
        RUN(negotiates_and_reports);
        RUN(resolves_ids_never_names);
        RUN(inspects);
        RUN(pause_is_idempotent_and_keeps_evidence);
        RUN(refuses_what_cannot_be_done);
        RUN(stop_and_kill);
        RUN(info);
        RUN(no_engine_is_a_clear_error);
        fb_engine_free(e);
        return t_summary();
}
