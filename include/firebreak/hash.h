/* hash.h: SHA-256 (FIPS 180-4), for alert ids and evidence manifests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_SHA256_LEN 32
#define FB_SHA256_HEX_LEN 64

struct fb_sha256 {
        uint32_t h[8];
        uint64_t total;
        uint8_t block[64];
        size_t used;
};

void fb_sha256_init(struct fb_sha256 *c);
void fb_sha256_update(struct fb_sha256 *c, const void *data, size_t len);
void fb_sha256_final(struct fb_sha256 *c, uint8_t out[FB_SHA256_LEN]);

/* Tests only: use the portable compression even where the CPU has SHA extensions (on), or go
 * back to choosing by CPU (off). */
void fb_sha256_force_portable(bool on);

/* Writes the lowercase hex digest of data (64 characters plus NUL) to out. */
void fb_sha256_hex(const void *data, size_t len, char out[FB_SHA256_HEX_LEN + 1]);
/* Writes the lowercase hex form of n bytes to out (2n characters plus NUL). */
void fb_hex(const uint8_t *in, size_t n, char *out);
