/* Tests for driver/monitor.c: event lines (good, malformed, too long, split
 * across reads) and the reader that must survive every bad one; the HTTP
 * client against a scripted server on a unix socket (204, 200 with a body,
 * an error chain, an answer in pieces, garbage, silence). */
#include <config.h>

#include <glib.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/monitor.h"

static void test_event_parse(void)
{
    struct vireo_vmm_event ev;
    g_autoptr(GError) error = NULL;

    g_assert_true(vireo_vmm_event_parse("{\"timestamp\":{\"secs\":3,\"nanos\":500},"
                                        "\"source\":\"vm\",\"event\":\"booted\","
                                        "\"properties\":null}",
                                        &ev, &error));
    g_assert_cmpstr(ev.source, ==, "vm");
    g_assert_cmpstr(ev.event, ==, "booted");
    g_assert_cmpint(ev.secs, ==, 3);
    g_assert_cmpint(ev.nanos, ==, 500);
    g_assert_null(ev.id);
    vireo_vmm_event_clear(&ev);

    g_assert_true(vireo_vmm_event_parse("{\"source\":\"virtio-device\",\"event\":\"reset\","
                                        "\"properties\":{\"id\":\"disk0\"}}",
                                        &ev, &error));
    g_assert_cmpstr(ev.id, ==, "disk0");
    g_assert_null(ev.reason);
    vireo_vmm_event_clear(&ev);

    g_assert_true(vireo_vmm_event_parse("{\"source\":\"vm\",\"event\":\"shutdown\","
                                        "\"properties\":{\"reason\":\"error\"}}",
                                        &ev, &error));
    g_assert_cmpstr(ev.reason, ==, "error");
    vireo_vmm_event_clear(&ev);
}

static void test_event_parse_bad(void)
{
    static const char *const bad[] = {
        "",
        "{",
        "not json at all",
        "[\"vm\",\"booted\"]",
        "42",
        "{\"source\":\"vm\"}",
        "{\"event\":\"booted\"}",
        "{\"source\":1,\"event\":\"booted\"}",
        "{\"source\":\"vm\",\"event\":{\"x\":1}}",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct vireo_vmm_event ev;
        g_autoptr(GError) error = NULL;

        if (vireo_vmm_event_parse(bad[i], &ev, &error))
            g_error("accepted: %s", bad[i]);
        g_assert_nonnull(error);
        vireo_vmm_event_clear(&ev);
    }
    /* Odd but harmless member types are ignored, not fatal. */
    {
        struct vireo_vmm_event ev;
        g_assert_true(vireo_vmm_event_parse(
            "{\"timestamp\":\"now\",\"source\":\"vm\",\"event\":\"x\",\"properties\":[1]}", &ev,
            NULL));
        g_assert_cmpint(ev.secs, ==, 0);
        vireo_vmm_event_clear(&ev);
    }
}

static void collect(void *opaque, const struct vireo_vmm_event *ev)
{
    g_ptr_array_add(opaque, g_strdup_printf("%s/%s", ev->source, ev->event));
}

static void test_reader_feed(void)
{
    g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
    struct vireo_event_reader *r = vireo_event_reader_new(-1, collect, got);
    const char *stream = "{\"source\":\"vm\",\"event\":\"booting\"}\n"
                         "garbage }{ \n"
                         "\n"
                         "{\"source\":\"vm\",\"event\":\"booted\"}\n"
                         "{\"source\":\"vm\",\"ev";
    g_autofree char *huge = g_strnfill(VIREO_EVENT_LINE_MAX + 10, 'x');

    /* One byte at a time: lines split across reads. */
    for (const char *p = stream; *p; p++)
        vireo_event_reader_feed(r, p, 1);
    g_assert_cmpuint(got->len, ==, 2);
    g_assert_cmpuint(vireo_event_reader_bad_lines(r), ==, 1);
    vireo_event_reader_feed(r, "ent\":\"paused\"}\n", 15);
    g_assert_cmpuint(got->len, ==, 3);
    /* A line too long is skipped up to its newline; the next one counts. */
    vireo_event_reader_feed(r, huge, strlen(huge));
    vireo_event_reader_feed(r, "yyy\n{\"source\":\"vm\",\"event\":\"resumed\"}\n", 38);
    g_assert_cmpuint(got->len, ==, 4);
    g_assert_cmpuint(vireo_event_reader_bad_lines(r), ==, 2);
    g_assert_cmpstr(got->pdata[0], ==, "vm/booting");
    g_assert_cmpstr(got->pdata[1], ==, "vm/booted");
    g_assert_cmpstr(got->pdata[2], ==, "vm/paused");
    g_assert_cmpstr(got->pdata[3], ==, "vm/resumed");
    vireo_event_reader_free(r);
}

