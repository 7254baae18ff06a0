/* test-policy.c: policy parsing (data-driven errors with line and column), matching, durations,
 * and the guards: protect list, breaker, stale alerts, own container. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "firebreak/alert.h"
#include "firebreak/cleanup.h"
#include "firebreak/fileio.h"
#include "firebreak/guard.h"
#include "firebreak/policy.h"
#include "test.h"

static struct fb_policy *parse(const char *doc) {
        struct fb_policy *p = NULL;
        struct fb_yaml_error err;

        if (fb_policy_parse(doc, strlen(doc), &p, &err) < 0)
                printf("  policy: %u:%u: %s\n", err.line, err.column, err.text);
        return p;
}

static struct fb_alert *alert(const char *json) {
        struct fb_alert *a = NULL;
        struct fb_alert_error err;

        fb_alert_new(&a);
        if (fb_alert_parse(a, json, strlen(json), &err) < 0)
                printf("  alert: %s\n", err.text);
        return a;
}

TEST(invalid_policies) {
        DIR *d = opendir(t_data("policy-invalid"));
        struct dirent *de;
        unsigned n = 0;

        while (d && (de = readdir(d))) {
                char path[512], exp[512], got[512], *want = NULL;
                struct fb_policy *p = NULL;
                struct fb_yaml_error err = { 0 };
                size_t len;
                int r;

                if (!strstr(de->d_name, ".yaml"))
                        continue;
                n++;
                snprintf(path, sizeof(path), "tests/data/policy-invalid/%s", de->d_name);
                snprintf(exp, sizeof(exp), "%.*s.expect", (int)(strlen(path) - 5), path);
                if (fb_read_file(exp, 4096, &want, &len) < 0) {
                        T_FAIL("%s: no .expect", path);
                        continue;
                }
                want[strcspn(want, "\n")] = '\0';
                r = fb_policy_load(path, &p, &err);
                snprintf(got, sizeof(got), "%u:%u:%s", err.line, err.column, err.text);
                if (r != -EINVAL || strncmp(got, want, strlen(want)) != 0)
                        T_FAIL("%s: got %d \"%s\", want \"%s\"", path, r, got, want);
                fb_policy_free(p);
                free(want);
        }
        if (d)
                closedir(d);
        CHECK_INT(n, >=, 10);
}

TEST(shipped_policy_is_valid) {
        struct fb_policy *p = NULL;
        struct fb_yaml_error err;

        CHECK_EQ(fb_policy_load("policies/policy.yaml", &p, &err), 0);
        if (!p)
                return;
        CHECK(!p->dry_run);
        CHECK_EQ(p->max_disruptive_actions, 5);
        CHECK_EQ(p->window_s, 600);
        CHECK_EQ(p->max_alert_age_s, 300);
        CHECK_EQ(p->n_protect, 4);
        fb_policy_free(p);
}

#define MEMFD                                                                                      \
        "{\"rule\":\"Fileless execution via memfd_create\",\"priority\":\"Critical\",\"source\":"  \
        "\"syscall\",\"time\":\"2024-10-05T18:29:40Z\",\"tags\":[\"T1620\"],\"output_fields\":{"   \
        "\"container.id\":\"0123456789ab\",\"container.image.repository\":\"%s\"}}"

TEST(matching) {
        struct fb_policy *p =
                parse("rules:\n"
                      "  - name: gen\n"
                      "    match: {rule: [\"Fileless*\"], fields: {container.image.repository: "
                      "\"*falcosecurity/event-generator\"}}\n"
                      "    actions: [inspect]\n"
                      "  - name: memfd\n"
                      "    match: {rule: \"Fileless execution via memfd_create\", priority: "
                      "\">=critical\", "
                      "tags: [T1620], source: syscall, fields: {container.image.repository: "
                      "\"!*falcosecurity/event-generator\"}}\n"
                      "    actions: [pause, inspect]\n"
                      "    continue: true\n"
                      "  - name: also\n"
                      "    match: {priority: \"<=critical\"}\n"
                      "    actions: [inspect]\n"
                      "  - name: never\n"
                      "    match: {}\n"
                      "    actions: [kill]\n");
        const struct fb_policy_rule *m[8];
        char buf[1024];
        struct fb_alert *a;

        CHECK(p != NULL);
        if (!p)
                return;
        snprintf(buf, sizeof(buf), MEMFD, "docker.io/falcosecurity/event-generator");
        a = alert(buf);
        CHECK_EQ(fb_policy_match(p, a, NULL, m, 8), 1);
        CHECK_STR(m[0]->name, "gen");
        fb_alert_free(a);
        snprintf(buf, sizeof(buf), MEMFD, "nginx");
        a = alert(buf);
        /* memfd matches and continues; also matches and stops; never is not reached */
        CHECK_EQ(fb_policy_match(p, a, NULL, m, 8), 2);
        CHECK_STR(m[0]->name, "memfd");
        CHECK_STR(m[1]->name, "also");
        CHECK_EQ(m[0]->n_actions, 2);
        CHECK(m[0]->actions[0] == FB_ACTION_PAUSE);
        fb_alert_free(a);
        /* a Warning is not >= critical, but it is <= critical */
        a = alert("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":\"Warning\","
                  "\"time\":\"2024-10-05T18:29:40Z\",\"tags\":[\"T1620\"],\"source\":\"syscall\"}");
        CHECK_EQ(fb_policy_match(p, a, NULL, m, 8), 1);
        CHECK_STR(m[0]->name, "also");
        fb_alert_free(a);
        /* a missing field matches only a negated glob; a missing tag matches nothing */
        a = alert("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":\"Critical\","
                  "\"time\":\"2024-10-05T18:29:40Z\",\"source\":\"syscall\"}");
        CHECK_EQ(fb_policy_match(p, a, NULL, m, 8), 1);
        CHECK_STR(m[0]->name, "also");
        fb_alert_free(a);
        fb_policy_free(p);
}

