/* Tests for vmm/cmdline.c and vmm/vm_config.c: every option, defaults, and
 * each malformed input refused with a message naming the option. */
#include "cmdline.h"

#include <glib.h>
#include <string.h>

static int parse(struct vm_config *cfg, struct vmm_options *opts, char **err, ...)
{
    const char *argv[32] = {"vireo-vmm"};
    int argc = 1;
    va_list ap;
    const char *a;

    va_start(ap, err);
    while ((a = va_arg(ap, const char *)) && argc < 31)
        argv[argc++] = a;
    va_end(ap);
    vm_config_init(cfg);
    *err = NULL;
    return vmm_cmdline_parse(argc, (char **)argv, cfg, opts, err);
}

static void test_net(void)
{
    static const struct {
        const char *arg;
        const char *msg;
    } bad[] = {
        {"tap=vtap0,mac=52:54:00:12:34", "--net: malformed value in 'mac=52:54:00:12:34'"},
        {"tap=vtap0,ip=10.0.0", "--net: malformed value in 'ip=10.0.0'"},
        {"tap=vtap0,mask=", "--net: malformed value in 'mask='"},
        {"tap=vtap0,num_queues=two", "--net: malformed value in 'num_queues=two'"},
        {"fd=[3,x]", "--net: malformed value in 'fd=[3,x]'"},
        {"fd=[3,4", "--net: malformed parameter 'fd=[3,4'"},
        {"tap=a,colour=red", "--net: unknown parameter 'colour'"},
        {"tap=a,vhost_user=true", "--net: not yet supported: 'vhost_user=true'"},
        {"tap=0123456789abcdef", "--net: malformed value in 'tap=0123456789abcdef'"},
        {"passt=", "--net: malformed value in 'passt='"},
    };
    static const struct {
        const char *arg;
        const char *msg;
    } invalid[] = {
        {"tap=a,num_queues=3", "--net: num_queues=3 must be even, from 2 to 32"},
        {"tap=a,num_queues=34", "--net: num_queues=34 must be even, from 2 to 32"},
        {"tap=a,queue_size=100", "--net: queue_size=100 must be a power of two from 2 to 32768"},
        {"tap=a,mtu=20", "--net: mtu=20 is out of range (68 to 65535)"},
        {"fd=[3,4],num_queues=2", "--net: num_queues=2 does not match the 2 fd(s) given"},
        {"tap=a,fd=3", "--net: give tap= or fd=, not both"},
        {"tap=a,mac=01:00:5e:00:00:01", "--net: mac= must not be a multicast address"},
        {"fd=[7,7]", "--net: fd=7 is given twice"},
        {"passt=on,tap=a", "--net: passt= takes no tap=, fd=, ip=, mask= or host_mac="},
        {"passt=on,fd=3", "--net: passt= takes no tap=, fd=, ip=, mask= or host_mac="},
        {"passt=on,num_queues=4", "--net: num_queues=4: passt serves one queue pair"},
    };
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(&cfg, &opts, &err, "--kernel", "/k", "--net",
                          "tap=vtap0,ip=169.254.10.1,mask=255.255.255.0,mac=52:54:00:0a:00:02,"
                          "host_mac=52:54:00:0a:00:01,num_queues=4,queue_size=512,mtu=1400,id=n0",
                          "fd=[3,4]", "--net=fd=5", "--net", "passt=on,mac=52:54:00:0a:00:03",
                          "--net", "passt=/run/user/1000/passt.socket", NULL),
                    ==, 0);
    g_assert_cmpint(vm_config_validate(&cfg, &err), ==, 0);
    g_assert_cmpuint(cfg.nr_nets, ==, 5);
    g_assert_cmpstr(cfg.nets[3].passt, ==, "on");
    g_assert_cmpuint(cfg.nets[3].mac[5], ==, 3);
    g_assert_cmpstr(cfg.nets[4].passt, ==, "/run/user/1000/passt.socket");
    g_assert_null(cfg.nets[0].passt);
    g_assert_cmpstr(cfg.nets[0].tap, ==, "vtap0");
    g_assert_cmpstr(cfg.nets[0].ip, ==, "169.254.10.1");
    g_assert_cmpstr(cfg.nets[0].mask, ==, "255.255.255.0");
    g_assert_true(cfg.nets[0].has_mac && cfg.nets[0].has_host_mac);
    g_assert_cmpuint(cfg.nets[0].mac[5], ==, 2);
    g_assert_cmpuint(cfg.nets[0].host_mac[5], ==, 1);
    g_assert_cmpuint(cfg.nets[0].num_queues, ==, 4);
    g_assert_cmpuint(cfg.nets[0].queue_size, ==, 512);
    g_assert_cmpuint(cfg.nets[0].mtu, ==, 1400);
    g_assert_cmpstr(cfg.nets[0].id, ==, "n0");
    g_assert_cmpuint(cfg.nets[1].nr_fds, ==, 2);
    g_assert_cmpint(cfg.nets[1].fds[0], ==, 3);
    g_assert_cmpint(cfg.nets[1].fds[1], ==, 4);
    g_assert_cmpuint(cfg.nets[1].num_queues, ==, 4);
    g_assert_null(cfg.nets[1].tap);
    g_assert_cmpuint(cfg.nets[2].nr_fds, ==, 1);
    g_assert_cmpuint(cfg.nets[2].num_queues, ==, 2);
    g_assert_cmpuint(cfg.nets[2].queue_size, ==, 256);
    vm_config_clear(&cfg);
    vmm_options_clear(&opts);

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(parse(&cfg, &opts, &err, "--kernel", "/k", "--net", bad[i].arg, NULL), ==,
                        -EINVAL);
        g_assert_true(g_str_has_prefix(err, bad[i].msg));
        g_assert_null(strchr(err, '\n'));
        vm_config_clear(&cfg);
        vmm_options_clear(&opts);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(parse(&cfg, &opts, &err, "--kernel", "/k", "--net", invalid[i].arg, NULL),
                        ==, 0);
        g_assert_cmpint(vm_config_validate(&cfg, &err), ==, -EINVAL);
        g_assert_true(g_str_has_prefix(err, invalid[i].msg));
        vm_config_clear(&cfg);
        vmm_options_clear(&opts);
    }
    /* Two devices on one fd would both close it. */
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(
        parse(&cfg, &opts, &err, "--kernel", "/k", "--net", "fd=[5,6]", "--net", "fd=6", NULL), ==,
        0);
    g_assert_cmpint(vm_config_validate(&cfg, &err), ==, -EINVAL);
    g_assert_cmpstr(err, ==, "--net: fd=6 is given twice");
    vm_config_clear(&cfg);
    vmm_options_clear(&opts);
}

