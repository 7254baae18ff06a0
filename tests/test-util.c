/* test-util.c: sha256, buf, strutil (escaping, quoting, numbers), yaml, fileio. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "firebreak/buf.h"
#include "firebreak/fileio.h"
#include "firebreak/hash.h"
#include "firebreak/limits.h"
#include "firebreak/strutil.h"
#include "firebreak/yaml.h"
#include "test.h"

static void sha256_vectors_once(void) {
        char hex[65];
        struct fb_sha256 c;
        uint8_t d[32];
        char *million;

        fb_sha256_hex("", 0, hex);
        CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        fb_sha256_hex("abc", 3, hex);
        CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        fb_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
        CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        /* one million 'a', fed in uneven pieces */
        million = malloc(1000000);
        memset(million, 'a', 1000000);
        fb_sha256_init(&c);
        fb_sha256_update(&c, million, 1);
        fb_sha256_update(&c, million + 1, 63);
        fb_sha256_update(&c, million + 64, 999936);
        fb_sha256_final(&c, d);
        fb_hex(d, 32, hex);
        CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(million);
}

/* Both compression paths: the CPU's SHA extensions (where present) and the portable one. */
TEST(sha256_vectors) {
        sha256_vectors_once();
        fb_sha256_force_portable(true);
        sha256_vectors_once();
        fb_sha256_force_portable(false);
}

TEST(buf_cap_is_sticky) {
        struct fb_buf b;

        fb_buf_init(&b, 8);
        fb_buf_puts(&b, "1234");
        CHECK_EQ(fb_buf_error(&b), 0);
        fb_buf_puts(&b, "56789");
        CHECK_EQ(fb_buf_error(&b), -E2BIG);
        fb_buf_puts(&b, "x");
        CHECK_EQ(b.len, 4);
        CHECK(fb_buf_cstr(&b) == NULL);
        fb_buf_reset(&b);
        fb_buf_printf(&b, "%d-%s", 42, "ab");
        CHECK_STR(fb_buf_cstr(&b), "42-ab");
        fb_buf_free(&b);

        /* appending part of the buffer to itself survives the buffer moving */
        fb_buf_init(&b, 1 << 20);
        fb_buf_puts(&b, "abcdefgh");
        while (b.len < 100000)
                fb_buf_put(&b, b.data, b.len);
        CHECK_EQ(fb_buf_error(&b), 0);
        CHECK(memcmp(b.data + 65536, "abcdefgh", 8) == 0);
        fb_buf_free(&b);
}

static const char *render(void (*fn)(struct fb_buf *, const char *, size_t), const char *s,
                          size_t len) {
        static char out[4096];
        struct fb_buf b;

        fb_buf_init(&b, sizeof(out) - 1);
        fn(&b, s, len);
        snprintf(out, sizeof(out), "%s", fb_buf_cstr(&b) ? fb_buf_cstr(&b) : "(error)");
        fb_buf_free(&b);
        return out;
}

static void md_code(struct fb_buf *b, const char *s, size_t len) {
        fb_md_code(b, s, len, false);
}

static void md_cell(struct fb_buf *b, const char *s, size_t len) {
        fb_md_code(b, s, len, true);
}

