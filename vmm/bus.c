/* A bus is a sorted array of non-overlapping ranges; lookups take a read
 * lock so vCPU threads dispatch in parallel while hotplug can still add or
 * remove a device. */
#include "bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bus_range {
    uint64_t base;
    uint64_t len;
    const struct bus_ops *ops;
    void *opaque;
};

struct bus {
    pthread_rwlock_t lock;
    struct bus_range *ranges;
    size_t nr;
    size_t cap;
    char name[16];
};

struct bus *bus_new(const char *name)
{
    struct bus *bus = calloc(1, sizeof(*bus));

    if (!bus)
        return NULL;
    pthread_rwlock_init(&bus->lock, NULL);
    strncpy(bus->name, name, sizeof(bus->name) - 1);
    return bus;
}

void bus_free(struct bus *bus)
{
    if (!bus)
        return;
    pthread_rwlock_destroy(&bus->lock);
    free(bus->ranges);
    free(bus);
}

/* Index of the first range whose end is above addr. */
static size_t bus_lower_bound(const struct bus *bus, uint64_t addr)
{
    size_t lo = 0, hi = bus->nr;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct bus_range *r = &bus->ranges[mid];
        if (r->base + r->len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
                 void *opaque)
{
    size_t at;
    int ret = 0;

    if (len == 0 || base + len < base || !ops)
        return -EINVAL;
    pthread_rwlock_wrlock(&bus->lock);
    at = bus_lower_bound(bus, base);
    if (at < bus->nr && bus->ranges[at].base < base + len) {
        ret = -EEXIST;
        goto out;
    }
    if (bus->nr == bus->cap) {
        size_t cap = bus->cap ? bus->cap * 2 : 16;
        struct bus_range *grown = realloc(bus->ranges, cap * sizeof(*grown));
        if (!grown) {
            ret = -ENOMEM;
            goto out;
        }
        bus->ranges = grown;
        bus->cap = cap;
    }
    memmove(&bus->ranges[at + 1], &bus->ranges[at], (bus->nr - at) * sizeof(*bus->ranges));
    bus->ranges[at] = (struct bus_range){base, len, ops, opaque};
    bus->nr++;
out:
    pthread_rwlock_unlock(&bus->lock);
    return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
    size_t at;
    int ret = -ENOENT;

    pthread_rwlock_wrlock(&bus->lock);
    at = bus_lower_bound(bus, base);
    if (at < bus->nr && bus->ranges[at].base == base) {
        memmove(&bus->ranges[at], &bus->ranges[at + 1], (bus->nr - at - 1) * sizeof(*bus->ranges));
        bus->nr--;
        ret = 0;
    }
    pthread_rwlock_unlock(&bus->lock);
    return ret;
}

/* An access that straddles the end of a range is not the device's. */
static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, uint32_t len)
{
    size_t at = bus_lower_bound(bus, addr);

    if (at == bus->nr)
        return NULL;
    const struct bus_range *r = &bus->ranges[at];
    if (addr < r->base || len > r->len || addr - r->base > r->len - len)
        return NULL;
    return r;
}

bool bus_read(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len)
{
    const struct bus_range *r;
    bool found = false;

    pthread_rwlock_rdlock(&bus->lock);
    r = bus_find(bus, addr, len);
    if (r && r->ops->read) {
        r->ops->read(r->opaque, addr - r->base, data, len);
        found = true;
    }
    pthread_rwlock_unlock(&bus->lock);
    if (!found)
        memset(data, 0xff, len);
    return found;
}

bool bus_write(struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len)
{
    const struct bus_range *r;
    bool found = false;

    pthread_rwlock_rdlock(&bus->lock);
    r = bus_find(bus, addr, len);
    if (r) {
        if (r->ops->write)
            r->ops->write(r->opaque, addr - r->base, data, len);
        found = true;
    }
    pthread_rwlock_unlock(&bus->lock);
    return found;
}
