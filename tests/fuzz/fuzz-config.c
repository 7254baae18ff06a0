/* fuzz-config: arbitrary bytes as the service's /etc/firebreak/firebreak.yaml. */
#include <stdint.h>
#include <string.h>

#include "firebreak/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fb_serve_config c;
        struct fb_yaml_error err;

        fb_serve_config_defaults(&c);
        if (fb_serve_config_parse((const char *)data, size, &c, &err) == 0 &&
            (strlen(c.state_dir) >= sizeof(c.state_dir) || c.http_max_body == 0 ||
             c.n_journal_units == 0 ||
             c.n_journal_units > sizeof(c.journal_units) / sizeof(c.journal_units[0]) ||
             !c.journal_units[c.n_journal_units - 1][0] || !c.journal_identifier[0]))
                __builtin_trap();
        return 0;
}