TEST(escape_display_controls) {
        CHECK_STR(render(fb_escape_display, "a\nb\tc\rd", 7), "a\\nb\\tc\\rd");
        CHECK_STR(render(fb_escape_display, "\x1b[31m", 5), "\\x1b[31m");
        CHECK_STR(render(fb_escape_display, "\x7f", 1), "\\x7f");
        CHECK_STR(render(fb_escape_display, "back\\slash", 10), "back\\\\slash");
        /* C1 CSI, RLO, LRI, line separator, BOM */
        CHECK_STR(render(fb_escape_display, "\xc2\x9b", 2), "\\u009b");
        CHECK_STR(render(fb_escape_display, "x\xe2\x80\xae", 4), "x\\u202e");
        CHECK_STR(render(fb_escape_display, "\xe2\x81\xa6", 3), "\\u2066");
        CHECK_STR(render(fb_escape_display, "\xe2\x80\xa8", 3), "\\u2028");
        CHECK_STR(render(fb_escape_display, "\xef\xbb\xbf", 3), "\\ufeff");
        /* invalid UTF-8: overlong, surrogate, truncated */
        CHECK_STR(render(fb_escape_display, "\xc0\xaf", 2), "\\xc0\\xaf");
        CHECK_STR(render(fb_escape_display, "\xed\xa0\x80", 3), "\\xed\\xa0\\x80");
        CHECK_STR(render(fb_escape_display, "\xe2\x82", 2), "\\xe2\\x82");
        /* ordinary text, including non-ASCII, is unchanged */
        CHECK_STR(render(fb_escape_display, "caf\xc3\xa9 \xe6\x97\xa5", 9),
                  "caf\xc3\xa9 \xe6\x97\xa5");
        CHECK(!fb_needs_display_escape("plain /usr/bin/x", 16));
        CHECK(fb_needs_display_escape("a\x1b", 2));
}

TEST(md_code_spans) {
        CHECK_STR(render(md_code, "abc", 3), "`abc`");
        CHECK_STR(render(md_code, "a`b", 3), "``a`b``");
        CHECK_STR(render(md_code, "``x", 3), "``` ``x ```");
        CHECK_STR(render(md_code, "a|b", 3), "`a|b`");
        CHECK_STR(render(md_cell, "a|b", 3), "`a\\|b`");
        CHECK_STR(render(md_code, "x\n# h", 5), "`x\\n# h`");
        CHECK_STR(render(md_code, "", 0), "*(empty)*");
        CHECK_STR(render(md_code, " lead", 5), "`  lead `");
}