TEST(image_repository) {
        static const struct {
                const char *ref, *repo;
        } cases[] = {
                { "alpine", "docker.io/library/alpine" },
                { "alpine:3.19", "docker.io/library/alpine" },
                { "falcosecurity/event-generator:latest",
                  "docker.io/falcosecurity/event-generator" },
                { "docker.io/falcosecurity/event-generator",
                  "docker.io/falcosecurity/event-generator" },
                { "index.docker.io/falcosecurity/event-generator@sha256:00",
                  "docker.io/falcosecurity/event-generator" },
                { "attacker.example/falcosecurity/event-generator",
                  "attacker.example/falcosecurity/event-generator" },
                { "localhost:5000/x/y:1", "localhost:5000/x/y" },
                { "localhost/y", "localhost/y" },
                { "ghcr.io/o/r", "ghcr.io/o/r" },
        };
        char out[256];
        size_t i;

        for (i = 0; i < FB_ELEMENTSOF(cases); i++) {
                CHECK_EQ(fb_image_repository(cases[i].ref, out, sizeof(out)), 0);
                CHECK_STR(out, cases[i].repo);
        }
        CHECK_EQ(fb_image_repository("", out, sizeof(out)), -EINVAL);
        CHECK_EQ(fb_image_repository("a//b", out, sizeof(out)), -EINVAL);
        CHECK_EQ(fb_image_repository("x.io/", out, sizeof(out)), -EINVAL);
        CHECK_EQ(fb_image_repository("alpine", out, 8), -ENAMETOOLONG);
}

