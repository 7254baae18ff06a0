/* fuzz-policy: arbitrary bytes as a response policy; what parses is matched against an alert. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firebreak/alert.h"
#include "firebreak/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char alert_json[] =
                "{\"rule\":\"Fileless execution via memfd_create\",\"priority\":\"Critical\","
                "\"source\":\"syscall\",\"time\":\"2024-10-05T18:29:40Z\",\"tags\":[\"T1620\"],"
                "\"output_fields\":{\"container.id\":\"0123456789ab\","
                "\"container.image.repository\":\"nginx\"}}";
        static struct fb_alert *a;
        const struct fb_policy_rule *m[16];
        struct fb_yaml_error err;
        struct fb_policy *p = NULL;

        if (!a) {
                struct fb_alert_error aerr;

                if (fb_alert_new(&a) < 0 ||
                    fb_alert_parse(a, alert_json, strlen(alert_json), &aerr) < 0)
                        abort();
        }
        if (fb_policy_parse((const char *)data, size, &p, &err) == 0) {
                /* without engine facts, and with a container the engine reported */
                static const struct fb_container c = {
                        .image = "falcosecurity/event-generator:latest",
                        .image_id =
                                "sha256:"
                                "0000000000000000000000000000000000000000000000000000000000000000",
                };

                (void)fb_policy_match(p, a, NULL, m, 16);
                (void)fb_policy_match(p, a, &c, m, 16);
                (void)fb_policy_needs_container(p, a);
                fb_policy_free(p);
        }
        return 0;
}
