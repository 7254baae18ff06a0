/* jarena.h: the jansson tree of one alert in a bump arena of its own.
 *
 * jansson allocates every value, key and hashtable bucket of a parse with malloc and frees each
 * with free; for a 1.5 KB alert that is about 120 calls each way, a fifth of the parse. While an
 * arena is current on a thread, jansson's allocations on that thread come from it; a reset
 * drops them all at once. The arenas are slots of one reserved address range, so jansson's
 * free recognises their memory by address on any thread and leaves it alone; everything else
 * (every tree built outside an arena, json_dumps text) is plain malloc and free as before.
 *
 * One arena holds one tree, its owner's (struct fb_alert): the owner resets it only after
 * dropping the previous tree, and no reference into the tree outlives the owner's next parse.
 * An allocation that does not fit (the slot is full, or no slot was free) falls back to malloc
 * and is counted, and then the tree must be freed with json_decref as usual. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Size of one slot: the largest tree a FB_ALERT_MAX_BYTES alert makes, an array of small
 * integers, is about 6 MiB by estimate (some 48 bytes per two-byte element, counting the copies
 * the array leaves as it grows). Past the slot, allocations fall back to malloc. */
#define FB_JARENA_SLOT (8u << 20)
/* Slots in the process; an alert that finds none parses on the heap. */
#define FB_JARENA_SLOTS 64u
/* Pages kept resident across resets; the rest is handed back after a larger tree. */
#define FB_JARENA_KEEP (256u << 10)

struct fb_jarena;

/* A free slot, or NULL when none is left (or the range could not be reserved). */
struct fb_jarena *fb_jarena_claim(void);
void fb_jarena_release(struct fb_jarena *ar);
/* Drops everything allocated in ar and makes it current on this thread. */
void fb_jarena_begin(struct fb_jarena *ar);
/* Ends the current arena on this thread; true when every allocation since begin fit in it. */
bool fb_jarena_end(struct fb_jarena *ar);
