/* Tests for vmm/api/server.c and client.c: a real server thread on a temp
 * unix socket with a fake backend. Endpoints, status codes and error bodies,
 * state errors, bad requests in bulk, silent and slow clients, pipelining,
 * timeouts, limits, the socket helpers, and vireo-remote itself. */
#include "config.h"

#include "api/client.h"
#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- a fake VM: the state machine the real backend will enforce ---- */

enum fake_state { FAKE_NONE, FAKE_CREATED, FAKE_RUNNING, FAKE_PAUSED, FAKE_SHUTDOWN };

struct fake_vm {
    GMutex lock;
    enum fake_state state;
    struct vm_config cfg;
    int creates; /* calls that reached the backend */
    int actions[API_VMM_SHUTDOWN + 1];
};

static int fake_create(void *opaque, struct vm_config *cfg, char **err)
{
    struct fake_vm *vm = opaque;
    int ret = 0;

    g_mutex_lock(&vm->lock);
    vm->creates++;
    if (vm->state != FAKE_NONE) {
        *err = g_strdup("a VM is already created");
        ret = -EEXIST;
    } else {
        vm->cfg = *cfg;
        memset(cfg, 0, sizeof(*cfg));
        vm->state = FAKE_CREATED;
    }
    g_mutex_unlock(&vm->lock);
    return ret;
}

static int fake_action(void *opaque, enum api_action action, char **err)
{
    struct fake_vm *vm = opaque;
    enum fake_state s;
    int ret = 0;

    g_mutex_lock(&vm->lock);
    vm->actions[action]++;
    s = vm->state;
    if (action != API_VMM_SHUTDOWN && s == FAKE_NONE) {
        *err = g_strdup("the VM is not created");
        ret = -ENOENT;
        goto out;
    }
    switch (action) {
    case API_VM_BOOT:
        if (s != FAKE_CREATED && s != FAKE_SHUTDOWN)
            ret = -EBUSY;
        else
            vm->state = FAKE_RUNNING;
        break;
    case API_VM_PAUSE:
        if (s != FAKE_RUNNING)
            ret = -EBUSY;
        else
            vm->state = FAKE_PAUSED;
        break;
    case API_VM_RESUME:
        if (s != FAKE_PAUSED)
            ret = -EBUSY;
        else
            vm->state = FAKE_RUNNING;
        break;
    case API_VM_SHUTDOWN:
        vm->state = FAKE_SHUTDOWN;
        break;
    case API_VM_DELETE:
        vm_config_clear(&vm->cfg);
        vm->state = FAKE_NONE;
        break;
    case API_VM_REBOOT:
    case API_VM_POWER_BUTTON:
        if (s != FAKE_RUNNING)
            ret = -EBUSY;
        break;
    case API_VMM_SHUTDOWN:
        break;
    }
    if (ret == -EBUSY)
        *err = g_strdup_printf("not possible while the VM is in state %d", s);
out:
    g_mutex_unlock(&vm->lock);
    return ret;
}

static int fake_info(void *opaque, struct api_vm_info *info, char **err)
{
    static const enum api_vm_state states[] = {[FAKE_CREATED] = API_VM_STATE_CREATED,
                                               [FAKE_RUNNING] = API_VM_STATE_RUNNING,
                                               [FAKE_PAUSED] = API_VM_STATE_PAUSED,
                                               [FAKE_SHUTDOWN] = API_VM_STATE_SHUTDOWN};
    struct fake_vm *vm = opaque;
    int ret = 0;

    g_mutex_lock(&vm->lock);
    if (vm->state == FAKE_NONE) {
        *err = g_strdup("the VM is not created");
        ret = -ENOENT;
    } else {
        struct vm_config *c = &info->config;

        info->state = states[vm->state];
        vm_config_init(c);
        c->kernel = g_strdup(vm->cfg.kernel);
        c->cmdline = g_strdup(vm->cfg.cmdline);
        c->boot_vcpus = vm->cfg.boot_vcpus;
        c->max_vcpus = vm->cfg.max_vcpus;
        c->memory_size = vm->cfg.memory_size;
        c->serial.mode = vm->cfg.serial.mode;
        if (c->serial.mode == VM_CHARDEV_PTY && vm->state != FAKE_CREATED)
            c->serial.path = g_strdup("/dev/pts/42");
        info->memory_actual_size = vm->cfg.memory_size;
    }
    g_mutex_unlock(&vm->lock);
    return ret;
}

