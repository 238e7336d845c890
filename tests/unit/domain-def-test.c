/* Tests for xml/ (domain_*.c, schema.c): parse -> format round trips on the
 * corpus in tests/unit/xml, every refused element with its error code and a
 * message naming it, defaults, conflicts, value types and hostile input. */
#include "domain_def.h"
#include "xml_util.h"

#include <glib.h>
#include <libvirt/virterror.h>
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

static char *corpus_read(const char *name)
{
    g_autofree char *path = corpus_path(name);
    char *text = NULL;
    g_autoptr(GError) err = NULL;

    if (!g_file_get_contents(path, &text, NULL, &err))
        g_error("cannot read %s: %s", path, err->message);
    return text;
}

static bool schema_installed(void)
{
    const char *dir = g_getenv("VIREO_LIBVIRT_SCHEMA_DIR");
    g_autofree char *path =
        g_build_filename(dir ? dir : VIREO_LIBVIRT_SCHEMA_DIR, "domain.rng", NULL);

    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

static struct vireo_domain_def *parse_ok(const char *xml, unsigned int flags)
{
    g_autoptr(GError) err = NULL;
    struct vireo_domain_def *def = vireo_domain_def_parse(xml, flags, &err);

    if (!def)
        g_error("parse failed (code %d): %s\n%s", err->code, err->message, xml);
    return def;
}

static void parse_fails(const char *xml, unsigned int flags, int code, const char *needle)
{
    g_autoptr(GError) err = NULL;
    struct vireo_domain_def *def = vireo_domain_def_parse(xml, flags, &err);

    g_assert_null(def);
    g_assert_nonnull(err);
    if (err->code != code || !strstr(err->message, needle))
        g_error("expected code %d with '%s', got code %d: %s", code, needle, err->code,
                err->message);
    g_assert_true(g_error_matches(err, VIREO_XML_ERROR, code));
}

/* --- corpus --- */

static void test_good(gconstpointer data)
{
    const char *name = data;
    g_autofree char *file = g_strdup_printf("good/%s.xml", name);
    g_autofree char *expected_file = g_strdup_printf("good/%s.expected.xml", name);
    g_autofree char *expected_path = corpus_path(expected_file);
    g_autofree char *xml = corpus_read(file);
    g_autoptr(vireo_domain_def) def = parse_ok(xml, 0);
    g_autofree char *live = vireo_domain_def_format(def, 0);
    g_autofree char *inactive = vireo_domain_def_format(def, VIREO_DOMAIN_DEF_FORMAT_INACTIVE);
    g_autoptr(vireo_domain_def) def2 = parse_ok(live, 0);
    g_autoptr(vireo_domain_def) def3 = parse_ok(inactive, 0);
    g_autoptr(vireo_domain_def) def4 = parse_ok(live, VIREO_DOMAIN_DEF_PARSE_LIVE);
    g_autofree char *live2 = vireo_domain_def_format(def2, 0);
    g_autofree char *inactive3 = vireo_domain_def_format(def3, VIREO_DOMAIN_DEF_FORMAT_INACTIVE);
    g_autofree char *live4 = vireo_domain_def_format(def4, 0);

    /* format(parse(format(x))) == format(x), in every combination. */
    g_assert_cmpstr(live2, ==, live);
    g_assert_cmpstr(inactive3, ==, inactive);
    g_assert_cmpstr(live4, ==, live);
    if (g_file_test(expected_path, G_FILE_TEST_EXISTS)) {
        g_autofree char *expected = corpus_read(expected_file);

        g_assert_cmpstr(live, ==, expected);
    }
    /* What we show clients is valid libvirt XML, and so is the input. */
    if (schema_installed()) {
        g_autoptr(vireo_domain_def) v1 = parse_ok(live, VIREO_DOMAIN_DEF_PARSE_VALIDATE);
        g_autoptr(vireo_domain_def) v2 = parse_ok(inactive, VIREO_DOMAIN_DEF_PARSE_VALIDATE);
        g_autoptr(vireo_domain_def) v3 = parse_ok(xml, VIREO_DOMAIN_DEF_PARSE_VALIDATE);
    }
}

static const struct {
    const char *name;
    int code;
} code_names[] = {
    {"XML_ERROR", VIR_ERR_XML_ERROR}, {"CONFIG_UNSUPPORTED", VIR_ERR_CONFIG_UNSUPPORTED},
    {"NO_NAME", VIR_ERR_NO_NAME},     {"XML_DETAIL", VIR_ERR_XML_DETAIL},
    {"OVERFLOW", VIR_ERR_OVERFLOW},
};

static void test_bad(gconstpointer data)
{
    const char *name = data;
    g_autofree char *file = g_strdup_printf("bad/%s.xml", name);
    g_autofree char *xml = corpus_read(file);
    const char *start = strstr(xml, "<!-- expect: "), *bar, *end;
    g_autofree char *code_name = NULL, *needle = NULL;
    int code = -1;

    /* First line: <!-- expect: CODE | text the message contains --> */
    g_assert_true(start == xml);
    bar = strstr(start, " | ");
    end = strstr(start, " -->");
    g_assert_nonnull(bar);
    g_assert_nonnull(end);
    code_name = g_strndup(start + strlen("<!-- expect: "), bar - start - strlen("<!-- expect: "));
    needle = g_strndup(bar + 3, end - bar - 3);
    for (size_t i = 0; i < G_N_ELEMENTS(code_names); i++) {
        if (!strcmp(code_names[i].name, code_name))
            code = code_names[i].code;
    }
    g_assert_cmpint(code, !=, -1);
    parse_fails(xml, 0, code, needle);
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_corpus_tests(const char *dir, GTestDataFunc func)
{
    g_autofree char *path = corpus_path(dir);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    const char *entry;

    if (!d)
        g_error("corpus directory %s is missing (set VIREO_SRCDIR)", path);
    while ((entry = g_dir_read_name(d))) {
        if (g_str_has_suffix(entry, ".xml") && !g_str_has_suffix(entry, ".expected.xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *test =
            g_strdup_printf("/domain-def/%s/%s", dir, (const char *)names->pdata[i]);

        /* The names live as long as the program. */
        g_test_add_data_func(test, names->pdata[i], func);
    }
}

/* --- value types --- */

static void test_uuid(void)
{
    uint8_t u[16], v[16];
    char s[37];

    g_assert_true(vireo_uuid_parse("6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b6a", u));
    vireo_uuid_format(u, s);
    g_assert_cmpstr(s, ==, "6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b6a");
    g_assert_true(vireo_uuid_parse("6A5B6F4C2A3E4B7E9D0A1F2E3D4C5B6A", v));
    g_assert_cmpmem(u, 16, v, 16);
    g_assert_true(vireo_uuid_parse("  6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b6a\n", v));
    g_assert_cmpmem(u, 16, v, 16);
    g_assert_true(vireo_uuid_parse("6a-5b-6f-4c2a3e4b7e9d0a1f2e3d4c5b6a", v));
    g_assert_cmpmem(u, 16, v, 16);
    g_assert_false(vireo_uuid_parse("", v));
    g_assert_false(vireo_uuid_parse(NULL, v));
    g_assert_false(vireo_uuid_parse("-6a5b6f4c2a3e4b7e9d0a1f2e3d4c5b6a", v));
    g_assert_false(vireo_uuid_parse("6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b6", v));
    g_assert_false(vireo_uuid_parse("6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b6a0", v));
    g_assert_false(vireo_uuid_parse("6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b6g", v));
    g_assert_false(vireo_uuid_parse("6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b6a x", v));
    g_assert_false(vireo_uuid_parse("6a5b6f4c-2a3e-4b7e-9d0a-1f2e3d4c5b-6", v));
    /* Generated: random version 4, RFC 4122 variant, and different each time. */
    vireo_uuid_generate(u);
    vireo_uuid_generate(v);
    g_assert_cmpint(u[6] >> 4, ==, 4);
    g_assert_cmpint(u[8] >> 6, ==, 2);
    g_assert_true(memcmp(u, v, 16) != 0);
    vireo_uuid_format(u, s);
    g_assert_true(g_uuid_string_is_valid(s));
}

static void test_mac(void)
{
    uint8_t m[6], n[6];
    char s[18];

    vireo_mac_generate(m);
    g_assert_cmpint(m[0], ==, 0x52);
    g_assert_cmpint(m[1], ==, 0x54);
    g_assert_cmpint(m[2], ==, 0x00);
    vireo_mac_format(m, s);
    g_assert_true(g_str_has_prefix(s, "52:54:00:"));
    g_assert_true(vireo_mac_parse(s, n));
    g_assert_cmpmem(m, 6, n, 6);
    g_assert_true(vireo_mac_parse("52:54:00:AB:cd:0E", n));
    vireo_mac_format(n, s);
    g_assert_cmpstr(s, ==, "52:54:00:ab:cd:0e");
    g_assert_true(vireo_mac_parse("2-4-0-a-b-c", n));
    vireo_mac_format(n, s);
    g_assert_cmpstr(s, ==, "02:04:00:0a:0b:0c");
    g_assert_false(vireo_mac_parse("52:54:00:ab:cd", n));
    g_assert_false(vireo_mac_parse("52:54:00:ab:cd:ef:01", n));
    g_assert_false(vireo_mac_parse("52:54:00:ab:cd:efg", n));
    g_assert_false(vireo_mac_parse("525400abcdef", n));
    g_assert_false(vireo_mac_parse("", n));
    g_assert_false(vireo_mac_parse(NULL, n));
}

static void test_memory_units(void)
{
    static const struct {
        const char *value, *unit;
        uint64_t kib;
    } good[] = {
        {"1024", NULL, 1024},
        {"1024", "", 1024},
        {"1024", "KiB", 1024},
        {"1024", "k", 1024},
        {"1024", "K", 1024},
        {"1024", "kib", 1024},
        {"1000", "KB", 977}, /* 1,000,000 bytes, rounded up to KiB */
        {"1", "b", 1},
        {"1024", "bytes", 1},
        {"1025", "b", 2},
        {"0", "b", 0},
        {"2", "MiB", 2048},
        {"2", "M", 2048},
        {"2", "MB", 1954},
        {"1", "G", 1048576},
        {"1", "GiB", 1048576},
        {"1", "GB", 976563},
        {"1", "T", 1073741824ull},
        {"1", "TiB", 1073741824ull},
        {"1", "P", 1099511627776ull},
        {"7", "EiB", 7ull << 50},
        {" 42 ", "KiB", 42},
        {"0042", "KiB", 42},
    };
    static const struct {
        const char *value, *unit;
        int code;
    } bad[] = {
        {"", NULL, VIR_ERR_XML_ERROR},
        {"abc", NULL, VIR_ERR_XML_ERROR},
        {"12abc", NULL, VIR_ERR_XML_ERROR},
        {"-1", NULL, VIR_ERR_XML_ERROR},
        {"+1", NULL, VIR_ERR_XML_ERROR},
        {"0x10", NULL, VIR_ERR_XML_ERROR},
        {"1.5", "GiB", VIR_ERR_XML_ERROR},
        {"1", "Q", VIR_ERR_XML_ERROR},
        {"1", "KiBB", VIR_ERR_XML_ERROR},
        {"1", "Kb ", VIR_ERR_XML_ERROR},
        {"1", "iB", VIR_ERR_XML_ERROR},
        {NULL, NULL, VIR_ERR_XML_ERROR},
        {"18446744073709551616", NULL, VIR_ERR_OVERFLOW},
        {"99999999999999999999999999", "b", VIR_ERR_OVERFLOW},
        {"8", "EiB", VIR_ERR_OVERFLOW},
        {"9007199254740992", "KiB", VIR_ERR_OVERFLOW}, /* 2^53 KiB = 2^63 bytes */
    };
    uint64_t kib;

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) err = NULL;

        if (vireo_memory_parse_kib(good[i].value, good[i].unit, &kib, &err) < 0)
            g_error("'%s' '%s': %s", good[i].value, good[i].unit, err->message);
        g_assert_cmpuint(kib, ==, good[i].kib);
    }
    g_assert_cmpint(vireo_memory_parse_kib("9007199254740991", "KiB", &kib, NULL), ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;

        kib = 12345;
        g_assert_cmpint(vireo_memory_parse_kib(bad[i].value, bad[i].unit, &kib, &err), ==, -1);
        g_assert_error(err, VIREO_XML_ERROR, bad[i].code);
        g_assert_cmpuint(kib, ==, 12345);
    }
}

static void test_numbers(void)
{
    uint64_t v;
    unsigned int u;
    bool overflow;

    g_assert_true(vireo_parse_u64("18446744073709551615", 10, &v, &overflow));
    g_assert_cmpuint(v, ==, G_MAXUINT64);
    g_assert_false(vireo_parse_u64("18446744073709551616", 10, &v, &overflow));
    g_assert_true(overflow);
    g_assert_false(vireo_parse_u64("-0", 10, &v, &overflow));
    g_assert_false(overflow);
    g_assert_true(vireo_parse_uint("0x1f", 0, 31, &u));
    g_assert_cmpuint(u, ==, 31);
    g_assert_false(vireo_parse_uint("0x20", 0, 31, &u));
    g_assert_false(vireo_parse_uint("4294967296", 10, G_MAXUINT, &u));
    g_assert_false(vireo_parse_uint("1 2", 10, G_MAXUINT, &u));
}

static void test_names(void)
{
    g_autofree char *long_name = g_strnfill(201, 'a');

    g_assert_true(vireo_domain_name_valid("vm-1"));
    g_assert_true(vireo_domain_name_valid("with space and ünïcode"));
    g_assert_true(vireo_domain_name_valid("..."));
    g_assert_false(vireo_domain_name_valid(""));
    g_assert_false(vireo_domain_name_valid(NULL));
    g_assert_false(vireo_domain_name_valid("a/b"));
    g_assert_false(vireo_domain_name_valid("."));
    g_assert_false(vireo_domain_name_valid(".."));
    g_assert_false(vireo_domain_name_valid("tab\there"));
    g_assert_false(vireo_domain_name_valid("new\nline"));
    g_assert_false(vireo_domain_name_valid(long_name));
    long_name[200] = '\0';
    g_assert_true(vireo_domain_name_valid(long_name));
}

/* --- defaults --- */

static const char *const minimal_xml = "<domain type='kvm'><name>m</name><memory>65536</memory>"
                                       "<os><type>hvm</type></os></domain>";

static void test_defaults(void)
{
    g_autoptr(vireo_domain_def) a = parse_ok(minimal_xml, 0);
    g_autoptr(vireo_domain_def) b = parse_ok(minimal_xml, 0);
    static const uint8_t zero[16] = {0};

    g_assert_cmpstr(a->name, ==, "m");
    g_assert_true(memcmp(a->uuid, zero, 16) != 0);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
    g_assert_cmpuint(a->memory_kib, ==, 65536);
    g_assert_cmpuint(a->current_memory_kib, ==, 65536);
    g_assert_cmpuint(a->vcpus, ==, 1);
    g_assert_cmpuint(a->max_vcpus, ==, 1);
    g_assert_cmpstr(a->os_type, ==, "hvm");
    g_assert_cmpstr(a->arch, ==, "x86_64");
    g_assert_cmpstr(a->machine, ==, VIREO_DEFAULT_MACHINE);
    g_assert_cmpstr(a->clock_offset, ==, "utc");
    g_assert_true(a->acpi);
    g_assert_true(a->apic);
    g_assert_cmpint(a->on_poweroff, ==, VIREO_ACTION_DESTROY);
    g_assert_cmpint(a->on_reboot, ==, VIREO_ACTION_RESTART);
    g_assert_cmpint(a->on_crash, ==, VIREO_ACTION_DESTROY);
    g_assert_cmpint(a->id, ==, -1);
    g_assert_cmpuint(a->disks->len, ==, 0);
    g_assert_false(a->rng);
    g_assert_false(a->vsock);
}

static void test_current_memory_clamped(void)
{
    g_autoptr(vireo_domain_def) def =
        parse_ok("<domain type='kvm'><name>m</name><memory unit='MiB'>64</memory>"
                 "<currentMemory unit='GiB'>1</currentMemory><os><type>hvm</type></os></domain>",
                 0);

    /* As libvirt: more current memory than memory means all of it. */
    g_assert_cmpuint(def->current_memory_kib, ==, 65536);
}

static const char *const devices_xml =
    "<domain type='kvm'><name>d</name><memory>65536</memory><os><type>hvm</type></os>"
    "<devices>"
    "<disk type='file'><source file='/b'/><target dev='vdb'/></disk>"
    "<disk type='file'><source file='/a'/><target dev='vda'/>"
    "<address type='pci' domain='0' bus='0' slot='2' function='0'/></disk>"
    "<interface type='ethernet'/>"
    "<interface type='ethernet'><alias name='ua-nic'/></interface>"
    "<rng model='virtio'><backend model='random'/></rng>"
    "<vsock><cid auto='yes'/></vsock>"
    "<console type='pty'><target type='virtio'/></console>"
    "<console type='pty'/>"
    "</devices></domain>";

static void test_assigned_aliases_and_addresses(void)
{
    g_autoptr(vireo_domain_def) def = parse_ok(devices_xml, 0);
    struct vireo_disk_def *vdb = def->disks->pdata[0], *vda = def->disks->pdata[1];
    struct vireo_net_def *n0 = def->nets->pdata[0], *n1 = def->nets->pdata[1];
    struct vireo_chardev_def *con0 = def->consoles->pdata[0], *con1 = def->consoles->pdata[1];
    struct vireo_chardev_def *serial = def->serials->pdata[0];

    /* Disk aliases follow the target name, as libvirt's. */
    g_assert_cmpstr(vdb->alias, ==, "virtio-disk1");
    g_assert_cmpstr(vda->alias, ==, "virtio-disk0");
    g_assert_cmpstr(n0->alias, ==, "net0");
    g_assert_cmpstr(n1->alias, ==, "ua-nic");
    g_assert_cmpstr(def->rng_alias, ==, "rng0");
    g_assert_cmpstr(def->vsock_alias, ==, "vsock0");
    /* The serial console comes first and is the serial port libvirt adds. */
    g_assert_false(con0->virtio);
    g_assert_true(con1->virtio);
    g_assert_cmpuint(def->serials->len, ==, 1);
    g_assert_cmpstr(serial->alias, ==, "serial0");
    g_assert_cmpstr(con0->alias, ==, "serial0");
    g_assert_cmpstr(con1->alias, ==, "console0");
    /* Slots from 1 in device order, around the one given. */
    g_assert_true(vda->addr.set);
    g_assert_cmpuint(vda->addr.slot, ==, 2);
    g_assert_cmpuint(vdb->addr.slot, ==, 1);
    g_assert_cmpuint(n0->addr.slot, ==, 3);
    g_assert_cmpuint(n1->addr.slot, ==, 4);
    g_assert_cmpuint(def->rng_addr.slot, ==, 5);
    g_assert_cmpuint(def->vsock_addr.slot, ==, 6);
    g_assert_cmpuint(con1->addr.slot, ==, 7);
    g_assert_false(con0->addr.set);
    /* MACs generated with QEMU/KVM's prefix, different per card. */
    g_assert_cmpint(n0->mac[0], ==, 0x52);
    g_assert_cmpint(n1->mac[0], ==, 0x52);
    g_assert_true(def->vsock_auto_cid);
}

static void test_format_live_and_inactive(void)
{
    g_autoptr(vireo_domain_def) def = parse_ok(devices_xml, 0);
    g_autofree char *live = NULL, *inactive = NULL;
    struct vireo_chardev_def *serial = def->serials->pdata[0];
    struct vireo_chardev_def *con0 = def->consoles->pdata[0];

    /* What the driver fills in once the domain runs. */
    def->id = 7;
    def->vsock_cid = 1234;
    serial->path = g_strdup("/dev/pts/9");
    con0->path = g_strdup("/dev/pts/9");
    live = vireo_domain_def_format(def, 0);
    inactive = vireo_domain_def_format(def, VIREO_DOMAIN_DEF_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(live, "<domain type='kvm' id='7'>\n"));
    g_assert_nonnull(strstr(live, "<alias name='virtio-disk0'/>"));
    g_assert_nonnull(strstr(live, "<source path='/dev/pts/9'/>"));
    g_assert_nonnull(strstr(live, "<console type='pty' tty='/dev/pts/9'>"));
    g_assert_nonnull(strstr(live, "<cid auto='yes' address='1234'/>"));
    g_assert_nonnull(strstr(
        live, "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>"));
    g_assert_nonnull(strstr(inactive, "<domain type='kvm'>\n"));
    g_assert_null(strstr(inactive, "virtio-disk0"));
    g_assert_null(strstr(inactive, "/dev/pts/9"));
    g_assert_null(strstr(inactive, "1234"));
    g_assert_nonnull(strstr(inactive, "<alias name='ua-nic'/>"));
    g_assert_nonnull(strstr(inactive, "<cid auto='yes'/>"));
    g_assert_nonnull(strstr(inactive, "slot='0x02'"));
    /* SECURE changes nothing yet: there are no secrets in a definition. */
    g_autofree char *secure = vireo_domain_def_format(def, VIREO_DOMAIN_DEF_FORMAT_SECURE);
    g_assert_cmpstr(secure, ==, live);

    /* Our own status XML keeps the live parts; a definition drops them. */
    g_autoptr(vireo_domain_def) status = parse_ok(live, VIREO_DOMAIN_DEF_PARSE_LIVE);
    g_autoptr(vireo_domain_def) defined = parse_ok(live, 0);
    g_autofree char *status_xml = vireo_domain_def_format(status, 0);
    g_assert_cmpstr(status_xml, ==, live);
    g_assert_cmpint(status->id, ==, 7);
    g_assert_cmpuint(status->vsock_cid, ==, 1234);
    g_assert_cmpint(defined->id, ==, -1);
    g_assert_cmpuint(defined->vsock_cid, ==, 0);
    g_assert_null(((struct vireo_chardev_def *)defined->serials->pdata[0])->path);
}

static void test_live_aliases_kept(void)
{
    const char *xml = "<domain type='kvm'><name>d</name><memory>65536</memory>"
                      "<os><type>hvm</type></os><devices>"
                      "<disk type='file'><source file='/a'/><target dev='vda'/>"
                      "<alias name='hotplugged7'/></disk>"
                      "<disk type='file'><source file='/b'/><target dev='vdb'/>"
                      "<alias name='virtio-disk0'/></disk>"
                      "</devices></domain>";
    g_autoptr(vireo_domain_def) live = parse_ok(xml, VIREO_DOMAIN_DEF_PARSE_LIVE);
    g_autoptr(vireo_domain_def) defined = parse_ok(xml, 0);

    g_assert_cmpstr(((struct vireo_disk_def *)live->disks->pdata[0])->alias, ==, "hotplugged7");
    g_assert_cmpstr(((struct vireo_disk_def *)live->disks->pdata[1])->alias, ==, "virtio-disk0");
    g_assert_cmpstr(((struct vireo_disk_def *)defined->disks->pdata[0])->alias, ==, "virtio-disk0");
    g_assert_cmpstr(((struct vireo_disk_def *)defined->disks->pdata[1])->alias, ==, "virtio-disk1");
    /* In live XML an alias taken by another device is a conflict. */
    parse_fails("<domain type='kvm'><name>d</name><memory>65536</memory>"
                "<os><type>hvm</type></os><devices>"
                "<disk type='file'><source file='/a'/><target dev='vda'/><alias name='x'/></disk>"
                "<rng model='virtio'><backend model='random'/><alias name='x'/></rng>"
                "</devices></domain>",
                VIREO_DOMAIN_DEF_PARSE_LIVE, VIR_ERR_XML_ERROR, "'x'");
}

/* A network's bridge is live state: shown and kept in the status XML, never
 * in a definition, and dropped from one that gives it. */
static void test_network_bridge_live_only(void)
{
    const char *xml = "<domain type='kvm'><name>d</name><memory>65536</memory>"
                      "<os><type>hvm</type></os><devices>"
                      "<interface type='network'><source network='lan' bridge='br9'/>"
                      "<target dev='vnet3'/></interface>"
                      "<interface type='bridge'><source bridge='br8'/></interface>"
                      "</devices></domain>";
    g_autoptr(vireo_domain_def) status = parse_ok(xml, VIREO_DOMAIN_DEF_PARSE_LIVE);
    g_autoptr(vireo_domain_def) defined = parse_ok(xml, 0);
    g_autoptr(vireo_domain_def) copy = vireo_domain_def_copy(status);
    struct vireo_net_def *net = status->nets->pdata[0];
    g_autofree char *live = vireo_domain_def_format(copy, 0);
    g_autofree char *inactive = vireo_domain_def_format(status, VIREO_DOMAIN_DEF_FORMAT_INACTIVE);
    g_autofree char *def_live = vireo_domain_def_format(defined, 0);

    g_assert_cmpstr(net->bridge, ==, "br9");
    g_assert_null(((struct vireo_net_def *)status->nets->pdata[1])->bridge);
    g_assert_null(((struct vireo_net_def *)defined->nets->pdata[0])->bridge);
    g_assert_nonnull(strstr(live, "<source network='lan' bridge='br9'/>\n"));
    g_assert_nonnull(strstr(live, "<source bridge='br8'/>\n"));
    g_assert_nonnull(strstr(inactive, "<source network='lan'/>\n"));
    g_assert_null(strstr(inactive, "br9"));
    g_assert_null(strstr(def_live, "br9"));
}

static void test_console_serial_compat(void)
{
    g_autoptr(vireo_domain_def) a =
        parse_ok("<domain type='kvm'><name>c</name><memory>65536</memory>"
                 "<os><type>hvm</type></os><devices><serial type='pty'/></devices></domain>",
                 0);
    g_autoptr(vireo_domain_def) b =
        parse_ok("<domain type='kvm'><name>c</name><memory>65536</memory><os><type>hvm</type></os>"
                 "<devices><console type='file'><source path='/log'/></console></devices></domain>",
                 0);
    struct vireo_chardev_def *s;

    g_assert_cmpuint(a->serials->len, ==, 1);
    g_assert_cmpuint(a->consoles->len, ==, 0);
    s = a->serials->pdata[0];
    g_assert_cmpint(s->kind, ==, VIREO_CHARDEV_PTY);
    g_assert_cmpstr(s->alias, ==, "serial0");
    /* A lone serial console brings its serial port. */
    g_assert_cmpuint(b->serials->len, ==, 1);
    s = b->serials->pdata[0];
    g_assert_cmpint(s->kind, ==, VIREO_CHARDEV_FILE);
    g_assert_cmpstr(s->path, ==, "/log");
}

/* Found by the domain-xml fuzzer: a second <driver> leaked the first's
 * attributes. The last one counts, and nothing leaks (the ASan layer). */
static void test_repeated_disk_driver(void)
{
    g_autoptr(vireo_domain_def) def = parse_ok(
        "<domain type='kvm'><name>d</name><memory>65536</memory>"
        "<os><type>hvm</type></os><devices><disk type='file'>"
        "<driver name='qemu' type='raw' cache='none' io='native' discard='unmap'/>"
        "<driver name='qemu' type='raw' cache='writeback'/>"
        "<source file='/d.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>",
        0);
    struct vireo_disk_def *disk = def->disks->pdata[0];

    g_assert_cmpstr(disk->cache, ==, "writeback");
    g_assert_null(disk->io);
    g_assert_null(disk->discard);
}

static void test_copy(void)
{
    g_autofree char *xml = corpus_read("good/everything.xml");
    g_autoptr(vireo_domain_def) def = parse_ok(xml, 0);
    g_autoptr(vireo_domain_def) copy = vireo_domain_def_copy(def);
    g_autofree char *a = vireo_domain_def_format(def, 0);
    g_autofree char *b = NULL;

    /* Deep: changing the copy leaves the original alone. */
    g_free(((struct vireo_disk_def *)copy->disks->pdata[0])->source);
    ((struct vireo_disk_def *)copy->disks->pdata[0])->source = g_strdup("/elsewhere");
    g_ptr_array_add(copy->boot_devs, g_strdup("network"));
    b = vireo_domain_def_format(def, 0);
    g_assert_cmpstr(a, ==, b);
    g_clear_pointer(&b, g_free);
    vireo_domain_def_free(g_steal_pointer(&copy));
    copy = vireo_domain_def_copy(def);
    b = vireo_domain_def_format(copy, 0);
    g_assert_cmpstr(a, ==, b);
}

static void test_everything_fields(void)
{
    g_autofree char *xml = corpus_read("good/everything.xml");
    g_autoptr(vireo_domain_def) def = parse_ok(xml, 0);
    struct vireo_disk_def *root = def->disks->pdata[0], *data = def->disks->pdata[1];
    struct vireo_net_def *br = def->nets->pdata[0], *eth = def->nets->pdata[1];
    struct vireo_net_def *user = def->nets->pdata[2], *net = def->nets->pdata[3];
    char uuid[37];

    vireo_uuid_format(def->uuid, uuid);
    g_assert_cmpstr(uuid, ==, "01234567-89ab-cdef-0123-456789abcdef");
    g_assert_cmpstr(def->title, ==, "All & everything <here> 'quoted' \"double\"");
    g_assert_cmpuint(def->memory_kib, ==, 4194304);
    g_assert_cmpuint(def->vcpus, ==, 2);
    g_assert_cmpuint(def->max_vcpus, ==, 8);
    g_assert_cmpstr(def->loader, ==, "/usr/share/cloud-hypervisor/CLOUDHV.fd");
    g_assert_cmpstr(def->loader_type, ==, "pflash");
    g_assert_null(def->kernel);
    g_assert_true(def->pae);
    g_assert_cmpuint(def->features_off->len, ==, 2);
    g_assert_cmpstr(def->clock_offset, ==, "localtime");
    g_assert_cmpint(def->on_poweroff, ==, VIREO_ACTION_PRESERVE);
    g_assert_cmpint(def->on_reboot, ==, VIREO_ACTION_DESTROY);
    g_assert_cmpint(def->on_crash, ==, VIREO_ACTION_RESTART);
    g_assert_true(root->is_block);
    g_assert_cmpstr(root->source, ==, "/dev/vg0/root");
    g_assert_cmpstr(root->serial, ==, "ROOT-0001");
    g_assert_cmpstr(root->cache, ==, "none");
    g_assert_cmpuint(root->boot_order, ==, 1);
    g_assert_cmpuint(root->addr.slot, ==, 7);
    g_assert_false(data->is_block);
    g_assert_true(data->readonly);
    g_assert_cmpint(data->format, ==, VIREO_DISK_RAW);
    g_assert_cmpstr(data->source, ==, "/srv/images/data & more.img");
    g_assert_cmpint(br->type, ==, VIREO_NET_BRIDGE);
    g_assert_cmpstr(br->source, ==, "br0");
    g_assert_cmpstr(br->target_dev, ==, "tap-every0");
    g_assert_cmpuint(br->queues, ==, 4);
    g_assert_cmpuint(br->mtu, ==, 9000);
    g_assert_cmpint(eth->type, ==, VIREO_NET_ETHERNET);
    g_assert_null(eth->target_dev); /* libvirt's own vnetN names are not kept */
    g_assert_cmpint(user->type, ==, VIREO_NET_USER);
    g_assert_cmpint(net->type, ==, VIREO_NET_NETWORK);
    g_assert_cmpstr(net->source, ==, "default");
    g_assert_cmpstr(def->rng_backend, ==, "/dev/random");
    g_assert_true(def->vsock);
    g_assert_false(def->vsock_auto_cid);
    g_assert_cmpuint(def->vsock_cid, ==, 42);
    g_assert_true(def->video_none);
    g_assert_nonnull(strstr(def->seclabel_xml, "model='dac'")
                         ? def->seclabel_xml
                         : strstr(def->seclabel_xml, "model=\"dac\""));
    g_assert_nonnull(strstr(def->metadata_xml, "http://openstack.org/xmlns/libvirt/nova/1.1"));
}

/* --- hostile input --- */

static void test_metadata_verbatim(void)
{
    g_autofree char *xml = corpus_read("good/metadata-deep.xml");
    g_autoptr(vireo_domain_def) def = parse_ok(xml, 0);
    g_autofree char *out = vireo_domain_def_format(def, 0);
    g_autofree char *innermost = g_strdup_printf("<j:n199 a=\"199\">x &amp; y</j:n199>");

    /* The namespace declared on <domain> travels with the metadata. */
    g_assert_nonnull(strstr(def->metadata_xml, "xmlns:j=\"urn:junk\""));
    g_assert_nonnull(strstr(out, innermost));
    g_assert_nonnull(strstr(out, "<other xmlns=\"urn:other\"><x/></other>"));
}

static void test_hostile(void)
{
    g_autoptr(GString) big = g_string_new(NULL);
    g_autoptr(vireo_domain_def) def = NULL;
    g_autofree char *out = NULL;

    /* A 4 MiB description survives. */
    g_string_append(big, "<domain type='kvm'><name>big</name><description>");
    for (int i = 0; i < 4 * 1024; i++)
        g_string_append(big, "0123456789abcdef&amp;<![CDATA[<>]]>"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde");
    g_string_append(big, "</description><memory>65536</memory><os><type>hvm</type></os></domain>");
    def = parse_ok(big->str, 0);
    g_assert_cmpuint(strlen(def->description), ==, 4 * 1024 * (16 + 1 + 2 + 8 * 64 - 1));
    out = vireo_domain_def_format(def, 0);
    g_assert_nonnull(strstr(out, "&amp;&lt;&gt;0123"));

    /* Numbers past every limit. */
    parse_fails("<domain type='kvm'><name>n</name><memory>65536</memory><vcpu>4294967297</vcpu>"
                "<os><type>hvm</type></os></domain>",
                0, VIR_ERR_CONFIG_UNSUPPORTED, "<vcpu>");
    parse_fails("<domain type='kvm'><name>n</name><memory>65536</memory><os><type>hvm</type>"
                "</os><devices><vsock><cid auto='no' address='4294967295'/></vsock></devices>"
                "</domain>",
                0, VIR_ERR_XML_ERROR, "4294967295");
    parse_fails("<domain type='kvm'><name>n</name><memory>65536</memory><os><type>hvm</type>"
                "</os><devices><interface type='ethernet'><driver queues='99999999999999999999'/>"
                "</interface></devices></domain>",
                0, VIR_ERR_XML_ERROR, "queues");
    /* Empty strings where names go. */
    parse_fails("<domain type='kvm'><name></name><memory>65536</memory>"
                "<os><type>hvm</type></os></domain>",
                0, VIR_ERR_NO_NAME, "<name>");
    parse_fails("<domain type=''><name>n</name></domain>", 0, VIR_ERR_CONFIG_UNSUPPORTED,
                "<domain type=''>");
    parse_fails("", 0, VIR_ERR_XML_ERROR, "malformed");
    parse_fails("<domain type='kvm'><name>n</name><memory>65536</memory><os><type>hvm</type>"
                "</os><devices><disk type='file'><source file=''/><target dev='vda'/></disk>"
                "</devices></domain>",
                0, VIR_ERR_XML_ERROR, "<source file=");
    parse_fails("<domain type='kvm'><name>n</name><memory>65536</memory><os><type>hvm</type>"
                "</os><devices><disk type='file'><source file='/a'/><target dev='VDA'/></disk>"
                "</devices></domain>",
                0, VIR_ERR_XML_ERROR, "'VDA'");
    /* An external entity is never fetched (no DTDs at all). */
    parse_fails("<!DOCTYPE d SYSTEM 'file:///etc/passwd'><domain type='kvm'/>", 0,
                VIR_ERR_XML_ERROR, "DOCTYPE");
}

static void test_too_many_pci_devices(void)
{
    g_autoptr(GString) xml = g_string_new("<domain type='kvm'><name>n</name><memory>65536</memory>"
                                          "<os><type>hvm</type></os><devices>");

    for (int i = 0; i < 32; i++)
        g_string_append_printf(xml,
                               "<disk type='file'><source file='/d%d'/>"
                               "<target dev='vd%c%c'/></disk>",
                               i, 'a' + i / 26, 'a' + i % 26);
    g_string_append(xml, "</devices></domain>");
    parse_fails(xml->str, 0, VIR_ERR_CONFIG_UNSUPPORTED, "no PCI slot left");
}

static void test_schema_validation(void)
{
    if (!schema_installed()) {
        g_test_skip("libvirt's domain.rng is not installed");
        return;
    }
    /* Valid to us, not to libvirt: the schema catches what we would not. */
    parse_fails("<domain type='kvm'><name>v</name><memory unit='MiB'>64</memory>"
                "<os><type>hvm</type></os><devices><rng model='virtio'>"
                "<backend model='random'/></rng><bogus-element/></devices></domain>",
                VIREO_DOMAIN_DEF_PARSE_VALIDATE, VIR_ERR_XML_INVALID_SCHEMA, "domain.rng");
    /* A missing schema directory means no validation. */
    g_setenv("VIREO_LIBVIRT_SCHEMA_DIR", "/nonexistent", TRUE);
    {
        g_autoptr(vireo_domain_def) def = parse_ok(minimal_xml, VIREO_DOMAIN_DEF_PARSE_VALIDATE);
    }
    g_unsetenv("VIREO_LIBVIRT_SCHEMA_DIR");
}

static void test_error_quark(void)
{
    g_assert_cmpstr(g_quark_to_string(VIREO_XML_ERROR), ==, "vireo-xml-error-quark");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_corpus_tests("good", test_good);
    add_corpus_tests("bad", test_bad);
    g_test_add_func("/domain-def/uuid", test_uuid);
    g_test_add_func("/domain-def/mac", test_mac);
    g_test_add_func("/domain-def/memory-units", test_memory_units);
    g_test_add_func("/domain-def/numbers", test_numbers);
    g_test_add_func("/domain-def/names", test_names);
    g_test_add_func("/domain-def/defaults", test_defaults);
    g_test_add_func("/domain-def/current-memory-clamped", test_current_memory_clamped);
    g_test_add_func("/domain-def/assigned-aliases-and-addresses",
                    test_assigned_aliases_and_addresses);
    g_test_add_func("/domain-def/format-live-and-inactive", test_format_live_and_inactive);
    g_test_add_func("/domain-def/live-aliases-kept", test_live_aliases_kept);
    g_test_add_func("/domain-def/network-bridge-live-only", test_network_bridge_live_only);
    g_test_add_func("/domain-def/console-serial-compat", test_console_serial_compat);
    g_test_add_func("/domain-def/repeated-disk-driver", test_repeated_disk_driver);
    g_test_add_func("/domain-def/copy", test_copy);
    g_test_add_func("/domain-def/everything-fields", test_everything_fields);
    g_test_add_func("/domain-def/metadata-verbatim", test_metadata_verbatim);
    g_test_add_func("/domain-def/hostile", test_hostile);
    g_test_add_func("/domain-def/too-many-pci-devices", test_too_many_pci_devices);
    g_test_add_func("/domain-def/schema-validation", test_schema_validation);
    g_test_add_func("/domain-def/error-quark", test_error_quark);
    return g_test_run();
}