static void test_defaults(void)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(&cfg, &opts, &err, "--kernel", "/k", NULL), ==, 0);
    g_assert_cmpstr(cfg.kernel, ==, "/k");
    g_assert_cmpuint(cfg.boot_vcpus, ==, 1);
    g_assert_cmpuint(cfg.max_vcpus, ==, 1);
    g_assert_cmpuint(cfg.memory_size, ==, 512ull << 20);
    g_assert_cmpint(cfg.serial.mode, ==, VM_CHARDEV_NULL);
    g_assert_cmpint(cfg.console.mode, ==, VM_CHARDEV_TTY);
    g_assert_cmpuint(cfg.nr_disks, ==, 0);
    g_assert_cmpstr(cfg.rng.src, ==, "/dev/urandom");
    g_assert_cmpint(opts.verbosity, ==, 0);
    g_assert_cmpint(vm_config_validate(&cfg, &err), ==, 0);
    vm_config_clear(&cfg);
}

static void test_all_options(void)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(&cfg, &opts, &err, "--kernel=/boot/vmlinux", "--initramfs", "/i.cpio",
                          "--cmdline", "console=ttyS0 -s", "--cpus", "boot=2,max=4", "--memory",
                          "size=1G", "--serial", "file=/tmp/out", "--console=off", "-v", "-vv",
                          NULL),
                    ==, 0);
    g_assert_cmpstr(cfg.kernel, ==, "/boot/vmlinux");
    g_assert_cmpstr(cfg.initramfs, ==, "/i.cpio");
    g_assert_cmpstr(cfg.cmdline, ==, "console=ttyS0 -s");
    g_assert_cmpuint(cfg.boot_vcpus, ==, 2);
    g_assert_cmpuint(cfg.max_vcpus, ==, 4);
    g_assert_cmpuint(cfg.memory_size, ==, 1ull << 30);
    g_assert_cmpint(cfg.serial.mode, ==, VM_CHARDEV_FILE);
    g_assert_cmpstr(cfg.serial.path, ==, "/tmp/out");
    g_assert_cmpint(opts.verbosity, ==, 3);
    g_assert_cmpint(vm_config_validate(&cfg, &err), ==, 0);
    vm_config_clear(&cfg);
}