static int fake_counters(void *opaque, JsonBuilder *b, char **err)
{
    json_builder_set_member_name(b, "_disk0");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "read_ops");
    json_builder_add_int_value(b, 7);
    json_builder_end_object(b);
    return 0;
}

static const struct api_backend_ops fake_ops = {
    .vm_create = fake_create,
    .vm_action = fake_action,
    .vm_info = fake_info,
    .vm_counters = fake_counters,
};

/* ---- fixture ---- */

struct fixture {
    char *dir;
    char *path;
    struct api_server *server;
    struct fake_vm vm;
};

static void fixture_start(struct fixture *f, const struct api_backend_ops *ops,
                          const struct api_server_options *opts)
{
    g_autofree char *err = NULL;
    int fd;

    memset(f, 0, sizeof(*f));
    g_mutex_init(&f->vm.lock);
    f->dir = g_dir_make_tmp("vireo-api-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "api.sock", NULL);
    g_assert_cmpint(api_socket_listen_path(f->path, &fd, &err), ==, 0);
    g_assert_cmpint(api_server_start(fd, f->path, ops, &f->vm, opts, &f->server, &err), ==, 0);
}

static void fixture_stop(struct fixture *f)
{
    api_server_stop(f->server);
    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
    vm_config_clear(&f->vm.cfg);
    g_mutex_clear(&f->vm.lock);
    g_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
}

/* One request through the client; returns the status, body in *body. */
static unsigned int call(struct fixture *f, const char *method, const char *endpoint,
                         const char *json, char **body)
{
    g_autoptr(http_message) r = NULL;
    g_autofree char *err = NULL;

    if (api_client_request(f->path, method, endpoint, json, json ? strlen(json) : 0, 5000, &r,
                           &err))
        g_error("%s %s: %s", method, endpoint, err);
    if (body)
        *body = g_strndup((char *)r->body, r->body_len);
    return r->status;
}

static unsigned int call_status(struct fixture *f, const char *method, const char *endpoint,
                                const char *json)
{
    return call(f, method, endpoint, json, NULL);
}

static JsonNode *parse_json(const char *text)
{
    g_autoptr(GError) gerr = NULL;
    JsonNode *n = json_from_string(text, &gerr);

    if (!n)
        g_error("not JSON: '%s': %s", text, gerr->message);
    return n;
}

/* An error body: a JSON array of strings, one of which contains `needle`. */
static void assert_error_body(const char *body, const char *needle)
{
    g_autoptr(JsonNode) n = parse_json(body);
    JsonArray *a;
    bool found = false;

    g_assert_true(JSON_NODE_HOLDS_ARRAY(n));
    a = json_node_get_array(n);
    g_assert_cmpuint(json_array_get_length(a), >=, 1);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        if (strstr(json_array_get_string_element(a, i), needle))
            found = true;
    }
    if (!found)
        g_error("error body %s does not mention '%s'", body, needle);
}

static int raw_connect(struct fixture *f)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, f->path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    return fd;
}

static void raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* the server may close early (413): read its answer */
        p += n;
        len -= (size_t)n;
    }
}

static void raw_send_str(int fd, const char *s)
{
    raw_send(fd, s, strlen(s));
}

