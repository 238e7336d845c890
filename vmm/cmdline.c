/* Command-line parsing. Each option takes its value as the next argument or
 * after '=' (`--kernel PATH`, `--kernel=PATH`); values with parameters use
 * Cloud Hypervisor's `key=value,key=value` form. */
#include "config.h"

#include "cmdline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: vireo-vmm [OPTIONS]\n"
    "\n"
    "Boot one virtual machine with KVM.\n"
    "\n"
    "Options:\n"
    "  --kernel PATH            kernel to boot: an ELF vmlinux with a PVH note, or a bzImage\n"
    "  --initramfs PATH         initramfs handed to the kernel\n"
    "  --cmdline STRING         kernel command line\n"
    "  --firmware PATH          firmware to boot (not yet supported)\n"
    "  --cpus boot=N[,max=M]    number of vCPUs (default: boot=1)\n"
    "  --memory size=SIZE       guest RAM, with a K, M or G suffix (default: size=512M)\n"
    "  --serial MODE            16550A serial port (ttyS0): off, null, pty, tty,\n"
    "                           file=PATH or socket=PATH (default: null)\n"
    "  --console MODE           virtio console (hvc0): off, null, pty, tty or\n"
    "                           file=PATH (default: tty; with --serial tty, give\n"
    "                           --console off)\n"
    "  --disk path=PATH[,readonly=on|off][,direct=on|off][,num_queues=N]\n"
    "         [,queue_size=N][,id=ID][,serial=SERIAL][,image_type=raw|qcow2]\n"
    "                           a virtio-blk disk (vda, vdb, ... in order); repeat\n"
    "                           the option or list several disks after one --disk\n"
    "                           (default: num_queues=1, queue_size=128, the image\n"
    "                           type probed from the file)\n"
    "  --net [tap=NAME][,ip=IP,mask=MASK][,mac=MAC][,host_mac=MAC][,num_queues=N]\n"
    "        [,queue_size=N][,mtu=N][,fd=FD|fd=[FD,FD...]][,id=ID]\n"
    "                           a virtio-net device on a TAP interface, created when\n"
    "                           absent (default: the kernel names it vmtapN), or on\n"
    "                           TAP fds inherited from the parent, one per queue\n"
    "                           pair; ip= and mask= set the host side's address;\n"
    "                           repeat for more devices (default: num_queues=2,\n"
    "                           queue_size=256, a random mac)\n"
    "  --net passt=on|PATH[,mac=MAC][,mtu=N][,queue_size=N][,id=ID]\n"
    "                           a virtio-net device on passt, user-mode networking\n"
    "                           without privileges: on starts passt (DHCP gives the\n"
    "                           guest the host's address; the gateway address\n"
    "                           reaches the host's loopback), PATH connects to a\n"
    "                           running passt's socket (default: mtu=65520)\n"
    "  --rng src=PATH           entropy source of the virtio-rng device, which is\n"
    "                           always present (default: src=/dev/urandom)\n"
    "  --api-socket path=PATH|fd=N\n"
    "                           serve the control API (Cloud Hypervisor's REST API)\n"
    "                           on a unix socket; without --kernel, wait for vm.create\n"
    "  --event-monitor path=PATH|fd=N\n"
    "                           write lifecycle events, one JSON object per line\n"
    "  -v                       more log output; repeat for more (-vv)\n"
    "  --help                   show this help and exit\n"
    "  --version                show the version and exit\n"
    "\n"
    "vireo-vmm exits 0 when the guest powers off, and 1 on a fatal error (such as a\n"
    "triple fault). A guest reboot restarts the VM in the same process.\n";

const char *vmm_cmdline_usage(void)
{
    return usage;
}

bool vmm_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    unsigned int shift = 0;

    if (!s || !g_ascii_isdigit(*s))
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return false;
    switch (*end) {
    case '\0':
        break;
    case 'K':
    case 'k':
        shift = 10;
        end++;
        break;
    case 'M':
    case 'm':
        shift = 20;
        end++;
        break;
    case 'G':
    case 'g':
        shift = 30;
        end++;
        break;
    default:
        return false;
    }
    if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
        return false;
    *out = (uint64_t)v << shift;
    return true;
}

