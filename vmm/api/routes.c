/* Routing of control API requests: Cloud Hypervisor's endpoint names and
 * methods, their bodies, the backend calls, and the replies with their
 * status codes and JSON bodies. No I/O: the server thread does that. */
#include "config.h"

#include "api/routes.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "api/config_json.h"

#define API_ROOT "/api/v1/"

struct route_ctx {
    const struct api_backend_ops *ops;
    void *opaque;
};

enum endpoint_kind {
    EP_PING,
    EP_INFO,
    EP_COUNTERS,
    EP_CREATE,
    EP_ACTION,
};

static const struct endpoint {
    const char *name;
    enum http_method method;
    enum endpoint_kind kind;
    enum api_action action;
} endpoints[] = {
    {"vmm.ping", HTTP_METHOD_GET, EP_PING, 0},
    {"vmm.shutdown", HTTP_METHOD_PUT, EP_ACTION, API_VMM_SHUTDOWN},
    {"vm.info", HTTP_METHOD_GET, EP_INFO, 0},
    {"vm.counters", HTTP_METHOD_GET, EP_COUNTERS, 0},
    {"vm.create", HTTP_METHOD_PUT, EP_CREATE, 0},
    {"vm.boot", HTTP_METHOD_PUT, EP_ACTION, API_VM_BOOT},
    {"vm.shutdown", HTTP_METHOD_PUT, EP_ACTION, API_VM_SHUTDOWN},
    {"vm.reboot", HTTP_METHOD_PUT, EP_ACTION, API_VM_REBOOT},
    {"vm.power-button", HTTP_METHOD_PUT, EP_ACTION, API_VM_POWER_BUTTON},
    {"vm.pause", HTTP_METHOD_PUT, EP_ACTION, API_VM_PAUSE},
    {"vm.resume", HTTP_METHOD_PUT, EP_ACTION, API_VM_RESUME},
    {"vm.delete", HTTP_METHOD_PUT, EP_ACTION, API_VM_DELETE},
};

/* Cloud Hypervisor endpoints Vireo does not serve yet: 501, not 404, so a
 * client can tell "not implemented" from a typo. */
static const char *const unimplemented[] = {
    "vm.nmi",           "vm.snapshot",       "vm.restore",           "vm.coredump",
    "vm.resize",        "vm.resize-disk",    "vm.resize-zone",       "vm.add-device",
    "vm.add-disk",      "vm.add-fs",         "vm.add-pmem",          "vm.add-net",
    "vm.add-vsock",     "vm.add-vdpa",       "vm.add-user-device",   "vm.add-generic-vhost-user",
    "vm.remove-device", "vm.send-migration", "vm.receive-migration",
};

const char *api_action_endpoint(enum api_action action)
{
    for (size_t i = 0; i < G_N_ELEMENTS(endpoints); i++) {
        if (endpoints[i].kind == EP_ACTION && endpoints[i].action == action)
            return endpoints[i].name;
    }
    return "?";
}

const char *api_vm_state_name(enum api_vm_state state)
{
    switch (state) {
    case API_VM_STATE_CREATED:
        return "Created";
    case API_VM_STATE_RUNNING:
        return "Running";
    case API_VM_STATE_SHUTDOWN:
        return "Shutdown";
    case API_VM_STATE_PAUSED:
        return "Paused";
    }
    return "Unknown";
}

static char *node_to_string(JsonNode *root)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();

    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* Errors are a JSON array of messages, most general first, as Cloud
 * Hypervisor sends its error chain. */
void api_reply_error(struct api_reply *r, unsigned int status, const char *summary,
                     const char *detail)
{
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_array(b);
    json_builder_add_string_value(b, summary);
    if (detail && *detail)
        json_builder_add_string_value(b, detail);
    json_builder_end_array(b);
    root = json_builder_get_root(b);
    r->status = status;
    g_free(r->body);
    r->body = node_to_string(root);
}

static unsigned int status_from_errno(int ret)
{
    switch (-ret) {
    case EINVAL:
        return 400;
    case ENOENT:
        return 404;
    case EEXIST:
    case EBUSY:
    case EALREADY:
        return 409;
    case EAGAIN:
        return 429;
    case ENOTSUP:
    case ENOSYS:
        return 501;
    case ETIMEDOUT:
        return 503;
    default:
        return 500;
    }
}

static void reply_backend_error(struct api_reply *r, const char *endpoint, int ret, char *err)
{
    g_autofree char *summary = g_strdup_printf("%s failed", endpoint);

    if (ret >= 0)
        ret = -EIO; /* a backend that failed without saying so */
    api_reply_error(r, status_from_errno(ret), summary, err ? err : g_strerror(-ret));
    g_free(err);
}

static void reply_not_implemented(struct api_reply *r, const char *endpoint)
{
    g_autofree char *detail = g_strdup_printf("%s is not implemented by this VMM", endpoint);

    api_reply_error(r, 501, "Not Implemented", detail);
}

static void handle_ping(struct api_reply *r)
{
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "build_version");
    json_builder_add_string_value(b, PACKAGE_STRING);
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, PACKAGE_VERSION);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, getpid());
    json_builder_set_member_name(b, "features");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    r->status = 200;
    r->body = node_to_string(root);
}

