/* AML encoding (ACPI 6.5, chapter 20): integers with the smallest prefix,
 * name strings, PkgLength, and the few named objects and resource
 * descriptors the DSDT uses. */
#include "acpi/aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AML_NAME_OP        0x08
#define AML_BYTE_PREFIX    0x0a
#define AML_WORD_PREFIX    0x0b
#define AML_DWORD_PREFIX   0x0c
#define AML_STRING_PREFIX  0x0d
#define AML_QWORD_PREFIX   0x0e
#define AML_SCOPE_OP       0x10
#define AML_BUFFER_OP      0x11
#define AML_PACKAGE_OP     0x12
#define AML_METHOD_OP      0x14
#define AML_DUAL_NAME      0x2e
#define AML_MULTI_NAME     0x2f
#define AML_EXT_OP         0x5b
#define AML_EXT_REGION_OP  0x80
#define AML_EXT_FIELD_OP   0x81
#define AML_EXT_DEVICE_OP  0x82
#define AML_ROOT_CHAR      0x5c
#define AML_PARENT_CHAR    0x5e
#define AML_LOCAL0_OP      0x60
#define AML_ARG0_OP        0x68
#define AML_IF_OP          0xa0
#define AML_PKG_LENGTH_MAX ((1u << 28) - 1)

/* Resource descriptor tags (ACPI 6.5, 6.4). */
#define AML_RES_IO             0x47
#define AML_RES_END_TAG        0x79
#define AML_RES_MEMORY32_FIXED 0x86
#define AML_RES_EXT_IRQ        0x89
#define AML_RES_DWORD_ADDRESS  0x87
#define AML_RES_WORD_ADDRESS   0x88
#define AML_RES_QWORD_ADDRESS  0x8a

/* Address space descriptor fields. */
#define AML_ADDR_MEMORY         0
#define AML_ADDR_IO             1
#define AML_ADDR_BUS_NUMBER     2
#define AML_ADDR_PRODUCER_FIXED 0x0c /* producer, positive decode, _MIF, _MAF */
#define AML_ADDR_IO_ENTIRE      0x03
#define AML_ADDR_MEM_RW         0x01
#define AML_ADDR_MEM_CACHEABLE  0x02

void aml_init(struct aml *a)
{
    memset(a, 0, sizeof(*a));
}

void aml_release(struct aml *a)
{
    free(a->buf);
    memset(a, 0, sizeof(*a));
}

int aml_error(const struct aml *a)
{
    return a->err;
}

static void aml_fail(struct aml *a, int err)
{
    if (!a->err)
        a->err = err;
}

static bool aml_reserve(struct aml *a, size_t more)
{
    size_t cap;
    uint8_t *grown;

    if (a->err)
        return false;
    if (a->len + more <= a->cap)
        return true;
    cap = a->cap ? a->cap : 256;
    while (cap < a->len + more)
        cap *= 2;
    grown = realloc(a->buf, cap);
    if (!grown) {
        aml_fail(a, -ENOMEM);
        return false;
    }
    a->buf = grown;
    a->cap = cap;
    return true;
}

void aml_bytes(struct aml *a, const void *data, size_t len)
{
    if (!aml_reserve(a, len))
        return;
    memcpy(a->buf + a->len, data, len);
    a->len += len;
}

static void aml_byte(struct aml *a, uint8_t b)
{
    aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned int size)
{
    uint8_t b[8];

    for (unsigned int i = 0; i < size; i++)
        b[i] = v >> (8 * i);
    aml_bytes(a, b, size);
}

static void aml_insert(struct aml *a, size_t at, const uint8_t *data, size_t len)
{
    if (at > a->len) {
        aml_fail(a, -EINVAL);
        return;
    }
    if (!aml_reserve(a, len))
        return;
    memmove(a->buf + at + len, a->buf + at, a->len - at);
    memcpy(a->buf + at, data, len);
    a->len += len;
}