static bool parse_uint(const char *s, unsigned int *out)
{
    char *end;
    unsigned long v;

    if (!s || !g_ascii_isdigit(*s))
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > 0xffffffffu)
        return false;
    *out = (unsigned int)v;
    return true;
}

/* --cpus boot=N,max=M */
static int parse_cpus(const char *val, struct vm_config *cfg, char **err)
{
    g_auto(GStrv) parts = g_strsplit(val, ",", -1);
    bool have_max = false;

    for (char **p = parts; *p; p++) {
        const char *eq = strchr(*p, '=');
        unsigned int n;
        if (!eq || !parse_uint(eq + 1, &n)) {
            *err =
                g_strdup_printf("--cpus: malformed parameter '%s' (expected boot=N[,max=M])", *p);
            return -EINVAL;
        }
        if (!strncmp(*p, "boot", eq - *p) && eq - *p == 4) {
            cfg->boot_vcpus = n;
        } else if (!strncmp(*p, "max", eq - *p) && eq - *p == 3) {
            cfg->max_vcpus = n;
            have_max = true;
        } else {
            *err = g_strdup_printf("--cpus: unknown parameter '%.*s' (expected boot=N[,max=M])",
                                   (int)(eq - *p), *p);
            return -EINVAL;
        }
    }
    if (!have_max)
        cfg->max_vcpus = cfg->boot_vcpus;
    return 0;
}

/* --memory size=SIZE */
static int parse_memory(const char *val, struct vm_config *cfg, char **err)
{
    g_auto(GStrv) parts = g_strsplit(val, ",", -1);

    for (char **p = parts; *p; p++) {
        if (g_str_has_prefix(*p, "size=")) {
            if (!vmm_parse_size(*p + 5, &cfg->memory_size)) {
                *err = g_strdup_printf("--memory: malformed size '%s' (expected e.g. 512M or 2G)",
                                       *p + 5);
                return -EINVAL;
            }
        } else if (g_str_has_prefix(*p, "shared=") || g_str_has_prefix(*p, "hugepages=")) {
            *err = g_strdup_printf("--memory: not yet supported: '%s'", *p);
            return -EINVAL;
        } else {
            *err = g_strdup_printf("--memory: unknown parameter '%s' (expected size=SIZE)", *p);
            return -EINVAL;
        }
    }
    return 0;
}

/* --serial / --console: off|null|pty|tty|file=PATH|socket=PATH */
static int parse_chardev(const char *opt, const char *val, bool allow_socket,
                         struct vm_chardev_config *out, char **err)
{
    static const struct {
        const char *name;
        enum vm_chardev_mode mode;
    } plain[] = {{"off", VM_CHARDEV_OFF},
                 {"null", VM_CHARDEV_NULL},
                 {"pty", VM_CHARDEV_PTY},
                 {"tty", VM_CHARDEV_TTY}};

    g_clear_pointer(&out->path, g_free);
    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
        if (!strcmp(val, plain[i].name)) {
            out->mode = plain[i].mode;
            return 0;
        }
    }
    if (g_str_has_prefix(val, "file=") && val[5]) {
        out->mode = VM_CHARDEV_FILE;
        out->path = g_strdup(val + 5);
        return 0;
    }
    if (allow_socket && g_str_has_prefix(val, "socket=") && val[7]) {
        out->mode = VM_CHARDEV_SOCKET;
        out->path = g_strdup(val + 7);
        return 0;
    }
    *err = g_strdup_printf("%s: malformed value '%s' (expected off, null, pty, tty, file=PATH%s)",
                           opt, val, allow_socket ? " or socket=PATH" : "");
    return -EINVAL;
}

/* on/off, and true/false as Cloud Hypervisor's toggles also accept. */
static bool parse_toggle(const char *s, bool *out)
{
    if (!strcmp(s, "on") || !strcmp(s, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "off") || !strcmp(s, "false")) {
        *out = false;
        return true;
    }
    return false;
}

/* Splits "key=value,key=value" into *parts; each part is checked to have
 * a key and an '='. */
static int split_params(const char *opt, const char *val, const char *expected, GStrv *parts,
                        char **err)
{
    *parts = g_strsplit(val, ",", -1);
    for (char **p = *parts; *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq || eq == *p) {
            *err = g_strdup_printf("%s: malformed parameter '%s' (expected %s)", opt, *p, expected);
            g_clear_pointer(parts, g_strfreev);
            return -EINVAL;
        }
    }
    return 0;
}