static void test_serial_modes(void)
{
    static const struct {
        const char *arg;
        enum vm_chardev_mode mode;
        const char *path;
    } cases[] = {
        {"off", VM_CHARDEV_OFF, NULL},      {"null", VM_CHARDEV_NULL, NULL},
        {"pty", VM_CHARDEV_PTY, NULL},      {"tty", VM_CHARDEV_TTY, NULL},
        {"file=/a", VM_CHARDEV_FILE, "/a"}, {"socket=/s", VM_CHARDEV_SOCKET, "/s"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct vm_config cfg;
        struct vmm_options opts;
        g_autofree char *err = NULL;
        g_assert_cmpint(parse(&cfg, &opts, &err, "--serial", cases[i].arg, NULL), ==, 0);
        g_assert_cmpint(cfg.serial.mode, ==, cases[i].mode);
        g_assert_cmpstr(cfg.serial.path, ==, cases[i].path);
        vm_config_clear(&cfg);
    }
}

/* Each bad command line fails at parse time with a message containing `needle`. */
static void test_bad_options(void)
{
    static const struct {
        const char *a, *b;
        const char *needle;
    } cases[] = {
        {"--kern", "/k", "--kern"},
        {"--kernelx=/k", NULL, "--kernelx"},
        {"-x", NULL, "-x"},
        {"stray", NULL, "stray"},
        {"--kernel", NULL, "--kernel"},
        {"--kernel=", NULL, "--kernel"},
        {"--memory", "size=12Q", "--memory"},
        {"--memory", "512M", "--memory"},
        {"--memory", "size=", "--memory"},
        {"--memory", "size=99999999999999999999G", "--memory"},
        {"--memory", "hugepages=on", "--memory"},
        {"--cpus", "boot=two", "--cpus"},
        {"--cpus", "2", "--cpus"},
        {"--cpus", "cores=2", "--cpus"},
        {"--serial", "file=", "--serial"},
        {"--serial", "bogus", "--serial"},
        {"--console", "socket=/x", "--console"},
        {"--console", "bogus", "--console"},
        {"--disk", "readonly=on", "--disk: 'readonly=on' has no path=PATH"},
        {"--disk", "path=", "--disk: malformed value in 'path='"},
        {"--disk", "/img", "--disk: malformed parameter '/img'"},
        {"--disk", "path=/a,readonly=maybe", "--disk: malformed value in 'readonly=maybe'"},
        {"--disk", "path=/a,direct=1", "--disk: malformed value in 'direct=1'"},
        {"--disk", "path=/a,image_type=vmdk", "(expected raw or qcow2)"},
        {"--disk", "path=/a,num_queues=x", "--disk: malformed value in 'num_queues=x'"},
        {"--disk", "path=/a,sise=1", "--disk: unknown parameter 'sise'"},
        {"--disk", "path=/a,vhost_user=on", "--disk: not yet supported: 'vhost_user=on'"},
        {"--disk", "path=/a,,id=x", "--disk: malformed parameter ''"},
        {"--rng", "/dev/random", "--rng: malformed parameter '/dev/random'"},
        {"--rng", "src=", "--rng: malformed value in 'src='"},
        {"--rng", "size=3", "--rng: unknown parameter 'size'"},
        {"--rng", "src=/r,iommu=on", "--rng: not yet supported: 'iommu=on'"},
        {"--help=yes", NULL, "--help"},
        {"--api-socket", NULL, "option '--api-socket' needs a value"},
        {"--api-socket", "/tmp/api.sock", "--api-socket: malformed parameter '/tmp/api.sock'"},
        {"--api-socket", "path=/a,fd=3", "--api-socket: give path= or fd=, not both"},
        {"--api-socket", "fd=x", "--api-socket: malformed value in 'fd=x'"},
        {"--api-socket", "fd=-1", "--api-socket: malformed value in 'fd=-1'"},
        {"--api-socket", "fd=99999999999", "--api-socket: malformed value in 'fd=99999999999'"},
        {"--api-socket", "path=", "--api-socket: malformed value in 'path='"},
        {"--api-socket", "sock=/a", "--api-socket: unknown parameter 'sock'"},
        {"--event-monitor", "path=/e,fd=4", "--event-monitor: give path= or fd=, not both"},
        {"--event-monitor", "fd=", "--event-monitor: malformed value in 'fd='"},
        {"--event-monitor", "file=/e", "--event-monitor: unknown parameter 'file'"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct vm_config cfg;
        struct vmm_options opts;
        g_autofree char *err = NULL;
        int ret = parse(&cfg, &opts, &err, cases[i].a, cases[i].b, NULL);
        if (g_test_verbose())
            g_printerr("%s %s -> %s\n", cases[i].a, cases[i].b ? cases[i].b : "", err);
        g_assert_cmpint(ret, <, 0);
        g_assert_nonnull(err);
        g_assert_nonnull(strstr(err, cases[i].needle));
        g_assert_null(strchr(err, '\n'));
        vm_config_clear(&cfg);
        vmm_options_clear(&opts);
    }
}

/* --api-socket and --event-monitor go to vmm_options, not the VM config. */
static void test_api_options(void)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(&cfg, &opts, &err, "--kernel", "/k", NULL), ==, 0);
    g_assert_null(opts.api_socket_path);
    g_assert_cmpint(opts.api_socket_fd, ==, -1);
    g_assert_null(opts.event_monitor_path);
    g_assert_cmpint(opts.event_monitor_fd, ==, -1);
    vm_config_clear(&cfg);

    g_assert_cmpint(
        parse(&cfg, &opts, &err, "--api-socket", "path=/run/v.sock", "--event-monitor=fd=7", NULL),
        ==, 0);
    g_assert_cmpstr(opts.api_socket_path, ==, "/run/v.sock");
    g_assert_cmpint(opts.api_socket_fd, ==, -1);
    g_assert_null(opts.event_monitor_path);
    g_assert_cmpint(opts.event_monitor_fd, ==, 7);
    g_assert_null(cfg.kernel);
    vm_config_clear(&cfg);
    vmm_options_clear(&opts);
    g_assert_null(opts.api_socket_path);

    g_assert_cmpint(
        parse(&cfg, &opts, &err, "--api-socket=fd=3", "--event-monitor", "path=/tmp/ev", NULL), ==,
        0);
    g_assert_null(opts.api_socket_path);
    g_assert_cmpint(opts.api_socket_fd, ==, 3);
    g_assert_cmpstr(opts.event_monitor_path, ==, "/tmp/ev");
    vm_config_clear(&cfg);
    vmm_options_clear(&opts);
}

