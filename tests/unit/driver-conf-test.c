/* Tests for driver/conf.c: vireo.conf in qemu.conf's syntax, the networks
 * it maps to bridges, and the errors that name the file and line. */
#include <config.h>

#include <glib.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "driver/conf.h"

static void test_parse(void)
{
    g_auto(vireo_conf) conf = {0};
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(vireo_conf_parse(&conf, "vireo.conf",
                                     "# comment\n"
                                     "user = \"vireo\"   # the VMM's user\n"
                                     "group=kvm\n"
                                     "\n"
                                     "network.default = \"virbr0\"\n"
                                     "network.lab = br-lab\n"
                                     "network.lab = \"br-lab2\"\n",
                                     &error),
                    ==, 0);
    g_assert_no_error(error);
    g_assert_cmpstr(conf.user, ==, "vireo");
    g_assert_cmpstr(conf.group, ==, "kvm");
    g_assert_cmpstr(vireo_conf_network_bridge(conf.networks, "default", &error), ==, "virbr0");
    /* The last one wins, as in libvirt's files. */
    g_assert_cmpstr(vireo_conf_network_bridge(conf.networks, "lab", &error), ==, "br-lab2");
    g_assert_no_error(error);
}

static void test_unknown_network(void)
{
    g_auto(vireo_conf) conf = {0};
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(vireo_conf_parse(&conf, "vireo.conf", "network.default = virbr0\n", &error), ==,
                    0);
    g_assert_null(vireo_conf_network_bridge(conf.networks, "nosuch", &error));
    g_assert_cmpint(error->code, ==, VIR_ERR_NO_NETWORK);
    g_assert_nonnull(strstr(error->message, "'nosuch'"));
    g_clear_error(&error);
    /* No vireo.conf, or one without networks: the same answer. */
    g_assert_null(vireo_conf_network_bridge(NULL, "default", &error));
    g_assert_cmpint(error->code, ==, VIR_ERR_NO_NETWORK);
    g_assert_nonnull(strstr(error->message, "network.default"));
}

static void bad(const char *text, const char *needle)
{
    g_auto(vireo_conf) conf = {0};
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(vireo_conf_parse(&conf, "/etc/vireo.conf", text, &error), ==, -1);
    g_assert_cmpint(error->code, ==, VIR_ERR_CONF_SYNTAX);
    g_assert_nonnull(strstr(error->message, needle));
}

static void test_bad(void)
{
    bad("user = root\nno equals sign\n", "/etc/vireo.conf:2: expected key = value");
    bad("network. = virbr0\n", ":1: expected network.NAME");
    bad("network.default = \"\"\n", "'' is not a bridge name");
    bad("network.default = \"a-name-longer-than-15\"\n", "is not a bridge name");
    bad("network.default = \"../x\"\n", "is not a bridge name");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/driver-conf/parse", test_parse);
    g_test_add_func("/driver-conf/unknown-network", test_unknown_network);
    g_test_add_func("/driver-conf/bad", test_bad);
    return g_test_run();
}
