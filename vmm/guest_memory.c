/* Bounds-checked translation of guest physical addresses to host pointers. */
#include "guest_memory.h"

#include <errno.h>
#include <string.h>

void *guest_memory_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
    if (len == 0 || gpa + len < gpa)
        return NULL;
    for (unsigned int i = 0; i < mem->nr_regions; i++) {
        const struct guest_region *r = &mem->regions[i];
        if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
            return r->hva + (gpa - r->gpa);
    }
    return NULL;
}

int guest_memory_read(const struct guest_memory *mem, uint64_t gpa, void *buf, size_t len)
{
    const void *src = guest_memory_ptr(mem, gpa, len);

    if (!src)
        return -EFAULT;
    memcpy(buf, src, len);
    return 0;
}

int guest_memory_write(const struct guest_memory *mem, uint64_t gpa, const void *buf, size_t len)
{
    void *dst = guest_memory_ptr(mem, gpa, len);

    if (!dst)
        return -EFAULT;
    memcpy(dst, buf, len);
    return 0;
}