/* `container:` conditions read the engine's facts, exactly; without facts they match nothing. */
TEST(container_conditions) {
        struct fb_policy *p = parse(
                "rules:\n"
                "  - name: drill\n"
                "    match: {rule: \"Fileless*\", container: {image: "
                "falcosecurity/event-generator}}\n"
                "    actions: [inspect]\n"
                "  - name: pinned\n"
                "    match: {container: {image_id: "
                "\"sha256:1111111111111111111111111111111111111111111111111111111111111111\"}}\n"
                "    actions: [inspect]\n"
                "  - name: contain\n"
                "    match: {rule: \"Fileless*\"}\n"
                "    actions: [pause]\n");
        const struct fb_policy_rule *m[8];
        struct fb_container c = { .image = "docker.io/falcosecurity/event-generator:latest" };
        char buf[1024];
        struct fb_alert *a;

        CHECK(p != NULL);
        if (!p)
                return;
        snprintf(buf, sizeof(buf), MEMFD, "docker.io/falcosecurity/event-generator");
        a = alert(buf);
        CHECK(fb_policy_needs_container(p, a));
        CHECK_EQ(fb_policy_match(p, a, &c, m, 8), 1);
        CHECK_STR(m[0]->name, "drill");
        /* the alert says event-generator, the engine does not: no exemption */
        snprintf(c.image, sizeof(c.image), "attacker.example/falcosecurity/event-generator");
        CHECK_EQ(fb_policy_match(p, a, &c, m, 8), 1);
        CHECK_STR(m[0]->name, "contain");
        /* no facts: nothing that needs them matches */
        CHECK_EQ(fb_policy_match(p, a, NULL, m, 8), 1);
        CHECK_STR(m[0]->name, "contain");
        /* a name the engine cut is no name */
        snprintf(c.image, sizeof(c.image), "falcosecurity/event-generator");
        c.incomplete = FB_FACT_IMAGE;
        CHECK_EQ(fb_policy_match(p, a, &c, m, 8), 1);
        CHECK_STR(m[0]->name, "contain");
        c.incomplete = 0;
        CHECK_EQ(fb_policy_match(p, a, &c, m, 8), 1);
        CHECK_STR(m[0]->name, "drill");
        fb_alert_free(a);
        snprintf(buf, sizeof(buf), MEMFD, "nginx");
        a = alert(buf);
        snprintf(c.image_id, sizeof(c.image_id), "sha256:%s",
                 "1111111111111111111111111111111111111111111111111111111111111111");
        CHECK_EQ(fb_policy_match(p, a, &c, m, 8), 1);
        CHECK_STR(m[0]->name, "drill");
        snprintf(c.image, sizeof(c.image), "nginx");
        CHECK_EQ(fb_policy_match(p, a, &c, m, 8), 1);
        CHECK_STR(m[0]->name, "pinned");
        fb_alert_free(a);
        fb_policy_free(p);
        /* only an alert that a `container:` rule could match costs an engine lookup first */
        p = parse("rules:\n"
                  "  - name: drill\n"
                  "    match: {rule: \"Fileless*\", container: {image: "
                  "falcosecurity/event-generator}}\n"
                  "    actions: [inspect]\n"
                  "  - name: rest\n"
                  "    match: {}\n"
                  "    actions: [inspect]\n"
                  "  - name: late\n"
                  "    match: {container: {image: alpine}}\n"
                  "    actions: [pause]\n");
        if (!p)
                return;
        snprintf(buf, sizeof(buf), MEMFD, "nginx");
        a = alert(buf);
        CHECK(fb_policy_needs_container(p, a));
        fb_alert_free(a);
        a = alert("{\"rule\":\"Terminal shell in container\",\"priority\":\"Notice\","
                  "\"time\":\"2024-10-05T18:29:40Z\"}");
        CHECK(!fb_policy_needs_container(p, a)); /* "rest" decides before "late" */
        fb_alert_free(a);
        fb_policy_free(p);
}

TEST(durations) {
        uint64_t v = 0;

        CHECK_EQ(fb_parse_duration("10m", &v), 0);
        CHECK_EQ(v, 600);
        CHECK_EQ(fb_parse_duration("30s", &v), 0);
        CHECK_EQ(fb_parse_duration("2h", &v), 0);
        CHECK_EQ(v, 7200);
        CHECK_EQ(fb_parse_duration("30d", &v), 0);
        CHECK_EQ(fb_parse_duration("31d", &v), -EINVAL);
        CHECK_EQ(fb_parse_duration("0m", &v), -EINVAL);
        CHECK_EQ(fb_parse_duration("m", &v), -EINVAL);
        CHECK_EQ(fb_parse_duration("10", &v), -EINVAL);
        CHECK_EQ(fb_parse_duration("-1m", &v), -EINVAL);
}

