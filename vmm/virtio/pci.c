/* virtio-pci modern transport. vCPU threads reach it through config space
 * (with the PCI bus's lock held) and BAR 0 (under our own mutex); device
 * workers only call the interrupt signal, which takes no lock: it reads the
 * queue's MSI-X vector atomically and hands it to msix_signal(). */
#include "virtio/pci.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "pci/msix.h"

/* struct virtio_pci_cap and friends. */
#define CAP_LEN          16
#define CAP_NOTIFY_LEN   20
#define CAP_PCI_CFG_LEN  20
#define CAP_CFG_TYPE     3
#define CAP_BAR          4
#define CAP_OFFSET       8
#define CAP_LENGTH       12
#define CAP_NOTIFY_MULT  16
#define CAP_PCI_CFG_DATA 16

#define VIRTIO_PCI_REVISION 1
#define NOTIFY_LEN          2 /* the driver writes the 16-bit queue index */

struct vp_queue {
    uint16_t size;
    _Atomic uint16_t vector;
    bool enabled;
    uint64_t desc, driver, device;
};

struct virtio_pci {
    pthread_mutex_t lock;
    struct virtio_device vdev;
    struct virtio_pci_env env;
    struct pci_config cfg;
    struct msix *msix;
    uint8_t msix_cap;
    uint8_t pci_cfg_cap;
    unsigned int nr_queues;
    uint32_t config_size;

    uint64_t device_features;
    uint64_t driver_features;
    uint32_t device_feature_select;
    uint32_t driver_feature_select;
    _Atomic uint16_t config_vector;
    uint8_t status;
    _Atomic uint8_t config_generation;
    _Atomic uint8_t isr;
    uint16_t queue_select;
    struct vp_queue *queues;
    int *kick_fds;
    struct virtq *virtqs; /* handed to the device on activation */
    bool active;

    uint64_t bar_addr; /* where BAR 0 decodes, for the ioeventfds */
    struct log_ratelimit rl;
};

static void put_le(uint8_t *p, uint64_t v, unsigned int size)
{
    for (unsigned int i = 0; i < size; i++)
        p[i] = v >> (8 * i);
}

static uint64_t get_le(const uint8_t *p, unsigned int size)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void vp_warn(struct virtio_pci *vp, const char *what)
{
    unsigned int suppressed;

    if (log_ratelimit(&vp->rl, &suppressed))
        log_warn("virtio-pci %s: %s (%u suppressed)", vp->vdev.id, what, suppressed);
}

/* --- interrupts (any thread, no lock) --- */

static void vp_signal(void *opaque, unsigned int queue)
{
    struct virtio_pci *vp = opaque;
    uint16_t vector;

    if (queue == VIRTIO_INTERRUPT_CONFIG) {
        atomic_fetch_add(&vp->config_generation, 1);
        atomic_fetch_or(&vp->isr, VIRTIO_ISR_CONFIG);
        vector = atomic_load(&vp->config_vector);
    } else {
        if (queue >= vp->nr_queues)
            return;
        vector = atomic_load(&vp->queues[queue].vector);
        if (vector == VIRTIO_MSI_NO_VECTOR)
            atomic_fetch_or(&vp->isr, VIRTIO_ISR_QUEUE);
    }
    if (vector != VIRTIO_MSI_NO_VECTOR)
        msix_signal(vp->msix, vector);
}

/* --- reset, negotiation, activation (lock held) --- */

static void vp_drain_kicks(struct virtio_pci *vp)
{
    uint64_t count;

    for (unsigned int i = 0; i < vp->nr_queues; i++) {
        if (read(vp->kick_fds[i], &count, sizeof(count)) < 0) {
            /* EAGAIN: nothing pending. */
        }
    }
}

