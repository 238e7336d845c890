/* Tests for vmm/acpi/aml.c: encodings checked against byte sequences worked
 * out by hand from the ACPI 6.5 AML grammar (chapter 20) and resource
 * descriptor formats (6.4). */
#include "acpi/aml.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#define assert_aml(a, ...)                                                                         \
    do {                                                                                           \
        const uint8_t expect_[] = {__VA_ARGS__};                                                   \
        g_assert_cmpint(aml_error(a), ==, 0);                                                      \
        g_assert_cmpmem((a)->buf, (a)->len, expect_, sizeof(expect_));                             \
    } while (0)

static void test_integers(void)
{
    struct aml a;

    aml_init(&a);
    aml_integer(&a, 0);          /* ZeroOp */
    aml_integer(&a, 1);          /* OneOp */
    aml_integer(&a, 2);          /* BytePrefix */
    aml_integer(&a, 0xff);       /* still a byte */
    aml_integer(&a, 0x100);      /* WordPrefix */
    aml_integer(&a, 0x12345678); /* DWordPrefix */
    aml_integer(&a, 0x100000000ull);
    aml_integer(&a, UINT64_MAX); /* OnesOp */
    assert_aml(&a, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0c, 0x78, 0x56, 0x34,
               0x12, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff);
    aml_release(&a);
}

static void test_strings_and_eisaid(void)
{
    struct aml a;

    aml_init(&a);
    aml_string(&a, "ACPI0013");
    /* P=0x10 N=0x0e P=0x10 -> 0 10000 01110 10000 = 0x41d0, then 0x0501. */
    aml_eisaid(&a, "PNP0501");
    aml_eisaid(&a, "PNP0C0C");
    assert_aml(&a, 0x0d, 'A', 'C', 'P', 'I', '0', '0', '1', '3', 0x00, 0x0c, 0x41, 0xd0, 0x05, 0x01,
               0x0c, 0x41, 0xd0, 0x0c, 0x0c);
    aml_release(&a);
}

static void test_bad_eisaid_and_strings(void)
{
    const char *bad[] = {"PNP050", "PNP05011", "pnp0501", "PNP05G1", "P1P0501", ""};

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct aml a;
        aml_init(&a);
        aml_eisaid(&a, bad[i]);
        g_assert_cmpint(aml_error(&a), ==, -EINVAL);
        /* The error sticks: nothing more is emitted. */
        aml_integer(&a, 5);
        g_assert_cmpuint(a.len, ==, 0);
        aml_release(&a);
    }
    {
        struct aml a;
        aml_init(&a);
        aml_string(&a, "caf\xc3\xa9");
        g_assert_cmpint(aml_error(&a), ==, -EINVAL);
        aml_release(&a);
    }
}

static void test_name_strings(void)
{
    struct aml a;

    aml_init(&a);
    aml_name_string(&a, "_HID");           /* one NameSeg */
    aml_name_string(&a, "RTC");            /* padded */
    aml_name_string(&a, "\\_SB_.COM1");    /* RootChar DualNamePrefix */
    aml_name_string(&a, "\\_SB.PCI0.S08"); /* MultiNamePrefix count */
    aml_name_string(&a, "^^PWRB");         /* ParentPrefixChar */
    aml_name_string(&a, "\\");             /* RootChar NullName */
    assert_aml(&a, '_', 'H', 'I', 'D', 'R', 'T', 'C', '_', 0x5c, 0x2e, '_', 'S', 'B', '_', 'C', 'O',
               'M', '1', 0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '0', '8',
               '_', 0x5e, 0x5e, 'P', 'W', 'R', 'B', 0x5c, 0x00);
    aml_release(&a);
}

static void test_bad_name_strings(void)
{
    const char *bad[] = {"", "TOOLONG", "1ABC", "ab", "\\_SB_..COM1", "\\_SB_.", "A-B", "^\\X"};

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct aml a;
        aml_init(&a);
        aml_name_string(&a, bad[i]);
        g_assert_cmpint(aml_error(&a), ==, -EINVAL);
        aml_release(&a);
    }
}

static void test_name_and_package(void)
{
    struct aml a;
    size_t pkg;

    aml_init(&a);
    /* Name (\_S5_, Package () { 5, 0 }) */
    aml_name(&a, "\\_S5_");
    pkg = aml_package_begin(&a, 2);
    aml_integer(&a, 5);
    aml_integer(&a, 0);
    aml_end(&a, pkg);
    /* PkgLength counts itself, NumElements and the elements: 1 + 1 + 2 + 1. */
    assert_aml(&a, 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00);
    aml_release(&a);
}