TEST(protect_uses_engine_and_alert) {
        struct fb_policy *p = parse("guards:\n  protect:\n"
                                    "    - container.name: \"firebreak*\"\n"
                                    "    - container.image.repository: \"registry.k8s.io/*\"\n"
                                    "    - container.label: \"firebreak.protect=true\"\n"
                                    "    - k8s.ns.name: kube-system\n"
                                    "rules: []\n");
        struct fb_container c = { .name = "web", .image = "nginx:1.27" };
        struct fb_alert *a = alert("{\"rule\":\"r\",\"priority\":\"Debug\",\"time\":"
                                   "\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                                   "\"container.name\":\"web\"}}");
        char why[256];

        CHECK(p && a);
        if (!p || !a)
                return;
        CHECK(!fb_guard_protected(p, a, &c, why, sizeof(why)));
        snprintf(c.name, sizeof(c.name), "firebreak-agent");
        CHECK(fb_guard_protected(p, a, &c, why, sizeof(why)));
        CHECK_CONTAINS(why, "container.name");
        snprintf(c.name, sizeof(c.name), "web");
        snprintf(c.image, sizeof(c.image), "registry.k8s.io/pause:3.9");
        CHECK(fb_guard_protected(p, a, &c, why, sizeof(why)));
        snprintf(c.image, sizeof(c.image), "nginx:1.27");
        memcpy(c.labels, "a=b\0firebreak.protect=true\0", 28);
        CHECK(fb_guard_protected(p, a, &c, why, sizeof(why)));
        CHECK_CONTAINS(why, "container.label");
        memcpy(c.labels, "io.kubernetes.pod.namespace=kube-system\0", 41);
        CHECK(fb_guard_protected(p, a, &c, why, sizeof(why)));
        memset(c.labels, 0, sizeof(c.labels));
        fb_alert_free(a);
        /* the alert alone can also say protected (a forged name cannot unprotect) */
        a = alert("{\"rule\":\"r\",\"priority\":\"Debug\",\"time\":\"2024-10-05T18:29:40Z\","
                  "\"output_fields\":{\"container.name\":\"firebreak-x\"}}");
        CHECK(fb_guard_protected(p, a, &c, why, sizeof(why)));
        fb_alert_free(a);
        fb_policy_free(p);
}

TEST(breaker_and_age) {
        struct fb_policy *p = parse("guards: {max_disruptive_actions: 2, window: 1m, "
                                    "max_alert_age: 5m}\nrules: []\n");
        struct fb_guard *g = NULL;
        struct fb_alert *a;
        char why[256];

        CHECK(p != NULL);
        if (!p)
                return;
        CHECK_EQ(fb_guard_new(p, &g), 0);
        CHECK_EQ(fb_guard_breaker_open_until(g), 0);
        CHECK(fb_guard_breaker_take(g, 1000, why, sizeof(why)));
        CHECK_EQ(fb_guard_breaker_open_until(g), 0);
        CHECK(fb_guard_breaker_take(g, 1010, why, sizeof(why)));
        /* open until the first action leaves the window, as breaker_take sees it */
        CHECK_EQ(fb_guard_breaker_open_until(g), 1060);
        CHECK(!fb_guard_breaker_take(g, 1020, why, sizeof(why)));
        CHECK_CONTAINS(why, "breaker open");
        CHECK(!fb_guard_breaker_take(g, 1059, why, sizeof(why)));
        /* the window slides: the first action leaves it at 1060 */
        CHECK(fb_guard_breaker_take(g, 1061, why, sizeof(why)));
        CHECK_EQ(fb_guard_breaker_open_until(g), 1070);
        CHECK(!fb_guard_breaker_take(g, 1062, why, sizeof(why)));
        fb_guard_free(g);
        /* a new guard seeded with the last actions (newest first) is as open as the old one */
        {
                const uint64_t past[] = { 1061, 1010 };

                CHECK_EQ(fb_guard_new(p, &g), 0);
                fb_guard_breaker_seed(g, past, 2);
                CHECK_EQ(fb_guard_breaker_open_until(g), 1070);
                CHECK(!fb_guard_breaker_take(g, 1065, why, sizeof(why)));
                CHECK(fb_guard_breaker_take(g, 1071, why, sizeof(why)));
                fb_guard_free(g);
        }
        a = alert("{\"rule\":\"r\",\"priority\":\"Debug\",\"time\":\"2024-10-05T18:29:40Z\"}");
        CHECK(!fb_guard_stale(p, a, a->time_ns + 299LL * 1000000000, why, sizeof(why)));
        CHECK(fb_guard_stale(p, a, a->time_ns + 301LL * 1000000000, why, sizeof(why)));
        CHECK_CONTAINS(why, "301 s old");
        fb_alert_free(a);
        fb_policy_free(p);
}