static void handle_info(const struct route_ctx *s, const char *name, struct api_reply *r)
{
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonNode) root = NULL;
    struct api_vm_info info;
    char *err = NULL;
    int ret;

    if (!s->ops->vm_info) {
        reply_not_implemented(r, name);
        return;
    }
    memset(&info, 0, sizeof(info));
    ret = s->ops->vm_info(s->opaque, &info, &err);
    if (ret) {
        vm_config_clear(&info.config);
        reply_backend_error(r, name, ret, err);
        return;
    }
    g_free(err);
    b = json_builder_new_immutable();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "config");
    config_json_build(b, &info.config);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, api_vm_state_name(info.state));
    if (info.memory_actual_size) {
        json_builder_set_member_name(b, "memory_actual_size");
        json_builder_add_int_value(b, (gint64)info.memory_actual_size);
    }
    json_builder_end_object(b);
    vm_config_clear(&info.config);
    root = json_builder_get_root(b);
    r->status = 200;
    r->body = node_to_string(root);
}

static void handle_counters(const struct route_ctx *s, const char *name, struct api_reply *r)
{
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonNode) root = NULL;
    char *err = NULL;
    int ret;

    if (!s->ops->vm_counters) {
        reply_not_implemented(r, name);
        return;
    }
    b = json_builder_new_immutable();
    json_builder_begin_object(b);
    ret = s->ops->vm_counters(s->opaque, b, &err);
    if (ret) {
        reply_backend_error(r, name, ret, err);
        return;
    }
    g_free(err);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    if (!root) {
        api_reply_error(r, 500, "vm.counters failed", "the backend left the JSON unbalanced");
        return;
    }
    r->status = 200;
    r->body = node_to_string(root);
}

static void handle_create(const struct route_ctx *s, const char *name, const struct http_message *m,
                          struct api_reply *r)
{
    struct vm_config cfg;
    char *err = NULL;
    int ret;

    if (!s->ops->vm_create) {
        reply_not_implemented(r, name);
        return;
    }
    if (m->body_len == 0) {
        api_reply_error(r, 400, "Bad Request", "vm.create needs a VmConfig JSON body");
        return;
    }
    if (config_json_parse((const char *)m->body, m->body_len, &cfg, &err)) {
        api_reply_error(r, 400, "Bad Request", err);
        g_free(err);
        return;
    }
    if (vm_config_validate(&cfg, &err)) {
        g_autofree char *detail = g_strdup_printf("invalid VM configuration: %s", err);
        api_reply_error(r, 400, "Bad Request", detail);
        g_free(err);
        vm_config_clear(&cfg);
        return;
    }
    ret = s->ops->vm_create(s->opaque, &cfg, &err);
    vm_config_clear(&cfg);
    if (ret) {
        reply_backend_error(r, name, ret, err);
        return;
    }
    g_free(err);
    r->status = 204;
}

static void handle_action(const struct route_ctx *s, const struct endpoint *ep,
                          const struct http_message *m, struct api_reply *r)
{
    char *err = NULL;
    int ret;

    if (m->body_len) {
        g_autofree char *detail = g_strdup_printf("%s takes no body", ep->name);
        api_reply_error(r, 400, "Bad Request", detail);
        return;
    }
    if (!s->ops->vm_action) {
        reply_not_implemented(r, ep->name);
        return;
    }
    ret = s->ops->vm_action(s->opaque, ep->action, &err);
    if (ret) {
        reply_backend_error(r, ep->name, ret, err);
        return;
    }
    g_free(err);
    r->status = 204;
}

static void route(const struct route_ctx *s, const struct http_message *m, struct api_reply *r)
{
    const char *name;

    if (!g_str_has_prefix(m->path, API_ROOT)) {
        g_autofree char *detail = g_strdup_printf("no such endpoint '%s'", m->path);
        api_reply_error(r, 404, "Not Found", detail);
        return;
    }
    name = m->path + strlen(API_ROOT);
    for (size_t i = 0; i < G_N_ELEMENTS(endpoints); i++) {
        const struct endpoint *ep = &endpoints[i];

        if (strcmp(name, ep->name))
            continue;
        if (m->method != ep->method) {
            g_autofree char *detail = g_strdup_printf("%s takes %s, not %s", ep->name,
                                                      http_method_name(ep->method), m->method_name);
            api_reply_error(r, 405, "Method Not Allowed", detail);
            r->allow = ep->method == HTTP_METHOD_GET ? "Allow: GET\r\n" : "Allow: PUT\r\n";
            return;
        }
        switch (ep->kind) {
        case EP_PING:
            handle_ping(r);
            return;
        case EP_INFO:
            handle_info(s, ep->name, r);
            return;
        case EP_COUNTERS:
            handle_counters(s, ep->name, r);
            return;
        case EP_CREATE:
            handle_create(s, ep->name, m, r);
            return;
        case EP_ACTION:
            handle_action(s, ep, m, r);
            return;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(unimplemented); i++) {
        if (!strcmp(name, unimplemented[i])) {
            reply_not_implemented(r, name);
            return;
        }
    }
    {
        g_autofree char *detail = g_strdup_printf("no such endpoint '%s'", m->path);
        api_reply_error(r, 404, "Not Found", detail);
    }
}

void api_route(const struct api_backend_ops *ops, void *opaque, const struct http_message *m,
               struct api_reply *r)
{
    const struct route_ctx ctx = {ops, opaque};

    route(&ctx, m, r);
}
