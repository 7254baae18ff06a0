/* elf.c: ELF header summary within a bounded buffer. */
#include "firebreak/elf.h"

#include <stdio.h>
#include <string.h>

#define PT_INTERP_ 3u
#define MAX_PHDRS 512u

static uint64_t get(const uint8_t *p, unsigned n, bool be) {
        uint64_t v = 0;
        unsigned i;

        for (i = 0; i < n; i++)
                v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
        return v;
}

static void problem(struct fb_elf_info *out, const char *why) {
        snprintf(out->problem, sizeof(out->problem), "%s", why);
}

void fb_elf_describe(const uint8_t *d, size_t len, struct fb_elf_info *out) {
        uint64_t phoff, phentsize, phnum, i;
        bool be, is64;
        size_t hdr;

        memset(out, 0, sizeof(*out));
        if (len < 16 || memcmp(d, "\177ELF", 4) != 0) {
                if (len >= 2 && d[0] == '#' && d[1] == '!')
                        problem(out, "not ELF: a script (#!)");
                else
                        problem(out, "not ELF: no ELF magic");
                return;
        }
        if ((d[4] != 1 && d[4] != 2) || (d[5] != 1 && d[5] != 2)) {
                problem(out, "ELF magic, but an unknown class or byte order");
                return;
        }
        is64 = d[4] == 2;
        be = d[5] == 2;
        hdr = is64 ? 64 : 52;
        if (len < hdr) {
                problem(out, "ELF header truncated");
                return;
        }
        out->is_elf = true;
        out->bits = is64 ? 64 : 32;
        out->big_endian = be;
        out->type = (uint16_t)get(d + 16, 2, be);
        out->machine = (uint16_t)get(d + 18, 2, be);
        phoff = is64 ? get(d + 32, 8, be) : get(d + 28, 4, be);
        phentsize = get(d + (is64 ? 54 : 42), 2, be);
        phnum = get(d + (is64 ? 56 : 44), 2, be);
        if (phnum == 0)
                return;
        if (phentsize < (is64 ? 56u : 32u) || phnum > MAX_PHDRS) {
                problem(out, "implausible program header table");
                return;
        }
        if (phoff > len || phnum * phentsize > len - phoff) {
                problem(out, "program headers beyond the bytes read");
                return;
        }
        for (i = 0; i < phnum; i++) {
                const uint8_t *ph = d + phoff + i * phentsize;
                uint64_t off, sz, j, n;

                if (get(ph, 4, be) != PT_INTERP_)
                        continue;
                out->has_interp = true;
                off = is64 ? get(ph + 8, 8, be) : get(ph + 4, 4, be);
                sz = is64 ? get(ph + 32, 8, be) : get(ph + 16, 4, be);
                if (off > len || sz > len - off) {
                        out->interp_unread = true;
                        return;
                }
                n = sz < sizeof(out->interp) - 1 ? sz : sizeof(out->interp) - 1;
                for (j = 0; j < n && d[off + j]; j++)
                        out->interp[j] =
                                d[off + j] >= 0x20 && d[off + j] < 0x7f ? (char)d[off + j] : '?';
                out->interp[j] = '\0';
                return;
        }
}

const char *fb_elf_machine_name(uint16_t m) {
        switch (m) {
        case 3:
                return "i386";
        case 40:
                return "ARM";
        case 62:
                return "x86-64";
        case 183:
                return "AArch64";
        case 243:
                return "RISC-V";
        case 8:
                return "MIPS";
        case 21:
                return "PowerPC64";
        case 22:
                return "S/390";
        default:
                return "unknown machine";
        }
}

const char *fb_elf_type_name(uint16_t t) {
        switch (t) {
        case 1:
                return "relocatable";
        case 2:
                return "executable";
        case 3:
                return "shared object";
        case 4:
                return "core";
        default:
                return "unknown type";
        }
}

void fb_elf_format(const struct fb_elf_info *e, char *out, size_t out_len) {
        if (!e->is_elf) {
                snprintf(out, out_len, "%s", e->problem);
                return;
        }
        snprintf(out, out_len, "ELF%u %s %s, %s (machine %u), %s%s%s", e->bits,
                 e->big_endian ? "MSB" : "LSB", fb_elf_type_name(e->type),
                 fb_elf_machine_name(e->machine), e->machine,
                 e->has_interp ? "interpreter " : "static",
                 e->has_interp ? (e->interp_unread ? "(beyond the bytes read)" : e->interp) : "",
                 e->problem[0] ? "; " : "");
        if (e->problem[0]) {
                size_t l = strlen(out);

                snprintf(out + l, out_len > l ? out_len - l : 0, "%s", e->problem);
        }
}