void aml_op(struct aml *a, enum aml_opcode op)
{
    aml_byte(a, op);
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0)
        aml_byte(a, AML_OP_ZERO);
    else if (v == 1)
        aml_byte(a, AML_OP_ONE);
    else if (v == UINT64_MAX)
        aml_byte(a, AML_OP_ONES);
    else if (v <= UINT8_MAX) {
        aml_byte(a, AML_BYTE_PREFIX);
        aml_le(a, v, 1);
    } else if (v <= UINT16_MAX) {
        aml_byte(a, AML_WORD_PREFIX);
        aml_le(a, v, 2);
    } else if (v <= UINT32_MAX) {
        aml_byte(a, AML_DWORD_PREFIX);
        aml_le(a, v, 4);
    } else {
        aml_byte(a, AML_QWORD_PREFIX);
        aml_le(a, v, 8);
    }
}

void aml_string(struct aml *a, const char *s)
{
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p > 0x7f) {
            aml_fail(a, -EINVAL);
            return;
        }
    }
    aml_byte(a, AML_STRING_PREFIX);
    aml_bytes(a, s, strlen(s) + 1);
}

static int aml_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Compressed EISA id: three 5-bit letters then four hex digits, stored big
 * endian in a DWord. */
void aml_eisaid(struct aml *a, const char *id)
{
    uint32_t v = 0;

    if (strlen(id) != 7) {
        aml_fail(a, -EINVAL);
        return;
    }
    for (int i = 0; i < 3; i++) {
        if (id[i] < 'A' || id[i] > 'Z') {
            aml_fail(a, -EINVAL);
            return;
        }
        v = (v << 5) | (uint32_t)(id[i] - 0x40);
    }
    for (int i = 3; i < 7; i++) {
        int d = aml_hex_digit(id[i]);
        if (d < 0) {
            aml_fail(a, -EINVAL);
            return;
        }
        v = (v << 4) | (uint32_t)d;
    }
    aml_byte(a, AML_DWORD_PREFIX);
    aml_byte(a, v >> 24);
    aml_byte(a, v >> 16);
    aml_byte(a, v >> 8);
    aml_byte(a, v);
}

/* The PkgLength encoding of value: 1 byte up to 63, else a lead byte whose
 * top two bits count the bytes that follow. Returns the size, 0 if too big. */
static size_t aml_pkglen_encode(uint32_t value, uint8_t out[4])
{
    size_t n;

    if (value > AML_PKG_LENGTH_MAX)
        return 0;
    if (value < 0x40) {
        out[0] = value;
        return 1;
    }
    n = value < (1u << 12) ? 2 : value < (1u << 20) ? 3 : 4;
    out[0] = ((n - 1) << 6) | (value & 0xf);
    for (size_t i = 1; i < n; i++)
        out[i] = value >> (4 + 8 * (i - 1));
    return n;
}

void aml_end(struct aml *a, size_t mark)
{
    uint8_t enc[4];
    size_t content, n;

    if (a->err)
        return;
    if (mark > a->len) {
        aml_fail(a, -EINVAL);
        return;
    }
    /* The length counts its own bytes. */
    content = a->len - mark;
    for (n = 1; n <= 4; n++) {
        if (content + n > AML_PKG_LENGTH_MAX)
            break;
        if (aml_pkglen_encode(content + n, enc) == n) {
            aml_insert(a, mark, enc, n);
            return;
        }
    }
    aml_fail(a, -E2BIG);
}

static bool aml_seg_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* One NameSeg from p (up to '.' or the end), padded with '_'. */
static const char *aml_parse_seg(const char *p, char seg[4])
{
    size_t i = 0;

    while (*p && *p != '.') {
        if (i == 4 || !aml_seg_char(*p, i == 0))
            return NULL;
        seg[i++] = *p++;
    }
    if (i == 0)
        return NULL;
    while (i < 4)
        seg[i++] = '_';
    return p;
}

