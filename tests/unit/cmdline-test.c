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
    g_assert_cmpint(cfg.console.mode, ==, VM_CHARDEV_OFF);
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
        {"--help=yes", NULL, "--help"},
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
    }
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
        {"--kernel", "/k", "--console", "tty",
         "not yet supported: --console tty (virtio-console comes with PCI support); use "
         "--console off"},
        {"--kernel", "/k", "--console", "file=/x", "--console file=/x"},
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

static void test_help_version(void)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;

    g_assert_cmpint(parse(&cfg, &opts, &err, "--help", "--version", NULL), ==, 0);
    g_assert_true(opts.help);
    g_assert_true(opts.version);
    g_assert_nonnull(strstr(vmm_cmdline_usage(), "--console"));
    g_assert_nonnull(strstr(vmm_cmdline_usage(), "default is off"));
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
    g_test_add_func("/cmdline/help-version", test_help_version);
    g_test_add_func("/cmdline/sizes", test_sizes);
    return g_test_run();
}
