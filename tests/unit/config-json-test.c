/* Tests for vmm/api/config_json.c: every field of Cloud Hypervisor's
 * VmConfig that Vireo reads, every error path, and config -> JSON -> config. */
#include "api/config_json.h"

#include <glib.h>
#include <string.h>

static int parse(const char *json, struct vm_config *cfg, char **err)
{
    return config_json_parse(json, strlen(json), cfg, err);
}

static void test_every_field(void)
{
    static const char doc[] =
        "{\"cpus\": {\"boot_vcpus\": 2, \"max_vcpus\": 4},"
        " \"memory\": {\"size\": 1073741824},"
        " \"payload\": {\"kernel\": \"/k\", \"initramfs\": \"/i\", \"cmdline\": \"console=ttyS0\","
        "   \"firmware\": \"/f\"},"
        " \"serial\": {\"mode\": \"Socket\", \"socket\": \"/s.sock\"},"
        " \"console\": {\"mode\": \"File\", \"file\": \"/c.log\"}}";
    struct vm_config cfg;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(doc, &cfg, &err), ==, 0);
    g_assert_null(err);
    g_assert_cmpuint(cfg.boot_vcpus, ==, 2);
    g_assert_cmpuint(cfg.max_vcpus, ==, 4);
    g_assert_cmpuint(cfg.memory_size, ==, 1ull << 30);
    g_assert_cmpstr(cfg.kernel, ==, "/k");
    g_assert_cmpstr(cfg.initramfs, ==, "/i");
    g_assert_cmpstr(cfg.cmdline, ==, "console=ttyS0");
    g_assert_cmpstr(cfg.firmware, ==, "/f");
    g_assert_cmpint(cfg.serial.mode, ==, VM_CHARDEV_SOCKET);
    g_assert_cmpstr(cfg.serial.path, ==, "/s.sock");
    g_assert_cmpint(cfg.console.mode, ==, VM_CHARDEV_FILE);
    g_assert_cmpstr(cfg.console.path, ==, "/c.log");
    vm_config_clear(&cfg);
}

static void test_defaults(void)
{
    struct vm_config cfg, def;
    g_autofree char *err = NULL;

    vm_config_init(&def);
    g_assert_cmpint(
        parse("{\"payload\": {\"kernel\": \"/k\", \"cmdline\": \"\"}, \"cpus\": null}", &cfg, &err),
        ==, 0);
    g_assert_cmpuint(cfg.boot_vcpus, ==, def.boot_vcpus);
    g_assert_cmpuint(cfg.max_vcpus, ==, def.max_vcpus);
    g_assert_cmpuint(cfg.memory_size, ==, def.memory_size);
    g_assert_cmpint(cfg.serial.mode, ==, VM_CHARDEV_NULL);
    g_assert_cmpint(cfg.console.mode, ==, def.console.mode);
    g_assert_cmpstr(cfg.cmdline, ==, "");
    g_assert_null(cfg.initramfs);
    vm_config_clear(&cfg);

    g_assert_cmpint(parse("{}", &cfg, &err), ==, 0);
    g_assert_null(cfg.kernel);
    vm_config_clear(&cfg);
    vm_config_clear(&def);
}

/* What Cloud Hypervisor itself writes for a plain VM (vm.info's "config",
 * libvirt's ch driver's vm.create): defaults of unsupported features pass. */
static void test_cloud_hypervisor_document(void)
{
    static const char doc[] =
        "{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1,\"kvm_hyperv\":false,\"max_phys_bits\":46,"
        "\"affinity\":null,\"features\":{},\"nested\":true,\"core_scheduling\":\"Vm\"},"
        "\"memory\":{\"size\":536870912,\"mergeable\":false,\"hotplug_method\":\"Acpi\","
        "\"hotplug_size\":null,\"hotplugged_size\":null,\"shared\":false,\"hugepages\":false,"
        "\"hugepage_size\":null,\"prefault\":false,\"zones\":null,\"thp\":true},"
        "\"payload\":{\"firmware\":null,\"kernel\":\"/vmlinux\",\"cmdline\":\"console=ttyS0\","
        "\"initramfs\":null},"
        "\"rate_limit_groups\":null,\"disks\":null,\"net\":[],"
        "\"rng\":{\"src\":\"/dev/urandom\",\"iommu\":false},\"balloon\":null,\"fs\":null,"
        "\"pmem\":null,\"serial\":{\"file\":null,\"socket\":null,\"mode\":\"Pty\",\"iommu\":false},"
        "\"console\":{\"file\":null,\"socket\":null,\"mode\":\"Off\",\"iommu\":false},"
        "\"debug_console\":{\"file\":null,\"mode\":\"Off\",\"iobase\":233},"
        "\"devices\":null,\"user_devices\":null,\"vdpa\":null,\"vsock\":null,\"pvpanic\":false,"
        "\"iommu\":false,\"numa\":null,\"watchdog\":false,\"pci_segments\":null,"
        "\"platform\":null,\"tpm\":null,\"landlock_enable\":false,\"landlock_rules\":null,"
        "\"some_future_field\":{\"x\":[1,2,3]}}";
    struct vm_config cfg;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(doc, &cfg, &err), ==, 0);
    g_assert_cmpstr(cfg.kernel, ==, "/vmlinux");
    g_assert_cmpint(cfg.serial.mode, ==, VM_CHARDEV_PTY);
    g_assert_cmpuint(cfg.memory_size, ==, 512u << 20);
    vm_config_clear(&cfg);
}

