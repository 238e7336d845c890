/* stderr logging: one line per message, prefixed with the program name and
 * the time since start so boot phases can be read off the log. */
#include "config.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* Written once in log_init() before threads exist; read-only afterwards. */
static int log_threshold = LOG_NOTICE;
static uint64_t log_start_ns;

static uint64_t log_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void log_init(int verbosity)
{
    log_start_ns = log_now_ns();
    log_threshold = LOG_NOTICE + (verbosity < 0 ? 0 : verbosity);
}

bool log_enabled(enum log_level level)
{
    return (int)level <= log_threshold;
}

double log_uptime(void)
{
    return (double)(log_now_ns() - log_start_ns) / 1e9;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const prefix[] = {"error: ", "warning: ", "", "", "debug: "};
    char line[1024];
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines from vCPU threads do not interleave. */
    if (level >= LOG_INFO)
        fprintf(stderr, "vireo-vmm: [%9.6f] %s%s\n", log_uptime(), prefix[level], line);
    else
        fprintf(stderr, "vireo-vmm: %s%s\n", prefix[level], line);
}

bool log_ratelimit(struct log_ratelimit *rl, unsigned int *suppressed)
{
    uint64_t now = log_now_ns();
    bool ok;

    while (__atomic_exchange_n(&rl->lock, 1, __ATOMIC_ACQUIRE))
        ;
    if (now - rl->window_start_ns >= 1000000000ull) {
        rl->window_start_ns = now;
        rl->count = 0;
    }
    ok = rl->count < rl->burst;
    if (ok) {
        rl->count++;
        *suppressed = rl->suppressed;
        rl->suppressed = 0;
    } else {
        rl->suppressed++;
    }
    __atomic_store_n(&rl->lock, 0, __ATOMIC_RELEASE);
    return ok;
}