static void vp_reset_locked(struct virtio_pci *vp)
{
    if (vp->active) {
        vp->vdev.ops->reset(vp->vdev.dev);
        vp->active = false;
        if (vp->env.activity)
            vp->env.activity(vp->env.activity_opaque, vp->vdev.id, false);
    }
    vp->status = 0;
    vp->driver_features = 0;
    vp->device_feature_select = 0;
    vp->driver_feature_select = 0;
    vp->queue_select = 0;
    atomic_store(&vp->config_vector, VIRTIO_MSI_NO_VECTOR);
    atomic_store(&vp->isr, 0);
    for (unsigned int i = 0; i < vp->nr_queues; i++) {
        struct vp_queue *q = &vp->queues[i];
        q->size = vp->vdev.max_queue_size;
        atomic_store(&q->vector, VIRTIO_MSI_NO_VECTOR);
        q->enabled = false;
        q->desc = q->driver = q->device = 0;
    }
    memset(vp->virtqs, 0, vp->nr_queues * sizeof(*vp->virtqs));
    vp_drain_kicks(vp);
}

static bool vp_features_ok(const struct virtio_pci *vp)
{
    if (vp->driver_features & ~vp->device_features)
        return false;
    return vp->driver_features & (1ull << VIRTIO_F_VERSION_1);
}

static bool is_power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Section 2.7: alignment and sizes of the three areas, all in guest RAM. */
static bool vp_queue_valid(const struct virtio_pci *vp, const struct vp_queue *q)
{
    uint64_t size = q->size;

    if (!is_power_of_two(size) || size > vp->vdev.max_queue_size || size > VIRTQ_MAX_SIZE)
        return false;
    if ((q->desc & 15) || (q->driver & 1) || (q->device & 3))
        return false;
    return guest_memory_ptr(vp->env.mem, q->desc, 16 * size) &&
           guest_memory_ptr(vp->env.mem, q->driver, 6 + 2 * size) &&
           guest_memory_ptr(vp->env.mem, q->device, 6 + 8 * size);
}

static int vp_activate(struct virtio_pci *vp)
{
    struct virtio_activation act = {
        .mem = vp->env.mem,
        .features = vp->driver_features,
        .queues = vp->virtqs,
        .kick_fds = vp->kick_fds,
        .interrupt = {.signal = vp_signal, .opaque = vp},
    };

    for (unsigned int i = 0; i < vp->nr_queues; i++) {
        const struct vp_queue *q = &vp->queues[i];
        struct virtq *vq = &vp->virtqs[i];

        memset(vq, 0, sizeof(*vq));
        if (!q->enabled)
            continue;
        if (!vp_queue_valid(vp, q))
            return -EINVAL;
        vq->mem = vp->env.mem;
        vq->size = q->size;
        vq->desc_gpa = q->desc;
        vq->avail_gpa = q->driver;
        vq->used_gpa = q->device;
        vq->ready = true;
        vq->event_idx = vp->driver_features & (1ull << VIRTIO_F_EVENT_IDX);
        vq->indirect = vp->driver_features & (1ull << VIRTIO_F_INDIRECT_DESC);
        act.nr_queues = i + 1;
    }
    return vp->vdev.ops->activate(vp->vdev.dev, &act);
}

static void vp_needs_reset(struct virtio_pci *vp)
{
    vp->status |= VIRTIO_STATUS_NEEDS_RESET;
    vp_signal(vp, VIRTIO_INTERRUPT_CONFIG);
}