/* Reads responses off a raw connection until `count` are complete. */
static GPtrArray *raw_read_responses(int fd, guint count, bool *closed)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)http_message_free);
    g_autoptr(http_parser) p = http_parser_new(HTTP_KIND_RESPONSE);
    char buf[4096];

    *closed = false;
    while (out->len < count) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n;
        size_t pos = 0, used;

        g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            *closed = true;
            break;
        }
        while (pos < (size_t)n) {
            enum http_parse_result r = http_parser_feed(p, buf + pos, (size_t)n - pos, &used);
            pos += used;
            g_assert_cmpint(r, !=, HTTP_PARSE_ERROR);
            if (r == HTTP_PARSE_DONE)
                g_ptr_array_add(out, http_parser_take(p));
        }
    }
    return out;
}

/* True when the server closed the connection within a second. */
static bool raw_closed(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char c;

    if (poll(&pfd, 1, 1000) != 1)
        return false;
    return recv(fd, &c, 1, 0) <= 0;
}

/* ---- tests ---- */

static void test_ping(void)
{
    struct fixture f;
    g_autofree char *body = NULL;
    g_autoptr(JsonNode) n = NULL;
    JsonObject *o;

    fixture_start(&f, &fake_ops, NULL);
    g_assert_cmpuint(call(&f, "GET", "vmm.ping", NULL, &body), ==, 200);
    n = parse_json(body);
    o = json_node_get_object(n);
    g_assert_cmpstr(json_object_get_string_member(o, "version"), ==, PACKAGE_VERSION);
    g_assert_cmpint(json_object_get_int_member(o, "pid"), ==, getpid());
    g_assert_true(JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "features")));
    fixture_stop(&f);
}

static const char good_config[] = "{\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":2},"
                                  "\"memory\":{\"size\":268435456},"
                                  "\"payload\":{\"kernel\":\"/vmlinux\",\"cmdline\":\"quiet\"},"
                                  "\"serial\":{\"mode\":\"Pty\"},\"console\":{\"mode\":\"Off\"}}";

static void assert_state(struct fixture *f, const char *state)
{
    g_autofree char *body = NULL;
    g_autoptr(JsonNode) n = NULL;

    g_assert_cmpuint(call(f, "GET", "vm.info", NULL, &body), ==, 200);
    n = parse_json(body);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(n), "state"), ==, state);
}

static void test_life_cycle(void)
{
    struct fixture f;
    g_autofree char *body = NULL, *body2 = NULL;
    g_autoptr(JsonNode) n = NULL;
    JsonObject *cfg;

    fixture_start(&f, &fake_ops, NULL);
    /* Nothing exists yet: state errors from the backend come back as 4xx. */
    g_assert_cmpuint(call(&f, "PUT", "vm.boot", NULL, &body), ==, 404);
    assert_error_body(body, "vm.boot failed");
    assert_error_body(body, "the VM is not created");
    g_clear_pointer(&body, g_free);
    g_assert_cmpuint(call(&f, "GET", "vm.info", NULL, &body), ==, 404);
    g_clear_pointer(&body, g_free);

    g_assert_cmpuint(call(&f, "PUT", "vm.create", good_config, &body), ==, 204);
    g_assert_cmpstr(body, ==, "");
    g_assert_cmpuint(f.vm.cfg.boot_vcpus, ==, 2);
    g_assert_cmpstr(f.vm.cfg.kernel, ==, "/vmlinux");
    assert_state(&f, "Created");
    g_clear_pointer(&body, g_free);
    g_assert_cmpuint(call(&f, "PUT", "vm.create", good_config, &body), ==, 409);
    assert_error_body(body, "already created");

    g_assert_cmpuint(call_status(&f, "PUT", "vm.resume", NULL), ==, 409);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.boot", NULL), ==, 204);
    assert_state(&f, "Running");

    /* vm.info: the whole config, with the pty actually allocated. */
    g_assert_cmpuint(call(&f, "GET", "vm.info", NULL, &body2), ==, 200);
    n = parse_json(body2);
    cfg = json_object_get_object_member(json_node_get_object(n), "config");
    g_assert_cmpint(
        json_object_get_int_member(json_object_get_object_member(cfg, "memory"), "size"), ==,
        268435456);
    g_assert_cmpstr(
        json_object_get_string_member(json_object_get_object_member(cfg, "payload"), "cmdline"), ==,
        "quiet");
    g_assert_cmpstr(
        json_object_get_string_member(json_object_get_object_member(cfg, "serial"), "mode"), ==,
        "Pty");
    g_assert_cmpstr(
        json_object_get_string_member(json_object_get_object_member(cfg, "serial"), "file"), ==,
        "/dev/pts/42");
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(n), "memory_actual_size"), ==,
                    268435456);

    g_assert_cmpuint(call_status(&f, "PUT", "vm.pause", NULL), ==, 204);
    assert_state(&f, "Paused");
    g_assert_cmpuint(call_status(&f, "PUT", "vm.pause", NULL), ==, 409);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.resume", NULL), ==, 204);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.reboot", NULL), ==, 204);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.power-button", NULL), ==, 204);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.shutdown", NULL), ==, 204);
    assert_state(&f, "Shutdown");
    g_assert_cmpuint(call_status(&f, "PUT", "vm.delete", NULL), ==, 204);
    g_assert_cmpuint(call_status(&f, "GET", "vm.info", NULL), ==, 404);
    g_assert_cmpuint(call_status(&f, "PUT", "vmm.shutdown", NULL), ==, 204);
    g_assert_cmpint(f.vm.actions[API_VMM_SHUTDOWN], ==, 1);
    g_assert_cmpint(f.vm.actions[API_VM_REBOOT], ==, 1);

    g_clear_pointer(&body, g_free);
    g_assert_cmpuint(call(&f, "GET", "vm.counters", NULL, &body), ==, 200);
    g_assert_cmpstr(body, ==, "{\"_disk0\":{\"read_ops\":7}}");
    fixture_stop(&f);
}

