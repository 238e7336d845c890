/* A pretend virtio driver for unit tests: guest RAM is a plain buffer, and
 * the test lays out descriptor tables and rings in it as a driver would. */
#ifndef VIREO_TESTS_VIRTQ_DRIVER_H
#define VIREO_TESTS_VIRTQ_DRIVER_H

#include <endian.h>
#include <glib.h>
#include <string.h>

#include "guest_memory.h"
#include "virtio/queue.h"

#define DRV_RAM_SIZE    (4u << 20)
#define DRV_DATA_BASE   0x100000u
#define DESC_F_NEXT     1
#define DESC_F_WRITE    2
#define DESC_F_INDIRECT 4

struct drv {
    uint8_t *ram;
    struct guest_memory mem;
    struct virtq q;
    uint16_t avail_idx;
    uint16_t next_desc; /* descriptors are handed out round-robin */
    uint64_t data_next; /* bump allocator for buffers */
};

static inline void drv_init(struct drv *d, uint16_t size, bool event_idx, bool indirect)
{
    memset(d, 0, sizeof(*d));
    d->ram = g_malloc0(DRV_RAM_SIZE);
    d->mem.nr_regions = 1;
    d->mem.regions[0] = (struct guest_region){.gpa = 0, .size = DRV_RAM_SIZE, .hva = d->ram};
    d->q.mem = &d->mem;
    d->q.size = size;
    d->q.desc_gpa = 0x1000;
    d->q.avail_gpa = d->q.desc_gpa + 16u * size;
    d->q.used_gpa = (d->q.avail_gpa + 6u + 2u * size + 4095) & ~4095ull;
    d->q.ready = true;
    d->q.event_idx = event_idx;
    d->q.indirect = indirect;
    d->data_next = DRV_DATA_BASE;
    virtq_reset(&d->q);
}

static inline void drv_free(struct drv *d)
{
    g_free(d->ram);
}

static inline uint64_t drv_alloc(struct drv *d, uint64_t len)
{
    uint64_t at = d->data_next;

    d->data_next = (d->data_next + len + 15) & ~15ull;
    g_assert_cmpuint(d->data_next, <=, DRV_RAM_SIZE);
    return at;
}

static inline void drv_put16(struct drv *d, uint64_t gpa, uint16_t v)
{
    v = htole16(v);
    memcpy(d->ram + gpa, &v, 2);
}

static inline uint16_t drv_get16(struct drv *d, uint64_t gpa)
{
    uint16_t v;

    memcpy(&v, d->ram + gpa, 2);
    return le16toh(v);
}

static inline uint32_t drv_get32(struct drv *d, uint64_t gpa)
{
    uint32_t v;

    memcpy(&v, d->ram + gpa, 4);
    return le32toh(v);
}

/* Writes one descriptor at `table` (the queue's or an indirect table). */
static inline void drv_desc_at(struct drv *d, uint64_t table, uint16_t i, uint64_t addr,
                               uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *p = d->ram + table + 16u * i;
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t f = htole16(flags), n = htole16(next);

    memcpy(p, &a, 8);
    memcpy(p + 8, &l, 4);
    memcpy(p + 12, &f, 2);
    memcpy(p + 14, &n, 2);
}

static inline void drv_desc(struct drv *d, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                            uint16_t next)
{
    drv_desc_at(d, d->q.desc_gpa, i, addr, len, flags, next);
}

static inline void drv_publish(struct drv *d, uint16_t head)
{
    drv_put16(d, d->q.avail_gpa + 4 + 2u * (d->avail_idx & (d->q.size - 1)), head);
    d->avail_idx++;
    drv_put16(d, d->q.avail_gpa + 2, d->avail_idx);
}

struct drv_buf {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

/* Builds a direct chain from consecutive free descriptors and publishes it. */
static inline uint16_t drv_chain(struct drv *d, const struct drv_buf *bufs, unsigned int n)
{
    uint16_t head = d->next_desc % d->q.size;

    for (unsigned int i = 0; i < n; i++) {
        uint16_t idx = (uint16_t)((head + i) % d->q.size);
        uint16_t next = (uint16_t)((head + i + 1) % d->q.size);

        drv_desc(d, idx, bufs[i].gpa, bufs[i].len,
                 (uint16_t)((bufs[i].write ? DESC_F_WRITE : 0) | (i + 1 < n ? DESC_F_NEXT : 0)),
                 i + 1 < n ? next : 0);
    }
    d->next_desc = (uint16_t)(d->next_desc + n);
    drv_publish(d, head);
    return head;
}

static inline uint16_t drv_used_idx(struct drv *d)
{
    return drv_get16(d, d->q.used_gpa + 2);
}

static inline void drv_used_elem(struct drv *d, uint16_t slot, uint32_t *id, uint32_t *len)
{
    uint64_t at = d->q.used_gpa + 4 + 8u * (slot & (d->q.size - 1));

    *id = drv_get32(d, at);
    *len = drv_get32(d, at + 4);
}

#endif
