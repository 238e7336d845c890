/* Split virtqueue walking for the device side (virtio 1.x, section 2.7). The
 * driver runs concurrently on other CPUs: ring indexes are read with acquire
 * and published with release semantics, and every descriptor is copied out of
 * guest memory once before it is checked and used. */
#include "config.h"

#include "virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* Guest layout (little-endian). */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

#define DESC_SIZE      16u
#define AVAIL_RING_OFF 4u /* flags, idx */
#define USED_RING_OFF  4u
#define USED_ELEM_SIZE 8u

static uint64_t avail_size(uint16_t size)
{
    return AVAIL_RING_OFF + 2ull * size + 2; /* + used_event */
}

static uint64_t used_size(uint16_t size)
{
    return USED_RING_OFF + (uint64_t)USED_ELEM_SIZE * size + 2; /* + avail_event */
}

/* Host pointers to the three areas, or -EFAULT: checked on every use because
 * the addresses come from the driver. Alignment as section 2.7 requires, so
 * that the atomic accesses below are naturally aligned. */
static int ring_ptrs(const struct virtq *q, uint8_t **desc, uint8_t **avail, uint8_t **used)
{
    if (!q->ready || q->size == 0 || (q->size & (q->size - 1)) || q->size > VIRTQ_MAX_SIZE)
        return -EINVAL;
    if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
        return -EINVAL;
    *desc = guest_memory_ptr(q->mem, q->desc_gpa, (uint64_t)DESC_SIZE * q->size);
    *avail = guest_memory_ptr(q->mem, q->avail_gpa, avail_size(q->size));
    *used = guest_memory_ptr(q->mem, q->used_gpa, used_size(q->size));
    if (!*desc || !*avail || !*used)
        return -EFAULT;
    return 0;
}

static uint16_t load16_acquire(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE));
}

static uint16_t load16(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
}

static void store16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELAXED);
}

static void store16_release(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELEASE);
}

static int broken(struct virtq *q, int err)
{
    q->broken = true;
    return err;
}

void virtq_reset(struct virtq *q)
{
    q->next_avail = 0;
    q->next_used = 0;
    q->signalled_used = 0;
    q->signalled_used_valid = false;
    q->broken = false;
}

static void desc_decode(const uint8_t *raw, struct virtq_desc *d)
{
    struct virtq_desc le;

    memcpy(&le, raw, sizeof(le));
    d->addr = le64toh(le.addr);
    d->len = le32toh(le.len);
    d->flags = le16toh(le.flags);
    d->next = le16toh(le.next);
}

/* Appends one buffer to the chain, enforcing the chain rules. */
static int chain_add(const struct virtq *q, struct virtq_chain *chain, const struct virtq_desc *d)
{
    bool writes = d->flags & VIRTQ_DESC_F_WRITE;

    if (chain->nr_bufs >= VIRTQ_MAX_CHAIN)
        return -EINVAL;
    if (!writes && chain->writable_seen)
        return -EINVAL; /* readable after writable (2.7.4.2) */
    if (d->len && !guest_memory_ptr(q->mem, d->addr, d->len))
        return -EFAULT;
    chain->bufs[chain->nr_bufs++] = (struct virtq_buf){d->addr, d->len, writes};
    if (writes) {
        chain->writable += d->len;
        chain->writable_seen = true;
    } else {
        chain->readable += d->len;
    }
    return 0;
}

/* Walks an indirect table: one level only, `next` stays inside the table and
 * no more steps than the table has entries. */
static int walk_indirect(const struct virtq *q, struct virtq_chain *chain,
                         const struct virtq_desc *ind)
{
    uint32_t n;
    const uint8_t *table;
    uint16_t i = 0;

    if (!q->indirect || (ind->flags & VIRTQ_DESC_F_NEXT))
        return -EINVAL;
    if (ind->len == 0 || ind->len % DESC_SIZE)
        return -EINVAL;
    n = ind->len / DESC_SIZE;
    if (n > VIRTQ_MAX_CHAIN)
        return -EINVAL;
    table = guest_memory_ptr(q->mem, ind->addr, ind->len);
    if (!table)
        return -EFAULT;
    for (uint32_t steps = 0;; steps++) {
        struct virtq_desc d;
        int r;

        if (steps >= n)
            return -EINVAL; /* loop */
        desc_decode(table + (size_t)i * DESC_SIZE, &d);
        if (d.flags & VIRTQ_DESC_F_INDIRECT)
            return -EINVAL; /* nested table */
        r = chain_add(q, chain, &d);
        if (r < 0)
            return r;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        if (d.next >= n)
            return -EINVAL;
        i = d.next;
    }
}