static void test_pkglength_two_bytes(void)
{
    struct aml a;
    uint8_t body[100];
    size_t mark;

    memset(body, 0xa3, sizeof(body)); /* Noop opcodes */
    aml_init(&a);
    mark = aml_scope_begin(&a, "_SB_");
    aml_bytes(&a, body, sizeof(body));
    aml_end(&a, mark);
    /* 4 (name) + 100 + 2 (PkgLength) = 106 = 0x6a: lead 0x40 | 0xa, then 0x06. */
    g_assert_cmpint(aml_error(&a), ==, 0);
    g_assert_cmpuint(a.len, ==, 1 + 2 + 4 + 100);
    g_assert_cmphex(a.buf[0], ==, 0x10);
    g_assert_cmphex(a.buf[1], ==, 0x4a);
    g_assert_cmphex(a.buf[2], ==, 0x06);
    g_assert_cmpmem(a.buf + 3, 4, "_SB_", 4);
    aml_release(&a);

    /* 63 content bytes + 1 would be 64: one byte is no longer enough. */
    aml_init(&a);
    mark = aml_if_begin(&a);
    aml_bytes(&a, body, 63);
    aml_end(&a, mark);
    g_assert_cmphex(a.buf[1], ==, 0x41); /* 65 = 0x41: lead 0x40 | 1, then 0x04 */
    g_assert_cmphex(a.buf[2], ==, 0x04);
    aml_release(&a);
}

static void test_pkglength_three_bytes(void)
{
    struct aml a;
    g_autofree uint8_t *body = g_malloc0(5000);
    size_t mark;

    aml_init(&a);
    mark = aml_if_begin(&a);
    aml_bytes(&a, body, 5000);
    aml_end(&a, mark);
    /* 5003 = 0x138b: lead 0x80 | 0xb, then 0xb8, 0x00... 0x138b >> 4 = 0x138. */
    g_assert_cmphex(a.buf[1], ==, 0x8b);
    g_assert_cmphex(a.buf[2], ==, 0x38);
    g_assert_cmphex(a.buf[3], ==, 0x01);
    aml_release(&a);
}

static void test_device_method_if_notify(void)
{
    struct aml a;
    size_t dev, method, cond;

    aml_init(&a);
    /* Device (PWRB) { Method (_EVT, 1, Serialized) { If (LEqual (Arg0, 5)) { Notify (PWRB, 0x80) }
     * } } */
    dev = aml_device_begin(&a, "PWRB");
    method = aml_method_begin(&a, "_EVT", 1, true);
    cond = aml_if_begin(&a);
    aml_op(&a, AML_OP_LEQUAL);
    aml_arg(&a, 0);
    aml_integer(&a, 5);
    aml_notify(&a, "PWRB", 0x80);
    aml_end(&a, cond);
    aml_end(&a, method);
    aml_end(&a, dev);
    assert_aml(&a, 0x5b, 0x82, 0x19, 'P', 'W', 'R', 'B', /* DeviceOp PkgLength(25) */
               0x14, 0x13, '_', 'E', 'V', 'T', 0x09,     /* MethodOp PkgLength(19) flags */
               0xa0, 0x0c, 0x93, 0x68, 0x0a, 0x05,       /* IfOp PkgLength(12) LEqual Arg0 5 */
               0x86, 'P', 'W', 'R', 'B', 0x0a, 0x80);    /* Notify */
    aml_release(&a);
}

static void test_region_and_field(void)
{
    struct aml a;
    size_t field;

    aml_init(&a);
    aml_operation_region(&a, "GDST", AML_REGION_SYSTEM_MEMORY, 0xfed00000, 4);
    field = aml_field_begin(&a, "GDST", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_AS_ZEROS);
    aml_field_entry(&a, "GDAT", 32);
    aml_field_entry(&a, "WIDE", 64); /* field lengths over 63 bits take two bytes */
    aml_end(&a, field);
    assert_aml(&a, 0x5b, 0x80, 'G', 'D', 'S', 'T', 0x00, 0x0c, 0x00, 0x00, 0xd0, 0xfe, 0x0a, 0x04,
               0x5b, 0x81, 0x11, 'G', 'D', 'S', 'T', 0x43, 'G', 'D', 'A', 'T', 0x20, 'W', 'I', 'D',
               'E', 0x40, 0x04);
    aml_release(&a);

    aml_init(&a);
    aml_field_entry(&a, "GDAT", 0);
    g_assert_cmpint(aml_error(&a), ==, -EINVAL);
    aml_release(&a);
}

static void test_resource_template(void)
{
    struct aml a;
    size_t crs;

    aml_init(&a);
    /* ResourceTemplate () { IO (Decode16, 0x3f8, 0x3f8, 1, 8)
     *                       Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {4}
     *                       Memory32Fixed (ReadWrite, 0xfed00000, 0x10) } */
    crs = aml_resource_template_begin(&a);
    aml_io(&a, 0x3f8, 0x3f8, 1, 8);
    aml_interrupt(&a, 4, true, false, false);
    aml_memory32_fixed(&a, 0xfed00000, 0x10, true);
    aml_resource_template_end(&a, crs);
    /* 8 + 9 + 12 + 2 (end tag) = 31 bytes; BufferSize 0x0a 0x1f; PkgLength 1+2+31 = 34. */
    assert_aml(&a, 0x11, 0x22, 0x0a, 0x1f,                           /* Buffer */
               0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,       /* IO */
               0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00, /* Extended IRQ */
               0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd0, 0xfe, 0x10, 0x00, 0x00,
               0x00,        /* Memory32Fixed */
               0x79, 0x00); /* End Tag */
    aml_release(&a);

    /* Level, active-low, shared. */
    aml_init(&a);
    aml_interrupt(&a, 10, false, true, true);
    assert_aml(&a, 0x89, 0x06, 0x00, 0x0d, 0x01, 0x0a, 0x00, 0x00, 0x00);
    aml_release(&a);
}

