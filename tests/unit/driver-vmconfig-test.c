/* Tests for driver/vmconfig.c: a domain definition becomes the VmConfig
 * JSON of vm.create (Cloud Hypervisor's shapes), what the driver cannot
 * start is refused naming the element, and vm.info's pty paths land in the
 * live definition. */
#include <config.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "driver/vmconfig.h"

#define HEAD                                                                                       \
    "<domain type='kvm'><name>t</name><memory unit='MiB'>256</memory>"                             \
    "<vcpu current='2'>4</vcpu>"                                                                   \
    "<os><type arch='x86_64'>hvm</type><kernel>/k</kernel><initrd>/i</initrd>"                     \
    "<cmdline>console=ttyS0 quiet</cmdline></os>"

static struct vireo_domain_def *parse(const char *devices)
{
    g_autofree char *xml = g_strdup_printf(HEAD "<devices>%s</devices></domain>", devices);
    g_autoptr(GError) error = NULL;
    struct vireo_domain_def *def = vireo_domain_def_parse(xml, 0, &error);

    g_assert_no_error(error);
    g_assert_nonnull(def);
    return def;
}

/* The VmConfig of `devices`, parsed back. */
static JsonObject *build(JsonParser *parser, const char *devices)
{
    g_autoptr(vireo_domain_def) def = parse(devices);
    g_autoptr(GError) error = NULL;
    g_autofree char *json = vireo_vmconfig_build(def, &error);

    g_assert_no_error(error);
    g_assert_nonnull(json);
    g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
    return json_node_get_object(json_parser_get_root(parser));
}

static JsonObject *member(JsonObject *o, const char *name)
{
    g_assert_true(json_object_has_member(o, name));
    return json_object_get_object_member(o, name);
}

static void test_minimal(void)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = build(parser, "");
    JsonObject *cpus = member(o, "cpus"), *mem = member(o, "memory"), *pl = member(o, "payload");

    g_assert_cmpint(json_object_get_int_member(cpus, "boot_vcpus"), ==, 2);
    g_assert_cmpint(json_object_get_int_member(cpus, "max_vcpus"), ==, 4);
    g_assert_cmpint(json_object_get_int_member(mem, "size"), ==, 256 * 1024 * 1024);
    g_assert_cmpstr(json_object_get_string_member(pl, "kernel"), ==, "/k");
    g_assert_cmpstr(json_object_get_string_member(pl, "initramfs"), ==, "/i");
    g_assert_cmpstr(json_object_get_string_member(pl, "cmdline"), ==, "console=ttyS0 quiet");
    g_assert_false(json_object_has_member(pl, "firmware"));
    /* No serial, no console: both off, never CH's default (the VMM's tty). */
    g_assert_cmpstr(json_object_get_string_member(member(o, "serial"), "mode"), ==, "Off");
    g_assert_cmpstr(json_object_get_string_member(member(o, "console"), "mode"), ==, "Off");
    g_assert_false(json_object_has_member(o, "disks"));
    g_assert_false(json_object_has_member(o, "rng"));
}

static void test_chardevs(void)
{
    g_autoptr(JsonParser) p1 = json_parser_new();
    g_autoptr(JsonParser) p2 = json_parser_new();
    g_autoptr(JsonParser) p3 = json_parser_new();
    JsonObject *o;

    o = build(p1, "<serial type='pty'/><console type='pty'><target type='virtio'/></console>");
    g_assert_cmpstr(json_object_get_string_member(member(o, "serial"), "mode"), ==, "Pty");
    g_assert_cmpstr(json_object_get_string_member(member(o, "console"), "mode"), ==, "Pty");

    o = build(p2, "<serial type='file'><source path='/var/log/s.log'/></serial>");
    g_assert_cmpstr(json_object_get_string_member(member(o, "serial"), "mode"), ==, "File");
    g_assert_cmpstr(json_object_get_string_member(member(o, "serial"), "file"), ==,
                    "/var/log/s.log");
    g_assert_cmpstr(json_object_get_string_member(member(o, "console"), "mode"), ==, "Off");

    /* A serial-type console is the serial port. */
    o = build(p3, "<console type='pty'><target type='serial'/></console>");
    g_assert_cmpstr(json_object_get_string_member(member(o, "serial"), "mode"), ==, "Pty");
    g_assert_cmpstr(json_object_get_string_member(member(o, "console"), "mode"), ==, "Off");
}