void aml_name_string(struct aml *a, const char *path)
{
    char segs[255][4];
    size_t nr = 0;
    const char *p = path;

    if (*p == '\\') {
        aml_byte(a, AML_ROOT_CHAR);
        p++;
    } else {
        while (*p == '^') {
            aml_byte(a, AML_PARENT_CHAR);
            p++;
        }
    }
    if (*p == '\0') {
        if (p == path) {
            aml_fail(a, -EINVAL);
            return;
        }
        aml_byte(a, 0x00); /* "\" or "^": the prefix and a NullName */
        return;
    }
    for (;;) {
        if (nr == 255 || !(p = aml_parse_seg(p, segs[nr]))) {
            aml_fail(a, -EINVAL);
            return;
        }
        nr++;
        if (*p == '\0')
            break;
        p++; /* '.' */
    }
    if (nr == 2) {
        aml_byte(a, AML_DUAL_NAME);
    } else if (nr > 2) {
        aml_byte(a, AML_MULTI_NAME);
        aml_byte(a, nr);
    }
    aml_bytes(a, segs, 4 * nr);
}

void aml_local(struct aml *a, unsigned int n)
{
    if (n > 7) {
        aml_fail(a, -EINVAL);
        return;
    }
    aml_byte(a, AML_LOCAL0_OP + n);
}

void aml_arg(struct aml *a, unsigned int n)
{
    if (n > 6) {
        aml_fail(a, -EINVAL);
        return;
    }
    aml_byte(a, AML_ARG0_OP + n);
}

void aml_buffer(struct aml *a, const void *data, size_t len)
{
    size_t mark;

    aml_byte(a, AML_BUFFER_OP);
    mark = a->len;
    aml_integer(a, len);
    aml_bytes(a, data, len);
    aml_end(a, mark);
}

void aml_name(struct aml *a, const char *name)
{
    aml_byte(a, AML_NAME_OP);
    aml_name_string(a, name);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
    aml_name(a, name);
    aml_integer(a, v);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
    aml_name(a, name);
    aml_eisaid(a, id);
}

void aml_name_str(struct aml *a, const char *name, const char *s)
{
    aml_name(a, name);
    aml_string(a, s);
}

void aml_notify(struct aml *a, const char *target, uint64_t value)
{
    aml_op(a, AML_OP_NOTIFY);
    aml_name_string(a, target);
    aml_integer(a, value);
}

void aml_operation_region(struct aml *a, const char *name, enum aml_region_space space,
                          uint64_t offset, uint64_t len)
{
    aml_byte(a, AML_EXT_OP);
    aml_byte(a, AML_EXT_REGION_OP);
    aml_name_string(a, name);
    aml_byte(a, space);
    aml_integer(a, offset);
    aml_integer(a, len);
}

void aml_field_entry(struct aml *a, const char *name, unsigned int bits)
{
    char seg[4];
    uint8_t enc[4];
    size_t n;
    const char *end = aml_parse_seg(name, seg);

    /* A field unit's length is a PkgLength that holds the bit count itself. */
    n = aml_pkglen_encode(bits, enc);
    if (!end || *end || bits == 0 || n == 0) {
        aml_fail(a, -EINVAL);
        return;
    }
    aml_bytes(a, seg, 4);
    aml_bytes(a, enc, n);
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
    size_t mark;

    aml_byte(a, AML_SCOPE_OP);
    mark = a->len;
    aml_name_string(a, path);
    return mark;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
    size_t mark;

    aml_byte(a, AML_EXT_OP);
    aml_byte(a, AML_EXT_DEVICE_OP);
    mark = a->len;
    aml_name_string(a, path);
    return mark;
}

size_t aml_method_begin(struct aml *a, const char *name, unsigned int nargs, bool serialized)
{
    size_t mark;

    if (nargs > 7)
        aml_fail(a, -EINVAL);
    aml_byte(a, AML_METHOD_OP);
    mark = a->len;
    aml_name_string(a, name);
    aml_byte(a, (nargs & 7) | (serialized ? 0x08 : 0));
    return mark;
}

size_t aml_if_begin(struct aml *a)
{
    aml_byte(a, AML_IF_OP);
    return a->len;
}

size_t aml_package_begin(struct aml *a, unsigned int nr_elements)
{
    size_t mark;

    if (nr_elements > 255)
        aml_fail(a, -E2BIG); /* would need VarPackage */
    aml_byte(a, AML_PACKAGE_OP);
    mark = a->len;
    aml_byte(a, nr_elements);
    return mark;
}

size_t aml_field_begin(struct aml *a, const char *region, uint8_t flags)
{
    size_t mark;

    aml_byte(a, AML_EXT_OP);
    aml_byte(a, AML_EXT_FIELD_OP);
    mark = a->len;
    aml_name_string(a, region);
    aml_byte(a, flags);
    return mark;
}

