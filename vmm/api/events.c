/* Event monitor writer. Lines go through a bounded buffer so that a short
 * write never leaves half a line behind: only whole lines enter the buffer,
 * and the buffer drains whenever the fd takes more. */
#include "config.h"

#include "api/events.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct event_monitor {
    pthread_mutex_t lock;
    int fd;
    bool is_socket;
    bool broken; /* the reader is gone for good */
    uint64_t start_ns;
    GString *pending; /* whole lines not yet written */
    uint64_t dropped;
    uint64_t dropped_unreported;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct event_monitor *event_monitor_new(int fd)
{
    struct event_monitor *m = g_new0(struct event_monitor, 1);
    struct stat st;
    int fl = fcntl(fd, F_GETFL);

    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    pthread_mutex_init(&m->lock, NULL);
    m->fd = fd;
    m->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    m->start_ns = now_ns();
    m->pending = g_string_new(NULL);
    return m;
}

struct event_monitor *event_monitor_open(const char *path, char **err)
{
    struct stat st;
    int fd;

    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    else
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = g_strdup_printf("--event-monitor: cannot open '%s': %s", path, g_strerror(errno));
        return NULL;
    }
    return event_monitor_new(fd);
}

/* Writes as much of the buffer as the fd takes now. Caller holds the lock. */
static void drain(struct event_monitor *m)
{
    while (m->pending->len && !m->broken) {
        ssize_t n = m->is_socket ? send(m->fd, m->pending->str, m->pending->len, MSG_NOSIGNAL)
                                 : write(m->fd, m->pending->str, m->pending->len);
        if (n > 0) {
            g_string_erase(m->pending, 0, n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            /* EPIPE and friends: nobody will read these lines. */
            m->broken = true;
            for (size_t i = 0; i < m->pending->len; i++)
                m->dropped += m->pending->str[i] == '\n';
            g_string_truncate(m->pending, 0);
        }
    }
}

static char *format_line(uint64_t ts_ns, const char *source, const char *event,
                         const char *const *props)
{
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "timestamp");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "secs");
    json_builder_add_int_value(b, (gint64)(ts_ns / 1000000000ull));
    json_builder_set_member_name(b, "nanos");
    json_builder_add_int_value(b, (gint64)(ts_ns % 1000000000ull));
    json_builder_end_object(b);
    json_builder_set_member_name(b, "source");
    json_builder_add_string_value(b, source);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    json_builder_set_member_name(b, "properties");
    if (props) {
        json_builder_begin_object(b);
        for (size_t i = 0; props[i] && props[i + 1]; i += 2) {
            json_builder_set_member_name(b, props[i]);
            json_builder_add_string_value(b, props[i + 1]);
        }
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* Appends a whole line if it fits; false if it does not. */
static bool enqueue(struct event_monitor *m, const char *line)
{
    size_t len = strlen(line) + 1;

    if (m->pending->len + len > EVENT_MONITOR_BUFFER)
        return false;
    g_string_append(m->pending, line);
    g_string_append_c(m->pending, '\n');
    return true;
}

void event_monitor_emit(struct event_monitor *m, const char *source, const char *event,
                        const char *const *props)
{
    g_autofree char *line = NULL;
    uint64_t ts;

    if (!m)
        return;
    ts = now_ns();
    pthread_mutex_lock(&m->lock);
    ts = ts > m->start_ns ? ts - m->start_ns : 0;
    line = format_line(ts, source, event, props);
    drain(m);
    if (m->dropped_unreported && !m->broken) {
        g_autofree char *count = g_strdup_printf("%" G_GUINT64_FORMAT, m->dropped_unreported);
        const char *const drop_props[] = {"count", count, NULL};
        g_autofree char *notice = format_line(ts, "vmm", "events-dropped", drop_props);

        /* Leave room for the event itself, or the notice is pointless. */
        if (m->pending->len + strlen(notice) + strlen(line) + 2 <= EVENT_MONITOR_BUFFER) {
            enqueue(m, notice);
            m->dropped_unreported = 0;
        }
    }
    if (m->broken || m->dropped_unreported || !enqueue(m, line)) {
        m->dropped++;
        m->dropped_unreported++;
    }
    drain(m);
    pthread_mutex_unlock(&m->lock);
}

void event_monitor_flush(struct event_monitor *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    drain(m);
    pthread_mutex_unlock(&m->lock);
}

uint64_t event_monitor_dropped(struct event_monitor *m)
{
    uint64_t n;

    pthread_mutex_lock(&m->lock);
    n = m->dropped;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void event_monitor_free(struct event_monitor *m, int timeout_ms)
{
    uint64_t deadline;

    if (!m)
        return;
    deadline = now_ns() + (uint64_t)MAX(timeout_ms, 0) * 1000000ull;
    pthread_mutex_lock(&m->lock);
    drain(m);
    while (m->pending->len && !m->broken) {
        struct pollfd pfd = {.fd = m->fd, .events = POLLOUT};
        uint64_t now = now_ns();

        if (now >= deadline)
            break;
        if (poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
            break;
        drain(m);
    }
    pthread_mutex_unlock(&m->lock);
    close(m->fd);
    pthread_mutex_destroy(&m->lock);
    g_string_free(m->pending, TRUE);
    g_free(m);
}