static void test_create_errors(void)
{
    static const struct {
        const char *body;
        const char *needle;
    } cases[] = {
        {"{\"cpus\":", "malformed JSON"},
        {"not json at all", "malformed JSON"},
        {"[1,2]", "expected an object"},
        {"{\"cpus\":{\"boot_vcpus\":\"two\",\"max_vcpus\":2},\"payload\":{\"kernel\":\"/k\"}}",
         "cpus.boot_vcpus: expected an integer"},
        {"{\"memory\":{\"size\":-1},\"payload\":{\"kernel\":\"/k\"}}",
         "memory.size: must not be negative"},
        {"{\"cpus\":{\"boot_vcpus\":999,\"max_vcpus\":999},\"payload\":{\"kernel\":\"/k\"}}",
         "cpus.boot_vcpus: 999 is out of range"},
        {"{\"payload\":{\"kernel\":\"/k\"},\"fs\":[{\"tag\":\"t\",\"socket\":\"/s\"}]}",
         "fs: not supported"},
        {"{\"payload\":{\"cmdline\":\"x\"}}", "invalid VM configuration"},
    };
    struct fixture f;

    fixture_start(&f, &fake_ops, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *body = NULL;
        g_assert_cmpuint(call(&f, "PUT", "vm.create", cases[i].body, &body), ==, 400);
        assert_error_body(body, cases[i].needle);
    }
    {
        g_autofree char *body = NULL;
        g_assert_cmpuint(call(&f, "PUT", "vm.create", NULL, &body), ==, 400);
        assert_error_body(body, "needs a VmConfig");
    }
    /* Nothing reached the backend: nothing half-applied. */
    g_assert_cmpint(f.vm.creates, ==, 0);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.create", good_config), ==, 204);
    fixture_stop(&f);
}

