/* Tests for vmm/api/events.c: the line format, a stalled reader (drops are
 * counted, nothing blocks, no line is torn), a vanished reader, concurrent
 * writers, and opening FIFOs and files by path. */
#include "config.h"

#include "api/events.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads what is in the pipe now, without waiting. */
static GString *read_available(int fd)
{
    GString *s = g_string_new(NULL);
    char buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        g_string_append_len(s, buf, n);
    return s;
}

/* Parses one line and checks the fixed shape. */
static JsonObject *parse_line(JsonParser *parser, const char *line)
{
    JsonNode *root;
    JsonObject *o, *ts;

    g_assert_true(json_parser_load_from_data(parser, line, -1, NULL));
    root = json_parser_get_root(parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    o = json_node_get_object(root);
    ts = json_object_get_object_member(o, "timestamp");
    g_assert_nonnull(ts);
    g_assert_cmpint(json_object_get_int_member(ts, "secs"), >=, 0);
    g_assert_cmpint(json_object_get_int_member(ts, "nanos"), >=, 0);
    g_assert_cmpint(json_object_get_int_member(ts, "nanos"), <, 1000000000);
    g_assert_nonnull(json_object_get_string_member(o, "source"));
    g_assert_nonnull(json_object_get_string_member(o, "event"));
    g_assert_true(json_object_has_member(o, "properties"));
    return o;
}

static void make_pipe(int fds[2], int size)
{
    g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    if (size)
        g_assert_cmpint(fcntl(fds[1], F_SETPIPE_SZ, size), >=, size);
}

static void test_format(void)
{
    int fds[2];
    struct event_monitor *m;
    const char *const props[] = {"id", "_disk0", "reason", "a \"quoted\"\nvalue", NULL};
    g_autoptr(GString) out = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o, *p;

    make_pipe(fds, 0);
    m = event_monitor_new(fds[1]);
    event_monitor_emit(m, "vm", "booted", NULL);
    g_usleep(2000);
    event_monitor_emit(m, "virtio-device", "reset", props);
    event_monitor_emit(NULL, "vm", "ignored", NULL); /* no monitor: nothing */
    out = read_available(fds[0]);
    g_assert_true(g_str_has_suffix(out->str, "\n"));
    lines = g_strsplit(out->str, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    g_assert_cmpstr(lines[2], ==, "");
    g_assert_true(g_str_has_prefix(lines[0], "{\"timestamp\":{\"secs\":0,\"nanos\":"));
    g_assert_true(
        g_str_has_suffix(lines[0], ",\"source\":\"vm\",\"event\":\"booted\",\"properties\":null}"));

    o = parse_line(parser, lines[1]);
    g_assert_cmpstr(json_object_get_string_member(o, "source"), ==, "virtio-device");
    g_assert_cmpstr(json_object_get_string_member(o, "event"), ==, "reset");
    p = json_object_get_object_member(o, "properties");
    g_assert_cmpstr(json_object_get_string_member(p, "id"), ==, "_disk0");
    g_assert_cmpstr(json_object_get_string_member(p, "reason"), ==, "a \"quoted\"\nvalue");
    g_assert_cmpint(
        json_object_get_int_member(json_object_get_object_member(o, "timestamp"), "nanos"), >=,
        2000000);
    g_assert_cmpuint(event_monitor_dropped(m), ==, 0);
    event_monitor_free(m, 0);
    close(fds[0]);
}

static void test_stalled_reader(void)
{
    int fds[2];
    struct event_monitor *m;
    g_autoptr(GString) out = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_auto(GStrv) lines = NULL;
    gint64 start;
    uint64_t dropped;
    guint n, i;
    JsonObject *o;

    make_pipe(fds, 4096);
    m = event_monitor_new(fds[1]);
    start = g_get_monotonic_time();
    for (i = 0; i < 20000; i++) {
        g_autofree char *id = g_strdup_printf("%u", i);
        const char *const props[] = {"seq", id, NULL};
        event_monitor_emit(m, "vm", "tick", props);
    }
    /* Nobody read: the writer dropped instead of waiting. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    dropped = event_monitor_dropped(m);
    g_assert_cmpuint(dropped, >, 10000);

    /* Every line that got through is whole, and in order. */
    out = read_available(fds[0]);
    for (;;) {
        g_autoptr(GString) more = NULL;

        event_monitor_flush(m); /* the buffered rest, a pipe's worth at a time */
        more = read_available(fds[0]);
        if (!more->len)
            break;
        g_string_append_len(out, more->str, more->len);
    }
    lines = g_strsplit(out->str, "\n", -1);
    n = g_strv_length(lines) - 1;
    g_assert_cmpuint(n, >, 10);
    g_assert_cmpuint(n + dropped, ==, 20000);
    for (i = 0; i < n; i++) {
        g_autofree char *seq = g_strdup_printf("%u", i);

        o = parse_line(parser, lines[i]);
        g_assert_cmpstr(json_object_get_string_member(o, "event"), ==, "tick");
        g_assert_cmpstr(
            json_object_get_string_member(json_object_get_object_member(o, "properties"), "seq"),
            ==, seq);
    }

    /* Once the reader caught up, the next event is preceded by a notice. */
    event_monitor_emit(m, "vm", "shutdown", NULL);
    g_string_free(out, TRUE);
    out = read_available(fds[0]);
    g_strfreev(lines);
    lines = g_strsplit(out->str, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    o = parse_line(parser, lines[0]);
    g_assert_cmpstr(json_object_get_string_member(o, "source"), ==, "vmm");
    g_assert_cmpstr(json_object_get_string_member(o, "event"), ==, "events-dropped");
    {
        g_autofree char *count = g_strdup_printf("%" G_GUINT64_FORMAT, dropped);
        g_assert_cmpstr(
            json_object_get_string_member(json_object_get_object_member(o, "properties"), "count"),
            ==, count);
    }
    o = parse_line(parser, lines[1]);
    g_assert_cmpstr(json_object_get_string_member(o, "event"), ==, "shutdown");
    g_assert_cmpuint(event_monitor_dropped(m), ==, dropped);

    /* Closing waits a bounded time only. */
    for (i = 0; i < 200; i++)
        event_monitor_emit(m, "vm", "tick", NULL);
    start = g_get_monotonic_time();
    event_monitor_free(m, 100);
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
    close(fds[0]);
}

static void test_reader_gone(void)
{
    int fds[2];
    struct event_monitor *m;

    make_pipe(fds, 0);
    m = event_monitor_new(fds[1]);
    close(fds[0]);
    event_monitor_emit(m, "vm", "booted", NULL);
    event_monitor_emit(m, "vm", "shutdown", NULL);
    g_assert_cmpuint(event_monitor_dropped(m), ==, 2);
    event_monitor_free(m, 1000);
}

struct writer {
    struct event_monitor *m;
    int id;
};

static gpointer writer_thread(gpointer opaque)
{
    struct writer *w = opaque;
    g_autofree char *id = g_strdup_printf("%d", w->id);
    const char *const props[] = {"writer", id, NULL};

    for (int i = 0; i < 500; i++)
        event_monitor_emit(w->m, "vm", "tick", props);
    return NULL;
}

static void test_concurrent_writers(void)
{
    int fds[2];
    struct event_monitor *m;
    struct writer w[4];
    GThread *t[4];
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_auto(GStrv) lines = NULL;
    guint n;

    make_pipe(fds, 1 << 20);
    m = event_monitor_new(fds[1]);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){m, i};
        t[i] = g_thread_new("writer", writer_thread, &w[i]);
    }
    for (int i = 0; i < 4; i++)
        g_thread_join(t[i]);
    event_monitor_flush(m);
    g_string_free(out, TRUE);
    out = read_available(fds[0]);
    lines = g_strsplit(out->str, "\n", -1);
    n = g_strv_length(lines) - 1;
    g_assert_cmpuint(n + event_monitor_dropped(m), ==, 2000);
    for (guint i = 0; i < n; i++)
        parse_line(parser, lines[i]);
    event_monitor_free(m, 0);
    close(fds[0]);
}

static void test_open_path(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-events-XXXXXX", NULL);
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *file = g_build_filename(dir, "events.log", NULL);
    g_autofree char *bad = g_build_filename(dir, "no", "such", NULL);
    g_autofree char *err = NULL, *contents = NULL;
    struct event_monitor *m;
    struct stat st;
    int rd;

    /* A FIFO with no reader yet: opening must not wait for one. */
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    m = event_monitor_open(fifo, &err);
    g_assert_nonnull(m);
    event_monitor_emit(m, "vmm", "starting", NULL);
    rd = open(fifo, O_RDONLY | O_NONBLOCK);
    g_assert_cmpint(rd, >=, 0);
    {
        g_autoptr(GString) out = read_available(rd);
        g_assert_nonnull(strstr(out->str, "\"event\":\"starting\""));
    }
    close(rd);
    event_monitor_free(m, 0);

    m = event_monitor_open(file, &err);
    g_assert_nonnull(m);
    event_monitor_emit(m, "vmm", "starting", NULL);
    event_monitor_free(m, 0);
    g_assert_true(g_file_get_contents(file, &contents, NULL, NULL));
    g_assert_true(g_str_has_suffix(contents, "\"event\":\"starting\",\"properties\":null}\n"));
    g_assert_cmpint(stat(file, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);

    g_assert_null(event_monitor_open(bad, &err));
    g_assert_nonnull(strstr(err, "--event-monitor"));

    g_unlink(fifo);
    g_unlink(file);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* as the VMM does */
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/events/format", test_format);
    g_test_add_func("/events/stalled-reader", test_stalled_reader);
    g_test_add_func("/events/reader-gone", test_reader_gone);
    g_test_add_func("/events/concurrent-writers", test_concurrent_writers);
    g_test_add_func("/events/open-path", test_open_path);
    return g_test_run();
}
