/* test-kb.c: the built-in knowledge base covers Falco's stable rules; user files validate,
 * override and extend. */
#include <dirent.h>
#include <errno.h>

#include "firebreak/fileio.h"
#include "firebreak/kb.h"
#include "firebreak/yaml.h"
#include "test.h"

static struct fb_kb *builtin(void) {
        struct fb_yaml_error err;
        struct fb_kb *kb = NULL;
        char where[256];
        int r = fb_kb_new_builtin(&kb, &err, where, sizeof(where));

        if (r < 0)
                printf("  builtin KB: %s:%u:%u: %s\n", where, err.line, err.column, err.text);
        return kb;
}

/* Calls fn for every rule in Falco's rules file tagged maturity_stable. */
static unsigned for_each_stable(void (*fn)(const struct fb_yaml_node *rule, void *u), void *u) {
        struct fb_yaml_doc *doc = NULL;
        struct fb_yaml_error err;
        const struct fb_yaml_node *root;
        char *data = NULL;
        size_t len, i, j;
        unsigned n = 0;

        if (fb_read_file(t_data("falco/falco_rules.yaml"), 4 << 20, &data, &len) < 0 ||
            fb_yaml_parse(data, len, &doc, &err) < 0) {
                free(data);
                return 0;
        }
        root = fb_yaml_root(doc);
        for (i = 0; root->kind == FB_YAML_SEQUENCE && i < root->n; i++) {
                const struct fb_yaml_node *tags = fb_yaml_get(root->items[i], "tags");
                bool stable = false;

                if (!fb_yaml_get(root->items[i], "rule") || !tags)
                        continue;
                for (j = 0; j < tags->n; j++)
                        stable |= strcmp(tags->items[j]->value, "maturity_stable") == 0;
                if (stable) {
                        n++;
                        fn(root->items[i], u);
                }
        }
        fb_yaml_free(doc);
        free(data);
        return n;
}

static void check_entry(const struct fb_yaml_node *rule, void *u) {
        const struct fb_kb *kb = u;
        const char *name = fb_yaml_get(rule, "rule")->value;
        const struct fb_kb_rule *e = fb_kb_find(kb, name);
        const struct fb_yaml_node *tags = fb_yaml_get(rule, "tags");
        size_t j;

        if (!e) {
                T_FAIL("no knowledge base entry for stable rule \"%s\"", name);
                return;
        }
        if (e->investigate.n + e->prevent.n == 0)
                T_FAIL("\"%s\": no investigate or prevent step", name);
        if (e->explain.md_len < 80 || strlen(e->explain.md) != e->explain.md_len)
                T_FAIL("\"%s\": explanation too short", name);
        for (j = 0; j < tags->n; j++) {
                const char *t = tags->items[j]->value;

                if (strncmp(t, "mitre_", 6) == 0 && !fb_kb_tactic(kb, t))
                        T_FAIL("\"%s\": tactic tag %s unknown", name, t);
                if (t[0] == 'T' && t[1] >= '0' && t[1] <= '9' && !fb_kb_technique(kb, t))
                        T_FAIL("\"%s\": technique %s unknown", name, t);
                if (t[0] == 'T' && t[1] == 'A' && !fb_kb_tactic_by_id(kb, t))
                        T_FAIL("\"%s\": tactic id %s unknown", name, t);
        }
}

TEST(builtin_covers_stable_rules) {
        struct fb_kb *kb = builtin();

        CHECK(kb != NULL);
        if (!kb)
                return;
        CHECK_STR(fb_kb_version(kb), "2026.11.1");
        CHECK_EQ(for_each_stable(check_entry, kb), 25);
        /* and the k8s audit plugin's pod rules */
        for (const char *const *k =
                     (const char *const[]){ "Create Privileged Pod", "Create Sensitive Mount Pod",
                                            "Create HostNetwork Pod", "Create HostPid Pod",
                                            "Create HostIPC Pod", "Attach/Exec Pod", NULL };
             *k; k++)
                CHECK(fb_kb_find(kb, *k) != NULL);
        CHECK_EQ(fb_kb_n_rules(kb), 31);
        CHECK(fb_kb_generic(kb)->detects != NULL);
        CHECK_STR(fb_kb_technique(kb, "T1620")->name, "Reflective Code Loading");
        /* an unknown sub-technique falls back to its parent */
        CHECK_STR(fb_kb_technique(kb, "T1059.999")->name, "Command and Scripting Interpreter");
        CHECK(fb_kb_technique(kb, "T0000") == NULL);
        CHECK_STR(fb_kb_tactic(kb, "mitre_defense_evasion")->id, "TA0005");
        fb_kb_free(kb);
}