static void test_reader_pipe(void)
{
    g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
    int fds[2];
    struct vireo_event_reader *r;
    const char *lines = "{\"source\":\"vm\",\"event\":\"shutdown\"}\n\x01\x02\xff\n"
                        "{\"source\":\"vmm\",\"event\":\"shutdown\"}\n";

    g_assert_cmpint(pipe(fds), ==, 0);
    r = vireo_event_reader_new(fds[0], collect, got);
    g_assert_cmpint(write(fds[1], lines, strlen(lines)), ==, (ssize_t)strlen(lines));
    for (int i = 0; i < 100 && got->len < 2; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpuint(got->len, ==, 2);
    g_assert_cmpstr(got->pdata[1], ==, "vmm/shutdown");
    g_assert_cmpuint(vireo_event_reader_bad_lines(r), ==, 1);
    /* The writer going away does not end the reader (it is not polled for
     * HUP), and drain reads nothing more. */
    close(fds[1]);
    vireo_event_reader_drain(r);
    g_assert_cmpuint(got->len, ==, 2);
    vireo_event_reader_free(r);
}

/* ---- HTTP ---- */

struct script {
    char *path;
    int listen_fd;
    const char *const *chunks; /* the answer, written in pieces */
    bool silent;               /* read the request, answer nothing */
    GString *request;          /* what the client sent */
};

static gpointer serve_one(gpointer opaque)
{
    struct script *s = opaque;
    int fd = accept(s->listen_fd, NULL, NULL);
    char buf[4096];
    ssize_t n;

    g_assert_cmpint(fd, >=, 0);
    /* Read the request headers and any Content-Length body. */
    for (;;) {
        const char *end, *cl;
        n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        g_string_append_len(s->request, buf, n);
        if (!(end = strstr(s->request->str, "\r\n\r\n")))
            continue;
        cl = strstr(s->request->str, "Content-Length: ");
        if (!cl || s->request->len - (end + 4 - s->request->str) >= strtoul(cl + 16, NULL, 10))
            break;
    }
    if (s->silent) {
        g_usleep(400000);
    } else {
        for (const char *const *c = s->chunks; *c; c++) {
            g_assert_cmpint(write(fd, *c, strlen(*c)), ==, (ssize_t)strlen(*c));
            g_usleep(2000);
        }
    }
    close(fd);
    return NULL;
}

static GThread *script_start(struct script *s)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_autofree char *dir = g_dir_make_tmp("vireo-monitor-test.XXXXXX", NULL);

    s->path = g_build_filename(dir, "api.sock", NULL);
    strcpy(addr.sun_path, s->path);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(s->listen_fd, 1), ==, 0);
    s->request = g_string_new(NULL);
    return g_thread_new("server", serve_one, s);
}

static void script_end(struct script *s, GThread *t)
{
    g_autofree char *dir = g_path_get_dirname(s->path);

    g_thread_join(t);
    close(s->listen_fd);
    unlink(s->path);
    rmdir(dir);
    g_free(s->path);
    g_string_free(s->request, TRUE);
}

static void test_http_204(void)
{
    static const char *const answer[] = {"HTTP/1.1 204 No Content\r\n\r\n", NULL};
    struct script s = {.chunks = answer};
    GThread *t = script_start(&s);
    g_autoptr(GError) error = NULL;
    g_autofree char *body = NULL;

    g_assert_cmpint(vireo_monitor_call(s.path, -1, "PUT", "vm.boot", NULL, &body, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_cmpstr(body, ==, "");
    script_end(&s, t);
}

static void test_http_body_in_pieces(void)
{
    static const char *const answer[] = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                         "content-length: 19",
                                         "\r\n\r\n{\"state\":", "\"Running\"}", NULL};
    struct script s = {.chunks = answer};
    GThread *t = script_start(&s);
    g_autoptr(GError) error = NULL;
    g_autofree char *body = NULL;
    unsigned int status = 0;

    g_assert_cmpint(vireo_monitor_request(s.path, -1, "PUT", "vm.create", "{\"cpus\":{}}", 5000,
                                          &status, &body, &error),
                    ==, 0);
    g_assert_cmpuint(status, ==, 200);
    g_assert_cmpstr(body, ==, "{\"state\":\"Running\"}");
    script_end(&s, t);
}

static void test_http_request_shape(void)
{
    static const char *const answer[] = {"HTTP/1.1 204 No Content\r\n\r\n", NULL};
    struct script s = {.chunks = answer};
    GThread *t = script_start(&s);
    g_autoptr(GError) error = NULL;
    g_autofree char *request = NULL;

    g_assert_cmpint(vireo_monitor_call(s.path, -1, "PUT", "vm.create", "{\"a\":1}", NULL, &error),
                    ==, 0);
    g_thread_join(t);
    request = g_strdup(s.request->str);
    g_assert_true(g_str_has_prefix(request, "PUT /api/v1/vm.create HTTP/1.1\r\n"));
    g_assert_nonnull(strstr(request, "Content-Length: 7\r\n"));
    g_assert_nonnull(strstr(request, "Content-Type: application/json\r\n"));
    g_assert_true(g_str_has_suffix(request, "\r\n\r\n{\"a\":1}"));
    {
        g_autofree char *dir = g_path_get_dirname(s.path);
        close(s.listen_fd);
        unlink(s.path);
        rmdir(dir);
    }
    g_free(s.path);
    g_string_free(s.request, TRUE);
}

static void test_http_error_chain(void)
{
    static const char *const answer[] = {
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 53\r\n\r\n"
        "[\"vm.boot failed\",\"cannot open kernel: No such file\"]",
        NULL};
    struct script s = {.chunks = answer};
    GThread *t = script_start(&s);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(vireo_monitor_call(s.path, -1, "PUT", "vm.boot", NULL, NULL, &error), ==, -1);
    g_assert_cmpint(error->code, ==, VIR_ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "vm.boot: vm.boot failed: cannot open kernel"));
    script_end(&s, t);
}

