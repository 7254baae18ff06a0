/* fileio.c: bounded reads and atomic writes. */
#define _GNU_SOURCE
#include "firebreak/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firebreak/cleanup.h"
#include "firebreak/strutil.h"

int fb_open_input(const char *path) {
        int fd;

        if (strcmp(path, "-") == 0)
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

int fb_read_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *p = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                ssize_t n;

                if (cap - len < 4096) {
                        size_t ncap = cap ? cap * 2 : 8192;
                        char *q;

                        if (ncap > max + 2)
                                ncap = max + 2;
                        if (ncap <= len + 1)
                                return -EFBIG;
                        q = realloc(p, ncap);
                        if (!q)
                                return -ENOMEM;
                        p = q;
                        cap = ncap;
                }
                n = read(fd, p + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        p[len] = '\0';
        *ret = TAKE_PTR(p);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fb_read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;

        fd = fb_open_input(path);
        if (fd < 0)
                return fd;
        return fb_read_fd(fd, max, ret, ret_len);
}

int fb_write_all(int fd, const void *data, size_t len) {
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int fb_write_file_atomic(const char *dir, const char *name, const void *data, size_t len,
                         unsigned mode) {
        return fb_write_file_replace(dir, name, data, len, mode, true);
}

int fb_write_file_replace(const char *dir, const char *name, const void *data, size_t len,
                          unsigned mode, bool sync) {
        char tmp[PATH_MAX], dst[PATH_MAX];
        _cleanup_close_ int fd = -1;
        int r;

        if (snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst) ||
            snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = fb_write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, dst) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

int fb_write_path_atomic(const char *path, const void *data, size_t len, unsigned mode) {
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        int r;

        if (!slash)
                return fb_write_file_atomic(".", path, data, len, mode);
        if ((size_t)(slash - path) >= sizeof(dir))
                return -ENAMETOOLONG;
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        if (slash == path)
                return fb_write_file_atomic("/", slash + 1, data, len, mode);
        r = fb_mkdir_p(dir, 0755);
        return r < 0 ? r : fb_write_file_atomic(dir, slash + 1, data, len, mode);
}

int fb_mkdir_p(const char *path, unsigned mode) {
        char p[PATH_MAX];
        size_t i, len = strlen(path);

        if (len == 0 || len >= sizeof(p))
                return -ENAMETOOLONG;
        memcpy(p, path, len + 1);
        for (i = 1; i <= len; i++) {
                if (p[i] != '/' && p[i] != '\0')
                        continue;
                p[i] = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                p[i] = path[i];
        }
        return 0;
}

int fb_read_int_file(const char *path, int64_t *ret) {
        char *s = NULL;
        size_t len;
        int r;

        r = fb_read_file(path, 64, &s, &len);
        if (r < 0)
                return r;
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        r = fb_parse_int64(s, len, ret);
        free(s);
        return r < 0 ? -EINVAL : 0;
}

bool fb_cgroup_names_container(const char *text, const char *id) {
        size_t il = strlen(id);
        const char *p = text;

        if (il != 64)
                return false;
        while ((p = strstr(p, id)) != NULL) {
                char before = p == text ? '\n' : p[-1];
                const char *after = p + il;

                p++;
                if (before != '/' && before != '-')
                        continue;
                if (*after == '\n' || *after == '\0' || *after == '/' ||
                    strncmp(after, ".scope", 6) == 0)
                        return true;
        }
        return false;
}

int fb_proc_in_container(int pfd, const char *id) {
        char buf[32768];
        size_t len = 0;
        int fd = openat(pfd, "cgroup", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        while (len < sizeof(buf) - 1) {
                ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = errno;

                        close(fd);
                        return -e;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        close(fd);
        buf[len] = '\0';
        return fb_cgroup_names_container(buf, id) ? 1 : 0;
}

static int usage_at(int dfd, unsigned depth, uint64_t *bytes) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                close(dfd);
                return -errno;
        }
        while ((de = readdir(d))) {
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* gone meanwhile */
                *bytes += (uint64_t)st.st_blocks * 512;
                if (S_ISDIR(st.st_mode) && depth < 16) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub >= 0 && (r = usage_at(sub, depth + 1, bytes)) < 0)
                                break;
                }
        }
        closedir(d);
        return r;
}

int fb_disk_usage(const char *path, uint64_t *bytes) {
        struct stat st;
        int fd;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        *bytes += (uint64_t)st.st_blocks * 512;
        if (!S_ISDIR(st.st_mode))
                return 0;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : usage_at(fd, 0, bytes);
}