static void vp_write_status(struct virtio_pci *vp, uint8_t value)
{
    uint8_t old = vp->status;
    uint8_t added;
    int ret;

    if (value == 0) {
        vp_reset_locked(vp);
        return;
    }
    value &= ~VIRTIO_STATUS_NEEDS_RESET; /* only the device sets it */
    if ((old & ~VIRTIO_STATUS_NEEDS_RESET) & ~value) {
        vp_warn(vp, "driver cleared status bits without a reset; ignored");
        return;
    }
    added = value & ~old;
    if ((added & VIRTIO_STATUS_FEATURES_OK) &&
        (!(value & VIRTIO_STATUS_ACKNOWLEDGE) || !(value & VIRTIO_STATUS_DRIVER) ||
         !vp_features_ok(vp))) {
        /* The driver reads FEATURES_OK back and gives up. */
        value &= ~VIRTIO_STATUS_FEATURES_OK;
        added &= ~VIRTIO_STATUS_FEATURES_OK;
        log_info("virtio-pci %s: refused features 0x%" PRIx64 " (offered 0x%" PRIx64 ")",
                 vp->vdev.id, vp->driver_features, vp->device_features);
    }
    vp->status = value | (old & VIRTIO_STATUS_NEEDS_RESET);
    if (!(added & VIRTIO_STATUS_DRIVER_OK) || (vp->status & VIRTIO_STATUS_FAILED))
        return;
    if (!(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
        vp_warn(vp, "DRIVER_OK without FEATURES_OK");
        vp_needs_reset(vp);
        return;
    }
    if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    ret = vp_activate(vp);
    if (ret < 0) {
        vp_warn(vp, ret == -EINVAL ? "bad queue size or address: device needs reset"
                                   : "device failed to start: device needs reset");
        vp_needs_reset(vp);
        return;
    }
    vp->active = true;
    log_debug("virtio-pci %s: activated", vp->vdev.id);
    if (vp->env.activity)
        vp->env.activity(vp->env.activity_opaque, vp->vdev.id, true);
}

/* --- common configuration (lock held) --- */

static struct vp_queue *vp_selected(struct virtio_pci *vp)
{
    return vp->queue_select < vp->nr_queues ? &vp->queues[vp->queue_select] : NULL;
}

static void vp_common_image(struct virtio_pci *vp, uint8_t img[VIRTIO_PCI_COMMON_SIZE])
{
    const struct vp_queue *q = vp_selected(vp);
    uint32_t df =
        vp->device_feature_select < 2 ? vp->device_features >> (32 * vp->device_feature_select) : 0;
    uint32_t gf =
        vp->driver_feature_select < 2 ? vp->driver_features >> (32 * vp->driver_feature_select) : 0;

    memset(img, 0, VIRTIO_PCI_COMMON_SIZE);
    put_le(img + VIRTIO_PCI_COMMON_DFSELECT, vp->device_feature_select, 4);
    put_le(img + VIRTIO_PCI_COMMON_DF, df, 4);
    put_le(img + VIRTIO_PCI_COMMON_GFSELECT, vp->driver_feature_select, 4);
    put_le(img + VIRTIO_PCI_COMMON_GF, gf, 4);
    put_le(img + VIRTIO_PCI_COMMON_MSIX, atomic_load(&vp->config_vector), 2);
    put_le(img + VIRTIO_PCI_COMMON_NUMQ, vp->nr_queues, 2);
    img[VIRTIO_PCI_COMMON_STATUS] = vp->status;
    img[VIRTIO_PCI_COMMON_CFGGENERATION] = atomic_load(&vp->config_generation);
    put_le(img + VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select, 2);
    if (!q) {
        put_le(img + VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
        return;
    }
    put_le(img + VIRTIO_PCI_COMMON_Q_SIZE, q->size, 2);
    put_le(img + VIRTIO_PCI_COMMON_Q_MSIX, atomic_load(&q->vector), 2);
    put_le(img + VIRTIO_PCI_COMMON_Q_ENABLE, q->enabled, 2);
    put_le(img + VIRTIO_PCI_COMMON_Q_NOFF, vp->queue_select, 2);
    put_le(img + VIRTIO_PCI_COMMON_Q_DESCLO, q->desc, 8);
    put_le(img + VIRTIO_PCI_COMMON_Q_AVAILLO, q->driver, 8);
    put_le(img + VIRTIO_PCI_COMMON_Q_USEDLO, q->device, 8);
}

static void vp_common_read(struct virtio_pci *vp, uint64_t offset, uint8_t *data, uint32_t len)
{
    uint8_t img[VIRTIO_PCI_COMMON_SIZE];

    vp_common_image(vp, img);
    for (uint32_t i = 0; i < len; i++)
        data[i] = offset + i < VIRTIO_PCI_COMMON_SIZE ? img[offset + i] : 0;
}

/* A vector the driver may use: in range of the table, or NO_VECTOR (read
 * back as NO_VECTOR when out of range, which tells the driver it failed). */
static uint16_t vp_vector(const struct virtio_pci *vp, uint64_t value)
{
    return value < msix_nr_vectors(vp->msix) ? value : VIRTIO_MSI_NO_VECTOR;
}

/* Writes one of the 64-bit queue addresses, whole or by half. */
static void vp_write_addr(uint64_t *reg, uint64_t offset_in_reg, uint64_t value, uint32_t len)
{
    if (len == 8 && offset_in_reg == 0)
        *reg = value;
    else if (len == 4 && offset_in_reg == 0)
        *reg = (*reg & ~0xffffffffull) | value;
    else if (len == 4 && offset_in_reg == 4)
        *reg = (*reg & 0xffffffffull) | value << 32;
}

static void vp_common_write(struct virtio_pci *vp, uint64_t offset, const uint8_t *data,
                            uint32_t len)
{
    uint64_t value = get_le(data, len);
    struct vp_queue *q = vp_selected(vp);
    /* The driver must not touch a queue's setup once it is enabled. */
    struct vp_queue *setup = q && !q->enabled ? q : NULL;
    uint32_t sel = vp->driver_feature_select;

#define REG(off, size) (offset == (off) && len == (size))
    if (REG(VIRTIO_PCI_COMMON_DFSELECT, 4)) {
        vp->device_feature_select = value;
    } else if (REG(VIRTIO_PCI_COMMON_GFSELECT, 4)) {
        vp->driver_feature_select = value;
    } else if (REG(VIRTIO_PCI_COMMON_GF, 4)) {
        if (sel < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK))
            vp->driver_features =
                (vp->driver_features & ~(0xffffffffull << (32 * sel))) | value << (32 * sel);
    } else if (REG(VIRTIO_PCI_COMMON_MSIX, 2)) {
        atomic_store(&vp->config_vector, vp_vector(vp, value));
    } else if (REG(VIRTIO_PCI_COMMON_STATUS, 1)) {
        vp_write_status(vp, value);
    } else if (REG(VIRTIO_PCI_COMMON_Q_SELECT, 2)) {
        vp->queue_select = value;
    } else if (REG(VIRTIO_PCI_COMMON_Q_SIZE, 2)) {
        if (setup)
            setup->size = value;
    } else if (REG(VIRTIO_PCI_COMMON_Q_MSIX, 2)) {
        if (q)
            atomic_store(&q->vector, vp_vector(vp, value));
    } else if (REG(VIRTIO_PCI_COMMON_Q_ENABLE, 2)) {
        /* Writing 0 is not allowed; a reset disables queues. */
        if (setup && value == 1 && !(vp->status & VIRTIO_STATUS_DRIVER_OK))
            setup->enabled = true;
    } else if (offset >= VIRTIO_PCI_COMMON_Q_DESCLO && offset < VIRTIO_PCI_COMMON_SIZE &&
               (len == 4 || len == 8)) {
        uint64_t rel = offset - VIRTIO_PCI_COMMON_Q_DESCLO;
        uint64_t *regs[3];
        if (!setup)
            return;
        regs[0] = &setup->desc;
        regs[1] = &setup->driver;
        regs[2] = &setup->device;
        vp_write_addr(regs[rel / 8], rel % 8, value, len);
    } else {
        vp_warn(vp, "ignored write to a read-only or unknown common register");
    }
#undef REG
}

/* --- BAR 0 --- */

static void vp_bar_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct virtio_pci *vp = opaque;
    uint64_t region = offset & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
    uint64_t rel = offset - region;

    memset(data, 0, len);
    if (rel + len > VIRTIO_PCI_REGION_SIZE)
        return;
    switch (region) {
    case VIRTIO_PCI_COMMON_OFFSET:
        pthread_mutex_lock(&vp->lock);
        vp_common_read(vp, rel, data, len);
        pthread_mutex_unlock(&vp->lock);
        break;
    case VIRTIO_PCI_ISR_OFFSET:
        if (rel == 0)
            data[0] = atomic_exchange(&vp->isr, 0); /* reading clears it */
        break;
    case VIRTIO_PCI_DEVICE_OFFSET:
        if (rel < vp->config_size) {
            uint32_t n = len < vp->config_size - rel ? len : vp->config_size - rel;
            vp->vdev.ops->config_read(vp->vdev.dev, rel, data, n);
        }
        break;
    case VIRTIO_PCI_MSIX_OFFSET:
    case VIRTIO_PCI_MSIX_OFFSET + VIRTIO_PCI_REGION_SIZE:
        msix_table_read(vp->msix, offset - VIRTIO_PCI_MSIX_OFFSET, data, len);
        break;
    case VIRTIO_PCI_PBA_OFFSET:
        msix_pba_read(vp->msix, rel, data, len);
        break;
    default:
        break;
    }
}

