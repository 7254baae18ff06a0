/* test-elf: the ELF summary of captured payloads, on real binaries and on hostile headers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firebreak/elf.h"
#include "firebreak/fileio.h"
#include "test.h"

static void describe_file(const char *path, struct fb_elf_info *e, char *text, size_t len) {
        char *data = NULL;
        size_t n = 0;

        if (fb_read_file(path, 64u << 20, &data, &n) < 0) {
                T_FAIL("cannot read %s", path);
                memset(e, 0, sizeof(*e));
                text[0] = '\0';
                return;
        }
        fb_elf_describe((const uint8_t *)data, n, e);
        fb_elf_format(e, text, len);
        free(data);
}

TEST(real_binaries) {
        struct fb_elf_info e;
        char t[160], path[512];

        /* the static probe the capture test runs from a memfd */
        snprintf(path, sizeof(path), "%s/tests/memfd-exec",
                 getenv("BUILD") ? getenv("BUILD") : "build");
        describe_file(path, &e, t, sizeof(t));
        CHECK(e.is_elf);
        CHECK_EQ(e.bits, 64);
        CHECK(!e.has_interp);
        CHECK_STR(t, "ELF64 LSB executable, x86-64 (machine 62), static");
        /* a dynamically linked PIE names its interpreter */
        describe_file("/bin/sh", &e, t, sizeof(t));
        CHECK(e.is_elf && e.has_interp);
        CHECK_CONTAINS(e.interp, "ld-linux");
        CHECK_CONTAINS(t, "shared object");
}

/* A minimal ELF64 LE header with one PT_INTERP program header pointing at `interp`. */
static size_t make64(uint8_t *b, size_t cap, const char *interp, size_t ilen) {
        memset(b, 0, cap);
        memcpy(b, "\177ELF\2\1\1", 7);
        b[16] = 2;                  /* ET_EXEC */
        b[18] = 62;                 /* x86-64 */
        b[32] = 64;                 /* e_phoff */
        b[54] = 56;                 /* e_phentsize */
        b[56] = 1;                  /* e_phnum */
        b[64] = 3;                  /* PT_INTERP */
        b[64 + 8] = 120;            /* p_offset */
        b[64 + 32] = (uint8_t)ilen; /* p_filesz */
        memcpy(b + 120, interp, ilen);
        return 120 + ilen;
}

TEST(hostile_headers) {
        uint8_t b[512];
        struct fb_elf_info e;
        char t[160];
        size_t n;

        fb_elf_describe((const uint8_t *)"#!/bin/sh\n", 10, &e);
        CHECK(!e.is_elf);
        CHECK_STR(e.problem, "not ELF: a script (#!)");
        fb_elf_describe((const uint8_t *)"\177ELF", 4, &e);
        CHECK(!e.is_elf);
        n = make64(b, sizeof(b), "/lib/ld\033[31m.so", 16);
        fb_elf_describe(b, n, &e);
        CHECK(e.is_elf && e.has_interp);
        CHECK_STR(e.interp, "/lib/ld?[31m.so"); /* escape byte replaced */
        /* interpreter beyond the bytes given */
        fb_elf_describe(b, 121, &e);
        CHECK(e.has_interp && e.interp_unread);
        /* program headers past the end, and a huge count */
        n = make64(b, sizeof(b), "x", 1);
        b[32] = 0xff;
        b[33] = 0xff;
        fb_elf_describe(b, n, &e);
        CHECK(e.is_elf && !e.has_interp);
        CHECK_STR(e.problem, "program headers beyond the bytes read");
        n = make64(b, sizeof(b), "x", 1);
        b[57] = 0xff; /* e_phnum 0xff01 */
        fb_elf_describe(b, n, &e);
        CHECK_STR(e.problem, "implausible program header table");
        /* p_offset + p_filesz overflowing 64 bits */
        n = make64(b, sizeof(b), "x", 1);
        memset(b + 64 + 8, 0xff, 8);
        memset(b + 64 + 32, 0xff, 8);
        fb_elf_describe(b, n, &e);
        CHECK(e.has_interp && e.interp_unread);
        /* 32-bit big-endian header */
        memset(b, 0, sizeof(b));
        memcpy(b, "\177ELF\1\2\1", 7);
        b[17] = 2;
        b[19] = 8; /* MIPS */
        fb_elf_describe(b, 52, &e);
        fb_elf_format(&e, t, sizeof(t));
        CHECK_STR(t, "ELF32 MSB executable, MIPS (machine 8), static");
}

int main(void) {
        RUN(real_binaries);
        RUN(hostile_headers);
        return t_summary();
}