static void test_disks_rng(void)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = build(
        parser, "<disk type='file'><driver name='qemu' type='qcow2' cache='none'/>"
                "<source file='/img/a.qcow2'/><target dev='vda' bus='virtio'/>"
                "<serial>S-1</serial></disk>"
                "<disk type='file'><source file='/img/b.raw'/><target dev='vdb'/><readonly/></disk>"
                "<rng model='virtio'><backend model='random'>/dev/random</backend></rng>");
    JsonArray *disks = json_object_get_array_member(o, "disks");
    JsonObject *a, *b;

    g_assert_cmpint(json_array_get_length(disks), ==, 2);
    a = json_array_get_object_element(disks, 0);
    b = json_array_get_object_element(disks, 1);
    g_assert_cmpstr(json_object_get_string_member(a, "path"), ==, "/img/a.qcow2");
    g_assert_cmpstr(json_object_get_string_member(a, "image_type"), ==, "Qcow2");
    g_assert_cmpstr(json_object_get_string_member(a, "serial"), ==, "S-1");
    g_assert_false(json_object_get_boolean_member(a, "readonly"));
    g_assert_true(json_object_get_boolean_member(a, "direct"));
    g_assert_nonnull(json_object_get_string_member(a, "id"));
    g_assert_cmpstr(json_object_get_string_member(b, "image_type"), ==, "Raw");
    g_assert_true(json_object_get_boolean_member(b, "readonly"));
    g_assert_false(json_object_has_member(b, "direct"));
    g_assert_false(json_object_has_member(b, "serial"));
    g_assert_cmpstr(json_object_get_string_member(member(o, "rng"), "src"), ==, "/dev/random");
}

static void refused(const char *devices, const char *needle)
{
    g_autoptr(vireo_domain_def) def = parse(devices);
    g_autoptr(GError) error = NULL;
    g_autofree char *json = vireo_vmconfig_build(def, &error);

    g_assert_null(json);
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, needle));
}

/* Taps are fds numbered from 5 in interface order, one per queue pair. */
static void test_nets(void)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = build(parser, "<interface type='ethernet'><mac address='52:54:00:12:34:56'/>"
                                  "<target dev='tap0'/><model type='virtio'/></interface>"
                                  "<interface type='bridge'><source bridge='br0'/>"
                                  "<model type='virtio'/><driver queues='3'/><mtu size='9000'/>"
                                  "</interface>"
                                  "<interface type='network'><source network='default'/>"
                                  "<mac address='52:54:00:AB:CD:EF'/></interface>");
    JsonArray *nets = json_object_get_array_member(o, "net");
    JsonObject *a, *b, *c;
    JsonArray *fds;

    g_assert_cmpint(json_array_get_length(nets), ==, 3);
    a = json_array_get_object_element(nets, 0);
    b = json_array_get_object_element(nets, 1);
    c = json_array_get_object_element(nets, 2);

    fds = json_object_get_array_member(a, "fds");
    g_assert_cmpint(json_array_get_length(fds), ==, 1);
    g_assert_cmpint(json_array_get_int_element(fds, 0), ==, VIREO_VMCONFIG_FIRST_NET_FD);
    g_assert_cmpint(VIREO_VMCONFIG_FIRST_NET_FD, ==, 5);
    g_assert_cmpstr(json_object_get_string_member(a, "mac"), ==, "52:54:00:12:34:56");
    g_assert_cmpint(json_object_get_int_member(a, "num_queues"), ==, 2);
    g_assert_false(json_object_has_member(a, "mtu"));
    g_assert_cmpstr(json_object_get_string_member(a, "id"), ==, "net0");
    /* The daemon made the tap: the VMM is not to open one by name. */
    g_assert_false(json_object_has_member(a, "tap"));

    fds = json_object_get_array_member(b, "fds");
    g_assert_cmpint(json_array_get_length(fds), ==, 3);
    for (guint i = 0; i < 3; i++)
        g_assert_cmpint(json_array_get_int_element(fds, i), ==, 6 + i);
    g_assert_cmpint(json_object_get_int_member(b, "num_queues"), ==, 6);
    g_assert_cmpint(json_object_get_int_member(b, "mtu"), ==, 9000);
    g_assert_cmpstr(json_object_get_string_member(b, "id"), ==, "net1");
    /* A generated MAC is QEMU/KVM's prefix, as libvirt's. */
    g_assert_true(g_str_has_prefix(json_object_get_string_member(b, "mac"), "52:54:00:"));

    fds = json_object_get_array_member(c, "fds");
    g_assert_cmpint(json_array_get_length(fds), ==, 1);
    g_assert_cmpint(json_array_get_int_element(fds, 0), ==, 9);
    g_assert_cmpstr(json_object_get_string_member(c, "mac"), ==, "52:54:00:ab:cd:ef");
    g_assert_cmpstr(json_object_get_string_member(c, "id"), ==, "net2");
}

static void test_nets_generated_mac_kept(void)
{
    g_autoptr(vireo_domain_def) def = parse("<interface type='ethernet'/>");
    g_autoptr(vireo_domain_def) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vireo_domain_def_format(def, VIREO_DOMAIN_DEF_FORMAT_INACTIVE);
    const struct vireo_net_def *n1 = def->nets->pdata[0], *n2;

    /* The definition keeps the MAC it was given at parse time. */
    again = vireo_domain_def_parse(xml, 0, &error);
    g_assert_no_error(error);
    n2 = again->nets->pdata[0];
    g_assert_cmpmem(n1->mac, 6, n2->mac, 6);
}