static void test_routing_errors(void)
{
    struct fixture f;
    int fd;
    bool closed;
    g_autoptr(GPtrArray) rs = NULL;
    static const char req[] = "GET /api/v1/vm.boot HTTP/1.1\r\nHost: x\r\n\r\n";

    fixture_start(&f, &fake_ops, NULL);
    {
        g_autofree char *body = NULL;
        g_assert_cmpuint(call(&f, "GET", "vm.frobnicate", NULL, &body), ==, 404);
        assert_error_body(body, "no such endpoint '/api/v1/vm.frobnicate'");
    }
    g_assert_cmpuint(call_status(&f, "GET", "../vm.info", NULL), ==, 404);
    g_assert_cmpuint(call_status(&f, "GET", "", NULL), ==, 404);
    {
        g_autofree char *body = NULL;
        g_assert_cmpuint(call(&f, "PUT", "vm.snapshot", "{}", &body), ==, 501);
        assert_error_body(body, "not implemented");
    }
    {
        g_autofree char *body = NULL;
        g_assert_cmpuint(call(&f, "PUT", "vm.info", NULL, &body), ==, 405);
        assert_error_body(body, "vm.info takes GET, not PUT");
    }
    g_assert_cmpuint(call_status(&f, "POST", "vm.boot", NULL), ==, 405);
    g_assert_cmpuint(call_status(&f, "DELETE", "vm.create", NULL), ==, 405);
    {
        g_autofree char *body = NULL;
        g_assert_cmpuint(call(&f, "PUT", "vm.boot", "{}", &body), ==, 400);
        assert_error_body(body, "vm.boot takes no body");
    }

    /* 405 carries Allow. */
    fd = raw_connect(&f);
    raw_send(fd, req, strlen(req));
    rs = raw_read_responses(fd, 1, &closed);
    g_assert_cmpuint(rs->len, ==, 1);
    g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, ==, 405);
    g_assert_cmpstr(http_message_header(rs->pdata[0], "Allow"), ==, "PUT");
    g_assert_cmpstr(http_message_header(rs->pdata[0], "Content-Type"), ==, "application/json");
    close(fd);
    g_assert_cmpint(f.vm.actions[API_VM_BOOT], ==, 0);
    fixture_stop(&f);
}

static void test_missing_ops(void)
{
    static const struct api_backend_ops none = {0};
    struct fixture f;

    fixture_start(&f, &none, NULL);
    g_assert_cmpuint(call_status(&f, "GET", "vmm.ping", NULL), ==, 200);
    g_assert_cmpuint(call_status(&f, "GET", "vm.info", NULL), ==, 501);
    g_assert_cmpuint(call_status(&f, "GET", "vm.counters", NULL), ==, 501);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.boot", NULL), ==, 501);
    g_assert_cmpuint(call_status(&f, "PUT", "vm.create", good_config), ==, 501);
    fixture_stop(&f);
}

static void test_bad_requests_then_good(void)
{
    static const char *const garbage[] = {
        "\x16\x03\x01\x02\x01\xfc\x03\x03 not http\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET /api/v1/vmm.ping HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "PUT /api/v1/vm.create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /api/v1/vmm.ping HTTP/1.1\nHost: x\n\n",
        "\x00\x00\x00\x00\r\n\r\n",
        "GET /api/v1/vm.nope HTTP/1.1\r\n\r\n",
        "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 4\r\n\r\n{{{{",
    };
    struct fixture f;

    fixture_start(&f, &fake_ops, NULL);
    for (int i = 0; i < 100; i++) {
        const char *g = garbage[i % G_N_ELEMENTS(garbage)];
        size_t len = i % G_N_ELEMENTS(garbage) == 5 ? 8 : strlen(g);
        int fd = raw_connect(&f);
        bool closed;
        g_autoptr(GPtrArray) rs = NULL;

        raw_send(fd, g, len);
        rs = raw_read_responses(fd, 1, &closed);
        g_assert_cmpuint(rs->len, ==, 1);
        g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, >=, 400);
        close(fd);
    }
    g_assert_cmpuint(call_status(&f, "GET", "vmm.ping", NULL), ==, 200);

    /* And 100 wrong requests on one keep-alive connection, then a good one. */
    {
        int fd = raw_connect(&f);
        bool closed;
        g_autoptr(GString) s = g_string_new(NULL);
        g_autoptr(GPtrArray) rs = NULL;

        for (int i = 0; i < 100; i++)
            g_string_append(s, "GET /api/v1/vm.nope HTTP/1.1\r\n\r\n");
        g_string_append(s, "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n");
        raw_send(fd, s->str, s->len);
        rs = raw_read_responses(fd, 101, &closed);
        g_assert_cmpuint(rs->len, ==, 101);
        for (int i = 0; i < 100; i++)
            g_assert_cmpuint(((struct http_message *)rs->pdata[i])->status, ==, 404);
        g_assert_cmpuint(((struct http_message *)rs->pdata[100])->status, ==, 200);
        close(fd);
    }
    fixture_stop(&f);
}