static void vp_bar_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct virtio_pci *vp = opaque;
    uint64_t region = offset & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
    uint64_t rel = offset - region;
    uint64_t one = 1;

    if (rel + len > VIRTIO_PCI_REGION_SIZE)
        return;
    switch (region) {
    case VIRTIO_PCI_COMMON_OFFSET:
        pthread_mutex_lock(&vp->lock);
        vp_common_write(vp, rel, data, len);
        pthread_mutex_unlock(&vp->lock);
        break;
    case VIRTIO_PCI_DEVICE_OFFSET:
        if (rel < vp->config_size && len <= vp->config_size - rel)
            vp->vdev.ops->config_write(vp->vdev.dev, rel, data, len);
        break;
    case VIRTIO_PCI_NOTIFY_OFFSET:
        /* Only reached when no ioeventfd catches the write. */
        if (rel % VIRTIO_PCI_NOTIFY_MULT == 0 && rel / VIRTIO_PCI_NOTIFY_MULT < vp->nr_queues &&
            write(vp->kick_fds[rel / VIRTIO_PCI_NOTIFY_MULT], &one, sizeof(one)) < 0) {
            /* EAGAIN: a kick is already pending. */
        }
        break;
    case VIRTIO_PCI_MSIX_OFFSET:
    case VIRTIO_PCI_MSIX_OFFSET + VIRTIO_PCI_REGION_SIZE:
        msix_table_write(vp->msix, offset - VIRTIO_PCI_MSIX_OFFSET, data, len);
        break;
    default:
        break; /* ISR and PBA are read-only */
    }
}

