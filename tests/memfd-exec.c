/* memfd-exec.c: a fileless-execution attack for the tests, built -static so it runs in any
 * container. `memfd-exec FILE [ARG...]` copies FILE into a memfd and executes it through
 * /proc/self/fd/N, as Falco's event generator does (proc.name becomes the fd number, the
 * executable "memfd:program"). `memfd-exec --sleep` just waits: it is the payload that keeps
 * running so that the test can capture it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
        char buf[65536], path[64];
        ssize_t n;
        int in, fd;

        if (argc >= 2 && strcmp(argv[1], "--sleep") == 0) {
                for (;;)
                        pause();
        }
        if (argc < 2) {
                fprintf(stderr, "usage: memfd-exec FILE [ARG...] | memfd-exec --sleep\n");
                return 2;
        }
        /* the memfd first, so that it gets fd 3 as in the event generator */
        fd = (int)syscall(SYS_memfd_create, "program", 0);
        if (fd < 0) {
                perror("memfd_create");
                return 1;
        }
        in = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                perror(argv[1]);
                return 1;
        }
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write(fd, buf, (size_t)n) != n) {
                        perror("write");
                        return 1;
                }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        argv[1] = path + strlen("/proc/self/fd/");
        execv(path, argv + 1);
        perror("execve from memfd");
        return 126;
}
