/* jarena.c: bump arenas for jansson trees (see jarena.h). */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "firebreak/jarena.h"

#if defined(__SANITIZE_ADDRESS__)
#define FB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FB_ASAN 1
#endif
#endif

#ifdef FB_ASAN
/* AddressSanitizer sees arena memory as it sees the heap: poisoned until handed out, with a
 * redzone after each allocation, and poisoned again by the reset, so a use after the owner's
 * next parse is reported. */
#include <sanitizer/asan_interface.h>
#define REDZONE 16u
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define REDZONE 0u
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define COMMIT_STEP (64u << 10)
#define SPAN ((size_t)FB_JARENA_SLOTS * FB_JARENA_SLOT)

_Static_assert(FB_JARENA_SLOTS <= 64, "the claimed set is one 64-bit word");
_Static_assert(FB_JARENA_KEEP % COMMIT_STEP == 0, "KEEP is a whole number of commit steps");

struct fb_jarena {
        char *base;
        size_t used;      /* bytes handed out since the last begin */
        size_t committed; /* bytes made readable and writable, from base */
        bool spilled;     /* an allocation since begin went to malloc */
};

static char *region; /* FB_JARENA_SLOTS slots, reserved at start; NULL: no arenas */
static struct fb_jarena arenas[FB_JARENA_SLOTS];
static uint64_t claimed; /* bit i: arenas[i] has an owner */
static _Thread_local struct fb_jarena *current;

static int commit(struct fb_jarena *ar, size_t need) {
        size_t to = (need + COMMIT_STEP - 1) / COMMIT_STEP * COMMIT_STEP;

        if (to > FB_JARENA_SLOT ||
            mprotect(ar->base + ar->committed, to - ar->committed, PROT_READ | PROT_WRITE) < 0)
                return -1;
        POISON(ar->base + ar->committed, to - ar->committed);
        ar->committed = to;
        return 0;
}

static void *jarena_malloc(size_t n) {
        struct fb_jarena *ar = current;

        if (ar) {
                size_t need = ((n ? n : 1) + 15u) / 16u * 16u + REDZONE;

                if (need <= FB_JARENA_SLOT - ar->used &&
                    (ar->used + need <= ar->committed || commit(ar, ar->used + need) == 0)) {
                        char *p = ar->base + ar->used;

                        ar->used += need;
                        UNPOISON(p, n);
                        return p;
                }
                ar->spilled = true;
        }
        return malloc(n);
}

static void jarena_free(void *p) {
        /* arena memory goes with its arena's next reset, whichever thread drops the value */
        if (region && (uintptr_t)p - (uintptr_t)region < SPAN)
                return;
        free(p);
}

/* Before main, while there is one thread and no jansson value yet. */
__attribute__((constructor)) static void jarena_init(void) {
        void *p = mmap(NULL, SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        unsigned i;

        if (p == MAP_FAILED)
                return; /* e.g. under a small RLIMIT_AS: every tree is on the heap */
        region = p;
        for (i = 0; i < FB_JARENA_SLOTS; i++)
                arenas[i].base = region + (size_t)i * FB_JARENA_SLOT;
        json_set_alloc_funcs(jarena_malloc, jarena_free);
}

struct fb_jarena *fb_jarena_claim(void) {
        uint64_t set = __atomic_load_n(&claimed, __ATOMIC_ACQUIRE);

        if (!region)
                return NULL;
        while (~set) {
                unsigned i = (unsigned)__builtin_ctzll(~set);

                if (i >= FB_JARENA_SLOTS)
                        return NULL;
                if (__atomic_compare_exchange_n(&claimed, &set, set | (1ull << i), false,
                                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                        return &arenas[i];
        }
        return NULL;
}

/* Hands the pages of ar back to the kernel from offset keep on; the mapping stays. */
static void trim(struct fb_jarena *ar, size_t keep) {
        if (ar->used > keep)
                (void)madvise(ar->base + keep, ar->committed - keep, MADV_DONTNEED);
}

void fb_jarena_release(struct fb_jarena *ar) {
        if (!ar)
                return;
        if (current == ar)
                current = NULL;
        trim(ar, 0);
        POISON(ar->base, ar->used);
        ar->used = 0;
        __atomic_fetch_and(&claimed, ~(1ull << (unsigned)(ar - arenas)), __ATOMIC_RELEASE);
}

void fb_jarena_begin(struct fb_jarena *ar) {
        trim(ar, FB_JARENA_KEEP);
        POISON(ar->base, ar->used);
        ar->used = 0;
        ar->spilled = false;
        current = ar;
}

bool fb_jarena_end(struct fb_jarena *ar) {
        current = NULL;
        return !ar->spilled;
}