/* CH's NetConfig, and back through config_json_build. */
static void test_net(void)
{
    static const char doc[] =
        "{\"payload\":{\"kernel\":\"/k\"},\"net\":[{\"tap\":\"vtap0\",\"ip\":\"169.254.10.1\","
        "\"mask\":\"255.255.255.0\",\"mac\":\"52:54:00:0A:00:02\",\"host_mac\":null,"
        "\"mtu\":1400,\"iommu\":false,\"num_queues\":4,\"queue_size\":512,"
        "\"vhost_user\":false,\"vhost_socket\":null,\"vhost_mode\":\"Client\",\"id\":\"n0\","
        "\"fds\":null,\"rate_limiter_config\":null,\"pci_segment\":0,\"offload_tso\":true,"
        "\"offload_ufo\":true,\"offload_csum\":true},{\"passt\":\"on\"}]}";
    struct vm_config cfg;
    g_autofree char *err = NULL;
    g_autofree char *json = NULL;

    g_assert_cmpint(parse(doc, &cfg, &err), ==, 0);
    g_assert_cmpuint(cfg.nr_nets, ==, 2);
    g_assert_cmpstr(cfg.nets[0].tap, ==, "vtap0");
    g_assert_cmpstr(cfg.nets[0].ip, ==, "169.254.10.1");
    g_assert_cmpstr(cfg.nets[0].mask, ==, "255.255.255.0");
    g_assert_true(cfg.nets[0].has_mac);
    g_assert_cmpmem(cfg.nets[0].mac, 6, ((uint8_t[]){0x52, 0x54, 0, 0x0a, 0, 2}), 6);
    g_assert_false(cfg.nets[0].has_host_mac);
    g_assert_cmpuint(cfg.nets[0].mtu, ==, 1400);
    g_assert_cmpuint(cfg.nets[0].num_queues, ==, 4);
    g_assert_cmpuint(cfg.nets[0].queue_size, ==, 512);
    g_assert_cmpstr(cfg.nets[0].id, ==, "n0");
    g_assert_null(cfg.nets[1].tap);
    g_assert_cmpstr(cfg.nets[1].passt, ==, "on");
    g_assert_null(cfg.nets[0].passt);
    g_assert_cmpuint(cfg.nets[1].num_queues, ==, VM_CONFIG_DEFAULT_NET_QUEUES);
    g_assert_cmpuint(cfg.nets[1].queue_size, ==, VM_CONFIG_DEFAULT_NET_QUEUE_SIZE);
    json = config_json_to_string(&cfg);
    vm_config_clear(&cfg);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(parse(json, &cfg, &err), ==, 0);
    g_assert_cmpuint(cfg.nr_nets, ==, 2);
    g_assert_cmpstr(cfg.nets[0].tap, ==, "vtap0");
    g_assert_cmpmem(cfg.nets[0].mac, 6, ((uint8_t[]){0x52, 0x54, 0, 0x0a, 0, 2}), 6);
    g_assert_cmpuint(cfg.nets[0].mtu, ==, 1400);
    g_assert_cmpuint(cfg.nets[0].num_queues, ==, 4);
    g_assert_false(cfg.nets[1].has_mac);
    g_assert_cmpstr(cfg.nets[1].passt, ==, "on");
    vm_config_clear(&cfg);
}