static void test_bad_marks_and_limits(void)
{
    struct aml a;

    aml_init(&a);
    aml_integer(&a, 2);
    aml_end(&a, 100); /* a mark past the end */
    g_assert_cmpint(aml_error(&a), ==, -EINVAL);
    aml_release(&a);

    aml_init(&a);
    aml_local(&a, 8);
    g_assert_cmpint(aml_error(&a), ==, -EINVAL);
    aml_release(&a);

    aml_init(&a);
    aml_arg(&a, 7);
    g_assert_cmpint(aml_error(&a), ==, -EINVAL);
    aml_release(&a);

    aml_init(&a);
    (void)aml_package_begin(&a, 256);
    g_assert_cmpint(aml_error(&a), ==, -E2BIG);
    aml_release(&a);

    aml_init(&a);
    (void)aml_method_begin(&a, "_EVT", 8, false);
    g_assert_cmpint(aml_error(&a), ==, -EINVAL);
    aml_release(&a);
}

static void test_address_space_descriptors(void)
{
    struct aml a;

    /* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0, 0, 1) */
    aml_init(&a);
    aml_word_bus_number(&a, 0, 0);
    assert_aml(&a, 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
               0x00, 0x01, 0x00);
    aml_release(&a);

    /* WordIO (..., EntireRange, 0, 0x0d00, 0xffff, 0, 0xf300) */
    aml_init(&a);
    aml_word_io(&a, 0x0d00, 0xffff);
    assert_aml(&a, 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00,
               0x00, 0x00, 0xf3);
    aml_release(&a);

    /* DWordMemory (..., NonCacheable, ReadWrite, 0, 0xc0000000, 0xe7ffffff, 0, 0x28000000) */
    aml_init(&a);
    aml_dword_memory(&a, 0xc0000000, 0xe7ffffff, false, true);
    assert_aml(&a, 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
               0xc0, 0xff, 0xff, 0xff, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28);
    aml_release(&a);

    /* QWordMemory (..., Cacheable, ReadWrite, 0, 0x100000000, 0x1ffffffff, 0, 0x100000000) */
    aml_init(&a);
    aml_qword_memory(&a, 0x100000000ull, 0x1ffffffffull, true, true);
    assert_aml(&a, 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03, /* header, flags */
               0, 0, 0, 0, 0, 0, 0, 0,                 /* granularity */
               0, 0, 0, 0, 1, 0, 0, 0,                 /* min */
               0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0,     /* max */
               0, 0, 0, 0, 0, 0, 0, 0,                 /* translation */
               0, 0, 0, 0, 1, 0, 0, 0);                /* length */
    aml_release(&a);

    /* Read-only, non-cacheable. */
    aml_init(&a);
    aml_dword_memory(&a, 0x1000, 0x1fff, false, false);
    g_assert_cmpint(aml_error(&a), ==, 0);
    g_assert_cmpuint(a.buf[5], ==, 0x00);
    aml_release(&a);
}

static void test_bad_address_space_descriptors(void)
{
    struct aml a;

    aml_init(&a);
    aml_word_io(&a, 0x100, 0xff); /* max below min */
    g_assert_cmpint(aml_error(&a), ==, -EINVAL);
    g_assert_cmpuint(a.len, ==, 0);
    aml_release(&a);

    aml_init(&a);
    aml_qword_memory(&a, 0, UINT64_MAX, false, true); /* length would be 2^64 */
    g_assert_cmpint(aml_error(&a), ==, -EINVAL);
    aml_release(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/aml/integers", test_integers);
    g_test_add_func("/aml/strings-and-eisaid", test_strings_and_eisaid);
    g_test_add_func("/aml/bad-eisaid-and-strings", test_bad_eisaid_and_strings);
    g_test_add_func("/aml/name-strings", test_name_strings);
    g_test_add_func("/aml/bad-name-strings", test_bad_name_strings);
    g_test_add_func("/aml/name-and-package", test_name_and_package);
    g_test_add_func("/aml/pkglength-two-bytes", test_pkglength_two_bytes);
    g_test_add_func("/aml/pkglength-three-bytes", test_pkglength_three_bytes);
    g_test_add_func("/aml/device-method-if-notify", test_device_method_if_notify);
    g_test_add_func("/aml/region-and-field", test_region_and_field);
    g_test_add_func("/aml/resource-template", test_resource_template);
    g_test_add_func("/aml/bad-marks-and-limits", test_bad_marks_and_limits);
    g_test_add_func("/aml/address-space-descriptors", test_address_space_descriptors);
    g_test_add_func("/aml/bad-address-space-descriptors", test_bad_address_space_descriptors);
    return g_test_run();
}
