/* evidence.c: evidence bundles with a SHA-256 manifest; fileless payload capture; verify. */
#define _GNU_SOURCE
#include "firebreak/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "firebreak/cleanup.h"
#include "firebreak/elf.h"
#include "firebreak/fileio.h"
#include "firebreak/hash.h"
#include "firebreak/strutil.h"

FB_DEFINE_CLEANUP(DIR *, closedir)

#define PART_MAX (8u << 20)
#define MANIFEST_MAX (1u << 20)

struct fb_evidence {
        int dirfd;
        char dir[4096];
        char created[64];
        struct fb_buf manifest; /* the "files" array so far */
        size_t n_files;
        int err; /* first write error */
};

static void iso_now(char *out, size_t len) {
        struct timespec ts;
        struct tm tm;
        size_t l;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        l = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out + l, len - l, ".%09ldZ", ts.tv_nsec);
}

const char *fb_evidence_dir(const struct fb_evidence *ev) {
        return ev->dir;
}

static void manifest_entry(struct fb_evidence *ev, const char *name, uint64_t size,
                           const char *sha256) {
        fb_buf_printf(&ev->manifest,
                      "%s\n    {\"name\":\"%s\",\"size\":%" PRIu64 ",\"sha256\":\"%s\"}",
                      ev->n_files ? "," : "", name, size, sha256);
        ev->n_files++;
}

static void add_missing(struct fb_evidence *ev, const char *name, int error) {
        fb_buf_printf(&ev->manifest, "%s\n    {\"name\":\"%s\",\"missing\":\"%s\"}",
                      ev->n_files ? "," : "", name, strerror(-error));
        ev->n_files++;
}

/* A new file in the bundle, written through a temporary name and renamed when complete. */
struct part {
        int fd;
        char tmp[64];
        struct fb_sha256 sha;
        uint64_t size;
};

static int part_begin(struct fb_evidence *ev, const char *name, struct part *p) {
        if (ev->n_files >= FB_EVIDENCE_MAX_FILES)
                return -E2BIG;
        snprintf(p->tmp, sizeof(p->tmp), ".%.40s.tmp", name);
        p->fd = openat(ev->dirfd, p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                       0600);
        if (p->fd < 0)
                return -errno;
        fb_sha256_init(&p->sha);
        p->size = 0;
        return 0;
}

static int part_write(struct part *p, const void *data, size_t len) {
        fb_sha256_update(&p->sha, data, len);
        p->size += len;
        return fb_write_all(p->fd, data, len);
}

