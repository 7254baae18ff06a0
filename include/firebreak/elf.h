/* elf.h: a bounded summary of an ELF header, for captured executables. The bytes come from an
 * attacker's payload: every offset and count is checked against the buffer, and the
 * interpreter path is reduced to printable ASCII. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fb_elf_info {
        bool is_elf;
        unsigned bits; /* 32 or 64 */
        bool big_endian;
        uint16_t type;      /* ET_EXEC, ET_DYN, ... */
        uint16_t machine;   /* EM_X86_64, ... */
        bool has_interp;    /* a PT_INTERP header was found */
        bool interp_unread; /* PT_INTERP lies beyond the bytes given */
        char interp[128];   /* printable ASCII; other bytes become '?' */
        char problem[64];   /* why the header is not a usable ELF header; "" when it is */
};

/* Reads the header, the program headers and the interpreter from the first len bytes of an
 * image. Never reads past len. */
void fb_elf_describe(const uint8_t *data, size_t len, struct fb_elf_info *out);

/* "ELF64 LSB executable, x86-64, static" and the like, into out (NUL-terminated). */
void fb_elf_format(const struct fb_elf_info *e, char *out, size_t out_len);

const char *fb_elf_machine_name(uint16_t machine);
const char *fb_elf_type_name(uint16_t type);
