/* hash.c: SHA-256, portable and with the x86 SHA extensions where the CPU has them; both paths
 * are checked against the FIPS 180-4 test vectors in tests/test-util.c. */
#include "firebreak/hash.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress_sw(uint32_t h[8], const uint8_t p[64]) {
        uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
        int i;

        for (i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (i = 16; i < 64; i++) {
                uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (i = 0; i < 64; i++) {
                t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

#ifdef HAVE_SHA_NI
/* The SHA-256 compression with the x86 SHA extensions (Intel's published algorithm: state in
 * ABEF/CDGH order, four rounds per step, message schedule with sha256msg1/msg2). */
__attribute__((target("sha,sse4.1"))) static void compress_ni(uint32_t h[8], const uint8_t *p,
                                                              size_t blocks) {
        const __m128i shuf = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
        __m128i st0, st1, tmp, msg, m0, m1, m2, m3, save0, save1;
        int i;

        tmp = _mm_loadu_si128((const __m128i *)&h[0]);
        st1 = _mm_loadu_si128((const __m128i *)&h[4]);
        tmp = _mm_shuffle_epi32(tmp, 0xB1);    /* CDAB */
        st1 = _mm_shuffle_epi32(st1, 0x1B);    /* EFGH */
        st0 = _mm_alignr_epi8(tmp, st1, 8);    /* ABEF */
        st1 = _mm_blend_epi16(st1, tmp, 0xF0); /* CDGH */
        for (; blocks > 0; blocks--, p += 64) {
                __m128i w[4];

                save0 = st0;
                save1 = st1;
                for (i = 0; i < 4; i++)
                        w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)),
                                                shuf);
                m0 = w[0], m1 = w[1], m2 = w[2], m3 = w[3];
                for (i = 0; i < 16; i++) {
                        __m128i k = _mm_loadu_si128((const __m128i *)&K[4 * i]);

                        msg = _mm_add_epi32(m0, k);
                        st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
                        msg = _mm_shuffle_epi32(msg, 0x0E);
                        st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
                        if (i < 12) {
                                /* next schedule word group from the four previous ones */
                                tmp = _mm_sha256msg1_epu32(m0, m1);
                                tmp = _mm_add_epi32(tmp, _mm_alignr_epi8(m3, m2, 4));
                                tmp = _mm_sha256msg2_epu32(tmp, m3);
                        }
                        m0 = m1, m1 = m2, m2 = m3, m3 = tmp;
                }
                st0 = _mm_add_epi32(st0, save0);
                st1 = _mm_add_epi32(st1, save1);
        }
        tmp = _mm_shuffle_epi32(st0, 0x1B);    /* FEBA */
        st1 = _mm_shuffle_epi32(st1, 0xB1);    /* DCHG */
        st0 = _mm_blend_epi16(tmp, st1, 0xF0); /* DCBA */
        st1 = _mm_alignr_epi8(st1, tmp, 8);    /* ABEF */
        _mm_storeu_si128((__m128i *)&h[0], st0);
        _mm_storeu_si128((__m128i *)&h[4], st1);
}
#endif

/* -1: not probed yet; 0: portable; 1: SHA extensions. fb_sha256_force_portable() sets 0. */
static int use_ni = -1;

void fb_sha256_force_portable(bool on) {
        use_ni = on ? 0 : -1;
}

static void compress(uint32_t h[8], const uint8_t *p, size_t blocks) {
#ifdef HAVE_SHA_NI
        if (use_ni < 0) {
                /* CPUID: SHA is leaf 7 EBX bit 29, SSE4.1 leaf 1 ECX bit 19 */
                unsigned a, b, c, d;

                use_ni = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) &&
                         __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19));
        }
        if (use_ni) {
                compress_ni(h, p, blocks);
                return;
        }
#endif
        for (; blocks > 0; blocks--, p += 64)
                compress_sw(h, p);
}

void fb_sha256_init(struct fb_sha256 *c) {
        static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

        memcpy(c->h, iv, sizeof(iv));
        c->total = 0;
        c->used = 0;
}

void fb_sha256_update(struct fb_sha256 *c, const void *data, size_t len) {
        const uint8_t *p = data;

        c->total += len;
        if (c->used) {
                size_t n = 64 - c->used < len ? 64 - c->used : len;

                memcpy(c->block + c->used, p, n);
                c->used += n, p += n, len -= n;
                if (c->used < 64)
                        return;
                compress(c->h, c->block, 1);
                c->used = 0;
        }
        if (len >= 64) {
                compress(c->h, p, len / 64);
                p += len - len % 64;
                len %= 64;
        }
        memcpy(c->block, p, len);
        c->used = len;
}

void fb_sha256_final(struct fb_sha256 *c, uint8_t out[FB_SHA256_LEN]) {
        uint64_t bits = c->total * 8;
        int i;

        c->block[c->used++] = 0x80;
        if (c->used > 56) {
                memset(c->block + c->used, 0, 64 - c->used);
                compress(c->h, c->block, 1);
                c->used = 0;
        }
        memset(c->block + c->used, 0, 56 - c->used);
        for (i = 0; i < 8; i++)
                c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
        compress(c->h, c->block, 1);
        for (i = 0; i < 8; i++) {
                out[4 * i] = (uint8_t)(c->h[i] >> 24);
                out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
                out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
                out[4 * i + 3] = (uint8_t)c->h[i];
        }
}

void fb_hex(const uint8_t *in, size_t n, char *out) {
        static const char d[] = "0123456789abcdef";
        size_t i;

        for (i = 0; i < n; i++) {
                out[2 * i] = d[in[i] >> 4];
                out[2 * i + 1] = d[in[i] & 15];
        }
        out[2 * n] = '\0';
}

void fb_sha256_hex(const void *data, size_t len, char out[FB_SHA256_HEX_LEN + 1]) {
        struct fb_sha256 c;
        uint8_t d[FB_SHA256_LEN];

        fb_sha256_init(&c);
        fb_sha256_update(&c, data, len);
        fb_sha256_final(&c, d);
        fb_hex(d, sizeof(d), out);
}
