/* LD_PRELOAD shim for the boot benchmark: at a process's first KVM_RUN it
 * writes the CPU time (user + sys, all threads) used since exec to the file
 * named by $VIREO_BENCH_FIRST_RUN_FILE, so any VMM is measured the same way.
 * Built by tests/bench/boot-bench.py: cc -shared -fPIC. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int first_run_seen;

static void first_run_report(void)
{
    const char *path = getenv("VIREO_BENCH_FIRST_RUN_FILE");
    struct timespec cpu;
    char line[32];
    int fd, len;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    if (!path)
        return;
    len =
        snprintf(line, sizeof(line), "%lld\n", (long long)cpu.tv_sec * 1000000000LL + cpu.tv_nsec);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)len) != len)
        unlink(path);
    close(fd);
}

int ioctl(int fd, unsigned long request, ...)
{
    static int (*real_ioctl)(int, unsigned long, ...);
    va_list ap;
    void *arg;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (!real_ioctl)
        real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    if (request == KVM_RUN && !__atomic_exchange_n(&first_run_seen, 1, __ATOMIC_SEQ_CST))
        first_run_report();
    return real_ioctl(fd, request, arg);
}
