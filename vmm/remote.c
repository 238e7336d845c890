/* vireo-remote: a command-line client of vireo-vmm's control API, like
 * Cloud Hypervisor's ch-remote. Exit status 0 when the VMM answered 2xx. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/client.h"

#define REMOTE_TIMEOUT_MS 60000

static const struct command {
    const char *name;
    const char *method;
    const char *endpoint;
    bool body; /* takes a JSON argument */
} commands[] = {
    {"ping", "GET", "vmm.ping", false},        {"info", "GET", "vm.info", false},
    {"counters", "GET", "vm.counters", false}, {"create", "PUT", "vm.create", true},
    {"boot", "PUT", "vm.boot", false},         {"shutdown", "PUT", "vm.shutdown", false},
    {"reboot", "PUT", "vm.reboot", false},     {"power-button", "PUT", "vm.power-button", false},
    {"pause", "PUT", "vm.pause", false},       {"resume", "PUT", "vm.resume", false},
    {"delete", "PUT", "vm.delete", false},     {"shutdown-vmm", "PUT", "vmm.shutdown", false},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: vireo-remote --api-socket PATH COMMAND [ARG]\n"
               "\n"
               "Commands:\n"
               "  ping                 the VMM's version and pid\n"
               "  info                 the VM's state and configuration\n"
               "  counters             per-device counters\n"
               "  create JSON|FILE|-   create the VM from a VmConfig (inline JSON, a file,\n"
               "                       or - for standard input)\n"
               "  boot, shutdown, reboot, power-button, pause, resume, delete\n"
               "  shutdown-vmm         stop the VMM process\n");
}

/* Inline JSON (starts with '{'), "-" for stdin, or a file name. */
static char *read_body(const char *arg, size_t *len, char **err)
{
    g_autoptr(GError) gerr = NULL;
    char *data = NULL;
    gsize n = 0;

    if (arg[0] == '{') {
        *len = strlen(arg);
        return g_strdup(arg);
    }
    if (!strcmp(arg, "-")) {
        g_autoptr(GIOChannel) ch = g_io_channel_unix_new(0);
        g_io_channel_set_encoding(ch, NULL, NULL);
        if (g_io_channel_read_to_end(ch, &data, &n, &gerr) != G_IO_STATUS_NORMAL) {
            *err = g_strdup_printf("cannot read standard input: %s", gerr->message);
            return NULL;
        }
    } else if (!g_file_get_contents(arg, &data, &n, &gerr)) {
        *err = g_strdup(gerr->message);
        return NULL;
    }
    *len = n;
    return data;
}

/* Pretty-prints a JSON body; anything else goes out as it came. */
static void print_body(const struct http_message *r)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();

    if (!r->body_len)
        return;
    if (json_parser_load_from_data(parser, (const char *)r->body, (gssize)r->body_len, NULL)) {
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autofree char *text = NULL;

        json_generator_set_pretty(gen, TRUE);
        json_generator_set_root(gen, json_parser_get_root(parser));
        text = json_generator_to_data(gen, NULL);
        printf("%s\n", text);
        return;
    }
    fwrite(r->body, 1, r->body_len, stdout);
    if (r->body[r->body_len - 1] != '\n')
        putchar('\n');
}

int main(int argc, char **argv)
{
    const char *socket_path = NULL, *cmd_name = NULL, *arg = NULL;
    const struct command *cmd = NULL;
    g_autoptr(http_message) resp = NULL;
    g_autofree char *body = NULL, *err = NULL;
    size_t body_len = 0;
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--api-socket") && i + 1 < argc) {
            socket_path = argv[++i];
        } else if (g_str_has_prefix(argv[i], "--api-socket=")) {
            socket_path = argv[i] + strlen("--api-socket=");
        } else if (argv[i][0] == '-' && argv[i][1] && !cmd_name) {
            fprintf(stderr, "vireo-remote: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!cmd_name) {
            cmd_name = argv[i];
        } else if (!arg) {
            arg = argv[i];
        } else {
            fprintf(stderr, "vireo-remote: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!socket_path || !*socket_path || !cmd_name) {
        usage(stderr);
        return 2;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(commands); k++) {
        if (!strcmp(cmd_name, commands[k].name))
            cmd = &commands[k];
    }
    if (!cmd) {
        fprintf(stderr, "vireo-remote: unknown command '%s'\n", cmd_name);
        usage(stderr);
        return 2;
    }
    if (cmd->body != (arg != NULL)) {
        fprintf(stderr, "vireo-remote: %s %s\n", cmd->name,
                cmd->body ? "needs a VmConfig (JSON, a file, or -)" : "takes no argument");
        return 2;
    }
    if (arg) {
        body = read_body(arg, &body_len, &err);
        if (!body) {
            fprintf(stderr, "vireo-remote: %s\n", err);
            return 1;
        }
    }
    if (api_client_request(socket_path, cmd->method, cmd->endpoint, body, body_len,
                           REMOTE_TIMEOUT_MS, &resp, &err)) {
        fprintf(stderr, "vireo-remote: %s: %s\n", cmd->endpoint, err);
        return 1;
    }
    if (resp->status / 100 != 2) {
        g_autofree char *text = api_client_error_text(resp);
        fprintf(stderr, "vireo-remote: %s: %u %s%s%s\n", cmd->endpoint, resp->status, resp->reason,
                *text ? ": " : "", text);
        return 1;
    }
    print_body(resp);
    return 0;
}
