/* Leveled logging to stderr for vireo-vmm, with rate limiting for messages a
 * guest can trigger at will (unhandled ports, bad requests). */
#ifndef VIREO_VMM_LOG_H
#define VIREO_VMM_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_NOTICE = 2, /* shown by default */
    LOG_INFO = 3,   /* -v */
    LOG_DEBUG = 4,  /* -vv */
};

/* Called once by main() before any thread starts: remembers the start time
 * and the threshold (LOG_NOTICE + verbosity). The two are the only
 * process-wide logging state and never change afterwards. */
void log_init(int verbosity);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Seconds since log_init() (the VMM's exec, near enough). */
double log_uptime(void);

/* Allows `burst` messages per second; counts the rest and reports how many
 * were dropped with the next allowed one. Lives in the object that logs. */
struct log_ratelimit {
    uint64_t window_start_ns;
    unsigned int burst;
    unsigned int count;
    unsigned int suppressed;
    int lock; /* spinlock: rate limiting must not block a vCPU for long */
};

#define LOG_RATELIMIT_INIT(b)                                                                      \
    {                                                                                              \
        .burst = (b)                                                                               \
    }

/* Returns true when a message may be logged now; *suppressed receives the
 * number dropped since the last allowed one. */
bool log_ratelimit(struct log_ratelimit *rl, unsigned int *suppressed);

#define log_error(...)  log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