static void test_silent_client(void)
{
    struct fixture f;
    int silent, partial;
    gint64 start;

    fixture_start(&f, &fake_ops, NULL);
    silent = raw_connect(&f);
    partial = raw_connect(&f);
    raw_send_str(partial, "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 100\r\n\r\n{");
    start = g_get_monotonic_time();
    for (int i = 0; i < 20; i++)
        g_assert_cmpuint(call_status(&f, "GET", "vmm.ping", NULL), ==, 200);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
    close(silent);
    close(partial);
    fixture_stop(&f);
}

static void test_timeouts(void)
{
    struct api_server_options opts = API_SERVER_OPTIONS_DEFAULT;
    struct fixture f;
    int partial, idle;
    bool closed;
    g_autoptr(GPtrArray) rs = NULL;

    opts.request_timeout_ms = 200;
    opts.idle_timeout_ms = 300;
    fixture_start(&f, &fake_ops, &opts);
    partial = raw_connect(&f);
    idle = raw_connect(&f);
    raw_send_str(partial, "GET /api/v1/vmm.ping HTTP/1.1\r\nHost:");
    rs = raw_read_responses(partial, 1, &closed);
    g_assert_cmpuint(rs->len, ==, 1);
    g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, ==, 408);
    g_assert_true(raw_closed(partial));
    g_assert_true(raw_closed(idle));
    close(partial);
    close(idle);
    g_assert_cmpuint(call_status(&f, "GET", "vmm.ping", NULL), ==, 200);
    fixture_stop(&f);
}

static void test_pipelining_and_close(void)
{
    static const char reqs[] = "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n"
                               "PUT /api/v1/vm.boot HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                               "GET /api/v1/vm.counters HTTP/1.1\r\nConnection: close\r\n\r\n"
                               "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n";
    struct fixture f;
    int fd;
    bool closed;
    g_autoptr(GPtrArray) rs = NULL;

    fixture_start(&f, &fake_ops, NULL);
    fd = raw_connect(&f);
    raw_send(fd, reqs, strlen(reqs));
    rs = raw_read_responses(fd, 4, &closed);
    /* In order; nothing after the request that asked to close. */
    g_assert_cmpuint(rs->len, ==, 3);
    g_assert_true(closed);
    g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, ==, 200);
    g_assert_cmpuint(((struct http_message *)rs->pdata[1])->status, ==, 404);
    g_assert_cmpuint(((struct http_message *)rs->pdata[2])->status, ==, 200);
    g_assert_false(((struct http_message *)rs->pdata[2])->keep_alive);
    close(fd);

    /* HTTP/1.0 without keep-alive closes too. */
    fd = raw_connect(&f);
    raw_send_str(fd, "GET /api/v1/vmm.ping HTTP/1.0\r\n\r\n");
    g_ptr_array_unref(rs);
    rs = raw_read_responses(fd, 2, &closed);
    g_assert_cmpuint(rs->len, ==, 1);
    g_assert_true(closed);
    close(fd);
    fixture_stop(&f);
}

