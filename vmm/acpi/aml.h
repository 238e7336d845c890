/* A small AML byte-code writer: just the terms Vireo's DSDT needs. Terms
 * are emitted in prefix order into one growing buffer; nested terms
 * (Scope, Device, Method, If, Package, Field, ResourceTemplate) are opened
 * with a *_begin() that returns a mark and closed with aml_end(), which
 * inserts the PkgLength once the contents are known. */
#ifndef VIREO_VMM_ACPI_AML_H
#define VIREO_VMM_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes used with aml_op() to build expressions in prefix order, e.g.
 * LEqual (And (Local0, 8), 8) is
 * aml_op(LEQUAL) aml_op(AND) aml_local(0) aml_integer(8) aml_op(ZERO) aml_integer(8). */
enum aml_opcode {
    AML_OP_ZERO = 0x00, /* also NullName: "no target" */
    AML_OP_ONE = 0x01,
    AML_OP_STORE = 0x70,
    AML_OP_AND = 0x7b,
    AML_OP_OR = 0x7d,
    AML_OP_NOTIFY = 0x86,
    AML_OP_LAND = 0x90,
    AML_OP_LEQUAL = 0x93,
    AML_OP_LNOT = 0x92,
    AML_OP_RETURN = 0xa4,
    AML_OP_ONES = 0xff,
};

enum aml_region_space {
    AML_REGION_SYSTEM_MEMORY = 0x00,
    AML_REGION_SYSTEM_IO = 0x01,
};

/* FieldFlags: access type | lock rule | update rule. */
enum aml_field_flags {
    AML_FIELD_ANY_ACC = 0x00,
    AML_FIELD_BYTE_ACC = 0x01,
    AML_FIELD_WORD_ACC = 0x02,
    AML_FIELD_DWORD_ACC = 0x03,
    AML_FIELD_QWORD_ACC = 0x04,
    AML_FIELD_LOCK = 0x10,
    AML_FIELD_PRESERVE = 0x00,
    AML_FIELD_WRITE_AS_ONES = 0x20,
    AML_FIELD_WRITE_AS_ZEROS = 0x40,
};

struct aml {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int err; /* first failure (-ENOMEM, -EINVAL, -E2BIG); later calls do nothing */
};

void aml_init(struct aml *a);
void aml_release(struct aml *a);
/* 0, or the first error any call on this buffer met. */
int aml_error(const struct aml *a) __attribute__((warn_unused_result));

/* Raw bytes, for callers that know the encoding. */
void aml_bytes(struct aml *a, const void *data, size_t len);
void aml_op(struct aml *a, enum aml_opcode op);

/* Data objects. */
void aml_integer(struct aml *a, uint64_t v); /* Zero/One/Ones or the smallest prefix */
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id); /* "PNP0501": 3 letters, 4 hex digits */
void aml_buffer(struct aml *a, const void *data, size_t len);
/* "\_SB_.COM1", "^PWRB", "_HID", "GED": segments shorter than 4 are padded with '_'. */
void aml_name_string(struct aml *a, const char *path);
void aml_local(struct aml *a, unsigned int n); /* Local0..Local7 */
void aml_arg(struct aml *a, unsigned int n);   /* Arg0..Arg6 */

/* Name (name, ...): the caller emits the value next. */
void aml_name(struct aml *a, const char *name);
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
void aml_name_eisaid(struct aml *a, const char *name, const char *id);
void aml_name_str(struct aml *a, const char *name, const char *s);

/* Statements. */
void aml_notify(struct aml *a, const char *target, uint64_t value);
void aml_operation_region(struct aml *a, const char *name, enum aml_region_space space,
                          uint64_t offset, uint64_t len);
void aml_field_entry(struct aml *a, const char *name, unsigned int bits);

/* Nested terms. Each returns a mark for aml_end(); close innermost first. */
size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *path);
size_t aml_method_begin(struct aml *a, const char *name, unsigned int nargs, bool serialized);
size_t aml_if_begin(struct aml *a); /* then the predicate, then the body */
size_t aml_package_begin(struct aml *a, unsigned int nr_elements);
size_t aml_field_begin(struct aml *a, const char *region, uint8_t flags);
void aml_end(struct aml *a, size_t mark);

/* ResourceTemplate () { ... }: a Buffer of resource descriptors ending in
 * an End Tag, which aml_resource_template_end() appends. */
size_t aml_resource_template_begin(struct aml *a);
void aml_resource_template_end(struct aml *a, size_t mark);
void aml_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len); /* Decode16 */
void aml_memory32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable);
/* Interrupt (ResourceConsumer, Edge|Level, ActiveHigh|ActiveLow, Exclusive|Shared) {irq} */
void aml_interrupt(struct aml *a, uint32_t irq, bool edge, bool active_low, bool shared);
/* Address space descriptors (ACPI 6.5, 6.4.3.5) as a bridge produces them:
 * ResourceProducer, PosDecode, MinFixed, MaxFixed, granularity and
 * translation 0, length max - min + 1 (min <= max). */
void aml_word_bus_number(struct aml *a, uint16_t min, uint16_t max);
void aml_word_io(struct aml *a, uint16_t min, uint16_t max); /* EntireRange */
void aml_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool cacheable, bool writable);
void aml_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool cacheable, bool writable);

#endif