static int part_end(struct fb_evidence *ev, const char *name, struct part *p, int r,
                    char hex_out[65]) {
        uint8_t md[FB_SHA256_LEN];
        char hex[FB_SHA256_HEX_LEN + 1];

        if (r >= 0 && fsync(p->fd) < 0)
                r = -errno;
        close(p->fd);
        if (r >= 0 && renameat(ev->dirfd, p->tmp, ev->dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(ev->dirfd, p->tmp, 0);
                return r;
        }
        fb_sha256_final(&p->sha, md);
        fb_hex(md, sizeof(md), hex);
        manifest_entry(ev, name, p->size, hex);
        if (hex_out)
                memcpy(hex_out, hex, sizeof(hex));
        return 0;
}

static int add_file(struct fb_evidence *ev, const char *name, const void *data, size_t len) {
        struct part p;
        int r = part_begin(ev, name, &p);

        if (r < 0)
                return r;
        return part_end(ev, name, &p, part_write(&p, data, len), NULL);
}

static void evidence_free(struct fb_evidence *ev) {
        if (!ev)
                return;
        if (ev->dirfd >= 0)
                close(ev->dirfd);
        fb_buf_free(&ev->manifest);
        free(ev);
}

/* 0 when bytes more leave FB_EVIDENCE_KEEP_FREE_PCT of the filesystem (of fd, else of path)
 * free; -ENOSPC when not. */
static int room(int fd, const char *path, uint64_t bytes) {
        struct statvfs sv;
        uint64_t size, avail;

        if ((fd >= 0 ? fstatvfs(fd, &sv) : statvfs(path, &sv)) < 0)
                return -errno;
        size = (uint64_t)sv.f_blocks * sv.f_frsize;
        avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        return avail >= bytes && avail - bytes >= size / 100 * FB_EVIDENCE_KEEP_FREE_PCT ? 0
                                                                                         : -ENOSPC;
}

int fb_evidence_open(const char *state_dir, const struct fb_alert *a, const char *engine,
                     const char *container_id, struct fb_evidence **ret) {
        struct fb_evidence *ev;
        struct fb_buf data;
        int r;

        r = room(-1, state_dir, (uint64_t)1 << 20); /* alert.json, inspect's files */
        if (r < 0)
                return r;
        ev = calloc(1, sizeof(*ev));
        if (!ev)
                return -ENOMEM;
        ev->dirfd = -1;
        fb_buf_init(&ev->manifest, MANIFEST_MAX);
        if ((size_t)snprintf(ev->dir, sizeof(ev->dir), "%s/evidence/%s", state_dir, a->id) >=
            sizeof(ev->dir)) {
                evidence_free(ev);
                return -ENAMETOOLONG;
        }
        r = fb_mkdir_p(ev->dir, 0700);
        if (r >= 0) {
                ev->dirfd = open(ev->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (ev->dirfd < 0)
                        r = -errno;
        }
        if (r < 0) {
                evidence_free(ev);
                return r;
        }
        iso_now(ev->created, sizeof(ev->created));
        /* the manifest's head; the files follow */
        fb_buf_puts(&ev->manifest, "{\n  \"format\": \"firebreak-evidence-1\",\n  \"alert_id\": ");
        fb_json_str(&ev->manifest, a->id, strlen(a->id));
        fb_buf_printf(
                &ev->manifest,
                ",\n  \"container_id\": \"%s\",\n  \"engine\": \"%s\",\n  \"created\": \"%s\","
                "\n  \"firebreak\": \"%s\",\n  \"files\": [",
                container_id, engine, ev->created, FB_VERSION);
        fb_buf_init(&data, PART_MAX);
        r = fb_alert_dump(a, &data);
        if (r >= 0)
                r = add_file(ev, "alert.json", data.data ? data.data : "", data.len);
        fb_buf_free(&data);
        if (r < 0) {
                evidence_free(ev);
                return r;
        }
        *ret = ev;
        return 0;
}

int fb_evidence_close(struct fb_evidence *ev, char manifest_sha256[65]) {
        char done[64], line[FB_SHA256_HEX_LEN + 32];
        int r;

        if (!ev)
                return 0;
        iso_now(done, sizeof(done));
        fb_buf_printf(&ev->manifest, "\n  ],\n  \"completed\": \"%s\"\n}\n", done);
        r = fb_buf_error(&ev->manifest);
        if (r >= 0)
                r = fb_write_file_atomic(ev->dir, "manifest.json", ev->manifest.data,
                                         ev->manifest.len, 0600);
        if (r >= 0) {
                fb_sha256_hex(ev->manifest.data, ev->manifest.len, manifest_sha256);
                snprintf(line, sizeof(line), "%s  manifest.json\n", manifest_sha256);
                r = fb_write_file_atomic(ev->dir, "manifest.sha256", line, strlen(line), 0600);
        }
        if (r >= 0 && ev->err < 0)
                r = ev->err;
        evidence_free(ev);
        return r;
}

/* ---- the engine's view ------------------------------------------------------------------ */

int fb_evidence_collect(struct fb_evidence *ev, struct fb_engine *e, const char *id) {
        struct fb_buf data;
        pid_t *pids = NULL;
        size_t n = 0, i;
        int r = 0, k;

        fb_buf_init(&data, PART_MAX);
        k = fb_engine_inspect(e, id, &(struct fb_container){ 0 }, &data);
        r = k < 0 ? (add_missing(ev, "inspect.json", k), 0)
                  : add_file(ev, "inspect.json", data.data, data.len);

        fb_buf_reset(&data);
        k = r < 0 ? r : fb_engine_top(e, id, &pids, &n);
        if (r >= 0 && k >= 0) {
                fb_buf_putc(&data, '[');
                for (i = 0; i < n; i++)
                        fb_buf_printf(&data, "%s%d", i ? "," : "", (int)pids[i]);
                fb_buf_puts(&data, "]\n");
                r = add_file(ev, "pids.json", data.data, data.len);
        } else if (r >= 0)
                add_missing(ev, "pids.json", k);
        free(pids);

        fb_buf_reset(&data);
        k = r < 0 ? r : fb_engine_changes(e, id, &data);
        if (r >= 0)
                r = k < 0 ? (add_missing(ev, "changes.json", k), 0)
                          : add_file(ev, "changes.json", data.data ? data.data : "", data.len);

        fb_buf_reset(&data);
        k = r < 0 ? r : fb_engine_logs(e, id, FB_EVIDENCE_LOG_TAIL, &data);
        if (r >= 0)
                r = k < 0 ? (add_missing(ev, "logs.txt", k), 0)
                          : add_file(ev, "logs.txt", data.data ? data.data : "", data.len);
        fb_buf_free(&data);
        if (r < 0 && ev->err == 0)
                ev->err = r;
        return r;
}

/* ---- fileless payloads ------------------------------------------------------------------ */

/* Reads a /proc file relative to a /proc/PID directory fd, at most max bytes. */
static int read_at(int pfd, const char *name, size_t max, struct fb_buf *out) {
        _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char chunk[65536];

        fb_buf_reset(out);
        if (fd < 0)
                return -errno;
        while (out->len < max) {
                size_t want = max - out->len < sizeof(chunk) ? max - out->len : sizeof(chunk);
                ssize_t k = read(fd, chunk, want);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                fb_buf_put(out, chunk, (size_t)k);
        }
        return fb_buf_error(out);
}

/* memfd-PID.json: the facts about one process, every string from the process JSON-escaped. */
static int describe(struct fb_evidence *ev, int pfd, int pid, const struct fb_response_capture *c,
                    const struct fb_elf_info *elf) {
        _cleanup_close_ int dfd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct fb_buf j;
        char name[64];
        int r;

        fb_buf_init(&j, PART_MAX);
        fb_buf_printf(&j, "{\n  \"pid\": %d,\n  \"exe\": ", pid);
        fb_json_str(&j, c->exe, strlen(c->exe));
        fb_buf_printf(&j,
                      ",\n  \"file\": \"%s\",\n  \"size\": %" PRIu64
                      ",\n  \"truncated\": %s,\n  \"sha256\": \"%s\",\n  \"elf\": {",
                      c->file, c->size, c->truncated ? "true" : "false", c->sha256);
        if (elf->is_elf) {
                fb_buf_printf(&j,
                              "\"class\": \"ELF%u\", \"byte_order\": \"%s\", \"type\": \"%s\", "
                              "\"machine\": \"%s\", \"e_machine\": %u, \"interpreter\": ",
                              elf->bits, elf->big_endian ? "MSB" : "LSB",
                              fb_elf_type_name(elf->type), fb_elf_machine_name(elf->machine),
                              elf->machine);
                if (elf->has_interp && !elf->interp_unread)
                        fb_json_str(&j, elf->interp, strlen(elf->interp));
                else
                        fb_buf_puts(&j, "null");
        }
        fb_buf_puts(&j, elf->is_elf ? ", \"problem\": " : "\"problem\": ");
        if (elf->problem[0])
                fb_json_str(&j, elf->problem, strlen(elf->problem));
        else
                fb_buf_puts(&j, "null");
        fb_buf_puts(&j, "},\n  \"fds\": [");
        if (dfd >= 0) {
                _cleanup_(closedirp) DIR *d = fdopendir(dfd);
                struct dirent *de;
                size_t n = 0;

                if (d) {
                        dfd = -1; /* owned by d now */
                        while ((de = readdir(d)) && n < FB_CAPTURE_MAX_FDS) {
                                char target[4096];
                                ssize_t l;

                                if (de->d_name[0] == '.')
                                        continue;
                                l = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                                if (l < 0)
                                        continue;
                                fb_buf_printf(&j,
                                              "%s\n    {\"fd\": %s, \"target\": ", n++ ? "," : "",
                                              de->d_name);
                                fb_json_str(&j, target, (size_t)l);
                                fb_buf_putc(&j, '}');
                        }
                }
        }
        fb_buf_puts(&j, "\n  ]\n}\n");
        snprintf(name, sizeof(name), "memfd-%d.json", pid);
        r = fb_buf_error(&j);
        if (r >= 0)
                r = add_file(ev, name, j.data, j.len);
        fb_buf_free(&j);
        return r;
}

/* Copies the opened executable fd, hashing as it goes; the ELF summary comes from the first
 * chunk read (up to 64 KiB: the header, program headers and interpreter path). */
static int copy_exe(struct fb_evidence *ev, int fd, struct fb_response_capture *c,
                    struct fb_elf_info *elf) {
        char chunk[65536];
        struct part p;
        struct stat st;
        int r;

        fb_elf_describe((const uint8_t *)"", 0, elf);
        if (fstat(fd, &st) < 0)
                return -errno;
        r = room(ev->dirfd, NULL,
                 st.st_size > 0 && (uint64_t)st.st_size < FB_CAPTURE_MAX_EXE ? (uint64_t)st.st_size
                                                                             : FB_CAPTURE_MAX_EXE);
        if (r >= 0)
                r = part_begin(ev, c->file, &p);
        if (r < 0)
                return r;
        while (r >= 0 && p.size < FB_CAPTURE_MAX_EXE) {
                size_t want = FB_CAPTURE_MAX_EXE - p.size < sizeof(chunk)
                                      ? (size_t)(FB_CAPTURE_MAX_EXE - p.size)
                                      : sizeof(chunk);
                ssize_t k = read(fd, chunk, want);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0)
                        break;
                if (p.size == 0)
                        fb_elf_describe((const uint8_t *)chunk, (size_t)k, elf);
                r = part_write(&p, chunk, (size_t)k);
        }
        if (r >= 0 && p.size >= FB_CAPTURE_MAX_EXE) {
                char one;

                c->truncated = read(fd, &one, 1) == 1;
        }
        c->size = p.size;
        return part_end(ev, c->file, &p, r, c->sha256);
}

static int capture_one(struct fb_evidence *ev, const char *id, int pid,
                       struct fb_response_capture *c, bool *captured, struct fb_buf *tmp) {
        char path[64], link[sizeof(c->exe)], name[64];
        static const char *const parts[] = { "cmdline", "environ", "maps" };
        _cleanup_close_ int pfd = -1, exe = -1;
        struct stat st;
        struct fb_elf_info elf;
        ssize_t l;
        size_t i;
        int r;

        *captured = false;
        snprintf(path, sizeof(path), "/proc/%d", pid);
        /* the directory fd pins the process: if it exits, reads through it fail rather than
         * reach a process that reuses the pid */
        pfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (pfd < 0)
                return 0; /* gone since the engine listed it */
        if (fb_proc_in_container(pfd, id) != 1)
                return 0;
        /* Judge the file that was opened, not a name read before: an execve between reading
         * the exe link and opening it would copy another program under the memfd's name.
         * The opened file's own link says what it is, and a memfd has no name on disk. */
        exe = openat(pfd, "exe", O_RDONLY | O_CLOEXEC);
        if (exe < 0 && (errno == EACCES || errno == EPERM))
                return -EACCES; /* no CAP_SYS_PTRACE: a refusal, not "nothing runs from a memfd" */
        if (exe < 0)
                return 0; /* kernel thread or gone */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", exe);
        l = readlink(path, link, sizeof(link) - 1);
        if (l < 0 || fstat(exe, &st) < 0)
                return 0;
        link[l] = '\0';
        /* the kernel names a memfd "/memfd:<name> (deleted)" */
        if (strncmp(link, "/memfd:", 7) != 0 || st.st_nlink != 0)
                return 0;
        *c = (struct fb_response_capture){ .pid = pid };
        memcpy(c->exe, link, (size_t)l + 1);
        snprintf(c->file, sizeof(c->file), "memfd-%d.exe", pid);
        r = copy_exe(ev, exe, c, &elf);
        if (r == -ENOENT || r == -ESRCH)
                return 0; /* exited while we looked */
        if (r < 0)
                return r;
        *captured = true;
        fb_elf_format(&elf, c->elf, sizeof(c->elf));
        for (i = 0; i < FB_ELEMENTSOF(parts); i++) {
                snprintf(name, sizeof(name), "memfd-%d.%s", pid, parts[i]);
                r = read_at(pfd, parts[i], FB_CAPTURE_MAX_PROCFILE, tmp);
                if (r == -E2BIG)
                        r = 0; /* capped: the head is kept */
                if (r < 0)
                        add_missing(ev, name, r);
                else if ((r = add_file(ev, name, tmp->data ? tmp->data : "", tmp->len)) < 0)
                        return r;
        }
        return describe(ev, pfd, pid, c, &elf);
}

int fb_evidence_capture_memfd(struct fb_evidence *ev, struct fb_engine *e, const char *id,
                              struct fb_response_capture *caps, size_t max, size_t *n) {
        pid_t *pids = NULL;
        size_t npids = 0, i;
        struct fb_buf tmp;
        int r;

        *n = 0;
        r = fb_engine_top(e, id, &pids, &npids);
        if (r < 0)
                return r;
        fb_buf_init(&tmp, FB_CAPTURE_MAX_PROCFILE);
        for (i = 0; i < npids && i < FB_CAPTURE_MAX_PIDS && *n < max && r >= 0; i++) {
                bool captured;

                r = capture_one(ev, id, (int)pids[i], &caps[*n], &captured, &tmp);
                if (r >= 0 && captured)
                        (*n)++;
        }
        fb_buf_free(&tmp);
        free(pids);
        if (r < 0 && ev->err == 0)
                ev->err = r;
        return r;
}

/* ---- verify ----------------------------------------------------------------------------- */

static bool hex64(const char *s) {
        return s && strlen(s) == 64 && fb_is_lower_hex(s, 64);
}

/* A file name the manifest may hold: one path component, no dot first. */
static bool name_ok(const char *s) {
        return s && *s && *s != '.' && !strchr(s, '/') && strlen(s) < 256;
}

static int hash_file(int dirfd_, const char *name, uint64_t *size, char hex[65]) {
        _cleanup_close_ int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct fb_sha256 c;
        uint8_t md[FB_SHA256_LEN];
        char chunk[65536];
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        fb_sha256_init(&c);
        *size = 0;
        for (;;) {
                ssize_t k = read(fd, chunk, sizeof(chunk));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                fb_sha256_update(&c, chunk, (size_t)k);
                *size += (uint64_t)k;
        }
        fb_sha256_final(&c, md);
        fb_hex(md, sizeof(md), hex);
        return 0;
}

static void finding(struct fb_buf *out, int *bad, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void finding(struct fb_buf *out, int *bad, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fb_buf_vprintf(out, fmt, ap);
        va_end(ap);
        fb_buf_putc(out, '\n');
        *bad = 1;
}

/* Names come from the manifest, which may have been tampered with: shown escaped. */
static const char *shown(struct fb_buf *tmp, const char *s) {
        fb_buf_reset(tmp);
        fb_escape_display(tmp, s, strlen(s));
        return fb_buf_cstr(tmp) ? fb_buf_cstr(tmp) : "?";
}

int fb_evidence_remove(const char *state_dir, const char *alert_id) {
        _cleanup_close_ int efd = -1, dfd = -1;
        char path[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int r = 0;

        /* an alert id: hex digits and dashes (alert.h), so a name of one path component */
        if (!alert_id[0] || strspn(alert_id, "0123456789abcdef-") != strlen(alert_id))
                return -EINVAL;
        if ((size_t)snprintf(path, sizeof(path), "%s/evidence", state_dir) >= sizeof(path))
                return -ENAMETOOLONG;
        efd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (efd < 0)
                return errno == ENOENT ? 0 : -errno;
        dfd = openat(efd, alert_id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        dfd = -1; /* d owns it now */
        while ((de = readdir(d)))
                /* a bundle is flat: a directory inside is left, and so is the bundle */
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    unlinkat(dirfd(d), de->d_name, 0) < 0 && r == 0)
                        r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        return unlinkat(efd, alert_id, AT_REMOVEDIR) < 0 ? -errno : 1;
}

int fb_evidence_verify(const char *dir, const char *expect, struct fb_buf *out) {
        _cleanup_free_ char *data = NULL, *side = NULL;
        _cleanup_close_ int dfd = -1;
        json_t *root = NULL, *files, *f;
        json_error_t jerr;
        char hex[FB_SHA256_HEX_LEN + 1], sidehex[FB_SHA256_HEX_LEN + 1];
        struct fb_buf tmp;
        size_t len, sidelen, i, n_listed = 0;
        int bad = 0, r;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        {
                char path[4096];

                if ((size_t)snprintf(path, sizeof(path), "%s/manifest.json", dir) >= sizeof(path))
                        return -ENAMETOOLONG;
                r = fb_read_file(path, MANIFEST_MAX, &data, &len);
                if (r < 0)
                        return r;
                snprintf(path, sizeof(path), "%s/manifest.sha256", dir);
                r = fb_read_file(path, 4096, &side, &sidelen);
        }
        fb_buf_init(&tmp, 4096);
        fb_sha256_hex(data, len, hex);
        if (r < 0)
                finding(out, &bad, "manifest.sha256: cannot read: %s", strerror(-r));
        else {
                memcpy(sidehex, side, sidelen >= 64 ? 64 : sidelen);
                sidehex[sidelen >= 64 ? 64 : sidelen] = '\0';
                if (!hex64(sidehex) || strcmp(sidehex, hex) != 0)
                        finding(out, &bad,
                                "manifest.json: its SHA-256 is %s, manifest.sha256 says otherwise",
                                hex);
        }
        if (expect && strcmp(expect, hex) != 0)
                finding(out, &bad,
                        "manifest.json: its SHA-256 is %s, not the recorded %s: the manifest was "
                        "rewritten",
                        hex, expect);
        root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        files = root ? json_object_get(root, "files") : NULL;
        if (!root || !json_is_array(files) || !json_is_string(json_object_get(root, "alert_id"))) {
                finding(out, &bad, "manifest.json: not a firebreak evidence manifest");
                goto done;
        }
        json_array_foreach(files, i, f) {
                const char *name = json_string_value(json_object_get(f, "name"));
                const char *want = json_string_value(json_object_get(f, "sha256"));
                json_t *size = json_object_get(f, "size");
                char got[FB_SHA256_HEX_LEN + 1];
                uint64_t sz;

                if (!name_ok(name)) {
                        finding(out, &bad, "manifest.json: entry %zu has no valid file name", i);
                        continue;
                }
                if (json_object_get(f, "missing"))
                        continue; /* recorded as not collected */
                n_listed++;
                if (!hex64(want) || !json_is_integer(size)) {
                        finding(out, &bad, "%s: the manifest entry lacks its size or SHA-256",
                                shown(&tmp, name));
                        continue;
                }
                r = hash_file(dfd, name, &sz, got);
                if (r < 0)
                        finding(out, &bad, "%s: listed in the manifest, cannot be read: %s",
                                shown(&tmp, name), strerror(-r));
                else if (sz != (uint64_t)json_integer_value(size) || strcmp(got, want) != 0)
                        finding(out, &bad,
                                "%s: changed: %" PRIu64 " bytes, SHA-256 %s; the manifest says "
                                "%" JSON_INTEGER_FORMAT " bytes, %s",
                                shown(&tmp, name), sz, got, json_integer_value(size), want);
        }
        /* a file the manifest does not list was added afterwards */
        {
                _cleanup_close_ int d2 = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_(closedirp) DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
                struct dirent *de;

                if (d)
                        d2 = -1;
                while (d && (de = readdir(d))) {
                        bool listed = false;

                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                            strcmp(de->d_name, "manifest.json") == 0 ||
                            strcmp(de->d_name, "manifest.sha256") == 0)
                                continue;
                        json_array_foreach(files, i, f) {
                                const char *name = json_string_value(json_object_get(f, "name"));

                                listed |= name && !json_object_get(f, "missing") &&
                                          strcmp(name, de->d_name) == 0;
                        }
                        if (!listed)
                                finding(out, &bad, "%s: present, but not in the manifest",
                                        shown(&tmp, de->d_name));
                }
        }
        if (!bad)
                fb_buf_printf(out, "intact: %zu files match manifest.json (SHA-256 %s)%s\n",
                              n_listed, hex, expect ? ", which matches the recorded hash" : "");
done:
        json_decref(root);
        fb_buf_free(&tmp);
        return bad;
}
