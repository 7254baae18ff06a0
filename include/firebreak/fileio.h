/* fileio.h: bounded reads and atomic writes; every descriptor is opened O_CLOEXEC. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

/* Opens path for reading ("-" duplicates standard input). Returns the fd or -errno. */
int fb_open_input(const char *path);

/* Reads all of fd, at most max bytes. Returns 0 and a NUL-terminated *ret (owned by the caller),
 * -EFBIG when the input is larger than max, or -errno. */
int fb_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Same, for a path. */
int fb_read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* Writes all of data to fd, retrying on EINTR and short writes. Returns 0 or -errno. */
int fb_write_all(int fd, const void *data, size_t len);

/* Writes data to dir/name through a temporary file, fsync and rename, so a reader sees either
 * the old file or the whole new one. mode is the file mode. Returns 0 or -errno. */
int fb_write_file_atomic(const char *dir, const char *name, const void *data, size_t len,
                         unsigned mode);

/* mkdir -p with mode for each created component. Returns 0 or -errno. */
/* The same, with the fsync optional: readers never see a partial file, but after a power
 * loss the file may be missing (for files that can be rebuilt, such as service reports). */
int fb_write_file_replace(const char *dir, const char *name, const void *data, size_t len,
                          unsigned mode, bool sync);
/* fb_write_file_atomic() for a path: its directory (made if missing, mode 0755) and name. */
int fb_write_path_atomic(const char *path, const void *data, size_t len, unsigned mode);
int fb_mkdir_p(const char *path, unsigned mode);
/* The disk space (allocated blocks) of path and everything under it, symbolic links not
 * followed, at most 16 directories deep, added to *bytes. A path that does not exist adds
 * nothing. Returns 0 or -errno. */
int fb_disk_usage(const char *path, uint64_t *bytes);

/* Reads a small file holding one decimal integer (a /proc/sys value), trailing whitespace
 * allowed. Returns 0, -EINVAL when it holds something else, or -errno. */
int fb_read_int_file(const char *path, int64_t *ret);

/* Does this cgroup file's text (/proc/PID/cgroup) place the process in the container with the
 * 64-digit id? The id must be a whole token of a path component: the component itself
 * ("/docker/<id>"), or after a '-' and before ".scope" or the component's end
 * ("docker-<id>.scope", "cri-containerd-<id>.scope", "libpod-<id>"). A longer hex run, or the
 * id inside another name, does not count. */
bool fb_cgroup_names_container(const char *text, const char *id);
/* The same for the process whose /proc/PID directory is open as pfd (the fd pins the process,
 * so a pid reused since it was listed cannot answer). Reads its cgroup file whole (at most
 * 32 KiB). Returns 1 yes, 0 no, or -errno. */
int fb_proc_in_container(int pfd, const char *id);
