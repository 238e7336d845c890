/* Tests for xml/hostinfo.c and xml/capabilities.c: probing a host (a fake
 * tree in tests/unit/xml/host), and capabilities and domain capabilities XML
 * that libvirt's own schemas accept. */
#include "capabilities.h"
#include "domain_def.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xpath.h>
#include <string.h>

#ifndef VIREO_TEST_CORPUS
#define VIREO_TEST_CORPUS "tests/unit/xml"
#endif

static char *corpus_path(const char *name)
{
    const char *srcdir = g_getenv("VIREO_SRCDIR");

    if (srcdir)
        return g_build_filename(srcdir, "tests", "unit", "xml", name, NULL);
    return g_build_filename(VIREO_TEST_CORPUS, name, NULL);
}

static struct vireo_host_info *fake_host(void)
{
    g_autofree char *root = corpus_path("host");

    return vireo_host_info_probe_at(root, "/usr/bin/vireo-vmm");
}

static char *schema_path(const char *rng)
{
    const char *dir = g_getenv("VIREO_LIBVIRT_SCHEMA_DIR");
    char *path = g_build_filename(dir ? dir : VIREO_LIBVIRT_SCHEMA_DIR, rng, NULL);

    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        g_clear_pointer(&path, g_free);
    return path;
}

/* Validates doc against one of libvirt's schemas; false with the reason printed. */
static bool validate(xmlDoc *doc, const char *schema)
{
    xmlRelaxNGParserCtxt *pctxt = xmlRelaxNGNewParserCtxt(schema);
    xmlRelaxNG *rng = xmlRelaxNGParse(pctxt);
    xmlRelaxNGValidCtxt *vctxt = xmlRelaxNGNewValidCtxt(rng);
    int rc = xmlRelaxNGValidateDoc(vctxt, doc);

    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlRelaxNGFree(rng);
    xmlRelaxNGFreeParserCtxt(pctxt);
    return rc == 0;
}

static xmlDoc *parse_xml(const char *xml)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);

    if (!doc)
        g_error("not well-formed XML:\n%s", xml);
    return doc;
}

/* The string value of an XPath expression. */
static char *xpath(xmlDoc *doc, const char *expr)
{
    xmlXPathContext *ctxt = xmlXPathNewContext(doc);
    xmlXPathObject *obj = xmlXPathEvalExpression((const xmlChar *)expr, ctxt);
    xmlChar *s = xmlXPathCastToString(obj);
    char *ret = g_strdup((const char *)s);

    xmlFree(s);
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctxt);
    return ret;
}

#define assert_xpath(doc, expr, expected)                                                          \
    do {                                                                                           \
        g_autofree char *value_ = xpath(doc, expr);                                                \
        g_assert_cmpstr(value_, ==, expected);                                                     \
    } while (0)