static bool key_is(const char *param, const char *key)
{
    size_t n = strlen(key);

    return !strncmp(param, key, n) && param[n] == '=';
}

#define DISK_EXPECTED "path=PATH[,readonly=on|off,direct=on|off,...]"

/* --disk path=,readonly=,direct=,num_queues=,queue_size=,id=,serial=,image_type= */
static int parse_disk(const char *val, struct vm_config *cfg, char **err)
{
    static const char *const unsupported[] = {
        "vhost_user",
        "socket",
        "iommu",
        "rate_limiter",
        "rate_limit_group",
        "bw_size",
        "bw_one_time_burst",
        "bw_refill_time",
        "ops_size",
        "ops_one_time_burst",
        "ops_refill_time",
        "pci_segment",
        "vhost_user_socket",
        "queue_affinity",
        "backing_files",
        "sparse",
        "poll_queue",
    };
    g_auto(GStrv) parts = NULL;
    struct vm_disk_config *d;

    if (split_params("--disk", val, DISK_EXPECTED, &parts, err))
        return -EINVAL;
    d = vm_config_add_disk(cfg);
    for (char **p = parts; *p; p++) {
        const char *v = strchr(*p, '=') + 1;
        bool bad = false;

        if (key_is(*p, "path")) {
            bad = !*v;
            g_free(d->path);
            d->path = g_strdup(v);
        } else if (key_is(*p, "readonly")) {
            bad = !parse_toggle(v, &d->readonly);
        } else if (key_is(*p, "direct")) {
            bad = !parse_toggle(v, &d->direct);
        } else if (key_is(*p, "num_queues")) {
            bad = !parse_uint(v, &d->num_queues);
        } else if (key_is(*p, "queue_size")) {
            bad = !parse_uint(v, &d->queue_size);
        } else if (key_is(*p, "id")) {
            bad = !*v;
            g_free(d->id);
            d->id = g_strdup(v);
        } else if (key_is(*p, "serial")) {
            g_free(d->serial);
            d->serial = g_strdup(v);
        } else if (key_is(*p, "image_type")) {
            if (!g_ascii_strcasecmp(v, "raw"))
                d->image_type = VM_IMAGE_RAW;
            else if (!g_ascii_strcasecmp(v, "qcow2"))
                d->image_type = VM_IMAGE_QCOW2;
            else
                bad = true;
        } else {
            size_t klen = strchr(*p, '=') - *p;
            for (size_t k = 0; k < G_N_ELEMENTS(unsupported); k++) {
                if (strlen(unsupported[k]) == klen && !strncmp(*p, unsupported[k], klen)) {
                    *err = g_strdup_printf("--disk: not yet supported: '%s'", *p);
                    return -EINVAL;
                }
            }
            *err = g_strdup_printf("--disk: unknown parameter '%.*s' (expected %s)", (int)klen, *p,
                                   DISK_EXPECTED);
            return -EINVAL;
        }
        if (bad) {
            *err = g_strdup_printf("--disk: malformed value in '%s'%s", *p,
                                   key_is(*p, "image_type") ? " (expected raw or qcow2)"
                                   : key_is(*p, "readonly") || key_is(*p, "direct")
                                       ? " (expected on or off)"
                                       : "");
            return -EINVAL;
        }
    }
    if (!d->path) {
        *err = g_strdup_printf("--disk: '%s' has no path=PATH", val);
        return -EINVAL;
    }
    return 0;
}

static void set_string(char **field, const char *val)
{
    g_free(*field);
    *field = g_strdup(val);
}

/* Like split_params(), but a value in brackets may hold commas: fd=[3,4]. */
static int split_bracketed(const char *opt, const char *val, const char *expected, GPtrArray **out,
                           char **err)
{
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
    const char *start = val;
    int depth = 0;

    for (const char *s = val;; s++) {
        if (*s == '[') {
            depth++;
        } else if (*s == ']') {
            depth--;
        } else if ((*s == ',' && depth == 0) || !*s) {
            g_autofree char *p = g_strndup(start, s - start);
            const char *eq = strchr(p, '=');

            if (!eq || eq == p || depth) {
                *err =
                    g_strdup_printf("%s: malformed parameter '%s' (expected %s)", opt, p, expected);
                return -EINVAL;
            }
            g_ptr_array_add(parts, g_steal_pointer(&p));
            start = s + 1;
        }
        if (depth < 0) {
            *err = g_strdup_printf("%s: unbalanced ']' in '%s'", opt, val);
            return -EINVAL;
        }
        if (!*s)
            break;
    }
    *out = g_steal_pointer(&parts);
    return 0;
}

