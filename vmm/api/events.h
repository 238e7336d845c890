/* The event monitor: one JSON object per line on a pipe, file or socket,
 * in Cloud Hypervisor's shape, written without ever blocking the VMM. */
#ifndef VIREO_VMM_API_EVENTS_H
#define VIREO_VMM_API_EVENTS_H

#include <stdint.h>

/* Lines waiting for a slow reader beyond this are dropped (and counted). */
#define EVENT_MONITOR_BUFFER (64u * 1024)

struct event_monitor;

/* Takes ownership of `fd` and makes it non-blocking. Timestamps count from
 * this call (CLOCK_MONOTONIC): create the monitor first thing in main().
 * Writing to a pipe whose reader left raises SIGPIPE: the VMM ignores it. */
struct event_monitor *event_monitor_new(int fd);

/* --event-monitor path=P: a FIFO is opened read-write so that opening never
 * waits for a reader; anything else is created or truncated (mode 0600).
 * Returns NULL with a message in *err. */
struct event_monitor *event_monitor_open(const char *path, char **err);

/* Writes {"timestamp":{"secs":S,"nanos":N},"source":..,"event":..,
 * "properties":{..}|null} and a newline. `props` is NULL or a NULL-ended
 * list of key, value, key, value strings. Thread-safe; never blocks: a line
 * that does not fit in what the reader has not taken yet is dropped, and
 * after drops a {"source":"vmm","event":"events-dropped"} line tells how
 * many. NULL `m` does nothing, so callers need not check for a monitor. */
void event_monitor_emit(struct event_monitor *m, const char *source, const char *event,
                        const char *const *props);

/* Writes what earlier emits left buffered, still without blocking. */
void event_monitor_flush(struct event_monitor *m);

/* Events dropped so far. */
uint64_t event_monitor_dropped(struct event_monitor *m);

/* Tries to flush for up to `timeout_ms` (bounded wait at exit), then closes. */
void event_monitor_free(struct event_monitor *m, int timeout_ms);

#endif