static const struct bus_ops vp_bar_ops = {.read = vp_bar_read, .write = vp_bar_write};

const struct bus_ops *virtio_pci_bar_ops(void)
{
    return &vp_bar_ops;
}

/* --- config space hooks (PCI bus lock held) --- */

static bool overlaps(uint32_t offset, uint32_t len, uint32_t start, uint32_t size)
{
    return offset < start + size && start < offset + len;
}

/* VIRTIO_PCI_CAP_PCI_CFG: a window into BAR 0 through config space. The
 * access is performed when the driver touches pci_cfg_data. */
static bool vp_pci_cfg_target(struct virtio_pci *vp, uint64_t *offset, uint32_t *len)
{
    uint8_t cap = vp->pci_cfg_cap;
    uint32_t l = vp->cfg.data[cap + CAP_LENGTH];
    uint64_t off = pci_config_get32(&vp->cfg, cap + CAP_OFFSET);

    if (vp->cfg.data[cap + CAP_BAR] != VIRTIO_PCI_BAR || (l != 1 && l != 2 && l != 4) ||
        pci_config_get32(&vp->cfg, cap + CAP_LENGTH) != l || (off & (l - 1)) ||
        off + l > VIRTIO_PCI_BAR_SIZE)
        return false;
    *offset = off;
    *len = l;
    return true;
}