/* fd=3 or fd=[3,4] */
static bool parse_fds(const char *v, int **fds, unsigned int *nr)
{
    g_autofree char *inner = NULL;
    g_auto(GStrv) items = NULL;
    unsigned int n = 0;

    if (v[0] == '[') {
        size_t len = strlen(v);

        if (len < 2 || v[len - 1] != ']')
            return false;
        inner = g_strndup(v + 1, len - 2);
    } else {
        inner = g_strdup(v);
    }
    items = g_strsplit(inner, ",", -1);
    if (!items[0])
        return false;
    g_clear_pointer(fds, g_free);
    *fds = g_new(int, g_strv_length(items));
    for (char **it = items; *it; it++) {
        unsigned int fd;

        if (!parse_uint(*it, &fd) || fd > INT32_MAX)
            return false;
        (*fds)[n++] = (int)fd;
    }
    *nr = n;
    return true;
}

#define NET_EXPECTED                                                                               \
    "tap=NAME,ip=IP,mask=MASK,mac=MAC,num_queues=N,queue_size=N,fd=[FD,...],passt=on|PATH"

/* --net tap=,ip=,mask=,mac=,host_mac=,num_queues=,queue_size=,mtu=,fd=,id=,passt= */
static int parse_net(const char *val, struct vm_config *cfg, char **err)
{
    static const char *const unsupported[] = {
        "vhost_user",
        "socket",
        "vhost_mode",
        "iommu",
        "pci_segment",
        "rate_limiter",
        "bw_size",
        "bw_one_time_burst",
        "bw_refill_time",
        "ops_size",
        "ops_one_time_burst",
        "ops_refill_time",
        "offload_tso",
        "offload_ufo",
        "offload_csum",
    };
    g_autoptr(GPtrArray) parts = NULL;
    struct vm_net_config *n;
    bool have_queues = false;

    if (split_bracketed("--net", val, NET_EXPECTED, &parts, err))
        return -EINVAL;
    n = vm_config_add_net(cfg);
    for (guint i = 0; i < parts->len; i++) {
        const char *p = parts->pdata[i];
        const char *v = strchr(p, '=') + 1;
        const char *why = NULL;
        size_t klen = strchr(p, '=') - p;

        if (key_is(p, "tap")) {
            if (!*v || strlen(v) > 15)
                why = "an interface name of 1 to 15 characters";
            set_string(&n->tap, v);
        } else if (key_is(p, "ip") || key_is(p, "mask")) {
            struct in_addr a;

            if (inet_pton(AF_INET, v, &a) != 1)
                why = "an IPv4 address such as 169.254.10.1";
            set_string(key_is(p, "ip") ? &n->ip : &n->mask, v);
        } else if (key_is(p, "mac")) {
            if (!vm_config_parse_mac(v, n->mac))
                why = "a MAC address such as 52:54:00:12:34:56";
            n->has_mac = true;
        } else if (key_is(p, "host_mac")) {
            if (!vm_config_parse_mac(v, n->host_mac))
                why = "a MAC address such as 52:54:00:12:34:56";
            n->has_host_mac = true;
        } else if (key_is(p, "num_queues")) {
            if (!parse_uint(v, &n->num_queues))
                why = "an even number of queues";
            have_queues = true;
        } else if (key_is(p, "queue_size")) {
            if (!parse_uint(v, &n->queue_size))
                why = "a power of two";
        } else if (key_is(p, "mtu")) {
            if (!parse_uint(v, &n->mtu))
                why = "a number of bytes";
        } else if (key_is(p, "fd")) {
            if (!parse_fds(v, &n->fds, &n->nr_fds))
                why = "a file descriptor number or a list such as [3,4]";
        } else if (key_is(p, "id")) {
            if (!*v)
                why = "a name";
            set_string(&n->id, v);
        } else if (key_is(p, "passt")) {
            if (!*v)
                why = "on, or the path of passt's unix socket";
            set_string(&n->passt, v);
        } else {
            for (size_t k = 0; k < G_N_ELEMENTS(unsupported); k++) {
                if (strlen(unsupported[k]) == klen && !strncmp(p, unsupported[k], klen)) {
                    *err = g_strdup_printf("--net: not yet supported: '%s'", p);
                    return -EINVAL;
                }
            }
            *err = g_strdup_printf("--net: unknown parameter '%.*s' (expected %s)", (int)klen, p,
                                   NET_EXPECTED);
            return -EINVAL;
        }
        if (why) {
            *err = g_strdup_printf("--net: malformed value in '%s' (expected %s)", p, why);
            return -EINVAL;
        }
    }
    if (n->nr_fds && !have_queues)
        n->num_queues = 2 * n->nr_fds;
    return 0;
}

