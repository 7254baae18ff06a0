/* rss: runs `FIREBREAK triage --format FMT` on N copies of an alert line and prints its peak
 * resident size. A separate small program, because a forked child's peak RSS starts at its
 * parent's size: this parent stays around 1 MiB. Usage: rss FIREBREAK ALERT_LINE_FILE N FMT */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
        char path[] = "/tmp/fb-rss-XXXXXX", line[65536];
        struct rusage ru, self;
        ssize_t len;
        long i, n;
        int fd, in, status;
        pid_t pid;

        if (argc != 5)
                return 2;
        in = open(argv[2], O_RDONLY | O_CLOEXEC);
        len = in < 0 ? -1 : read(in, line, sizeof(line) - 1);
        if (len <= 0)
                return 1;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' '))
                len--;
        line[len++] = '\n';
        n = strtol(argv[3], NULL, 10);
        fd = mkostemp(path, O_CLOEXEC);
        for (i = 0; i < n; i++)
                if (write(fd, line, (size_t)len) != len)
                        return 1;
        getrusage(RUSAGE_SELF, &self);
        pid = fork();
        if (pid == 0) {
                int f = open(path, O_RDONLY), nul = open("/dev/null", O_WRONLY);

                dup2(f, 0);
                dup2(nul, 1);
                execl(argv[1], argv[1], "triage", "--format", argv[4], (char *)NULL);
                _exit(127);
        }
        wait4(pid, &status, 0, &ru);
        unlink(path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 1;
        printf("%ld %ld\n", ru.ru_maxrss, self.ru_maxrss);
        return 0;
}
