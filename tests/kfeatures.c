/* kfeatures.c: what this kernel can do, for the tests to compare the probes against. Written
 * apart from src/harden/probe.c on purpose: a test that took the probe's own word for what the
 * machine can do could not catch the probe misjudging it. Prints one `name=yes|no` line each:
 *   int80        a 64-bit process can make a 32-bit system call through `int 0x80`
 *   mfd_exec     memfd_create knows MFD_EXEC (Linux 6.3)
 *   noexec_seal  memfd_create knows MFD_NOEXEC_SEAL (Linux 6.3)
 * Built -static, like memfd-exec, so that it also runs inside a container. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int int80_works(void) {
        int status = 0;
        pid_t pid = fork();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                long r = 20; /* getpid in the 32-bit table */

                prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core dump for the SIGSEGV */
#if defined(__x86_64__)
                __asm__ volatile("int $0x80" : "+a"(r) : : "memory");
#endif
                _exit(r == getpid() ? 0 : 1);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int memfd_flag_known(unsigned flag) {
        int fd = (int)syscall(SYS_memfd_create, "kfeatures", flag | 1u /* MFD_CLOEXEC */);

        if (fd >= 0) {
                close(fd);
                return 1;
        }
        return errno == EINVAL ? 0 : -1;
}

int main(void) {
        static const char *yn[] = { "unknown", "no", "yes" };

        printf("int80=%s\n", yn[int80_works() + 1]);
        printf("mfd_exec=%s\n", yn[memfd_flag_known(0x10u) + 1]);
        printf("noexec_seal=%s\n", yn[memfd_flag_known(0x8u) + 1]);
        return 0;
}