/* --rng src=PATH */
static int parse_rng(const char *val, struct vm_config *cfg, char **err)
{
    g_auto(GStrv) parts = NULL;

    if (split_params("--rng", val, "src=PATH", &parts, err))
        return -EINVAL;
    for (char **p = parts; *p; p++) {
        const char *v = strchr(*p, '=') + 1;
        bool off;

        if (key_is(*p, "src") && *v) {
            g_free(cfg->rng.src);
            cfg->rng.src = g_strdup(v);
        } else if (key_is(*p, "iommu") && parse_toggle(v, &off) && !off) {
            /* iommu=off is the default */
        } else if (key_is(*p, "src") || key_is(*p, "iommu")) {
            *err = g_strdup_printf(
                "--rng: %s '%s'",
                key_is(*p, "src") ? "malformed value in" : "not yet supported:", *p);
            return -EINVAL;
        } else {
            *err = g_strdup_printf("--rng: unknown parameter '%.*s' (expected src=PATH)",
                                   (int)(strchr(*p, '=') - *p), *p);
            return -EINVAL;
        }
    }
    return 0;
}

enum opt_id {
    OPT_KERNEL,
    OPT_INITRAMFS,
    OPT_CMDLINE,
    OPT_FIRMWARE,
    OPT_CPUS,
    OPT_MEMORY,
    OPT_SERIAL,
    OPT_CONSOLE,
    OPT_DISK,
    OPT_RNG,
    OPT_NET,
    OPT_API_SOCKET,
    OPT_EVENT_MONITOR,
    OPT_HELP,
    OPT_VERSION,
};

static const struct {
    const char *name;
    enum opt_id id;
    bool has_value;
} options[] = {
    {"--kernel", OPT_KERNEL, true},
    {"--initramfs", OPT_INITRAMFS, true},
    {"--cmdline", OPT_CMDLINE, true},
    {"--firmware", OPT_FIRMWARE, true},
    {"--cpus", OPT_CPUS, true},
    {"--memory", OPT_MEMORY, true},
    {"--serial", OPT_SERIAL, true},
    {"--console", OPT_CONSOLE, true},
    {"--disk", OPT_DISK, true},
    {"--rng", OPT_RNG, true},
    {"--net", OPT_NET, true},
    {"--help", OPT_HELP, false},
    {"--version", OPT_VERSION, false},
    {"--api-socket", OPT_API_SOCKET, true},
    {"--event-monitor", OPT_EVENT_MONITOR, true},
};

/* --api-socket / --event-monitor: path=PATH or fd=N, not both. */
static int parse_path_or_fd(const char *opt, const char *val, char **path, int *fd, char **err)
{
    g_auto(GStrv) parts = NULL;

    if (split_params(opt, val, "path=PATH or fd=N", &parts, err))
        return -EINVAL;
    for (char **p = parts; *p; p++) {
        const char *v = strchr(*p, '=') + 1;
        unsigned int n;

        if (key_is(*p, "path") && *v) {
            set_string(path, v);
        } else if (key_is(*p, "fd") && parse_uint(v, &n) && n <= INT32_MAX) {
            *fd = (int)n;
        } else if (key_is(*p, "path") || key_is(*p, "fd")) {
            *err = g_strdup_printf("%s: malformed value in '%s'", opt, *p);
            return -EINVAL;
        } else {
            *err = g_strdup_printf("%s: unknown parameter '%.*s' (expected path=PATH or fd=N)", opt,
                                   (int)(strchr(*p, '=') - *p), *p);
            return -EINVAL;
        }
    }
    if (*path && *fd >= 0) {
        *err = g_strdup_printf("%s: give path= or fd=, not both", opt);
        return -EINVAL;
    }
    return 0;
}

