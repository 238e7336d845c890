/* MSI-X table, PBA and delivery. The table is guarded by a mutex taken only
 * by vCPU threads programming it; devices signalling vectors read one
 * atomic flag per vector ("live": enabled, not function-masked, not masked)
 * and either write the irqfd or set the pending bit. Setting a pending bit
 * and unmasking race without a lock: each side publishes its own store and
 * then looks at the other's (both sequentially consistent), and the pending
 * bit is claimed with an atomic and, so exactly one of them delivers. */
#include "pci/msix.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define ENTRY_ADDR_LO 0
#define ENTRY_ADDR_HI 4
#define ENTRY_DATA    8
#define ENTRY_CTRL    12

#define CAP_CTRL  2
#define CAP_TABLE 4
#define CAP_PBA   8

struct msix_vector {
    uint32_t addr_lo;
    uint32_t addr_hi;
    uint32_t data;
    uint32_t ctrl;
    unsigned int handle;
    int irqfd;
    atomic_bool live;
};

struct msix {
    pthread_mutex_t lock;
    const struct msi_ops *ops;
    void *opaque;
    unsigned int nr;
    uint8_t cap; /* config offset of the capability, 0 before it is added */
    bool enabled;
    bool maskall;
    struct log_ratelimit rl;
    _Atomic uint64_t *pba;
    struct msix_vector vec[];
};

static uint64_t vector_address(const struct msix_vector *v)
{
    return (uint64_t)v->addr_hi << 32 | v->addr_lo;
}

static void deliver(struct msix *m, struct msix_vector *v)
{
    uint64_t one = 1;

    if (v->irqfd >= 0) {
        if (write(v->irqfd, &one, sizeof(one)) < 0) {
            /* EAGAIN: the counter is saturated, an interrupt is on its way. */
        }
        return;
    }
    if (m->ops->trigger)
        m->ops->trigger(m->opaque, v->handle);
}

int msix_new(unsigned int nr_vectors, const struct msi_ops *ops, void *opaque, struct msix **out)
{
    struct msix *m;
    unsigned int i;
    int ret;

    if (nr_vectors == 0 || nr_vectors > MSIX_MAX_VECTORS || !ops || !ops->alloc || !ops->update)
        return -EINVAL;
    m = calloc(1, sizeof(*m) + nr_vectors * sizeof(m->vec[0]));
    if (!m)
        return -ENOMEM;
    m->pba = calloc((nr_vectors + 63) / 64, sizeof(*m->pba));
    if (!m->pba) {
        free(m);
        return -ENOMEM;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->ops = ops;
    m->opaque = opaque;
    m->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
    for (i = 0; i < nr_vectors; i++) {
        struct msix_vector *v = &m->vec[i];
        v->ctrl = MSIX_ENTRY_MASKED;
        v->irqfd = -1;
        atomic_init(&v->live, false);
        ret = ops->alloc(opaque, &v->handle, &v->irqfd);
        if (ret < 0)
            goto fail;
        m->nr++;
    }
    *out = m;
    return 0;
fail:
    msix_free(m);
    return ret;
}

void msix_free(struct msix *m)
{
    if (!m)
        return;
    for (unsigned int i = 0; i < m->nr; i++) {
        if (m->ops->release)
            m->ops->release(m->opaque, m->vec[i].handle);
    }
    pthread_mutex_destroy(&m->lock);
    free(m->pba);
    free(m);
}

unsigned int msix_nr_vectors(const struct msix *m)
{
    return m->nr;
}

uint32_t msix_table_size(const struct msix *m)
{
    return m->nr * MSIX_ENTRY_SIZE;
}

uint32_t msix_pba_size(const struct msix *m)
{
    return (m->nr + 63) / 64 * 8;
}

int msix_add_capability(struct msix *m, struct pci_config *cfg, unsigned int bar,
                        uint32_t table_offset, uint32_t pba_offset)
{
    uint8_t cap[MSIX_CAP_LEN] = {PCI_CAP_ID_MSIX};
    uint8_t wmask[MSIX_CAP_LEN] = {0};
    uint16_t ctrl = m->nr - 1;
    int off;

    if (bar >= PCI_NUM_BARS || (table_offset & 7) || (pba_offset & 7) || m->cap)
        return -EINVAL;
    cap[CAP_CTRL] = ctrl;
    cap[CAP_CTRL + 1] = ctrl >> 8;
    for (int i = 0; i < 4; i++) {
        cap[CAP_TABLE + i] = (table_offset | bar) >> (8 * i);
        cap[CAP_PBA + i] = (pba_offset | bar) >> (8 * i);
    }
    wmask[CAP_CTRL + 1] = (MSIX_CTRL_MASKALL | MSIX_CTRL_ENABLE) >> 8;
    off = pci_config_add_capability(cfg, cap, sizeof(cap), wmask);
    if (off < 0)
        return off;
    m->cap = off;
    return off;
}

static bool entry_live(const struct msix *m, const struct msix_vector *v)
{
    return m->enabled && !m->maskall && !(v->ctrl & MSIX_ENTRY_MASKED);
}

static void pending_deliver(struct msix *m, unsigned int i)
{
    uint64_t bit = 1ull << (i % 64);

    if (atomic_fetch_and(&m->pba[i / 64], ~bit) & bit)
        deliver(m, &m->vec[i]);
}

/* With the lock held, after anything that may change vector i's state or
 * message. `message_changed` asks for a route update even when the live
 * state stays the same. */
static void vector_refresh(struct msix *m, unsigned int i, bool message_changed)
{
    struct msix_vector *v = &m->vec[i];
    bool was = atomic_load(&v->live);
    bool now = entry_live(m, v);
    unsigned int suppressed;
    int ret;

    if (was == now && !(now && message_changed))
        return;
    if (!now) {
        atomic_store(&v->live, false);
        m->ops->update(m->opaque, v->handle, vector_address(v), v->data, true);
        return;
    }
    ret = m->ops->update(m->opaque, v->handle, vector_address(v), v->data, false);
    if (ret < 0) {
        if (log_ratelimit(&m->rl, &suppressed))
            log_warn("msix: vector %u: route update failed: %s (%u suppressed)", i, strerror(-ret),
                     suppressed);
        /* Keep it masked so the interrupt waits in the PBA. */
        atomic_store(&v->live, false);
        return;
    }
    if (!was) {
        atomic_store(&v->live, true);
        pending_deliver(m, i);
    }
}

void msix_config_written(struct msix *m, const struct pci_config *cfg)
{
    uint16_t ctrl;

    if (!m->cap)
        return;
    ctrl = pci_config_get16(cfg, m->cap + CAP_CTRL);
    pthread_mutex_lock(&m->lock);
    m->enabled = ctrl & MSIX_CTRL_ENABLE;
    m->maskall = ctrl & MSIX_CTRL_MASKALL;
    for (unsigned int i = 0; i < m->nr; i++)
        vector_refresh(m, i, false);
    pthread_mutex_unlock(&m->lock);
}

static bool access_ok(uint64_t offset, uint32_t len, uint64_t size)
{
    return (len == 4 || len == 8) && (offset & (len - 1)) == 0 && offset < size &&
           len <= size - offset;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int size)
{
    for (unsigned int i = 0; i < size; i++)
        p[i] = v >> (8 * i);
}

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t *entry_field(struct msix_vector *v, unsigned int field)
{
    switch (field) {
    case ENTRY_ADDR_LO:
        return &v->addr_lo;
    case ENTRY_ADDR_HI:
        return &v->addr_hi;
    case ENTRY_DATA:
        return &v->data;
    default:
        return &v->ctrl;
    }
}

void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len)
{
    if (!access_ok(offset, len, msix_table_size(m))) {
        memset(data, 0xff, len);
        return;
    }
    pthread_mutex_lock(&m->lock);
    for (uint32_t done = 0; done < len; done += 4) {
        uint64_t at = offset + done;
        struct msix_vector *v = &m->vec[at / MSIX_ENTRY_SIZE];
        put_le(data + done, *entry_field(v, at % MSIX_ENTRY_SIZE), 4);
    }
    pthread_mutex_unlock(&m->lock);
}