/* Taps a management daemon made and the VMM inherited: "fds", one per pair. */
static void test_net_fds(void)
{
    struct vm_config cfg;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse("{\"payload\":{\"kernel\":\"/k\"},\"net\":[{\"fds\":[5,6],"
                          "\"num_queues\":4,\"id\":\"net0\"}]}",
                          &cfg, &err),
                    ==, 0);
    g_assert_null(err);
    g_assert_cmpuint(cfg.nets[0].nr_fds, ==, 2);
    g_assert_cmpint(cfg.nets[0].fds[0], ==, 5);
    g_assert_cmpint(cfg.nets[0].fds[1], ==, 6);
    g_assert_null(cfg.nets[0].tap);
    vm_config_clear(&cfg);
}

/* CH's DiskConfig and RngConfig, and back through config_json_build. */
static void test_disks_and_rng(void)
{
    static const char doc[] =
        "{\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/a.img\",\"readonly\":true,"
        "\"direct\":false,\"iommu\":false,\"num_queues\":2,\"queue_size\":256,"
        "\"vhost_user\":false,\"vhost_socket\":null,\"id\":\"root\",\"serial\":\"S1\","
        "\"image_type\":\"Qcow2\",\"pci_segment\":0,\"sparse\":true},{\"path\":\"/b.raw\"}],"
        "\"rng\":{\"src\":\"/dev/random\",\"iommu\":false},\"pvpanic\":true}";
    struct vm_config cfg, again;
    g_autofree char *err = NULL;
    g_autofree char *json = NULL;

    g_assert_cmpint(parse(doc, &cfg, &err), ==, 0);
    g_assert_cmpuint(cfg.nr_disks, ==, 2);
    g_assert_cmpstr(cfg.disks[0].path, ==, "/a.img");
    g_assert_true(cfg.disks[0].readonly);
    g_assert_false(cfg.disks[0].direct);
    g_assert_cmpuint(cfg.disks[0].num_queues, ==, 2);
    g_assert_cmpuint(cfg.disks[0].queue_size, ==, 256);
    g_assert_cmpstr(cfg.disks[0].id, ==, "root");
    g_assert_cmpstr(cfg.disks[0].serial, ==, "S1");
    g_assert_cmpint(cfg.disks[0].image_type, ==, VM_IMAGE_QCOW2);
    g_assert_cmpstr(cfg.disks[1].path, ==, "/b.raw");
    g_assert_false(cfg.disks[1].readonly);
    g_assert_cmpuint(cfg.disks[1].num_queues, ==, VM_CONFIG_DEFAULT_DISK_QUEUES);
    g_assert_cmpuint(cfg.disks[1].queue_size, ==, VM_CONFIG_DEFAULT_DISK_QUEUE_SIZE);
    g_assert_null(cfg.disks[1].id);
    g_assert_cmpint(cfg.disks[1].image_type, ==, VM_IMAGE_AUTO);
    g_assert_cmpstr(cfg.rng.src, ==, "/dev/random");

    /* vm_config_copy is deep, and what vm.info writes parses back the same. */
    vm_config_copy(&again, &cfg);
    vm_config_clear(&cfg);
    json = config_json_to_string(&again);
    vm_config_clear(&again);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(parse(json, &cfg, &err), ==, 0);
    g_assert_cmpuint(cfg.nr_disks, ==, 2);
    g_assert_cmpstr(cfg.disks[0].serial, ==, "S1");
    g_assert_cmpint(cfg.disks[0].image_type, ==, VM_IMAGE_QCOW2);
    g_assert_cmpstr(cfg.disks[1].path, ==, "/b.raw");
    g_assert_cmpstr(cfg.rng.src, ==, "/dev/random");
    vm_config_clear(&cfg);
}

static void test_chardev_modes(void)
{
    static const struct {
        const char *mode;
        enum vm_chardev_mode want;
    } modes[] = {
        {"Off", VM_CHARDEV_OFF},
        {"Null", VM_CHARDEV_NULL},
        {"Pty", VM_CHARDEV_PTY},
        {"Tty", VM_CHARDEV_TTY},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_autofree char *doc =
            g_strdup_printf("{\"serial\": {\"mode\": \"%s\", \"file\": \"/dev/pts/9\"},"
                            " \"console\": {\"mode\": \"%s\"}}",
                            modes[i].mode, modes[i].mode);
        struct vm_config cfg;
        g_autofree char *err = NULL;

        g_assert_cmpint(parse(doc, &cfg, &err), ==, 0);
        g_assert_cmpint(cfg.serial.mode, ==, modes[i].want);
        g_assert_cmpint(cfg.console.mode, ==, modes[i].want);
        /* "file" is only an input for mode File (a Pty's is output only). */
        g_assert_null(cfg.serial.path);
        vm_config_clear(&cfg);
    }
}