size_t aml_resource_template_begin(struct aml *a)
{
    aml_byte(a, AML_BUFFER_OP);
    return a->len;
}

void aml_resource_template_end(struct aml *a, size_t mark)
{
    struct aml size;

    /* End Tag with checksum 0, which means "not checksummed". */
    aml_byte(a, AML_RES_END_TAG);
    aml_byte(a, 0x00);
    if (a->err)
        return;
    if (mark > a->len) {
        aml_fail(a, -EINVAL);
        return;
    }
    aml_init(&size);
    aml_integer(&size, a->len - mark);
    if (size.err)
        aml_fail(a, size.err);
    else
        aml_insert(a, mark, size.buf, size.len);
    aml_release(&size);
    aml_end(a, mark);
}

void aml_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
    uint8_t d[8] = {AML_RES_IO, 0x01 /* Decode16 */, min, min >> 8, max, max >> 8, align, len};

    aml_bytes(a, d, sizeof(d));
}

void aml_memory32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable)
{
    aml_byte(a, AML_RES_MEMORY32_FIXED);
    aml_le(a, 9, 2);
    aml_byte(a, writable ? 0x01 : 0x00);
    aml_le(a, base, 4);
    aml_le(a, len, 4);
}

void aml_interrupt(struct aml *a, uint32_t irq, bool edge, bool active_low, bool shared)
{
    uint8_t flags = 0x01; /* ResourceConsumer */

    if (edge)
        flags |= 0x02;
    if (active_low)
        flags |= 0x04;
    if (shared)
        flags |= 0x08;
    aml_byte(a, AML_RES_EXT_IRQ);
    aml_le(a, 6, 2); /* flags, count, one interrupt */
    aml_byte(a, flags);
    aml_byte(a, 1);
    aml_le(a, irq, 4);
}

/* Word/DWord/QWord Address Space Descriptor: tag, length, resource type,
 * general flags, type-specific flags, then granularity, minimum, maximum,
 * translation offset and length, each `size` bytes. */
static void aml_address_space(struct aml *a, uint8_t tag, unsigned int size, uint8_t type,
                              uint8_t type_flags, uint64_t min, uint64_t max)
{
    if (min > max) {
        aml_fail(a, -EINVAL);
        return;
    }
    aml_byte(a, tag);
    aml_le(a, 3 + 5 * size, 2);
    aml_byte(a, type);
    aml_byte(a, AML_ADDR_PRODUCER_FIXED);
    aml_byte(a, type_flags);
    aml_le(a, 0, size);
    aml_le(a, min, size);
    aml_le(a, max, size);
    aml_le(a, 0, size);
    aml_le(a, max - min + 1, size);
}

static uint8_t aml_mem_flags(bool cacheable, bool writable)
{
    return (cacheable ? AML_ADDR_MEM_CACHEABLE : 0) | (writable ? AML_ADDR_MEM_RW : 0);
}

void aml_word_bus_number(struct aml *a, uint16_t min, uint16_t max)
{
    aml_address_space(a, AML_RES_WORD_ADDRESS, 2, AML_ADDR_BUS_NUMBER, 0, min, max);
}

void aml_word_io(struct aml *a, uint16_t min, uint16_t max)
{
    aml_address_space(a, AML_RES_WORD_ADDRESS, 2, AML_ADDR_IO, AML_ADDR_IO_ENTIRE, min, max);
}

void aml_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool cacheable, bool writable)
{
    aml_address_space(a, AML_RES_DWORD_ADDRESS, 4, AML_ADDR_MEMORY,
                      aml_mem_flags(cacheable, writable), min, max);
}

void aml_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool cacheable, bool writable)
{
    /* A length of 2^64 does not fit the descriptor. */
    if (min == 0 && max == UINT64_MAX) {
        aml_fail(a, -EINVAL);
        return;
    }
    aml_address_space(a, AML_RES_QWORD_ADDRESS, 8, AML_ADDR_MEMORY,
                      aml_mem_flags(cacheable, writable), min, max);
}