static const char *tmpfile_with(const char *content, char *path) {
        int fd;

        snprintf(path, 32, "/tmp/fb-cg-XXXXXX");
        fd = mkstemp(path);
        fb_write_all(fd, content, strlen(content));
        close(fd);
        return path;
}

TEST(own_container_id) {
        static const char id[] = "4bf41c9914093cafe02a9e6c8b7bbf6e69b17b2012c2f9728ec204dd310cd239";
        char cg[32], mi[32], ret[65], buf[1024];

        snprintf(buf, sizeof(buf), "0::/system.slice/docker-%s.scope\n", id);
        tmpfile_with(buf, cg);
        tmpfile_with("", mi);
        CHECK_EQ(fb_self_container_id(cg, mi, ret), 0);
        CHECK_STR(ret, id);
        unlink(cg);
        /* cgroup namespace: "0::/"; the id comes from the container's own mounts */
        tmpfile_with("0::/\n", cg);
        unlink(mi);
        snprintf(buf, sizeof(buf),
                 "600 500 0:1 /docker/containers/%s/hostname /etc/hostname rw - ext4 /dev/vda\n",
                 id);
        tmpfile_with(buf, mi);
        CHECK_EQ(fb_self_container_id(cg, mi, ret), 0);
        CHECK_STR(ret, id);
        unlink(mi);
        tmpfile_with("22 1 0:21 / / rw - ext4 /dev/vda\n", mi);
        CHECK_EQ(fb_self_container_id(cg, mi, ret), -ENOENT);
        unlink(mi);
        /* the host: another container's shareable IPC mount names it, but not at /etc/...
         * (this took the host for that container, which then was never acted on) */
        snprintf(buf, sizeof(buf),
                 "22 1 0:21 / / rw - ext4 /dev/vda\n"
                 "700 22 0:55 / /var/lib/docker/containers/%s/mounts/shm rw - tmpfs shm\n"
                 "701 22 0:21 /var/lib/docker/containers/%s/hostname /mnt/hostname rw - ext4 x\n",
                 id, id);
        tmpfile_with(buf, mi);
        CHECK_EQ(fb_self_container_id(cg, mi, ret), -ENOENT);
        unlink(mi);
        /* Podman's userdata directory */
        snprintf(buf, sizeof(buf),
                 "600 500 0:1 /containers/storage/overlay-containers/%s/userdata/resolv.conf "
                 "/etc/resolv.conf rw - ext4 /dev/vda\n",
                 id);
        tmpfile_with(buf, mi);
        CHECK_EQ(fb_self_container_id(cg, mi, ret), 0);
        CHECK_STR(ret, id);
        unlink(cg);
        unlink(mi);
}