static void test_probe_fake_host(void)
{
    g_autoptr(vireo_host_info) host = fake_host();
    char uuid[37];
    const struct vireo_host_cpu *cpu5;

    vireo_uuid_format(host->uuid, uuid);
    g_assert_cmpstr(uuid, ==, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    g_assert_cmpstr(host->arch, ==, "x86_64");
    g_assert_cmpstr(host->cpu_vendor, ==, "Intel");
    g_assert_cmpstr(host->cpu_model_name, ==, "Intel(R) Xeon(R) Gold 5118 CPU @ 2.30GHz");
    g_assert_cmpuint(host->cpu_mhz, ==, 2294);
    g_assert_cmpuint(host->sockets, ==, 2);
    g_assert_cmpuint(host->cores, ==, 2);
    g_assert_cmpuint(host->threads, ==, 2);
    g_assert_cmpuint(host->cpus->len, ==, 8);
    cpu5 = &g_array_index(host->cpus, struct vireo_host_cpu, 5);
    g_assert_cmpuint(cpu5->id, ==, 5);
    g_assert_cmpuint(cpu5->socket_id, ==, 1);
    g_assert_cmpuint(cpu5->core_id, ==, 1);
    g_assert_cmpstr(cpu5->siblings, ==, "5,7");
    g_assert_cmpuint(host->memory_kib, ==, 16314192);
    g_assert_cmpuint(host->max_vcpus, ==, VIREO_MAX_VCPUS);
    g_assert_cmpstr(host->machine, ==, VIREO_DEFAULT_MACHINE);
    g_assert_cmpstr(host->emulator, ==, "/usr/bin/vireo-vmm");
    g_assert_cmpuint(host->firmware->len, ==, 1);
    g_assert_cmpstr(host->firmware->pdata[0], ==, "/usr/share/cloud-hypervisor/CLOUDHV.fd");
}

static void test_probe_empty_root(void)
{
    g_autoptr(vireo_host_info) a = vireo_host_info_probe_at("/nonexistent", NULL);
    g_autoptr(vireo_host_info) b = vireo_host_info_probe_at("/nonexistent", NULL);
    g_autofree char *caps = NULL;

    /* Nothing to read: safe defaults, and a random uuid. */
    g_assert_cmpuint(a->sockets, ==, 1);
    g_assert_cmpuint(a->threads, ==, 1);
    g_assert_cmpuint(a->cpus->len, >=, 1);
    g_assert_cmpuint(a->cores, ==, a->cpus->len);
    g_assert_null(a->cpu_vendor);
    g_assert_cmpuint(a->memory_kib, ==, 0);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
    g_assert_cmpuint(a->firmware->len, ==, 0);
    caps = vireo_capabilities_format(a);
    xmlFreeDoc(parse_xml(caps));
}

static void test_probe_real_host(void)
{
    g_autoptr(vireo_host_info) host = vireo_host_info_probe("/usr/bin/vireo-vmm");
    g_autofree char *caps = vireo_capabilities_format(host);
    g_autofree char *domcaps = vireo_domain_capabilities_format(host, NULL, NULL, NULL, NULL, NULL);

    g_assert_cmpuint(host->cpus->len, >=, 1);
    g_assert_cmpuint(host->memory_kib, >, 0);
    xmlFreeDoc(parse_xml(caps));
    xmlFreeDoc(parse_xml(domcaps));
}

static void test_capabilities(void)
{
    g_autoptr(vireo_host_info) host = fake_host();
    g_autofree char *caps = vireo_capabilities_format(host);
    g_autofree char *schema = schema_path("capability.rng");
    xmlDoc *doc = parse_xml(caps);

    assert_xpath(doc, "string(/capabilities/host/uuid)", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    assert_xpath(doc, "string(/capabilities/host/cpu/arch)", "x86_64");
    assert_xpath(doc, "string(/capabilities/host/cpu/vendor)", "Intel");
    assert_xpath(doc, "string(/capabilities/host/cpu/topology/@sockets)", "2");
    assert_xpath(doc, "string(/capabilities/host/cpu/topology/@cores)", "2");
    assert_xpath(doc, "string(/capabilities/host/cpu/topology/@threads)", "2");
    assert_xpath(doc, "count(/capabilities/host/power_management)", "1");
    assert_xpath(doc, "string(/capabilities/host/iommu/@support)", "no");
    assert_xpath(doc, "count(/capabilities/host/migration_features/*)", "0");
    assert_xpath(doc, "string(/capabilities/host/topology/cells/cell/memory)", "16314192");
    assert_xpath(doc, "string(/capabilities/host/topology/cells/cell/cpus/@num)", "8");
    assert_xpath(doc, "string(/capabilities/host/topology/cells/cell/cpus/cpu[@id='2']/@siblings)",
                 "0,2");
    assert_xpath(doc, "string(/capabilities/guest/os_type)", "hvm");
    assert_xpath(doc, "string(/capabilities/guest/arch/@name)", "x86_64");
    assert_xpath(doc, "string(/capabilities/guest/arch/wordsize)", "64");
    assert_xpath(doc, "string(/capabilities/guest/arch/emulator)", "/usr/bin/vireo-vmm");
    assert_xpath(doc, "string(/capabilities/guest/arch/machine)", VIREO_DEFAULT_MACHINE);
    assert_xpath(doc, "string(/capabilities/guest/arch/machine/@maxCpus)", "254");
    assert_xpath(doc, "string(/capabilities/guest/arch/domain/@type)", "kvm");
    assert_xpath(doc, "count(/capabilities/guest/arch/domain)", "1");
    assert_xpath(doc, "string(/capabilities/guest/features/acpi/@default)", "on");
    assert_xpath(doc, "string(/capabilities/guest/features/acpi/@toggle)", "no");
    assert_xpath(doc, "string(/capabilities/guest/features/apic/@toggle)", "no");
    if (schema)
        g_assert_true(validate(doc, schema));
    else
        g_test_message("libvirt's capability.rng is not installed: schema check skipped");
    xmlFreeDoc(doc);
}

/* Drops the elements newer than the installed schema (libvirt 9.0's
 * domaincaps.rng predates <interface>, <console>, <crypto>, <panic> and
 * <async-teardown>), so the rest can be checked against it. */
static void strip_newer_elements(xmlDoc *doc)
{
    static const char *const newer[] = {
        "/domainCapabilities/devices/interface",       "/domainCapabilities/devices/console",
        "/domainCapabilities/devices/crypto",          "/domainCapabilities/devices/panic",
        "/domainCapabilities/features/async-teardown",
    };
    xmlXPathContext *ctxt = xmlXPathNewContext(doc);

    for (size_t i = 0; i < G_N_ELEMENTS(newer); i++) {
        xmlXPathObject *obj = xmlXPathEvalExpression((const xmlChar *)newer[i], ctxt);

        for (int j = 0; obj->nodesetval && j < obj->nodesetval->nodeNr; j++) {
            xmlNode *node = obj->nodesetval->nodeTab[j];

            xmlUnlinkNode(node);
            xmlFreeNode(node);
        }
        xmlXPathFreeObject(obj);
    }
    xmlXPathFreeContext(ctxt);
}

static void test_domain_capabilities(void)
{
    g_autoptr(vireo_host_info) host = fake_host();
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = vireo_domain_capabilities_format(host, "/usr/bin/vireo-vmm", "x86_64",
                                                            VIREO_DEFAULT_MACHINE, "kvm", &err);
    g_autofree char *schema = schema_path("domaincaps.rng");
    xmlDoc *doc;

    g_assert_no_error(err);
    doc = parse_xml(xml);
    assert_xpath(doc, "string(/domainCapabilities/path)", "/usr/bin/vireo-vmm");
    assert_xpath(doc, "string(/domainCapabilities/domain)", "kvm");
    assert_xpath(doc, "string(/domainCapabilities/machine)", VIREO_DEFAULT_MACHINE);
    assert_xpath(doc, "string(/domainCapabilities/arch)", "x86_64");
    assert_xpath(doc, "string(/domainCapabilities/vcpu/@max)", "254");
    assert_xpath(doc, "string(/domainCapabilities/iothreads/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/os/@supported)", "yes");
    assert_xpath(doc, "count(/domainCapabilities/os/enum[@name='firmware']/value)", "0");
    assert_xpath(doc, "string(/domainCapabilities/os/loader/@supported)", "yes");
    assert_xpath(doc, "string(/domainCapabilities/os/loader/value)",
                 "/usr/share/cloud-hypervisor/CLOUDHV.fd");
    assert_xpath(doc, "string(/domainCapabilities/cpu/mode[@name='host-passthrough']/@supported)",
                 "yes");
    assert_xpath(doc, "string(/domainCapabilities/cpu/mode[@name='host-model']/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/disk/enum[@name='diskDevice']/value)",
                 "disk");
    assert_xpath(doc, "count(/domainCapabilities/devices/disk/enum[@name='diskDevice']/value)",
                 "1");
    assert_xpath(doc, "string(/domainCapabilities/devices/disk/enum[@name='bus']/value)", "virtio");
    assert_xpath(doc, "string(/domainCapabilities/devices/graphics/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/video/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/hostdev/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/rng/@supported)", "yes");
    assert_xpath(doc, "string(/domainCapabilities/devices/rng/enum[@name='backendModel']/value)",
                 "random");
    assert_xpath(doc, "string(/domainCapabilities/devices/filesystem/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/tpm/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/redirdev/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/channel/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/devices/interface/@supported)", "yes");
    assert_xpath(doc,
                 "string(/domainCapabilities/devices/interface/enum[@name='backendType']/value[2])",
                 "passt");
    assert_xpath(doc, "string(/domainCapabilities/devices/console/enum[@name='type']/value)",
                 "pty");
    assert_xpath(doc, "string(/domainCapabilities/features/gic/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/features/vmcoreinfo/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/features/genid/@supported)", "no");
    assert_xpath(doc, "string(/domainCapabilities/features/sev/@supported)", "no");
    if (schema) {
        strip_newer_elements(doc);
        g_assert_true(validate(doc, schema));
    } else {
        g_test_message("libvirt's domaincaps.rng is not installed: schema check skipped");
    }
    xmlFreeDoc(doc);
}

static void test_domain_capabilities_refused(void)
{
    g_autoptr(vireo_host_info) host = fake_host();
    static const struct {
        const char *emulator, *arch, *machine, *virttype, *needle;
    } cases[] = {
        {"/usr/bin/qemu-system-x86_64", NULL, NULL, NULL, "/usr/bin/qemu-system-x86_64"},
        {NULL, "aarch64", NULL, NULL, "'aarch64'"},
        {NULL, NULL, "pc-q35-7.2", NULL, "'pc-q35-7.2'"},
        {NULL, NULL, NULL, "qemu", "'qemu'"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        char *xml = vireo_domain_capabilities_format(host, cases[i].emulator, cases[i].arch,
                                                     cases[i].machine, cases[i].virttype, &err);

        g_assert_null(xml);
        g_assert_error(err, VIREO_XML_ERROR, VIR_ERR_INVALID_ARG);
        g_assert_nonnull(strstr(err->message, cases[i].needle));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/capabilities/probe-fake-host", test_probe_fake_host);
    g_test_add_func("/capabilities/probe-empty-root", test_probe_empty_root);
    g_test_add_func("/capabilities/probe-real-host", test_probe_real_host);
    g_test_add_func("/capabilities/capabilities", test_capabilities);
    g_test_add_func("/capabilities/domain-capabilities", test_domain_capabilities);
    g_test_add_func("/capabilities/domain-capabilities-refused", test_domain_capabilities_refused);
    return g_test_run();
}