TEST(json_strings) {
        CHECK_STR(render(fb_json_str, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
        CHECK_STR(render(fb_json_str, "\x01\n", 2), "\"\\u0001\\n\"");
        CHECK_STR(render(fb_json_str, "\xe2\x80\xae", 3), "\"\\u202e\"");
        CHECK_STR(render(fb_json_str, "\xff", 1), "\"\\ufffd\"");
        CHECK_STR(render(fb_json_str, "\xc3\xa9", 2), "\"\xc3\xa9\"");
}

/* Every byte value at every position of a 40-byte and a 72-byte string (the short path and the
 * long one: 32 bytes a turn, 8, then bytewise): the JSON literal parses back to the same string
 * (or, for a byte that is not valid UTF-8, holds U+FFFD), and carries no raw control byte, DEL or
 * unescaped quote. Valid UTF-8 at every position passes unchanged. */
TEST(json_str_roundtrip) {
        static const size_t lens[] = { 40, 72 };
        unsigned pos, c, l;

        for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
                size_t len = lens[l];

                for (pos = 0; pos < len; pos++)
                        for (c = 1; c < 257; c++) {
                                char in[73], *lit;
                                struct fb_buf b;
                                json_error_t jerr;
                                json_t *j;
                                size_t k;

                                memset(in, 'a', len);
                                in[len] = '\0';
                                if (c == 256) { /* U+00E9, two bytes */
                                        if (pos + 1 == len)
                                                continue;
                                        in[pos] = '\xc3';
                                        in[pos + 1] = '\xa9';
                                } else
                                        in[pos] = (char)c;
                                fb_buf_init(&b, 1024);
                                fb_json_str(&b, in, len);
                                lit = b.data;
                                for (k = 0; k < b.len; k++)
                                        if ((unsigned char)lit[k] < 0x20 || lit[k] == 0x7f)
                                                T_FAIL("%zu bytes, byte %u at %u: raw control in "
                                                       "output",
                                                       len, c, pos);
                                j = json_loadb(lit, b.len, JSON_DECODE_ANY, &jerr);
                                if (!j || !json_is_string(j))
                                        T_FAIL("%zu bytes, byte %u at %u: output does not parse: "
                                               "%s",
                                               len, c, pos, lit);
                                else if ((c < 0x80 || c == 256) &&
                                         (json_string_length(j) != len ||
                                          memcmp(json_string_value(j), in, len) != 0))
                                        T_FAIL("%zu bytes, byte %u at %u: round trip differs", len,
                                               c, pos);
                                else if (c >= 0x80 && c < 256 &&
                                         !strstr(json_string_value(j), "\xef\xbf\xbd"))
                                        T_FAIL("%zu bytes, byte %u at %u: invalid UTF-8 not "
                                               "replaced",
                                               len, c, pos);
                                json_decref(j);
                                fb_buf_free(&b);
                        }
        }
}

/* The light escaper for report texts: every ASCII byte at every position of a 72-byte string
 * (the 32-byte vector path, the 8-byte path and the bytewise tail) round-trips, and valid
 * UTF-8 passes unchanged. */
TEST(json_str_safe_roundtrip) {
        unsigned pos, c;

        for (pos = 0; pos < 72; pos++)
                for (c = 1; c < 128; c++) {
                        char in[73];
                        struct fb_buf b;
                        json_error_t jerr;
                        json_t *j;

                        memset(in, 'a', 72);
                        in[72] = '\0';
                        in[pos] = (char)c;
                        fb_buf_init(&b, 1024);
                        fb_json_str_safe(&b, in, 72);
                        j = json_loadb(b.data, b.len, JSON_DECODE_ANY, &jerr);
                        if (!j || !json_is_string(j) || json_string_length(j) != 72 ||
                            memcmp(json_string_value(j), in, 72) != 0)
                                T_FAIL("byte %u at %u: %s", c, pos, b.data);
                        json_decref(j);
                        fb_buf_free(&b);
                }
        {
                struct fb_buf b;
                const char *u = "caf\xc3\xa9 \xe2\x86\x92 `x`";

                fb_buf_init(&b, 1024);
                fb_json_str_safe(&b, u, strlen(u));
                CHECK_EQ(b.len, strlen(u) + 2);
                fb_buf_free(&b);
        }
}

static const char *quote(const char *s) {
        static char out[256];
        struct fb_buf b;
        int r;

        fb_buf_init(&b, 200);
        r = fb_shell_quote(&b, s, strlen(s));
        snprintf(out, sizeof(out), "%s", r < 0 ? "(refused)" : fb_buf_cstr(&b));
        fb_buf_free(&b);
        return out;
}

TEST(shell_quoting) {
        CHECK_STR(quote("/usr/bin/x"), "/usr/bin/x");
        CHECK_STR(quote("a b"), "'a b'");
        CHECK_STR(quote("it's"), "'it'\\''s'");
        CHECK_STR(quote("$(rm -rf /)"), "'$(rm -rf /)'");
        CHECK_STR(quote("`id`;|&<>*?~#"), "'`id`;|&<>*?~#'");
        CHECK_STR(quote(""), "(refused)");
        CHECK_STR(quote("a\nb"), "(refused)");
        CHECK_STR(quote("a\x1b[0m"), "(refused)");
        CHECK_STR(quote("x\xe2\x80\xae"), "(refused)");
        CHECK_STR(quote("a\\b"), "(refused)");
}

TEST(number_parsing) {
        int64_t v = 7;
        uint64_t u = 7;
        const char *end = NULL;

        /* a number at the start of a longer text: /proc fields, kernel releases */
        CHECK_EQ(fb_parse_uint64_prefix("6.1.0-18-amd64", &u, &end), 0);
        CHECK_EQ(u, 6);
        CHECK_STR(end, ".1.0-18-amd64");
        CHECK_EQ(fb_parse_uint64_prefix("x1", &u, &end), -EINVAL);
        CHECK_EQ(fb_parse_uint64_prefix("", &u, NULL), -EINVAL);
        CHECK_EQ(fb_parse_uint64_prefix("99999999999999999999999 ", &u, NULL), -EINVAL);
        u = 7;

        CHECK_EQ(fb_parse_int64("-1", 2, &v), 0);
        CHECK_EQ(v, -1);
        CHECK_EQ(fb_parse_int64("9223372036854775807", 19, &v), 0);
        CHECK(v == INT64_MAX);
        CHECK_EQ(fb_parse_int64("-9223372036854775808", 20, &v), 0);
        CHECK(v == INT64_MIN);
        CHECK_EQ(fb_parse_int64("9223372036854775808", 19, &v), -ERANGE);
        CHECK_EQ(fb_parse_uint64("18446744073709551616", 20, &u), -ERANGE);
        CHECK_EQ(fb_parse_int64("", 0, &v), -EINVAL);
        CHECK_EQ(fb_parse_int64("-", 1, &v), -EINVAL);
        CHECK_EQ(fb_parse_int64(" 1", 2, &v), -EINVAL);
        CHECK_EQ(fb_parse_int64("1x", 2, &v), -EINVAL);
        CHECK_EQ(fb_parse_uint64("-1", 2, &u), -EINVAL);
}

static int yaml_error(const char *doc, struct fb_yaml_error *err) {
        struct fb_yaml_doc *d = NULL;
        int r = fb_yaml_parse(doc, strlen(doc), &d, err);

        fb_yaml_free(d);
        return r;
}

TEST(yaml_tree_and_limits) {
        struct fb_yaml_doc *d = NULL;
        struct fb_yaml_error err;
        const struct fb_yaml_node *root, *n;
        const char *doc = "a: 1\nb:\n  - x\n  - 'y'\nc: ~\n";
        char deep[4 * (FB_YAML_MAX_DEPTH + 2) + 8];
        size_t i;

        CHECK_EQ(fb_yaml_parse(doc, strlen(doc), &d, &err), 0);
        root = fb_yaml_root(d);
        CHECK(root->kind == FB_YAML_MAPPING);
        n = fb_yaml_get(root, "b");
        CHECK(n && n->kind == FB_YAML_SEQUENCE && n->n == 2);
        if (n && n->n == 2) {
                CHECK_STR(n->items[1]->value, "y");
                CHECK_EQ(n->items[1]->line, 4);
                CHECK_EQ(n->items[1]->column, 5);
        }
        CHECK(fb_yaml_is_null(fb_yaml_get(root, "c")));
        fb_yaml_free(d);

        CHECK_EQ(yaml_error("a: &x [1]\nb: *x\n", &err), -EINVAL);
        CHECK_CONTAINS(err.text, "aliases");
        CHECK_EQ(err.line, 2);
        CHECK_EQ(yaml_error("a: [1\n", &err), -EINVAL);
        CHECK(err.line >= 1);
        CHECK_EQ(yaml_error("a: 1\n---\nb: 2\n", &err), -EINVAL);
        CHECK_CONTAINS(err.text, "one YAML document");
        for (i = 0; i < FB_YAML_MAX_DEPTH + 2; i++)
                memcpy(deep + i, "[", 1);
        deep[FB_YAML_MAX_DEPTH + 2] = '\0';
        CHECK_EQ(yaml_error(deep, &err), -EINVAL);
        CHECK_CONTAINS(err.text, "nesting deeper");

        {
                static const char *const keys[] = { "a", NULL };
                const char *dup = "a: 1\na: 2\n", *unk = "a: 1\nzz: 2\n";

                CHECK_EQ(fb_yaml_parse(dup, strlen(dup), &d, &err), 0);
                CHECK_EQ(fb_yaml_check_keys(fb_yaml_root(d), keys, &err), -EINVAL);
                CHECK_CONTAINS(err.text, "duplicate key");
                fb_yaml_free(d);
                CHECK_EQ(fb_yaml_parse(unk, strlen(unk), &d, &err), 0);
                CHECK_EQ(fb_yaml_check_keys(fb_yaml_root(d), keys, &err), -EINVAL);
                CHECK_CONTAINS(err.text, "unknown key 'zz'");
                CHECK_EQ(err.line, 2);
                fb_yaml_free(d);
                /* a key with a terminal escape comes back escaped */
                unk = "a: 1\n\"\\e[31mzz\": 2\n";
                CHECK_EQ(fb_yaml_parse(unk, strlen(unk), &d, &err), 0);
                CHECK_EQ(fb_yaml_check_keys(fb_yaml_root(d), keys, &err), -EINVAL);
                CHECK_CONTAINS(err.text, "unknown key '\\x1b[31mzz'");
                CHECK(strchr(err.text, 0x1b) == NULL);
                fb_yaml_free(d);
        }
}

TEST(fileio_atomic_and_bounded) {
        char dir[] = "/tmp/fb-test-XXXXXX", path[64];
        char *data = NULL;
        size_t len = 0;

        CHECK(mkdtemp(dir) != NULL);
        CHECK_EQ(fb_write_file_atomic(dir, "f.txt", "hello", 5, 0600), 0);
        snprintf(path, sizeof(path), "%s/f.txt", dir);
        CHECK_EQ(fb_read_file(path, 100, &data, &len), 0);
        CHECK_EQ(len, 5);
        CHECK_STR(data, "hello");
        free(data);
        data = NULL;
        CHECK_EQ(fb_read_file(path, 4, &data, &len), -EFBIG);
        CHECK(data == NULL);
        CHECK_EQ(fb_read_file("/nonexistent/x", 4, &data, &len), -ENOENT);
        {
                char sub[96];

                snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
                CHECK_EQ(fb_mkdir_p(sub, 0700), 0);
                CHECK_EQ(access(sub, F_OK), 0);
                rmdir(sub);
                snprintf(sub, sizeof(sub), "%s/a/b", dir);
                rmdir(sub);
                snprintf(sub, sizeof(sub), "%s/a", dir);
                rmdir(sub);
        }
        unlink(path);
        CHECK_EQ(rmdir(dir), 0);
}

/* a process is in a container when its cgroup names the whole id, never a part of a name */
TEST(cgroup_names_container) {
        static const char id[] = "69484342a56c5d2a0bf3c9b76a3e1c2bcb7e7e4d4a1e0a4c3b2a1f0e9d8c7b6a";
        char buf[512];

        snprintf(buf, sizeof(buf), "0::/system.slice/docker-%s.scope\n", id);
        CHECK(fb_cgroup_names_container(buf, id));
        snprintf(buf, sizeof(buf), "12:pids:/docker/%s\n11:cpu:/docker/%s\n", id, id);
        CHECK(fb_cgroup_names_container(buf, id));
        snprintf(buf, sizeof(buf),
                 "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-%s.scope\n", id);
        CHECK(fb_cgroup_names_container(buf, id));
        snprintf(buf, sizeof(buf), "0::/machine.slice/libpod-%s.scope/container\n", id);
        CHECK(fb_cgroup_names_container(buf, id));
        /* the id inside a longer hex run or another name, or only a prefix of it */
        snprintf(buf, sizeof(buf), "0::/docker/%sff\n", id);
        CHECK(!fb_cgroup_names_container(buf, id));
        snprintf(buf, sizeof(buf), "0::/docker/x%s\n", id);
        CHECK(!fb_cgroup_names_container(buf, id));
        snprintf(buf, sizeof(buf), "0::/docker/%.12s\n", id);
        CHECK(!fb_cgroup_names_container(buf, id));
        CHECK(!fb_cgroup_names_container("0::/system.slice/firebreak.service\n", id));
        CHECK(!fb_cgroup_names_container("0::/docker/69484342a56c\n", "69484342a56c"));
}

int main(void) {
        RUN(sha256_vectors);
        RUN(buf_cap_is_sticky);
        RUN(escape_display_controls);
        RUN(md_code_spans);
        RUN(json_strings);
        RUN(json_str_roundtrip);
        RUN(json_str_safe_roundtrip);
        RUN(shell_quoting);
        RUN(number_parsing);
        RUN(yaml_tree_and_limits);
        RUN(fileio_atomic_and_bounded);
        RUN(cgroup_names_container);
        return t_summary();
}
