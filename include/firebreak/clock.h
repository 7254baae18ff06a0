/* clock.h: the monotonic clock in the units the callers count in. */
#pragma once

#include <stdint.h>
#include <time.h>

static inline uint64_t fb_mono_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t fb_mono_ms(void) {
        return fb_mono_us() / 1000u;
}