static void test_oversized(void)
{
    struct fixture f;
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *big = g_malloc0(2 << 20);
    int fd;
    bool closed;
    g_autoptr(GPtrArray) rs = NULL;

    fixture_start(&f, &fake_ops, NULL);
    /* A 2 MiB body: 413, and the client gets to read it. */
    memset(big, ' ', 2 << 20);
    fd = raw_connect(&f);
    g_string_printf(s, "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: %d\r\n\r\n", 2 << 20);
    raw_send(fd, s->str, s->len);
    raw_send(fd, big, 2 << 20);
    rs = raw_read_responses(fd, 1, &closed);
    g_assert_cmpuint(rs->len, ==, 1);
    g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, ==, 413);
    close(fd);

    /* 16 KiB of headers: 431. */
    fd = raw_connect(&f);
    g_string_assign(s, "GET /api/v1/vmm.ping HTTP/1.1\r\n");
    while (s->len < 16384)
        g_string_append(s, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    g_string_append(s, "\r\n");
    raw_send(fd, s->str, s->len);
    g_ptr_array_unref(rs);
    rs = raw_read_responses(fd, 1, &closed);
    g_assert_cmpuint(rs->len, ==, 1);
    g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, ==, 431);
    close(fd);

    /* Expect: 100-continue, as curl sends for bodies over 1 KiB. */
    fd = raw_connect(&f);
    g_string_printf(s,
                    "PUT /api/v1/vm.create HTTP/1.1\r\nExpect: 100-continue\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    strlen(good_config));
    raw_send(fd, s->str, s->len);
    g_ptr_array_unref(rs);
    rs = raw_read_responses(fd, 1, &closed);
    g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, ==, 100);
    raw_send(fd, good_config, strlen(good_config));
    g_ptr_array_unref(rs);
    rs = raw_read_responses(fd, 1, &closed);
    g_assert_cmpuint(((struct http_message *)rs->pdata[0])->status, ==, 204);
    close(fd);
    fixture_stop(&f);
}

static void test_max_connections(void)
{
    struct api_server_options opts = API_SERVER_OPTIONS_DEFAULT;
    struct fixture f;
    int fds[8];

    opts.max_connections = 4;
    fixture_start(&f, &fake_ops, &opts);
    for (int i = 0; i < 4; i++)
        fds[i] = raw_connect(&f);
    g_usleep(100000); /* let the server take them */
    /* Over the limit: accepted and closed at once. */
    fds[4] = raw_connect(&f);
    g_assert_true(raw_closed(fds[4]));
    close(fds[4]);
    close(fds[0]);
    g_usleep(100000);
    g_assert_cmpuint(call_status(&f, "GET", "vmm.ping", NULL), ==, 200);
    for (int i = 1; i < 4; i++)
        close(fds[i]);
    fixture_stop(&f);
}

static void test_socket_helpers(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-sock-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "api.sock", NULL);
    g_autofree char *file = g_build_filename(dir, "plain", NULL);
    g_autofree char *err = NULL;
    g_autofree char *longpath = g_strnfill(200, 'x');
    struct stat st;
    int fd, fd2, plain;

    g_assert_cmpint(api_socket_listen_path(path, &fd, &err), ==, 0);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_true(S_ISSOCK(st.st_mode));
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(api_socket_check_fd(fd, &err), ==, 0);

    /* Someone listens there: refused. */
    g_assert_cmpint(api_socket_listen_path(path, &fd2, &err), ==, -EADDRINUSE);
    g_clear_pointer(&err, g_free);
    /* Stale (nobody listens any more): replaced. */
    close(fd);
    g_assert_cmpint(api_socket_listen_path(path, &fd, &err), ==, 0);
    close(fd);
    g_unlink(path);

    g_assert_true(g_file_set_contents(file, "x", 1, NULL));
    g_assert_cmpint(api_socket_listen_path(file, &fd, &err), ==, -EEXIST);
    g_assert_nonnull(strstr(err, "not a socket"));
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(api_socket_listen_path(longpath, &fd, &err), ==, -ENAMETOOLONG);
    g_clear_pointer(&err, g_free);

    /* fd=N must be a listening unix stream socket. */
    plain = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(api_socket_check_fd(plain, &err), ==, -EINVAL);
    g_clear_pointer(&err, g_free);
    close(plain);
    plain = open(file, O_RDONLY);
    g_assert_cmpint(api_socket_check_fd(plain, &err), ==, -ENOTSOCK);
    g_clear_pointer(&err, g_free);
    close(plain);
    g_assert_cmpint(api_socket_check_fd(-1, &err), ==, -EBADF);

    g_unlink(file);
    g_rmdir(dir);
}

