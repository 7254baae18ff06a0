/* fuzz-grpc: arbitrary bytes as a gRPC response body from containerd: the framing, then every
 * message type the containerd engine decodes (protobuf-c), then grpc-message decoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "containerd.pb-c.h"
#include "firebreak/grpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *m;
        size_t len;
        char text[256];

        fb_grpc_percent_decode((const char *)data, size, text, sizeof(text));
        if (strlen(text) >= sizeof(text))
                abort();
        if (fb_grpc_unframe((const char *)data, size, FB_GRPC_MAX_MESSAGE, &m, &len) < 0 || !m)
                return 0;
        fbctd__list_containers_response__free_unpacked(
                fbctd__list_containers_response__unpack(NULL, len, (const uint8_t *)m), NULL);
        fbctd__get_container_response__free_unpacked(
                fbctd__get_container_response__unpack(NULL, len, (const uint8_t *)m), NULL);
        fbctd__get_task_response__free_unpacked(
                fbctd__get_task_response__unpack(NULL, len, (const uint8_t *)m), NULL);
        fbctd__list_pids_response__free_unpacked(
                fbctd__list_pids_response__unpack(NULL, len, (const uint8_t *)m), NULL);
        fbctd__version_response__free_unpacked(
                fbctd__version_response__unpack(NULL, len, (const uint8_t *)m), NULL);
        return 0;
}
