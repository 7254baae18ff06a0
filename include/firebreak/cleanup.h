/* cleanup.h: scope-bound cleanup helpers (_cleanup_, TAKE_PTR), after systemd's macro.h. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void fb_freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(fb_freep)

static inline void fb_closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(fb_closep)

static inline void fb_fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fb_fclosep)

/* Defines fnp(type *) that calls fn(*p) when *p is not NULL. */
#define FB_DEFINE_CLEANUP(type, fn)                                                                \
        static inline void fn##p(type *p) {                                                        \
                if (*p)                                                                            \
                        fn(*p);                                                                    \
        }

/* Hands ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p_ = (p);                                                           \
                (p) = NULL;                                                                        \
                _p_;                                                                               \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _fd_ = (fd);                                                                   \
                (fd) = -1;                                                                         \
                _fd_;                                                                              \
        })

#define FB_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