/* Parsed fine, refused by the model. */
static void test_validate(void)
{
    static const struct {
        const char *a, *b, *c, *d;
        const char *needle;
    } cases[] = {
        {"--kernel", "/k", "--firmware", "/fw", "not yet supported: --firmware"},
        {"--initramfs", "/i", NULL, NULL, "--kernel"},
        {"--kernel", "/k", "--cpus", "boot=0", "--cpus"},
        {"--kernel", "/k", "--cpus", "boot=4,max=2", "--cpus"},
        {"--kernel", "/k", "--cpus", "boot=300", "--cpus"},
        {"--kernel", "/k", "--memory", "size=1M", "--memory"},
        {"--kernel", "/k", "--memory", "size=5000", "--memory"},
        {"--kernel", "/k", "--serial", "tty",
         "--serial tty and --console tty cannot share the terminal; add --console off"},
        {"--kernel", "/k", "--disk", "path=/a,num_queues=0", "--disk path=/a: num_queues=0"},
        {"--kernel", "/k", "--disk", "path=/a,num_queues=65", "--disk path=/a: num_queues=65"},
        {"--kernel", "/k", "--disk", "path=/a,queue_size=100", "--disk path=/a: queue_size=100"},
        {"--kernel", "/k", "--disk", "path=/a,queue_size=2", "--disk path=/a: queue_size=2"},
        {"--kernel=/k", "--disk", "path=/a,id=d", "path=/b,id=d",
         "--disk path=/b: id=d is already used by --disk path=/a"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct vm_config cfg;
        struct vmm_options opts;
        g_autofree char *err = NULL;
        g_assert_cmpint(
            parse(&cfg, &opts, &err, cases[i].a, cases[i].b, cases[i].c, cases[i].d, NULL), ==, 0);
        g_assert_cmpint(vm_config_validate(&cfg, &err), ==, -EINVAL);
        if (g_test_verbose())
            g_printerr("-> %s\n", err);
        g_assert_nonnull(strstr(err, cases[i].needle));
        vm_config_clear(&cfg);
    }
}

static void test_disks_rng_console(void)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(&cfg, &opts, &err, "--kernel", "/k", "--disk",
                          "path=/a.img,readonly=on,direct=off,num_queues=2,queue_size=256,id=root,"
                          "serial=SN1,image_type=raw",
                          "path=/b.qcow2,image_type=qcow2,direct=true", "--disk=path=/c", "--rng",
                          "src=/dev/hwrng", "--console", "file=/tmp/hvc0", NULL),
                    ==, 0);
    g_assert_cmpuint(cfg.nr_disks, ==, 3);
    g_assert_cmpstr(cfg.disks[0].path, ==, "/a.img");
    g_assert_true(cfg.disks[0].readonly);
    g_assert_false(cfg.disks[0].direct);
    g_assert_cmpuint(cfg.disks[0].num_queues, ==, 2);
    g_assert_cmpuint(cfg.disks[0].queue_size, ==, 256);
    g_assert_cmpstr(cfg.disks[0].id, ==, "root");
    g_assert_cmpstr(cfg.disks[0].serial, ==, "SN1");
    g_assert_cmpint(cfg.disks[0].image_type, ==, VM_IMAGE_RAW);
    g_assert_cmpstr(cfg.disks[1].path, ==, "/b.qcow2");
    g_assert_cmpint(cfg.disks[1].image_type, ==, VM_IMAGE_QCOW2);
    g_assert_true(cfg.disks[1].direct);
    g_assert_false(cfg.disks[1].readonly);
    g_assert_cmpuint(cfg.disks[1].num_queues, ==, 1);
    g_assert_cmpuint(cfg.disks[1].queue_size, ==, 128);
    g_assert_null(cfg.disks[1].id);
    g_assert_cmpstr(cfg.disks[2].path, ==, "/c");
    g_assert_cmpint(cfg.disks[2].image_type, ==, VM_IMAGE_AUTO);
    g_assert_cmpstr(cfg.rng.src, ==, "/dev/hwrng");
    g_assert_cmpint(cfg.console.mode, ==, VM_CHARDEV_FILE);
    g_assert_cmpstr(cfg.console.path, ==, "/tmp/hvc0");
    g_assert_cmpint(vm_config_validate(&cfg, &err), ==, 0);
    vm_config_clear(&cfg);

    /* The words after --disk end at the next option. */
    g_assert_cmpint(parse(&cfg, &opts, &err, "--disk", "path=/a", "--kernel", "/k", NULL), ==, 0);
    g_assert_cmpuint(cfg.nr_disks, ==, 1);
    g_assert_cmpstr(cfg.kernel, ==, "/k");
    vm_config_clear(&cfg);

    g_assert_cmpint(
        parse(&cfg, &opts, &err, "--kernel", "/k", "--serial", "tty", "--console", "off", NULL), ==,
        0);
    g_assert_cmpint(vm_config_validate(&cfg, &err), ==, 0);
    vm_config_clear(&cfg);
}