static void test_http_close_delimited(void)
{
    static const char *const answer[] = {"HTTP/1.0 200 OK\r\n\r\nplain text", NULL};
    struct script s = {.chunks = answer};
    GThread *t = script_start(&s);
    g_autoptr(GError) error = NULL;
    g_autofree char *body = NULL;

    g_assert_cmpint(vireo_monitor_call(s.path, -1, "GET", "vmm.ping", NULL, &body, &error), ==, 0);
    g_assert_cmpstr(body, ==, "plain text");
    script_end(&s, t);
}

static void test_http_garbage(void)
{
    static const char *const answer[] = {"SSH-2.0-OpenSSH\r\n\r\n", NULL};
    static const char *const cut[] = {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", NULL};
    static const char *const none[] = {NULL};
    const char *const *cases[] = {answer, cut, none};

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct script s = {.chunks = cases[i]};
        GThread *t = script_start(&s);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(vireo_monitor_call(s.path, -1, "GET", "vm.info", NULL, NULL, &error), ==,
                        -1);
        g_assert_cmpint(error->code, ==, VIR_ERR_OPERATION_FAILED);
        script_end(&s, t);
    }
}

static void test_http_timeout(void)
{
    struct script s = {.silent = true};
    GThread *t = script_start(&s);
    g_autoptr(GError) error = NULL;
    unsigned int status;
    char *body = NULL;

    g_assert_cmpint(
        vireo_monitor_request(s.path, -1, "GET", "vm.info", NULL, 100, &status, &body, &error), ==,
        -1);
    g_assert_cmpint(error->code, ==, VIR_ERR_OPERATION_TIMEOUT);
    script_end(&s, t);
}

static void test_http_no_socket(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(
        vireo_monitor_call("/nonexistent/api.sock", -1, "GET", "vm.info", NULL, NULL, &error), ==,
        -1);
    g_assert_nonnull(strstr(error->message, "/nonexistent/api.sock"));
}

static void test_error_text(void)
{
    g_autofree char *a = vireo_monitor_error_text("[\"a\",\"b\",3,\"c\"]");
    g_autofree char *b = vireo_monitor_error_text("  some text\n");
    g_autofree char *c = vireo_monitor_error_text("");

    g_assert_cmpstr(a, ==, "a: b: c");
    g_assert_cmpstr(b, ==, "some text");
    g_assert_nonnull(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* The reader warns about every line it skips: expected here. */
    g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
    g_test_add_func("/driver-monitor/event-parse", test_event_parse);
    g_test_add_func("/driver-monitor/event-parse-bad", test_event_parse_bad);
    g_test_add_func("/driver-monitor/reader-feed", test_reader_feed);
    g_test_add_func("/driver-monitor/reader-pipe", test_reader_pipe);
    g_test_add_func("/driver-monitor/http-204", test_http_204);
    g_test_add_func("/driver-monitor/http-body-in-pieces", test_http_body_in_pieces);
    g_test_add_func("/driver-monitor/http-request-shape", test_http_request_shape);
    g_test_add_func("/driver-monitor/http-error-chain", test_http_error_chain);
    g_test_add_func("/driver-monitor/http-close-delimited", test_http_close_delimited);
    g_test_add_func("/driver-monitor/http-garbage", test_http_garbage);
    g_test_add_func("/driver-monitor/http-timeout", test_http_timeout);
    g_test_add_func("/driver-monitor/http-no-socket", test_http_no_socket);
    g_test_add_func("/driver-monitor/error-text", test_error_text);
    return g_test_run();
}
