/* The control channel of one VMM, from the driver's side: HTTP/1.1
 * requests on its api socket (a small client of our own: one request per
 * connection, Content-Length bodies), and the reader of its event monitor
 * stream (one JSON object per line; a malformed line is logged and skipped,
 * never the end of the stream). */
#ifndef VIREO_DRIVER_MONITOR_H
#define VIREO_DRIVER_MONITOR_H

#include <glib.h>
#include <stdbool.h>

/* Default time allowed for one request. */
#define VIREO_MONITOR_TIMEOUT_MS 30000

/* Sends `method` /api/v1/`endpoint` (body may be NULL) and waits up to
 * timeout_ms for the answer. pidfd (or -1) is the VMM's process: when it
 * exits the wait ends at once. On success the HTTP status is in *status
 * and the body (possibly empty) in *body. -1 with *error set when no
 * answer came. */
int vireo_monitor_request(const char *socket_path, int pidfd, const char *method,
                          const char *endpoint, const char *body, int timeout_ms,
                          unsigned int *status, char **response, GError **error)
    __attribute__((warn_unused_result));

/* The same, but any status other than 2xx is an error too: VIR_ERR_OPERATION_FAILED
 * with the VMM's message ("operation failed: vm.boot: <the VMM's error chain>").
 * *response may be NULL when the body is not wanted. */
int vireo_monitor_call(const char *socket_path, int pidfd, const char *method, const char *endpoint,
                       const char *body, char **response, GError **error)
    __attribute__((warn_unused_result));

/* The text of an error answer: a JSON array of strings (the VMM's error
 * chain) joined with ": ", or the body itself. */
char *vireo_monitor_error_text(const char *body);

/* One event of the stream. */
struct vireo_vmm_event {
    char *source; /* "vm", "vmm", "guest", "virtio-device", ... */
    char *event;  /* "booted", "shutdown", "rebooting", "paused", "panic", ... */
    char *id;     /* properties.id when present, or NULL */
    char *reason; /* properties.reason ("poweroff", "error", ...), or NULL */
    gint64 secs;  /* timestamp: since the VMM started */
    gint64 nanos;
};

void vireo_vmm_event_clear(struct vireo_vmm_event *ev);

/* Parses one line. false (with *error set) when it is not an event object
 * with string "source" and "event" members. */
bool vireo_vmm_event_parse(const char *line, struct vireo_vmm_event *ev, GError **error);

/* Lines longer than this are dropped (up to their newline). */
#define VIREO_EVENT_LINE_MAX (64 * 1024)

typedef void (*vireo_event_func)(void *opaque, const struct vireo_vmm_event *ev);

struct vireo_event_reader;

/* Reads events from fd (taken; made non-blocking) on the default main
 * context, calling func for each good line. End of file just waits for
 * more (a FIFO whose writer went away may get a new one). */
struct vireo_event_reader *vireo_event_reader_new(int fd, vireo_event_func func, void *opaque);

/* Reads whatever is available now, without waiting (before deciding why a
 * VMM exited). */
void vireo_event_reader_drain(struct vireo_event_reader *r);

/* Feeds bytes as if read (for tests); calls func for each complete line. */
void vireo_event_reader_feed(struct vireo_event_reader *r, const char *data, size_t len);

/* Lines skipped because they were malformed or too long. */
unsigned int vireo_event_reader_bad_lines(const struct vireo_event_reader *r);

void vireo_event_reader_free(struct vireo_event_reader *r);

#endif