static void test_client_errors(void)
{
    g_autoptr(http_message) r = NULL;
    g_autofree char *err = NULL, *text = NULL;
    struct http_message m = {0};

    g_assert_cmpint(
        api_client_request("/nonexistent/vireo.sock", "GET", "vmm.ping", NULL, 0, 1000, &r, &err),
        ==, -ENOENT);
    g_assert_nonnull(strstr(err, "cannot connect"));
    m.body = (uint8_t *)"[\"vm.boot failed\",\"the VM is not created\"]";
    m.body_len = strlen((char *)m.body);
    text = api_client_error_text(&m);
    g_assert_cmpstr(text, ==, "vm.boot failed: the VM is not created");
    g_free(text);
    m.body = (uint8_t *)"plain text";
    m.body_len = 10;
    text = api_client_error_text(&m);
    g_assert_cmpstr(text, ==, "plain text");
}

/* vireo-remote against the same server: exit status and output. */
static int run_remote(struct fixture *f, const char *cmd, const char *arg, char **out,
                      char **errout)
{
    const char *argv[] = {VIREO_REMOTE, "--api-socket", f->path, cmd, arg, NULL};
    int status;

    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, out, errout, &status, NULL));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_remote(void)
{
    struct fixture f;
    g_autofree char *out = NULL, *errout = NULL;

    if (!g_file_test(VIREO_REMOTE, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("vireo-remote is not built");
        return;
    }
    fixture_start(&f, &fake_ops, NULL);
    g_assert_cmpint(run_remote(&f, "ping", NULL, &out, &errout), ==, 0);
    g_assert_nonnull(strstr(out, "\"version\" : \"" PACKAGE_VERSION "\""));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&errout, g_free);

    g_assert_cmpint(run_remote(&f, "boot", NULL, &out, &errout), ==, 1);
    g_assert_cmpstr(errout, ==,
                    "vireo-remote: vm.boot: 404 Not Found: vm.boot failed: the VM is not "
                    "created\n");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&errout, g_free);

    g_assert_cmpint(run_remote(&f, "create", good_config, &out, &errout), ==, 0);
    g_assert_cmpstr(out, ==, "");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&errout, g_free);
    g_assert_cmpint(run_remote(&f, "create", "/nonexistent.json", &out, &errout), ==, 1);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&errout, g_free);
    g_assert_cmpint(run_remote(&f, "boot", NULL, &out, &errout), ==, 0);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&errout, g_free);
    g_assert_cmpint(run_remote(&f, "info", NULL, &out, &errout), ==, 0);
    g_assert_nonnull(strstr(out, "\"state\" : \"Running\""));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&errout, g_free);
    g_assert_cmpint(run_remote(&f, "frob", NULL, &out, &errout), ==, 2);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&errout, g_free);
    g_assert_cmpint(run_remote(&f, "boot", "extra", &out, &errout), ==, 2);
    fixture_stop(&f);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/api-server/ping", test_ping);
    g_test_add_func("/api-server/life-cycle", test_life_cycle);
    g_test_add_func("/api-server/create-errors", test_create_errors);
    g_test_add_func("/api-server/routing-errors", test_routing_errors);
    g_test_add_func("/api-server/missing-ops", test_missing_ops);
    g_test_add_func("/api-server/bad-requests-then-good", test_bad_requests_then_good);
    g_test_add_func("/api-server/silent-client", test_silent_client);
    g_test_add_func("/api-server/timeouts", test_timeouts);
    g_test_add_func("/api-server/pipelining-and-close", test_pipelining_and_close);
    g_test_add_func("/api-server/oversized", test_oversized);
    g_test_add_func("/api-server/max-connections", test_max_connections);
    g_test_add_func("/api-server/socket-helpers", test_socket_helpers);
    g_test_add_func("/api-server/client-errors", test_client_errors);
    g_test_add_func("/api-server/remote", test_remote);
    return g_test_run();
}