static void test_errors(void)
{
    static const struct {
        const char *doc;
        const char *err; /* a substring of the message */
    } cases[] = {
        {"", "malformed JSON"},
        {"{", "malformed JSON"},
        {"{\"cpus\": {\"boot_vcpus\": 1,}}", "malformed JSON"},
        {"[]", "VmConfig: expected an object, got an array"},
        {"42", "VmConfig: expected an object"},
        {"null", "VmConfig: expected an object"},
        {"{\"cpus\": 4}", "cpus: expected an object, got an integer"},
        {"{\"cpus\": {\"max_vcpus\": 2}}", "cpus.boot_vcpus: missing"},
        {"{\"cpus\": {\"boot_vcpus\": 2}}", "cpus.max_vcpus: missing"},
        {"{\"cpus\": {\"boot_vcpus\": null, \"max_vcpus\": 1}}",
         "cpus.boot_vcpus: expected an integer, got null"},
        {"{\"cpus\": {\"boot_vcpus\": \"2\", \"max_vcpus\": 2}}",
         "cpus.boot_vcpus: expected an integer, got a string"},
        {"{\"cpus\": {\"boot_vcpus\": 2.0, \"max_vcpus\": 2}}",
         "cpus.boot_vcpus: expected an integer, got a number"},
        {"{\"cpus\": {\"boot_vcpus\": true, \"max_vcpus\": 2}}",
         "cpus.boot_vcpus: expected an integer, got a boolean"},
        {"{\"cpus\": {\"boot_vcpus\": -1, \"max_vcpus\": 2}}",
         "cpus.boot_vcpus: must not be negative"},
        {"{\"cpus\": {\"boot_vcpus\": 0, \"max_vcpus\": 2}}", "cpus.boot_vcpus: 0 is out of range"},
        {"{\"cpus\": {\"boot_vcpus\": 255, \"max_vcpus\": 255}}",
         "cpus.boot_vcpus: 255 is out of range (1 to 254)"},
        {"{\"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 300}}",
         "cpus.max_vcpus: 300 is out of range"},
        {"{\"cpus\": {\"boot_vcpus\": 4, \"max_vcpus\": 2}}",
         "cpus.max_vcpus: 2 is less than boot_vcpus (4)"},
        {"{\"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 1, \"topology\": {\"packages\": 2}}}",
         "cpus.topology: not supported"},
        {"{\"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 1, \"kvm_hyperv\": true}}",
         "cpus.kvm_hyperv: not supported"},
        {"{\"memory\": {}}", "memory.size: missing"},
        {"{\"memory\": []}", "memory: expected an object, got an array"},
        {"{\"memory\": {\"size\": -4096}}", "memory.size: must not be negative"},
        {"{\"memory\": {\"size\": \"1G\"}}", "memory.size: expected an integer, got a string"},
        {"{\"memory\": {\"size\": 4096}}", "memory.size: 4096 is out of range"},
        {"{\"memory\": {\"size\": 536870913}}", "memory.size: 536870913 is not a multiple of 4096"},
        {"{\"memory\": {\"size\": 536870912, \"shared\": true}}", "memory.shared: not supported"},
        {"{\"memory\": {\"size\": 536870912, \"thp\": false}}", "memory.thp: not supported"},
        {"{\"memory\": {\"size\": 536870912, \"hotplug_size\": 1073741824}}",
         "memory.hotplug_size: not supported"},
        {"{\"payload\": \"/k\"}", "payload: expected an object, got a string"},
        {"{\"payload\": {\"kernel\": 1}}", "payload.kernel: expected a string, got an integer"},
        {"{\"payload\": {\"kernel\": \"\"}}", "payload.kernel: must not be empty"},
        {"{\"payload\": {\"initramfs\": []}}",
         "payload.initramfs: expected a string, got an array"},
        {"{\"payload\": {\"cmdline\": {}}}", "payload.cmdline: expected a string, got an object"},
        {"{\"payload\": {\"firmware\": false}}",
         "payload.firmware: expected a string, got a boolean"},
        {"{\"payload\": {\"igvm\": \"/x\"}}", "payload.igvm: not supported"},
        {"{\"serial\": {}}", "serial.mode: missing"},
        {"{\"serial\": \"Pty\"}", "serial: expected an object, got a string"},
        {"{\"serial\": {\"mode\": \"pty\"}}", "serial.mode: unknown mode 'pty'"},
        {"{\"serial\": {\"mode\": 1}}", "serial.mode: expected a string, got an integer"},
        {"{\"serial\": {\"mode\": \"File\"}}", "serial.file: missing"},
        {"{\"serial\": {\"mode\": \"Socket\"}}", "serial.socket: missing"},
        {"{\"serial\": {\"mode\": \"File\", \"file\": 7}}", "serial.file: expected a string"},
        {"{\"serial\": {\"mode\": \"Null\", \"iommu\": true}}", "serial.iommu: not supported"},
        {"{\"console\": {\"mode\": \"Socket\", \"socket\": \"/s\"}}",
         "console.mode: unknown mode 'Socket'"},
        {"{\"console\": {\"mode\": \"Off\", \"pci_segment\": 1}}",
         "console.pci_segment: not supported"},
        {"{\"disks\": {\"path\": \"/d.img\"}}", "disks: expected an array, got an object"},
        {"{\"disks\": [{\"readonly\": true}]}", "disks[0].path: missing"},
        {"{\"disks\": [{\"path\": \"/a\"}, {\"path\": \"/b\", \"readonly\": 1}]}",
         "disks[1].readonly: expected a boolean, got an integer"},
        {"{\"disks\": [{\"path\": \"/a\", \"num_queues\": 0}]}",
         "disks[0].num_queues: 0 is out of range"},
        {"{\"disks\": [{\"path\": \"/a\", \"queue_size\": 65536}]}",
         "disks[0].queue_size: 65536 is out of range"},
        {"{\"disks\": [{\"path\": \"/a\", \"image_type\": \"Vhdx\"}]}",
         "disks[0].image_type: 'Vhdx' is not supported"},
        {"{\"disks\": [{\"path\": \"/a\", \"vhost_user\": true}]}",
         "disks[0].vhost_user: not supported"},
        {"{\"disks\": [\"/a\"]}", "disks[0]: expected an object, got a string"},
        {"{\"net\": {\"tap\": \"tap0\"}}", "net: expected an array, got an object"},
        {"{\"net\": [{\"tap\": \"tap0\", \"num_queues\": 64}]}",
         "net[0].num_queues: 64 is out of range"},
        {"{\"net\": [{\"mac\": \"52:54:00\"}]}", "net[0].mac: '52:54:00' is not a MAC address"},
        {"{\"net\": [{\"fds\": \"5\"}]}", "net[0].fds: expected an array, got a string"},
        {"{\"net\": [{\"fds\": []}]}", "net[0].fds: 0 fds (expected 1 to 16)"},
        {"{\"net\": [{\"fds\": [5, 2]}]}", "net[0].fds[1]: expected an fd number of 3 or more"},
        {"{\"net\": [{\"vhost_user\": true}]}", "net[0].vhost_user: not supported"},
        {"{\"net\": [{\"offload_tso\": false}]}", "net[0].offload_tso: not supported"},
        {"{\"rng\": {\"src\": 3}}", "rng.src: expected a string, got an integer"},
        {"{\"rng\": {\"src\": \"/dev/random\", \"iommu\": true}}", "rng.iommu: not supported"},
        {"{\"vsock\": {\"cid\": 3, \"socket\": \"/v\"}}", "vsock: not supported"},
        {"{\"iommu\": true}", "iommu: not supported"},
        {"{\"debug_console\": {\"mode\": \"Pty\"}}", "debug_console: not supported"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct vm_config cfg;
        g_autofree char *err = NULL;

        memset(&cfg, 0x5a, sizeof(cfg));
        if (g_test_verbose())
            g_test_message("case %zu: %s", i, cases[i].doc);
        g_assert_cmpint(parse(cases[i].doc, &cfg, &err), ==, -EINVAL);
        g_assert_nonnull(err);
        if (!strstr(err, cases[i].err))
            g_error("case %zu: '%s' does not contain '%s'", i, err, cases[i].err);
        /* Nothing half-applied: the output is untouched on failure. */
        for (size_t b = 0; b < sizeof(cfg); b++)
            g_assert_cmpint(((unsigned char *)&cfg)[b], ==, 0x5a);
    }
}

static void test_depth(void)
{
    g_autoptr(GString) s = g_string_new("{\"x\":");
    struct vm_config cfg;
    g_autofree char *err = NULL;

    for (int i = 0; i < 100000; i++)
        g_string_append_c(s, '[');
    g_assert_cmpint(config_json_parse(s->str, s->len, &cfg, &err), ==, -EINVAL);
    g_assert_nonnull(strstr(err, "nested deeper"));
    /* Brackets inside strings do not count. */
    g_assert_true(config_json_depth_ok("{\"a\":\"[[[[[[\\\"[[[[\"}", 20, 2));
    g_assert_false(config_json_depth_ok("[[[", 3, 2));
}

static void assert_config_equal(const struct vm_config *a, const struct vm_config *b)
{
    g_assert_cmpstr(a->kernel, ==, b->kernel);
    g_assert_cmpstr(a->initramfs, ==, b->initramfs);
    g_assert_cmpstr(a->cmdline, ==, b->cmdline);
    g_assert_cmpstr(a->firmware, ==, b->firmware);
    g_assert_cmpuint(a->boot_vcpus, ==, b->boot_vcpus);
    g_assert_cmpuint(a->max_vcpus, ==, b->max_vcpus);
    g_assert_cmpuint(a->memory_size, ==, b->memory_size);
    g_assert_cmpint(a->serial.mode, ==, b->serial.mode);
    g_assert_cmpstr(a->serial.path, ==, b->serial.path);
    g_assert_cmpint(a->console.mode, ==, b->console.mode);
    g_assert_cmpstr(a->console.path, ==, b->console.path);
}

static void test_round_trip(void)
{
    struct vm_config a, b, c;
    g_autofree char *json = NULL, *json2 = NULL, *err = NULL;

    vm_config_init(&a);
    a.kernel = g_strdup("/boot/vmlinux \"quoted\" \\ path");
    a.initramfs = g_strdup("/boot/initrd.img");
    a.cmdline = g_strdup("console=ttyS0 root=/dev/vda1 é");
    a.boot_vcpus = 3;
    a.max_vcpus = 8;
    a.memory_size = 3ull << 30;
    a.serial.mode = VM_CHARDEV_FILE;
    a.serial.path = g_strdup("/tmp/serial.log");
    a.console.mode = VM_CHARDEV_TTY;

    json = config_json_to_string(&a);
    g_assert_cmpint(parse(json, &b, &err), ==, 0);
    assert_config_equal(&a, &b);
    json2 = config_json_to_string(&b);
    g_assert_cmpstr(json, ==, json2);

    /* The defaults survive too, and absent strings stay absent. */
    vm_config_clear(&a);
    vm_config_init(&a);
    g_free(json);
    json = config_json_to_string(&a);
    g_assert_cmpint(parse(json, &c, &err), ==, 0);
    assert_config_equal(&a, &c);
    g_assert_null(strstr(json, "kernel"));

    vm_config_clear(&a);
    vm_config_clear(&b);
    vm_config_clear(&c);
}

static void test_shapes(void)
{
    struct vm_config a;
    g_autofree char *json = NULL;

    vm_config_init(&a);
    a.kernel = g_strdup("/k");
    a.serial.mode = VM_CHARDEV_PTY;
    a.serial.path = g_strdup("/dev/pts/7"); /* allocated at boot */
    a.console.mode = VM_CHARDEV_SOCKET;
    a.console.path = g_strdup("/c.sock");
    json = config_json_to_string(&a);
    g_assert_cmpstr(json, ==,
                    "{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1},"
                    "\"memory\":{\"size\":536870912},"
                    "\"payload\":{\"kernel\":\"/k\"},"
                    "\"serial\":{\"mode\":\"Pty\",\"file\":\"/dev/pts/7\"},"
                    "\"console\":{\"mode\":\"Socket\",\"socket\":\"/c.sock\"},"
                    "\"rng\":{\"src\":\"/dev/urandom\"}}");
    vm_config_clear(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config-json/every-field", test_every_field);
    g_test_add_func("/config-json/defaults", test_defaults);
    g_test_add_func("/config-json/cloud-hypervisor-document", test_cloud_hypervisor_document);
    g_test_add_func("/config-json/chardev-modes", test_chardev_modes);
    g_test_add_func("/config-json/errors", test_errors);
    g_test_add_func("/config-json/depth", test_depth);
    g_test_add_func("/config-json/round-trip", test_round_trip);
    g_test_add_func("/config-json/disks-and-rng", test_disks_and_rng);
    g_test_add_func("/config-json/net", test_net);
    g_test_add_func("/config-json/net-fds", test_net_fds);
    g_test_add_func("/config-json/shapes", test_shapes);
    return g_test_run();
}
