/* strutil.h: safe rendering of untrusted strings (Markdown, JSON, shell) and checked parsing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firebreak/buf.h"

/* Appends s with every character that could alter a terminal or a document made visible:
 * C0 controls and DEL as \n, \t, \r or \xNN; C1 controls, line/paragraph separators and bidi
 * controls (Trojan Source) as \uNNNN; invalid UTF-8 bytes as \xNN; backslash as \\ so that the
 * result is unambiguous. Every other character is copied. */
void fb_escape_display(struct fb_buf *b, const char *s, size_t len);

/* True if fb_escape_display() would change s. */
bool fb_needs_display_escape(const char *s, size_t len);

/* Appends s as a Markdown code span that cannot break out of itself: display-escaped, fenced
 * with more backticks than s contains, and with '|' escaped when in_table is true (GFM splits
 * table cells before it parses code spans). An empty s renders as *(empty)*. */
void fb_md_code(struct fb_buf *b, const char *s, size_t len, bool in_table);

/* Appends s as a JSON string literal, quotes included. Control characters and the Unicode
 * characters fb_escape_display() escapes become \uNNNN; invalid UTF-8 becomes U+FFFD. */
void fb_json_str(struct fb_buf *b, const char *s, size_t len);

/* Appends s as a JSON string literal, for text that is already safe to show: it escapes only
 * '"', '\\' and control characters, and copies every other byte. Only for text firebreak made
 * itself from escaped values (report texts); anything else goes through fb_json_str(). */
void fb_json_str_safe(struct fb_buf *b, const char *s, size_t len);
/* The same without the surrounding quotes, for building a literal in pieces. */
void fb_json_escape_safe(struct fb_buf *b, const char *s, size_t len);

/* Appends s quoted for a POSIX shell so that it is one word with no expansion. Returns 0, or
 * -EINVAL (appending nothing) when s is empty or has a character that fb_escape_display() would
 * escape: such a value is never put in a command, and the caller omits the command. */
int fb_shell_quote(struct fb_buf *b, const char *s, size_t len);

/* Strict decimal parsing: optional '-' (signed only), digits, nothing else. Returns 0, -EINVAL
 * (not a number) or -ERANGE (overflow); *ret is written only on success. */
int fb_parse_int64(const char *s, size_t len, int64_t *ret);
int fb_parse_uint64(const char *s, size_t len, uint64_t *ret);
/* The same for the number at the start of s, which may go on (/proc fields, "6.1.0-18" kernel
 * releases): its digits are parsed strictly and *end is set past them. -EINVAL when s does not
 * start with a digit. */
int fb_parse_uint64_prefix(const char *s, uint64_t *ret, const char **end);

/* Writes v in decimal to out (at least 21 bytes), without a NUL. Returns the length. */
size_t fb_format_int64(char *out, int64_t v);
/* The shortest %g form of d (15 to 17 digits) that reads back as d exactly: 2548.6, not
 * 2548.5999999999999. out holds at least 32 bytes. Returns the length. */
size_t fb_format_double(char *out, double d);

/* True if s is non-empty and consists of lowercase hex digits only. */
bool fb_is_lower_hex(const char *s, size_t len);

bool fb_endswith(const char *s, const char *suffix);
/* ASCII case-insensitive equality. */
bool fb_streq_ci(const char *a, const char *b);