/* notifiers: defaults, secrets from files (one trailing newline dropped), headers as lines */
TEST(notifiers) {
        char dir[] = "/tmp/fb-test-notify-XXXXXX", secret[600], doc[2048];
        struct fb_policy *p = NULL;
        struct fb_yaml_error err = { 0 };
        FILE *f;

        if (!mkdtemp(dir)) {
                T_FAIL("mkdtemp");
                return;
        }
        snprintf(secret, sizeof(secret), "%s/token", dir);
        f = fopen(secret, "w");
        fputs("Bearer abc\n", f);
        fclose(f);
        snprintf(doc, sizeof(doc),
                 "notifiers:\n"
                 "  - name: a\n    url: https://hooks.example.com/x\n"
                 "  - name: b\n    format: slack\n    url_file: %s\n"
                 "    headers: { X-Team: sec }\n    header_files: { Authorization: %s }\n"
                 "    timeout: 250ms\n    retries: 0\n    backoff: 2s\n"
                 "rules:\n  - name: r\n    match: {}\n    actions: [capture, notify]\n",
                 secret, secret);
        /* url_file holds "Bearer abc": not a URL */
        CHECK_EQ(fb_policy_parse(doc, strlen(doc), &p, &err), -EINVAL);
        CHECK_CONTAINS(err.text, "http:// or https://");
        CHECK_NOT_CONTAINS(err.text, "abc"); /* a secret is never quoted */
        f = fopen(secret, "w");
        fputs("https://hooks.slack.example/T/B/secret\n", f);
        fclose(f);
        err = (struct fb_yaml_error){ 0 };
        CHECK_EQ(fb_policy_parse(doc, strlen(doc), &p, &err), 0);
        if (p) {
                CHECK_EQ(p->n_notifiers, 2);
                CHECK_EQ(p->notifiers[0].format, FB_NOTIFY_WEBHOOK);
                CHECK_EQ(p->notifiers[0].timeout_ms, 5000);
                CHECK_EQ(p->notifiers[0].retries, 3);
                CHECK_EQ(p->notifiers[0].backoff_ms, 1000);
                CHECK(!p->notifiers[0].url_secret);
                CHECK_EQ(p->notifiers[1].format, FB_NOTIFY_SLACK);
                CHECK(p->notifiers[1].url_secret);
                CHECK_STR(p->notifiers[1].url, "https://hooks.slack.example/T/B/secret");
                CHECK_EQ(p->notifiers[1].n_headers, 2);
                CHECK_STR(p->notifiers[1].headers[0], "X-Team: sec");
                CHECK_STR(p->notifiers[1].headers[1],
                          "Authorization: https://hooks.slack.example/T/B/secret");
                CHECK_EQ(p->notifiers[1].timeout_ms, 250);
                CHECK_EQ(p->notifiers[1].retries, 0);
                CHECK_EQ(p->notifiers[1].backoff_ms, 2000);
                CHECK_EQ(p->rules[0].actions[0], FB_ACTION_CAPTURE);
                CHECK_EQ(p->rules[0].actions[1], FB_ACTION_NOTIFY);
                CHECK(!fb_action_is_disruptive(FB_ACTION_CAPTURE));
                CHECK(!fb_action_is_disruptive(FB_ACTION_NOTIFY));
        }
        fb_policy_free(p);
        unlink(secret);
        rmdir(dir);
}

/* every action has a name the policy accepts, and that name maps back to it */
TEST(action_names) {
        int a;

        for (a = 0; a < _FB_ACTION_MAX; a++) {
                char doc[256];
                struct fb_policy *p = NULL;
                struct fb_yaml_error err = { 0 };

                CHECK(strcmp(fb_action_to_string((enum fb_action)a), "unknown") != 0);
                if (a == FB_ACTION_NOTIFY)
                        continue; /* needs notifiers: tested above */
                snprintf(doc, sizeof(doc),
                         "rules:\n  - name: r\n    match: {}\n    actions: [%s]\n",
                         fb_action_to_string((enum fb_action)a));
                CHECK_EQ(fb_policy_parse(doc, strlen(doc), &p, &err), 0);
                if (p)
                        CHECK_EQ(p->rules[0].actions[0], a);
                fb_policy_free(p);
        }
}

int main(void) {
        RUN(invalid_policies);
        RUN(action_names);
        RUN(notifiers);
        RUN(shipped_policy_is_valid);
        RUN(matching);
        RUN(image_repository);
        RUN(container_conditions);
        RUN(durations);
        RUN(protect_uses_engine_and_alert);
        RUN(breaker_and_age);
        RUN(own_container_id);
        return t_summary();
}