int vmm_cmdline_parse(int argc, char **argv, struct vm_config *cfg, struct vmm_options *opts,
                      char **err)
{
    memset(opts, 0, sizeof(*opts));
    opts->api_socket_fd = -1;
    opts->event_monitor_fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        g_autofree char *name = NULL;
        const char *val = NULL;
        const char *eq;
        size_t k;
        int ret = 0;

        if (arg[0] == '-' && arg[1] == 'v' && strspn(arg + 1, "v") == strlen(arg + 1)) {
            opts->verbosity += (int)strlen(arg + 1);
            continue;
        }
        if (!g_str_has_prefix(arg, "--")) {
            *err = arg[0] == '-' ? g_strdup_printf("unknown option '%s'", arg)
                                 : g_strdup_printf("unexpected argument '%s'", arg);
            return -EINVAL;
        }
        eq = strchr(arg, '=');
        name = eq ? g_strndup(arg, eq - arg) : g_strdup(arg);
        for (k = 0; k < G_N_ELEMENTS(options); k++) {
            if (!strcmp(name, options[k].name))
                break;
        }
        if (k == G_N_ELEMENTS(options)) {
            *err = g_strdup_printf("unknown option '%s'", name);
            return -EINVAL;
        }
        if (options[k].has_value) {
            if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                *err = g_strdup_printf("option '%s' needs a value", name);
                return -EINVAL;
            }
            if (!*val && options[k].id != OPT_CMDLINE) {
                *err = g_strdup_printf("option '%s' needs a non-empty value", name);
                return -EINVAL;
            }
        } else if (eq) {
            *err = g_strdup_printf("option '%s' takes no value", name);
            return -EINVAL;
        }

        switch (options[k].id) {
        case OPT_KERNEL:
            set_string(&cfg->kernel, val);
            break;
        case OPT_INITRAMFS:
            set_string(&cfg->initramfs, val);
            break;
        case OPT_CMDLINE:
            set_string(&cfg->cmdline, val);
            break;
        case OPT_FIRMWARE:
            set_string(&cfg->firmware, val);
            break;
        case OPT_CPUS:
            ret = parse_cpus(val, cfg, err);
            break;
        case OPT_MEMORY:
            ret = parse_memory(val, cfg, err);
            break;
        case OPT_SERIAL:
            ret = parse_chardev("--serial", val, true, &cfg->serial, err);
            break;
        case OPT_CONSOLE:
            ret = parse_chardev("--console", val, false, &cfg->console, err);
            break;
        case OPT_DISK:
            /* Like CH, one --disk may list several disks as separate words. */
            ret = parse_disk(val, cfg, err);
            while (!ret && i + 1 < argc && argv[i + 1][0] != '-' && argv[i + 1][0])
                ret = parse_disk(argv[++i], cfg, err);
            break;
        case OPT_RNG:
            ret = parse_rng(val, cfg, err);
            break;
        case OPT_NET:
            /* Like --disk, one --net may list several devices. */
            ret = parse_net(val, cfg, err);
            while (!ret && i + 1 < argc && argv[i + 1][0] != '-' && argv[i + 1][0])
                ret = parse_net(argv[++i], cfg, err);
            break;
        case OPT_API_SOCKET:
            ret = parse_path_or_fd("--api-socket", val, &opts->api_socket_path,
                                   &opts->api_socket_fd, err);
            break;
        case OPT_EVENT_MONITOR:
            ret = parse_path_or_fd("--event-monitor", val, &opts->event_monitor_path,
                                   &opts->event_monitor_fd, err);
            break;
        case OPT_HELP:
            opts->help = true;
            break;
        case OPT_VERSION:
            opts->version = true;
            break;
        }
        if (ret)
            return ret;
    }
    return 0;
}

void vmm_options_clear(struct vmm_options *opts)
{
    g_clear_pointer(&opts->api_socket_path, g_free);
    g_clear_pointer(&opts->event_monitor_path, g_free);
}