/* type='user': the VMM starts passt; no fd is used, so the next tap's
 * fds still start at the first net fd. */
static void test_nets_passt(void)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = build(parser, "<interface type='user'><backend type='passt'/>"
                                  "<mac address='52:54:00:00:00:07'/><model type='virtio'/>"
                                  "<mtu size='1500'/></interface>"
                                  "<interface type='ethernet'><model type='virtio'/></interface>");
    JsonArray *nets = json_object_get_array_member(o, "net");
    JsonObject *a = json_array_get_object_element(nets, 0);
    JsonObject *b = json_array_get_object_element(nets, 1);
    JsonArray *fds;

    g_assert_cmpstr(json_object_get_string_member(a, "passt"), ==, "on");
    g_assert_false(json_object_has_member(a, "fds"));
    g_assert_cmpstr(json_object_get_string_member(a, "mac"), ==, "52:54:00:00:00:07");
    g_assert_cmpint(json_object_get_int_member(a, "num_queues"), ==, 2);
    g_assert_cmpint(json_object_get_int_member(a, "mtu"), ==, 1500);
    fds = json_object_get_array_member(b, "fds");
    g_assert_cmpint(json_array_get_int_element(fds, 0), ==, VIREO_VMCONFIG_FIRST_NET_FD);
    g_assert_false(json_object_has_member(b, "passt"));
}

static void test_refused(void)
{
    refused("<interface type='user'><backend type='passt'/><driver queues='2'/></interface>",
            "passt serves one queue");
    refused("<vsock model='virtio'><cid auto='no' address='3'/></vsock>", "<vsock>");
}

static void test_no_kernel(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vireo_domain_def) def =
        vireo_domain_def_parse("<domain type='kvm'><name>t</name><memory>65536</memory>"
                               "<os><type>hvm</type></os></domain>",
                               0, &error);
    g_autofree char *json = NULL;

    g_assert_nonnull(def);
    json = vireo_vmconfig_build(def, &error);
    g_assert_null(json);
    g_assert_cmpint(error->code, ==, VIR_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "<kernel>"));
}

static void test_apply_info(void)
{
    g_autoptr(vireo_domain_def) def =
        parse("<serial type='pty'/><console type='pty'><target type='serial'/></console>"
              "<console type='pty'><target type='virtio'/></console>");
    g_autoptr(GError) error = NULL;
    const char *info = "{\"config\":{\"serial\":{\"mode\":\"Pty\",\"file\":\"/dev/pts/7\"},"
                       "\"console\":{\"mode\":\"Pty\",\"file\":\"/dev/pts/8\"}},"
                       "\"state\":\"Running\"}";
    const struct vireo_chardev_def *serial, *con0, *con1;
    g_autofree char *state = NULL;

    g_assert_cmpint(vireo_vmconfig_apply_info(def, info, &error), ==, 0);
    g_assert_no_error(error);
    serial = def->serials->pdata[0];
    con0 = def->consoles->pdata[0];
    con1 = def->consoles->pdata[1];
    g_assert_cmpstr(serial->path, ==, "/dev/pts/7");
    g_assert_cmpstr(con0->virtio ? con1->path : con0->path, ==, "/dev/pts/7");
    g_assert_cmpstr(con0->virtio ? con0->path : con1->path, ==, "/dev/pts/8");
    state = vireo_vmconfig_info_state(info);
    g_assert_cmpstr(state, ==, "Running");
}

static void test_apply_info_bad(void)
{
    g_autoptr(vireo_domain_def) def = parse("<serial type='pty'/>");
    static const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "{\"state\":\"Running\"}",
        "{\"config\":{\"serial\":{\"mode\":\"Pty\"}}}",
        "{\"config\":{\"serial\":{\"mode\":\"Null\",\"file\":\"/dev/pts/1\"}}}",
        "{\"config\":{\"serial\":7}}",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(vireo_vmconfig_apply_info(def, bad[i], &error), ==, -1);
        g_assert_nonnull(error);
    }
    g_assert_null(vireo_vmconfig_info_state("garbage"));
    g_assert_null(vireo_vmconfig_info_state("{\"state\":3}"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/driver-vmconfig/minimal", test_minimal);
    g_test_add_func("/driver-vmconfig/chardevs", test_chardevs);
    g_test_add_func("/driver-vmconfig/disks-rng", test_disks_rng);
    g_test_add_func("/driver-vmconfig/nets", test_nets);
    g_test_add_func("/driver-vmconfig/nets-passt", test_nets_passt);
    g_test_add_func("/driver-vmconfig/nets-generated-mac-kept", test_nets_generated_mac_kept);
    g_test_add_func("/driver-vmconfig/refused", test_refused);
    g_test_add_func("/driver-vmconfig/no-kernel", test_no_kernel);
    g_test_add_func("/driver-vmconfig/apply-info", test_apply_info);
    g_test_add_func("/driver-vmconfig/apply-info-bad", test_apply_info_bad);
    return g_test_run();
}
