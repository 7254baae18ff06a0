/* response.h: what the responder decided and did for one alert; reports render it as their
 * Response section, and the audit log records it. Data only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/policy.h"

enum fb_act_result {
        FB_ACT_DONE,    /* the engine did it */
        FB_ACT_ALREADY, /* the container already was in that state */
        FB_ACT_WOULD,   /* dry-run: decided, not executed */
        FB_ACT_REFUSED, /* a guard or the plan forbids it */
        FB_ACT_SKIPPED, /* the breaker is open */
        FB_ACT_FAILED,  /* the engine failed */
};

const char *fb_act_result_to_string(enum fb_act_result r);

struct fb_response_action {
        enum fb_action action;
        enum fb_act_result result;
        char detail[512]; /* reason or outcome; may quote engine text: escape to display */
        uint64_t duration_us;
};

#define FB_RESPONSE_MAX_ACTIONS 16u
#define FB_RESPONSE_MAX_CAPTURES 8u

/* One executable image copied out of a process that ran from a memfd. */
struct fb_response_capture {
        int pid;         /* host pid */
        uint64_t size;   /* bytes copied */
        bool truncated;  /* the image was larger than the cap */
        char sha256[65]; /* of the copied bytes */
        char file[64];   /* name inside the evidence directory */
        char exe[256];   /* the /proc/PID/exe link; chosen by the attacker: escape to display */
        char elf[160];   /* "ELF64 x86-64 executable, static" or why it is not ELF */
};

struct fb_response {
        bool active; /* set by a respond run: reports get a Response section */
        bool dry_run;
        char rules[256]; /* matched policy rule names, ", "-joined; "" when none */
        char target[65]; /* the resolved full container id, "" when none */
        char engine[16];
        char engine_ns[64]; /* containerd namespace of the target, "" for Docker */
        /* Kubernetes context from the container's labels (the creator's text: escape it) */
        char k8s_namespace[128], k8s_pod[256], k8s_container[128];
        char note[512]; /* about the response as a whole */
        /* seconds the alert waited in firebreak's queue between receipt and this response */
        int64_t queued_s;
        /* a repeat of this alert must be responded to again, not folded into it: it was too
         * old to act on, or a disruptive action was skipped (breaker) or failed, or done (a
         * paused container that alerts again was let run by someone) */
        bool retry;
        struct fb_response_action actions[FB_RESPONSE_MAX_ACTIONS];
        size_t n_actions;
        char evidence_dir[512];
        char manifest_sha256[65];
        struct fb_response_capture captures[FB_RESPONSE_MAX_CAPTURES];
        size_t n_captures;
};