static void vp_config_read(void *opaque, uint32_t offset, uint8_t *data, uint32_t len)
{
    struct virtio_pci *vp = opaque;
    uint32_t data_off = vp->pci_cfg_cap + CAP_PCI_CFG_DATA;
    uint64_t bar_off;
    uint32_t bar_len;

    if (vp->pci_cfg_cap && overlaps(offset, len, data_off, 4) &&
        vp_pci_cfg_target(vp, &bar_off, &bar_len)) {
        uint8_t buf[4] = {0};
        vp_bar_read(vp, bar_off, buf, bar_len);
        memcpy(vp->cfg.data + data_off, buf, 4);
    }
    pci_config_read(&vp->cfg, offset, data, len);
}

static void vp_config_write(void *opaque, uint32_t offset, const uint8_t *data, uint32_t len)
{
    struct virtio_pci *vp = opaque;
    uint32_t data_off = vp->pci_cfg_cap + CAP_PCI_CFG_DATA;
    uint64_t bar_off;
    uint32_t bar_len;

    pci_config_write(&vp->cfg, offset, data, len);
    if (overlaps(offset, len, vp->msix_cap, MSIX_CAP_LEN))
        msix_config_written(vp->msix, &vp->cfg);
    if (vp->pci_cfg_cap && overlaps(offset, len, data_off, 4) &&
        vp_pci_cfg_target(vp, &bar_off, &bar_len))
        vp_bar_write(vp, bar_off, vp->cfg.data + data_off, bar_len);
}

static void vp_ioeventfds(struct virtio_pci *vp, uint64_t base, bool add)
{
    const struct ioeventfd_ops *ops = vp->env.ioeventfd;

    if (!ops || base == PCI_BAR_UNMAPPED)
        return;
    for (unsigned int i = 0; i < vp->nr_queues; i++) {
        uint64_t addr = base + VIRTIO_PCI_NOTIFY_OFFSET + i * VIRTIO_PCI_NOTIFY_MULT;
        int ret = add ? ops->add(vp->env.ioeventfd_opaque, addr, NOTIFY_LEN, vp->kick_fds[i])
                      : ops->del(vp->env.ioeventfd_opaque, addr, NOTIFY_LEN, vp->kick_fds[i]);
        if (ret < 0)
            log_warn("virtio-pci %s: queue %u: %s ioeventfd at 0x%" PRIx64 ": %s "
                     "(notifications will trap)",
                     vp->vdev.id, i, add ? "adding" : "removing", addr, strerror(-ret));
    }
}

static void vp_bar_moved(void *opaque, unsigned int bar, uint64_t old_addr, uint64_t new_addr)
{
    struct virtio_pci *vp = opaque;

    if (bar != VIRTIO_PCI_BAR)
        return;
    pthread_mutex_lock(&vp->lock);
    vp_ioeventfds(vp, old_addr, false);
    vp_ioeventfds(vp, new_addr, true);
    vp->bar_addr = new_addr;
    pthread_mutex_unlock(&vp->lock);
}

static void vp_pci_reset(void *opaque)
{
    struct virtio_pci *vp = opaque;

    pthread_mutex_lock(&vp->lock);
    vp_reset_locked(vp);
    pthread_mutex_unlock(&vp->lock);
    msix_reset(vp->msix, &vp->cfg);
}

static const struct pci_device_ops vp_pci_ops = {
    .config_read = vp_config_read,
    .config_write = vp_config_write,
    .bar_moved = vp_bar_moved,
    .reset = vp_pci_reset,
};

const struct pci_device_ops *virtio_pci_device_ops(void)
{
    return &vp_pci_ops;
}