void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data, uint32_t len)
{
    unsigned int i;
    bool message_changed = false;

    if (!access_ok(offset, len, msix_table_size(m)))
        return;
    i = offset / MSIX_ENTRY_SIZE;
    pthread_mutex_lock(&m->lock);
    for (uint32_t done = 0; done < len; done += 4) {
        unsigned int field = (offset + done) % MSIX_ENTRY_SIZE;
        uint32_t value = get_le32(data + done);
        uint32_t *reg = entry_field(&m->vec[i], field);
        if (field == ENTRY_CTRL)
            value &= MSIX_ENTRY_MASKED; /* the rest is reserved */
        else if (*reg != value)
            message_changed = true;
        *reg = value;
    }
    vector_refresh(m, i, message_changed);
    pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len)
{
    if (!access_ok(offset, len, msix_pba_size(m))) {
        memset(data, 0xff, len);
        return;
    }
    for (uint32_t done = 0; done < len; done += 4) {
        uint64_t at = offset + done;
        uint64_t word = atomic_load(&m->pba[at / 8]);
        put_le(data + done, word >> (8 * (at % 8)), 4);
    }
}

void msix_signal(struct msix *m, unsigned int vector)
{
    struct msix_vector *v;
    uint64_t bit;

    if (vector >= m->nr)
        return;
    v = &m->vec[vector];
    if (atomic_load(&v->live)) {
        deliver(m, v);
        return;
    }
    bit = 1ull << (vector % 64);
    atomic_fetch_or(&m->pba[vector / 64], bit);
    /* Unmasked meanwhile: whoever clears the bit delivers. */
    if (atomic_load(&v->live))
        pending_deliver(m, vector);
}

bool msix_enabled(struct msix *m)
{
    bool on;

    pthread_mutex_lock(&m->lock);
    on = m->enabled;
    pthread_mutex_unlock(&m->lock);
    return on;
}

bool msix_vector_masked(struct msix *m, unsigned int vector)
{
    return vector >= m->nr || !atomic_load(&m->vec[vector].live);
}

bool msix_vector_pending(struct msix *m, unsigned int vector)
{
    return vector < m->nr && (atomic_load(&m->pba[vector / 64]) >> (vector % 64) & 1);
}

void msix_reset(struct msix *m, struct pci_config *cfg)
{
    pthread_mutex_lock(&m->lock);
    m->enabled = false;
    m->maskall = false;
    for (unsigned int i = 0; i < m->nr; i++) {
        struct msix_vector *v = &m->vec[i];
        v->addr_lo = v->addr_hi = v->data = 0;
        v->ctrl = MSIX_ENTRY_MASKED;
        vector_refresh(m, i, false);
    }
    for (unsigned int w = 0; w < (m->nr + 63) / 64; w++)
        atomic_store(&m->pba[w], 0);
    pthread_mutex_unlock(&m->lock);
    if (cfg && m->cap)
        pci_config_set16(cfg, m->cap + CAP_CTRL, m->nr - 1);
}
