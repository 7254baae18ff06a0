/* test-kb.c: the built-in knowledge base covers every rule Falco and its plugins ship; user files validate,
 * override and extend. */
#include <dirent.h>
#include <errno.h>

#include "firebreak/cleanup.h"
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

/* Every rule file Falco and its plugins ship (tests/data/falco/README.md), with the source of
 * its rules. */
static const struct {
        const char *file;
        enum fb_kb_source source;
        unsigned rules;
} rule_files[] = {
        { "falco/falco_rules.yaml", FB_KB_SOURCE_SYSCALL, 25 },
        { "falco/falco-incubating_rules.yaml", FB_KB_SOURCE_SYSCALL, 31 },
        { "falco/falco-sandbox_rules.yaml", FB_KB_SOURCE_SYSCALL, 37 },
        { "falco/falco-deprecated_rules.yaml", FB_KB_SOURCE_SYSCALL, 4 },
        { "falco/k8s_audit_rules.yaml", FB_KB_SOURCE_K8S_AUDIT, 48 },
        { "falco/aws_cloudtrail_rules.yaml", FB_KB_SOURCE_AWS_CLOUDTRAIL, 22 },
        { "falco/gcp_auditlog_rules.yaml", FB_KB_SOURCE_GCP_AUDITLOG, 39 },
        { "falco/github.yaml", FB_KB_SOURCE_GITHUB, 15 },
        { "falco/okta_rules.yaml", FB_KB_SOURCE_OKTA, 21 },
};

struct check {
        const struct fb_kb *kb;
        enum fb_kb_source source;
};

/* Calls fn for every rule in a rules file. Returns the number of rules. */
static unsigned for_each_rule(const char *file,
                              void (*fn)(const struct fb_yaml_node *rule, void *u), void *u) {
        struct fb_yaml_doc *doc = NULL;
        struct fb_yaml_error err;
        const struct fb_yaml_node *root;
        char *data = NULL;
        size_t len, i;
        unsigned n = 0;

        if (fb_read_file(t_data(file), 4 << 20, &data, &len) < 0 ||
            fb_yaml_parse(data, len, &doc, &err) < 0) {
                T_FAIL("%s: cannot read or parse (%u:%u %s)", file, err.line, err.column, err.text);
                free(data);
                return 0;
        }
        root = fb_yaml_root(doc);
        for (i = 0; root->kind == FB_YAML_SEQUENCE && i < root->n; i++) {
                if (!fb_yaml_get(root->items[i], "rule"))
                        continue;
                n++;
                fn(root->items[i], u);
        }
        fb_yaml_free(doc);
        free(data);
        return n;
}

static void check_entry(const struct fb_yaml_node *rule, void *u) {
        const struct check *c = u;
        const struct fb_kb *kb = c->kb;
        const char *name = fb_yaml_get(rule, "rule")->value;
        const struct fb_kb_rule *e = fb_kb_find(kb, name);
        const struct fb_yaml_node *tags = fb_yaml_get(rule, "tags");
        size_t j, k;

        if (!e) {
                T_FAIL("no knowledge base entry for rule \"%s\"", name);
                return;
        }
        if (strcmp(e->rule, name) != 0)
                T_FAIL("\"%s\": found through an alias of \"%s\"", name, e->rule);
        if (e->source != c->source)
                T_FAIL("\"%s\": source %s, its rules file says %s", name,
                       fb_kb_source_to_string(e->source), fb_kb_source_to_string(c->source));
        if (e->investigate.n + e->prevent.n == 0)
                T_FAIL("\"%s\": no investigate or prevent step", name);
        if (e->explain.md_len < 200 ||
            strncmp(e->explain.md, "**What the rule detects.**", 26) != 0)
                T_FAIL("\"%s\": explanation too short or not opening with what it detects", name);
        /* a technique, unless the rule only records activity (its verdict benign) or the
         * entry says why ATT&CK has none for it */
        if ((e->n_mitre == 0 && e->verdict != FB_VERDICT_BENIGN &&
             !strstr(e->explain.md, "ATT&CK has no technique")) ||
            e->benign.n == 0)
                T_FAIL("\"%s\": no MITRE technique or no legitimate cause", name);
        /* a step fits the rule's source: no container or host steps for the API server, a
         * cloud or a SaaS */
        for (k = 0; c->source != FB_KB_SOURCE_SYSCALL && k < 3; k++) {
                const struct fb_kb_steps *st = k == 0   ? &e->investigate
                                               : k == 1 ? &e->contain
                                                        : &e->prevent;

                for (j = 0; j < st->n; j++)
                        if (st->v[j].when == FB_KB_WHEN_CONTAINER ||
                            st->v[j].when == FB_KB_WHEN_DOCKER || st->v[j].when == FB_KB_WHEN_K8S ||
                            st->v[j].when == FB_KB_WHEN_HOST)
                                T_FAIL("\"%s\": a %s rule with a container or host step", name,
                                       fb_kb_source_to_string(c->source));
        }
        if (!tags)
                return;
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

TEST(builtin_covers_every_shipped_rule) {
        struct fb_kb *kb = builtin();
        size_t i;

        CHECK(kb != NULL);
        if (!kb)
                return;
        for (i = 0; i < FB_ELEMENTSOF(rule_files); i++) {
                struct check c = { kb, rule_files[i].source };

                CHECK_EQ(for_each_rule(rule_files[i].file, check_entry, &c), rule_files[i].rules);
        }
        /* and the k8s audit plugin's pod rules */
        for (const char *const *k =
                     (const char *const[]){ "Create Privileged Pod", "Create Sensitive Mount Pod",
                                            "Create HostNetwork Pod", "Create HostPid Pod",
                                            "Create HostIPC Pod", "Attach/Exec Pod", NULL };
             *k; k++)
                CHECK(fb_kb_find(kb, *k) != NULL);
        CHECK_EQ(fb_kb_n_rules(kb), 245); /* the 242 shipped rules and Falco's 3 own events */
        CHECK(fb_kb_find(kb, "Falco internal: syscall event drop") != NULL);
        CHECK(fb_kb_generic(kb)->detects != NULL);
        /* the tags of the GCP and other plugins: "T1562-impair-defenses", "TA0005-..." */
        CHECK_STR(fb_kb_technique(kb, "T1562-impair-defenses")->name, "Impair Defenses");
        CHECK_STR(fb_kb_tactic_by_id(kb, "TA0005-defense-evasion")->name, "Defense Evasion");
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
        CHECK_EQ(fb_kb_n_rules(kb), 246);
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
        RUN(builtin_covers_every_shipped_rule);
        RUN(memfd_entry_is_deep);
        RUN(user_file_overrides_and_extends);
        RUN(invalid_kb_files);
        return t_summary();
}