/* --- construction --- */

static uint32_t vp_class_code(uint32_t device_id)
{
    switch (device_id) {
    case VIRTIO_ID_NET:
        return 0x020000; /* Ethernet controller */
    case VIRTIO_ID_BLOCK:
        return 0x010000; /* SCSI storage controller, as other VMMs present it */
    case VIRTIO_ID_CONSOLE:
        return 0x078000; /* other communication controller */
    default:
        return 0x00ff00; /* unclassified */
    }
}

static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t offset, uint32_t length,
                      uint8_t cap_len, uint32_t extra, const uint8_t *wmask)
{
    uint8_t cap[CAP_NOTIFY_LEN] = {PCI_CAP_ID_VNDR};

    cap[2] = cap_len;
    cap[CAP_CFG_TYPE] = type;
    cap[CAP_BAR] = VIRTIO_PCI_BAR;
    put_le(cap + CAP_OFFSET, offset, 4);
    put_le(cap + CAP_LENGTH, length, 4);
    if (cap_len > CAP_LEN)
        put_le(cap + CAP_LEN, extra, 4);
    return pci_config_add_capability(&vp->cfg, cap, cap_len, wmask);
}

static int vp_build_config(struct virtio_pci *vp)
{
    const struct pci_ids ids = {
        .vendor = VIRTIO_PCI_VENDOR_ID,
        .device = VIRTIO_PCI_DEVICE_BASE + vp->vdev.ops->device_id,
        .revision = VIRTIO_PCI_REVISION,
        .class_code = vp_class_code(vp->vdev.ops->device_id),
        .subsystem_vendor = VIRTIO_PCI_VENDOR_ID,
        .subsystem = VIRTIO_PCI_DEVICE_BASE + vp->vdev.ops->device_id,
    };
    /* cap.bar, cap.offset, cap.length and pci_cfg_data are the driver's. */
    uint8_t pci_cfg_wmask[CAP_PCI_CFG_LEN] = {0};
    int ret;

    pci_config_init(&vp->cfg, &ids);
    ret = pci_config_add_bar(&vp->cfg, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, true, false,
                             &vp_bar_ops, vp);
    if (ret < 0)
        return ret;
    ret = msix_add_capability(vp->msix, &vp->cfg, VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_OFFSET,
                              VIRTIO_PCI_PBA_OFFSET);
    if (ret < 0)
        return ret;
    vp->msix_cap = ret;
    ret = vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET,
                     VIRTIO_PCI_COMMON_SIZE, CAP_LEN, 0, NULL);
    if (ret >= 0)
        ret = vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, 1, CAP_LEN, 0, NULL);
    if (ret >= 0 && vp->config_size)
        ret = vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET, vp->config_size,
                         CAP_LEN, 0, NULL);
    if (ret >= 0)
        ret = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET,
                         vp->nr_queues * VIRTIO_PCI_NOTIFY_MULT, CAP_NOTIFY_LEN,
                         VIRTIO_PCI_NOTIFY_MULT, NULL);
    if (ret < 0)
        return ret;
    pci_cfg_wmask[CAP_BAR] = 0xff;
    memset(pci_cfg_wmask + CAP_OFFSET, 0xff, 12);
    ret = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, CAP_PCI_CFG_LEN, 0, pci_cfg_wmask);
    if (ret < 0)
        return ret;
    vp->pci_cfg_cap = ret;
    return 0;
}

int virtio_pci_new(const struct virtio_device *vdev, const struct virtio_pci_env *env,
                   struct virtio_pci **out)
{
    struct virtio_pci *vp;
    int ret;

