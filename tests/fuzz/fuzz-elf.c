/* fuzz-elf: arbitrary bytes as a captured executable's head: the ELF summary must stay within
 * the buffer and produce printable text. */
#include <stdint.h>
#include <stdlib.h>

#include "firebreak/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fb_elf_info e;
        char text[160];
        size_t i;

        fb_elf_describe(data, size, &e);
        fb_elf_format(&e, text, sizeof(text));
        for (i = 0; text[i]; i++)
                if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
                        abort();
        return 0;
}
