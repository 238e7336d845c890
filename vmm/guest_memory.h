/* Guest physical memory: the only way any code reaches guest RAM. Every
 * access names a guest address and a length and is checked against the
 * regions before a host pointer is handed out. */
#ifndef VIREO_VMM_GUEST_MEMORY_H
#define VIREO_VMM_GUEST_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEMORY_MAX_REGIONS 8

struct guest_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *hva;
};

struct guest_memory {
    struct guest_region regions[GUEST_MEMORY_MAX_REGIONS];
    unsigned int nr_regions;
};

/* A host pointer to [gpa, gpa + len) when that whole range lies inside one
 * region, NULL otherwise (including on overflow of gpa + len). */
void *guest_memory_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copies that fail with -EFAULT when the range is not entirely guest RAM. */
int guest_memory_read(const struct guest_memory *mem, uint64_t gpa, void *buf, size_t len)
    __attribute__((warn_unused_result));
int guest_memory_write(const struct guest_memory *mem, uint64_t gpa, const void *buf, size_t len)
    __attribute__((warn_unused_result));

#endif