TEST(memfd_entry_is_deep) {
        struct fb_kb *kb = builtin();
        const struct fb_kb_rule *e =
                kb ? fb_kb_find(kb, "Fileless execution via memfd_create") : NULL;

        CHECK(e != NULL);
        if (!e) {
                fb_kb_free(kb);
                return;
        }
        CHECK_STR(e->analyzer, "memfd");
        CHECK(e->verdict == FB_VERDICT_MALICIOUS);
        CHECK_INT(e->not_covered.n, >=, 3);
        CHECK_INT(e->prevent.n, >=, 4);
        CHECK_INT(e->benign.n, >=, 2);
        fb_kb_free(kb);
}

TEST(user_file_overrides_and_extends) {
        struct fb_kb *kb = builtin();
        struct fb_yaml_error err;
        char where[256];

        CHECK(kb != NULL);
        if (!kb)
                return;
        CHECK_EQ(fb_kb_load_path(kb, t_data("kb-user"), &err, where, sizeof(where)), 0);
        CHECK_STR(fb_kb_find(kb, "Terminal shell in container")->detects,
                  "a shell in a container (site override)");
        CHECK(fb_kb_find(kb, "Terminal shell in container")->verdict == FB_VERDICT_LIKELY_TEST);
        CHECK(fb_kb_find(kb, "Our custom rule") != NULL);
        CHECK_EQ(fb_kb_n_rules(kb), 32);
        CHECK_STR(fb_kb_technique(kb, "T9999")->name, "Site Technique");
        CHECK_STR(fb_kb_technique(kb, "T9999.001")->name, "Site Technique");
        CHECK_STR(fb_kb_technique(kb, "T1620")->name, "Reflective Code Loading");
        CHECK(fb_kb_technique(kb, "T999") == NULL && fb_kb_technique(kb, "T99999") == NULL);
        /* a user file cannot change the version of the built-in data */
        CHECK_STR(fb_kb_version(kb), "2026.11.1");
        CHECK_EQ(fb_kb_load_path(kb, "/nonexistent.yaml", &err, where, sizeof(where)), -ENOENT);
        fb_kb_free(kb);
}

/* tests/data/kb-invalid/NAME.yaml fails with "LINE:COL:TEXT" from NAME.expect. */
TEST(invalid_kb_files) {
        DIR *d = opendir(t_data("kb-invalid"));
        struct dirent *de;
        unsigned n = 0;

        CHECK(d != NULL);
        while (d && (de = readdir(d))) {
                char path[512], expect[512], got[512], *want = NULL;
                struct fb_yaml_error err;
                struct fb_kb *kb;
                char where[512];
                size_t len;
                int r;

                if (!strstr(de->d_name, ".yaml"))
                        continue;
                n++;
                snprintf(path, sizeof(path), "tests/data/kb-invalid/%s", de->d_name);
                snprintf(expect, sizeof(expect), "%.*s.expect", (int)(strlen(path) - 5), path);
                if (fb_read_file(expect, 4096, &want, &len) < 0) {
                        T_FAIL("%s: no .expect", path);
                        continue;
                }
                want[strcspn(want, "\n")] = '\0';
                kb = builtin();
                r = fb_kb_load_path(kb, path, &err, where, sizeof(where));
                snprintf(got, sizeof(got), "%u:%u:%s", err.line, err.column, err.text);
                if (r != -EINVAL)
                        T_FAIL("%s: expected -EINVAL, got %d", path, r);
                else if (strncmp(got, want, strlen(want)) != 0)
                        T_FAIL("%s: got \"%s\", want \"%s\"", path, got, want);
                CHECK_STR(where, path);
                fb_kb_free(kb);
                free(want);
        }
        if (d)
                closedir(d);
        CHECK_INT(n, >=, 8);
}

int main(void) {
        RUN(builtin_covers_stable_rules);
        RUN(memfd_entry_is_deep);
        RUN(user_file_overrides_and_extends);
        RUN(invalid_kb_files);
        return t_summary();
}