static void test_help_version(void)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(&cfg, &opts, &err, "--help", "--version", NULL), ==, 0);
    g_assert_true(opts.help);
    g_assert_true(opts.version);
    g_assert_nonnull(strstr(vmm_cmdline_usage(), "--console"));
    g_assert_nonnull(strstr(vmm_cmdline_usage(), "default: tty"));
    g_assert_nonnull(strstr(vmm_cmdline_usage(), "--disk path=PATH"));
    g_assert_nonnull(strstr(vmm_cmdline_usage(), "--rng src=PATH"));
    vm_config_clear(&cfg);
}

static void test_sizes(void)
{
    uint64_t v;

    g_assert_true(vmm_parse_size("512M", &v));
    g_assert_cmpuint(v, ==, 512ull << 20);
    g_assert_true(vmm_parse_size("4096K", &v));
    g_assert_cmpuint(v, ==, 4ull << 20);
    g_assert_true(vmm_parse_size("2G", &v));
    g_assert_cmpuint(v, ==, 2ull << 30);
    g_assert_true(vmm_parse_size("1048576", &v));
    g_assert_cmpuint(v, ==, 1ull << 20);
    g_assert_false(vmm_parse_size("", &v));
    g_assert_false(vmm_parse_size("M", &v));
    g_assert_false(vmm_parse_size("-1M", &v));
    g_assert_false(vmm_parse_size("1MB", &v));
    g_assert_false(vmm_parse_size("1T", &v));
    g_assert_false(vmm_parse_size("17179869184G", &v));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cmdline/defaults", test_defaults);
    g_test_add_func("/cmdline/all-options", test_all_options);
    g_test_add_func("/cmdline/serial-modes", test_serial_modes);
    g_test_add_func("/cmdline/bad-options", test_bad_options);
    g_test_add_func("/cmdline/validate", test_validate);
    g_test_add_func("/cmdline/api-options", test_api_options);
    g_test_add_func("/cmdline/disks-rng-console", test_disks_rng_console);
    g_test_add_func("/cmdline/net", test_net);
    g_test_add_func("/cmdline/help-version", test_help_version);
    g_test_add_func("/cmdline/sizes", test_sizes);
    return g_test_run();
}