static int walk_chain(const struct virtq *q, const uint8_t *desc, uint16_t head,
                      struct virtq_chain *chain)
{
    uint16_t i = head;

    for (uint32_t steps = 0;; steps++) {
        struct virtq_desc d;
        int r;

        if (i >= q->size || steps >= q->size)
            return -EINVAL; /* out of range, or a loop */
        desc_decode(desc + (size_t)i * DESC_SIZE, &d);
        if (d.flags & VIRTQ_DESC_F_INDIRECT)
            return walk_indirect(q, chain, &d);
        r = chain_add(q, chain, &d);
        if (r < 0)
            return r;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        i = d.next;
    }
}

int virtq_pop(struct virtq *q, struct virtq_chain *chain)
{
    uint8_t *desc, *avail, *used;
    uint16_t avail_idx, head;
    int r;

    if (q->broken)
        return -EIO;
    r = ring_ptrs(q, &desc, &avail, &used);
    if (r < 0)
        return broken(q, r);
    /* Acquire: the ring entry and descriptors are read after the index. */
    avail_idx = load16_acquire(avail + 2);
    if (avail_idx == q->next_avail)
        return 0;
    if ((uint16_t)(avail_idx - q->next_avail) > q->size)
        return broken(q, -EINVAL);
    head = load16(avail + AVAIL_RING_OFF + 2u * (q->next_avail & (q->size - 1)));

    chain->head = head;
    chain->nr_bufs = 0;
    chain->readable = 0;
    chain->writable = 0;
    chain->writable_seen = false;
    r = walk_chain(q, desc, head, chain);
    if (r < 0)
        return broken(q, r);
    q->next_avail++;
    return 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
    uint8_t *desc, *avail, *used, *elem;
    uint32_t v;
    int r;

    if (head >= q->size)
        return -EINVAL;
    r = ring_ptrs(q, &desc, &avail, &used);
    if (r < 0)
        return broken(q, r);
    elem = used + USED_RING_OFF + (size_t)USED_ELEM_SIZE * (q->next_used & (q->size - 1));
    v = htole32(head);
    memcpy(elem, &v, 4);
    v = htole32(written);
    memcpy(elem + 4, &v, 4);
    q->next_used++;
    /* Release: the element is visible before the index that publishes it. */
    store16_release(used + 2, q->next_used);
    return 0;
}

/* virtio 1.x 2.7.7.2: notify when new_idx has moved past event since old. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_needs_notification(struct virtq *q)
{
    uint8_t *desc, *avail, *used;
    uint16_t old = q->signalled_used;
    bool valid = q->signalled_used_valid;

    if (ring_ptrs(q, &desc, &avail, &used) < 0)
        return false;
    /* The used idx store must be visible before we read the driver's wish,
     * or both sides may skip the interrupt. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->signalled_used = q->next_used;
    q->signalled_used_valid = true;
    if (old == q->next_used)
        return false; /* nothing pushed since the last decision */
    if (!q->event_idx)
        return !(load16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    if (!valid)
        return true;
    return need_event(load16(avail + AVAIL_RING_OFF + 2u * q->size), q->next_used, old);
}

void virtq_set_notification(struct virtq *q, bool enable)
{
    uint8_t *desc, *avail, *used;

    if (ring_ptrs(q, &desc, &avail, &used) < 0)
        return;
    if (q->event_idx) {
        /* Disabling is implicit: avail_event stays behind once we pass it. */
        if (enable)
            store16(used + USED_RING_OFF + (size_t)USED_ELEM_SIZE * q->size, q->next_avail);
    } else {
        uint16_t flags = load16(used);

        store16(used, enable ? flags & ~VIRTQ_USED_F_NO_NOTIFY : flags | VIRTQ_USED_F_NO_NOTIFY);
    }
    /* Our store must be visible before the caller re-reads avail idx. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_has_available(struct virtq *q)
{
    uint8_t *desc, *avail, *used;

    if (q->broken || ring_ptrs(q, &desc, &avail, &used) < 0)
        return false;
    return load16_acquire(avail + 2) != q->next_avail;
}

uint16_t virtq_wait_for_more(struct virtq *q)
{
    uint8_t *desc, *avail, *used;
    uint16_t seen;

    if (q->broken || ring_ptrs(q, &desc, &avail, &used) < 0)
        return 0;
    seen = load16_acquire(avail + 2);
    if (q->event_idx) {
        store16(used + USED_RING_OFF + (size_t)USED_ELEM_SIZE * q->size, seen);
    } else {
        uint16_t flags = load16(used);

        store16(used, flags & ~VIRTQ_USED_F_NO_NOTIFY);
    }
    /* Our store must be visible before we read avail idx again. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return (uint16_t)(load16_acquire(avail + 2) - q->next_avail);
}