    if (!vdev || !vdev->ops || !env || !env->mem || !env->msi || vdev->max_queues == 0 ||
        vdev->max_queues > VIRTIO_PCI_MAX_QUEUES || !is_power_of_two(vdev->max_queue_size) ||
        vdev->max_queue_size > VIRTQ_MAX_SIZE || !vdev->ops->activate || !vdev->ops->reset ||
        (env->ioeventfd && (!env->ioeventfd->add || !env->ioeventfd->del)))
        return -EINVAL;
    vp = calloc(1, sizeof(*vp));
    if (!vp)
        return -ENOMEM;
    pthread_mutex_init(&vp->lock, NULL);
    vp->vdev = *vdev;
    vp->vdev.id[sizeof(vp->vdev.id) - 1] = '\0';
    vp->env = *env;
    vp->nr_queues = vdev->max_queues;
    vp->bar_addr = PCI_BAR_UNMAPPED;
    vp->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
    vp->config_size = vdev->ops->config_size ? vdev->ops->config_size(vdev->dev) : 0;
    if (vp->config_size > VIRTIO_PCI_MAX_CONFIG_SIZE ||
        (vp->config_size && (!vdev->ops->config_read || !vdev->ops->config_write))) {
        ret = -EINVAL;
        goto fail;
    }
    vp->device_features =
        (vdev->ops->features ? vdev->ops->features(vdev->dev) : 0) | (1ull << VIRTIO_F_VERSION_1);
    vp->queues = calloc(vp->nr_queues, sizeof(*vp->queues));
    vp->kick_fds = malloc(vp->nr_queues * sizeof(*vp->kick_fds));
    vp->virtqs = calloc(vp->nr_queues, sizeof(*vp->virtqs));
    if (!vp->queues || !vp->kick_fds || !vp->virtqs) {
        ret = -ENOMEM;
        goto fail;
    }
    for (unsigned int i = 0; i < vp->nr_queues; i++)
        vp->kick_fds[i] = -1;
    for (unsigned int i = 0; i < vp->nr_queues; i++) {
        vp->kick_fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (vp->kick_fds[i] < 0) {
            ret = -errno;
            goto fail;
        }
    }
    ret = msix_new(vp->nr_queues + 1, env->msi, env->msi_opaque, &vp->msix);
    if (ret < 0)
        goto fail;
    ret = vp_build_config(vp);
    if (ret < 0)
        goto fail;
    vp_reset_locked(vp);
    *out = vp;
    return 0;
fail:
    /* The device stays the caller's when we fail. */
    vp->vdev.ops = NULL;
    virtio_pci_free(vp);
    return ret;
}

void virtio_pci_free(struct virtio_pci *vp)
{
    if (!vp)
        return;
    if (vp->vdev.ops) {
        pthread_mutex_lock(&vp->lock);
        vp_reset_locked(vp);
        vp_ioeventfds(vp, vp->bar_addr, false);
        pthread_mutex_unlock(&vp->lock);
        if (vp->vdev.ops->free)
            vp->vdev.ops->free(vp->vdev.dev);
    }
    msix_free(vp->msix);
    for (unsigned int i = 0; vp->kick_fds && i < vp->nr_queues; i++) {
        if (vp->kick_fds[i] >= 0)
            close(vp->kick_fds[i]);
    }
    free(vp->kick_fds);
    free(vp->queues);
    free(vp->virtqs);
    pthread_mutex_destroy(&vp->lock);
    free(vp);
}

int virtio_pci_plug(struct virtio_pci *vp, struct pci_bus *bus, unsigned int *devfn)
{
    return pci_bus_add_device(bus, &vp->cfg, &vp_pci_ops, vp, devfn);
}

struct pci_config *virtio_pci_config(struct virtio_pci *vp)
{
    return &vp->cfg;
}

uint8_t virtio_pci_status(struct virtio_pci *vp)
{
    uint8_t status;

    pthread_mutex_lock(&vp->lock);
    status = vp->status;
    pthread_mutex_unlock(&vp->lock);
    return status;
}

int virtio_pci_kick_fd(struct virtio_pci *vp, unsigned int queue)
{
    return queue < vp->nr_queues ? vp->kick_fds[queue] : -1;
}
