/* Tests for vmm/virtio/pci.c: a driver's whole init sequence through ECAM
 * and BAR 0 against a fake device, as Linux's virtio_pci_modern does it,
 * plus the refusals and failure paths. */
#include "virtio/pci.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "pci/msix.h"

#define RAM_SIZE    0x100000
#define MAX_QSIZE   256
#define FAKE_ID     VIRTIO_ID_RNG
#define FAKE_FEATS  ((1ull << 0) | (1ull << 5))
#define NR_VECTORS  3 /* two queues + config */
#define MAX_IOEVENT 8

struct fake_dev {
    int activations, resets, frees;
    int activate_ret;
    struct virtio_activation act;
    struct virtq queues[2];
    uint8_t config[8];
};

static uint64_t fake_features(void *dev)
{
    return FAKE_FEATS;
}

static uint32_t fake_config_size(void *dev)
{
    return sizeof(((struct fake_dev *)dev)->config);
}

static void fake_config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
    struct fake_dev *d = dev;

    memcpy(data, d->config + offset, len);
}

static void fake_config_write(void *dev, uint32_t offset, const uint8_t *data, uint32_t len)
{
    struct fake_dev *d = dev;

    memcpy(d->config + offset, data, len);
}

static int fake_activate(void *dev, const struct virtio_activation *act)
{
    struct fake_dev *d = dev;

    d->activations++;
    d->act = *act;
    memcpy(d->queues, act->queues, act->nr_queues * sizeof(struct virtq));
    return d->activate_ret;
}

static void fake_reset(void *dev)
{
    struct fake_dev *d = dev;

    d->resets++;
}

static void fake_free(void *dev)
{
    struct fake_dev *d = dev;

    d->frees++;
}

static const struct virtio_device_ops fake_dev_ops = {
    .device_id = FAKE_ID,
    .features = fake_features,
    .config_size = fake_config_size,
    .config_read = fake_config_read,
    .config_write = fake_config_write,
    .activate = fake_activate,
    .reset = fake_reset,
    .free = fake_free,
};

/* MSI routes: one eventfd per handle. */
struct fake_msi {
    unsigned int nr;
    int fds[NR_VECTORS];
};

static int msi_alloc(void *opaque, unsigned int *handle, int *irqfd)
{
    struct fake_msi *m = opaque;

    if (m->nr == NR_VECTORS)
        return -ENOSPC;
    m->fds[m->nr] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    *handle = m->nr;
    *irqfd = m->fds[m->nr++];
    return 0;
}

static void msi_release(void *opaque, unsigned int handle)
{
    struct fake_msi *m = opaque;

    close(m->fds[handle]);
}

static int msi_update(void *opaque, unsigned int handle, uint64_t address, uint32_t data,
                      bool masked)
{
    return 0;
}

static const struct msi_ops msi_ops = {
    .alloc = msi_alloc, .release = msi_release, .update = msi_update};

struct fake_ioeventfds {
    unsigned int nr;
    uint64_t addr[MAX_IOEVENT];
    int fd[MAX_IOEVENT];
    int adds, dels;
};

static int ioev_add(void *opaque, uint64_t addr, uint32_t len, int fd)
{
    struct fake_ioeventfds *e = opaque;

    g_assert_cmpuint(len, ==, 2);
    g_assert_cmpuint(e->nr, <, MAX_IOEVENT);
    e->addr[e->nr] = addr;
    e->fd[e->nr++] = fd;
    e->adds++;
    return 0;
}

static int ioev_del(void *opaque, uint64_t addr, uint32_t len, int fd)
{
    struct fake_ioeventfds *e = opaque;

    for (unsigned int i = 0; i < e->nr; i++) {
        if (e->addr[i] == addr && e->fd[i] == fd) {
            e->addr[i] = e->addr[--e->nr];
            e->fd[i] = e->fd[e->nr];
            e->dels++;
            return 0;
        }
    }
    return -ENOENT;
}

static const struct ioeventfd_ops ioev_ops = {.add = ioev_add, .del = ioev_del};

struct fixture {
    uint8_t *ram;
    struct guest_memory mem;
    struct bus *pio, *mmio;
    struct pci_bus *pci;
    struct fake_dev dev;
    struct fake_msi msi;
    struct fake_ioeventfds ioev;
    struct virtio_pci *vp;
    unsigned int devfn;
    uint64_t bar;
    /* capability offsets by cfg_type */
    uint8_t cap[6];
    uint8_t msix_cap;
    GString *activity; /* what env.activity was told, e.g. "fake0+ fake0- " */
};

static void record_activity(void *opaque, const char *id, bool active)
{
    g_string_append_printf(opaque, "%s%c ", id, active ? '+' : '-');
}

static uint32_t le(const uint8_t *b, uint32_t len)
{
    uint32_t v = 0;

    for (uint32_t i = 0; i < len; i++)
        v |= (uint32_t)b[i] << (8 * i);
    return v;
}

static uint32_t cfg_read(struct fixture *f, uint32_t reg, uint32_t len)
{
    uint8_t b[4];

    g_assert_true(bus_read(f->mmio, LAYOUT_PCI_MMCONFIG_START + (f->devfn << 12) + reg, b, len));
    return le(b, len);
}

static void cfg_write(struct fixture *f, uint32_t reg, uint32_t v, uint32_t len)
{
    uint8_t b[4] = {v, v >> 8, v >> 16, v >> 24};

    g_assert_true(bus_write(f->mmio, LAYOUT_PCI_MMCONFIG_START + (f->devfn << 12) + reg, b, len));
}

static uint64_t bar_read(struct fixture *f, uint64_t off, uint32_t len)
{
    uint8_t b[8];
    uint64_t v = 0;

    g_assert_true(bus_read(f->mmio, f->bar + off, b, len));
    for (uint32_t i = 0; i < len; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void bar_write(struct fixture *f, uint64_t off, uint64_t v, uint32_t len)
{
    uint8_t b[8];

    for (uint32_t i = 0; i < len; i++)
        b[i] = v >> (8 * i);
    g_assert_true(bus_write(f->mmio, f->bar + off, b, len));
}

#define COMMON(reg) (VIRTIO_PCI_COMMON_OFFSET + VIRTIO_PCI_COMMON_##reg)

static uint8_t status(struct fixture *f)
{
    return bar_read(f, COMMON(STATUS), 1);
}

static void set_status(struct fixture *f, uint8_t s)
{
    bar_write(f, COMMON(STATUS), s, 1);
}

static void fixture_init(struct fixture *f, bool ioeventfds)
{
    struct pci_bus_config pc = {
        .ecam_base = LAYOUT_PCI_MMCONFIG_START,
        .ecam_size = LAYOUT_PCI_MMCONFIG_SIZE,
        .mmio32_base = LAYOUT_PCI_MMIO32_START,
        .mmio32_size = LAYOUT_PCI_MMIO32_SIZE,
        .mmio64_base = LAYOUT_GiB(8),
        .mmio64_size = LAYOUT_PCI_MMIO64_SIZE,
    };
    struct virtio_device vdev = {
        .ops = &fake_dev_ops, .max_queues = 2, .max_queue_size = MAX_QSIZE, .id = "fake0"};
    struct virtio_pci_env env;

    memset(f, 0, sizeof(*f));
    f->activity = g_string_new(NULL);
    f->ram = g_malloc0(RAM_SIZE);
    f->mem.regions[0] = (struct guest_region){.gpa = 0, .size = RAM_SIZE, .hva = f->ram};
    f->mem.nr_regions = 1;
    f->pio = bus_new("pio");
    f->mmio = bus_new("mmio");
    pc.pio = f->pio;
    pc.mmio = f->mmio;
    g_assert_cmpint(pci_bus_new(&pc, &f->pci), ==, 0);
    vdev.dev = &f->dev;
    memcpy(f->dev.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    env = (struct virtio_pci_env){.mem = &f->mem,
                                  .msi = &msi_ops,
                                  .msi_opaque = &f->msi,
                                  .ioeventfd = ioeventfds ? &ioev_ops : NULL,
                                  .ioeventfd_opaque = &f->ioev,
                                  .activity = record_activity,
                                  .activity_opaque = f->activity};
    g_assert_cmpint(virtio_pci_new(&vdev, &env, &f->vp), ==, 0);
    g_assert_cmpuint(f->msi.nr, ==, NR_VECTORS);
    g_assert_cmpint(virtio_pci_plug(f->vp, f->pci, &f->devfn), ==, 0);
    g_assert_cmpuint(f->devfn, ==, 1 << 3);
}

static void fixture_fini(struct fixture *f)
{
    virtio_pci_free(f->vp);
    g_assert_cmpint(f->dev.frees, ==, 1);
    g_assert_cmpuint(f->ioev.nr, ==, 0);
    pci_bus_free(f->pci);
    bus_free(f->pio);
    bus_free(f->mmio);
    g_free(f->ram);
    g_string_free(f->activity, TRUE);
}

/* What Linux does first: find the capabilities, enable decoding. */
static void probe(struct fixture *f)
{
    uint32_t pos;
    int n = 0;

    g_assert_cmphex(cfg_read(f, 0, 2), ==, 0x1af4);
    g_assert_cmphex(cfg_read(f, 2, 2), ==, 0x1040 + FAKE_ID);
    g_assert_cmphex(cfg_read(f, 8, 1), ==, 1); /* revision: modern */
    g_assert_cmphex(cfg_read(f, 0x2c, 2), ==, 0x1af4);
    g_assert_cmphex(cfg_read(f, 0x10, 4) & 0xf, ==, 0x4); /* 64-bit, not prefetchable */
    for (pos = cfg_read(f, 0x34, 1); pos && n < 16; pos = cfg_read(f, pos + 1, 1), n++) {
        uint8_t id = cfg_read(f, pos, 1);
        if (id == PCI_CAP_ID_MSIX) {
            f->msix_cap = pos;
        } else {
            uint8_t type = cfg_read(f, pos + 3, 1);
            g_assert_cmpuint(id, ==, PCI_CAP_ID_VNDR);
            g_assert_cmpuint(type, >=, 1);
            g_assert_cmpuint(type, <=, 5);
            g_assert_cmpuint(cfg_read(f, pos + 4, 1), ==, 0); /* BAR 0 */
            f->cap[type] = pos;
        }
    }
    g_assert_cmpint(n, ==, 6);
    g_assert_cmpuint(f->msix_cap, !=, 0);
    g_assert_cmphex(cfg_read(f, f->cap[1] + 8, 4), ==, VIRTIO_PCI_COMMON_OFFSET);
    g_assert_cmphex(cfg_read(f, f->cap[1] + 12, 4), ==, VIRTIO_PCI_COMMON_SIZE);
    g_assert_cmphex(cfg_read(f, f->cap[2] + 8, 4), ==, VIRTIO_PCI_NOTIFY_OFFSET);
    g_assert_cmphex(cfg_read(f, f->cap[2] + 16, 4), ==, VIRTIO_PCI_NOTIFY_MULT);
    g_assert_cmphex(cfg_read(f, f->cap[3] + 8, 4), ==, VIRTIO_PCI_ISR_OFFSET);
    g_assert_cmphex(cfg_read(f, f->cap[4] + 12, 4), ==, 8);
    g_assert_cmphex(cfg_read(f, f->msix_cap + 2, 2), ==, NR_VECTORS - 1);
    g_assert_cmphex(cfg_read(f, f->msix_cap + 4, 4), ==, VIRTIO_PCI_MSIX_OFFSET);
    f->bar = cfg_read(f, 0x10, 4) & ~0xfull;
    f->bar |= (uint64_t)cfg_read(f, 0x14, 4) << 32;
    cfg_write(f, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* Programs MSI-X vector v and unmasks it. */
static void msix_program(struct fixture *f, unsigned int v)
{
    uint64_t e = VIRTIO_PCI_MSIX_OFFSET + v * 16;

    bar_write(f, e, 0xfee00000, 4);
    bar_write(f, e + 4, 0, 4);
    bar_write(f, e + 8, 0x30 + v, 4);
    bar_write(f, e + 12, 0, 4);
}

static bool fd_readable(int fd)
{
    uint64_t n;

    return read(fd, &n, sizeof(n)) == sizeof(n) && n > 0;
}

static void negotiate(struct fixture *f, uint64_t features)
{
    set_status(f, 0);
    set_status(f, VIRTIO_STATUS_ACKNOWLEDGE);
    set_status(f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    bar_write(f, COMMON(GFSELECT), 0, 4);
    bar_write(f, COMMON(GF), (uint32_t)features, 4);
    bar_write(f, COMMON(GFSELECT), 1, 4);
    bar_write(f, COMMON(GF), features >> 32, 4);
    set_status(f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

#define S_FEATURES (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)
#define VERSION_1  (1ull << VIRTIO_F_VERSION_1)

static void setup_queue(struct fixture *f, unsigned int q, uint16_t size, uint64_t desc,
                        uint64_t avail, uint64_t used, uint16_t vector)
{
    bar_write(f, COMMON(Q_SELECT), q, 2);
    bar_write(f, COMMON(Q_SIZE), size, 2);
    bar_write(f, COMMON(Q_DESCLO), (uint32_t)desc, 4);
    bar_write(f, COMMON(Q_DESCHI), desc >> 32, 4);
    bar_write(f, COMMON(Q_AVAILLO), avail, 8);
    bar_write(f, COMMON(Q_USEDLO), (uint32_t)used, 4);
    bar_write(f, COMMON(Q_USEDHI), used >> 32, 4);
    bar_write(f, COMMON(Q_MSIX), vector, 2);
    bar_write(f, COMMON(Q_ENABLE), 1, 2);
}

static void test_full_init(void)
{
    struct fixture f;
    uint8_t gen;

    fixture_init(&f, true);
    probe(&f);
    /* Decoding on: one ioeventfd per queue notify address. */
    g_assert_cmpuint(f.ioev.nr, ==, 2);
    g_assert_cmphex(f.ioev.addr[0], ==, f.bar + VIRTIO_PCI_NOTIFY_OFFSET);
    g_assert_cmphex(f.ioev.addr[1], ==, f.bar + VIRTIO_PCI_NOTIFY_OFFSET + 4);
    g_assert_cmpint(f.ioev.fd[1], ==, virtio_pci_kick_fd(f.vp, 1));
    /* MSI-X on, every vector programmed. */
    cfg_write(&f, f.msix_cap + 2, MSIX_CTRL_ENABLE, 2);
    for (unsigned int v = 0; v < NR_VECTORS; v++)
        msix_program(&f, v);

    set_status(&f, 0);
    g_assert_cmpuint(status(&f), ==, 0);
    set_status(&f, VIRTIO_STATUS_ACKNOWLEDGE);
    set_status(&f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    bar_write(&f, COMMON(DFSELECT), 0, 4);
    g_assert_cmphex(bar_read(&f, COMMON(DF), 4), ==, FAKE_FEATS);
    bar_write(&f, COMMON(DFSELECT), 1, 4);
    g_assert_cmphex(bar_read(&f, COMMON(DF), 4), ==, 1); /* VERSION_1 */
    bar_write(&f, COMMON(DFSELECT), 2, 4);
    g_assert_cmphex(bar_read(&f, COMMON(DF), 4), ==, 0);
    negotiate(&f, VERSION_1 | (1ull << 5));
    g_assert_cmpuint(status(&f), ==, S_FEATURES);
    /* Features are frozen after FEATURES_OK. */
    bar_write(&f, COMMON(GFSELECT), 0, 4);
    bar_write(&f, COMMON(GF), 1, 4);
    g_assert_cmphex(bar_read(&f, COMMON(GF), 4), ==, 1u << 5);

    bar_write(&f, COMMON(MSIX), 2, 2);
    g_assert_cmpuint(bar_read(&f, COMMON(MSIX), 2), ==, 2);
    g_assert_cmpuint(bar_read(&f, COMMON(NUMQ), 2), ==, 2);
    bar_write(&f, COMMON(Q_SELECT), 1, 2);
    g_assert_cmpuint(bar_read(&f, COMMON(Q_SIZE), 2), ==, MAX_QSIZE);
    g_assert_cmpuint(bar_read(&f, COMMON(Q_NOFF), 2), ==, 1);
    /* A vector out of range reads back NO_VECTOR. */
    bar_write(&f, COMMON(Q_MSIX), NR_VECTORS, 2);
    g_assert_cmphex(bar_read(&f, COMMON(Q_MSIX), 2), ==, VIRTIO_MSI_NO_VECTOR);
    /* A queue past num_queues has size 0 and ignores writes. */
    bar_write(&f, COMMON(Q_SELECT), 7, 2);
    g_assert_cmpuint(bar_read(&f, COMMON(Q_SIZE), 2), ==, 0);
    bar_write(&f, COMMON(Q_ENABLE), 1, 2);
    setup_queue(&f, 0, 128, 0x1000, 0x2000, 0x3000, 0);
    setup_queue(&f, 1, 64, 0x4000, 0x5000, 0x6000, 1);
    bar_write(&f, COMMON(Q_SELECT), 1, 2);
    g_assert_cmphex(bar_read(&f, COMMON(Q_DESCLO), 8), ==, 0x4000);
    g_assert_cmpuint(bar_read(&f, COMMON(Q_ENABLE), 2), ==, 1);
    /* Enabled queues cannot be changed. */
    bar_write(&f, COMMON(Q_SIZE), 32, 2);
    g_assert_cmpuint(bar_read(&f, COMMON(Q_SIZE), 2), ==, 64);

    g_assert_cmpint(f.dev.activations, ==, 0);
    set_status(&f, S_FEATURES | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpuint(status(&f), ==, S_FEATURES | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpint(f.dev.activations, ==, 1);
    g_assert_cmpstr(f.activity->str, ==, "fake0+ ");
    g_assert_cmpuint(f.dev.act.nr_queues, ==, 2);
    g_assert_cmphex(f.dev.act.features, ==, VERSION_1 | (1ull << 5));
    g_assert_true(f.dev.act.mem == &f.mem);
    g_assert_true(f.dev.queues[0].ready);
    g_assert_cmpuint(f.dev.queues[0].size, ==, 128);
    g_assert_cmphex(f.dev.queues[0].desc_gpa, ==, 0x1000);
    g_assert_cmphex(f.dev.queues[0].avail_gpa, ==, 0x2000);
    g_assert_cmphex(f.dev.queues[0].used_gpa, ==, 0x3000);
    g_assert_cmpuint(f.dev.queues[1].size, ==, 64);
    g_assert_cmphex(f.dev.queues[1].used_gpa, ==, 0x6000);
    g_assert_false(f.dev.queues[1].event_idx);
    g_assert_cmpint(f.dev.act.kick_fds[1], ==, virtio_pci_kick_fd(f.vp, 1));

    /* Notify: when it traps (no ioeventfd caught it) the kick fd fires. */
    bar_write(&f, VIRTIO_PCI_NOTIFY_OFFSET + 4, 1, 2);
    g_assert_true(fd_readable(f.dev.act.kick_fds[1]));
    g_assert_false(fd_readable(f.dev.act.kick_fds[0]));
    bar_write(&f, VIRTIO_PCI_NOTIFY_OFFSET + 4 * 9, 9, 2); /* no such queue */

    /* Queue interrupts go to each queue's vector. */
    f.dev.act.interrupt.signal(f.dev.act.interrupt.opaque, 1);
    g_assert_true(fd_readable(f.msi.fds[1]));
    g_assert_false(fd_readable(f.msi.fds[0]));
    f.dev.act.interrupt.signal(f.dev.act.interrupt.opaque, 5); /* no such queue */
    /* A masked vector waits for its unmask. */
    bar_write(&f, VIRTIO_PCI_MSIX_OFFSET + 12, 1, 4);
    f.dev.act.interrupt.signal(f.dev.act.interrupt.opaque, 0);
    g_assert_false(fd_readable(f.msi.fds[0]));
    g_assert_cmphex(bar_read(&f, VIRTIO_PCI_PBA_OFFSET, 4), ==, 1);
    bar_write(&f, VIRTIO_PCI_MSIX_OFFSET + 12, 0, 4);
    g_assert_true(fd_readable(f.msi.fds[0]));
    /* Configuration change: its vector, the ISR bit, a new generation. */
    gen = bar_read(&f, COMMON(CFGGENERATION), 1);
    f.dev.act.interrupt.signal(f.dev.act.interrupt.opaque, VIRTIO_INTERRUPT_CONFIG);
    g_assert_true(fd_readable(f.msi.fds[2]));
    g_assert_cmpuint(bar_read(&f, COMMON(CFGGENERATION), 1), !=, gen);
    g_assert_cmphex(bar_read(&f, VIRTIO_PCI_ISR_OFFSET, 1), ==, VIRTIO_ISR_CONFIG);
    g_assert_cmphex(bar_read(&f, VIRTIO_PCI_ISR_OFFSET, 1), ==, 0); /* read clears */

    /* Device configuration. */
    g_assert_cmphex(bar_read(&f, VIRTIO_PCI_DEVICE_OFFSET + 4, 4), ==, 0x88776655);
    g_assert_cmphex(bar_read(&f, VIRTIO_PCI_DEVICE_OFFSET + 6, 4), ==, 0x8877);
    g_assert_cmphex(bar_read(&f, VIRTIO_PCI_DEVICE_OFFSET + 100, 4), ==, 0);
    bar_write(&f, VIRTIO_PCI_DEVICE_OFFSET + 1, 0xab, 1);
    g_assert_cmphex(f.dev.config[1], ==, 0xab);
    bar_write(&f, VIRTIO_PCI_DEVICE_OFFSET + 6, 0xffffffff, 4); /* crosses the end */
    g_assert_cmphex(f.dev.config[6], ==, 0x77);

    /* Reset. */
    set_status(&f, 0);
    g_assert_cmpint(f.dev.resets, ==, 1);
    g_assert_cmpstr(f.activity->str, ==, "fake0+ fake0- ");
    g_assert_cmpuint(status(&f), ==, 0);
    bar_write(&f, COMMON(Q_SELECT), 0, 2);
    g_assert_cmpuint(bar_read(&f, COMMON(Q_ENABLE), 2), ==, 0);
    g_assert_cmpuint(bar_read(&f, COMMON(Q_SIZE), 2), ==, MAX_QSIZE);
    g_assert_cmphex(bar_read(&f, COMMON(MSIX), 2), ==, VIRTIO_MSI_NO_VECTOR);
    bar_write(&f, COMMON(GFSELECT), 0, 4);
    g_assert_cmphex(bar_read(&f, COMMON(GF), 4), ==, 0);
    fixture_fini(&f);
}

static void test_feature_refusal(void)
{
    struct fixture f;

    fixture_init(&f, true);
    probe(&f);
    /* A bit we did not offer. */
    negotiate(&f, VERSION_1 | (1ull << 7));
    g_assert_cmpuint(status(&f), ==, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    /* No VERSION_1: a legacy driver. */
    negotiate(&f, 1);
    g_assert_cmpuint(status(&f) & VIRTIO_STATUS_FEATURES_OK, ==, 0);
    /* FEATURES_OK before DRIVER. */
    set_status(&f, 0);
    bar_write(&f, COMMON(GFSELECT), 1, 4);
    bar_write(&f, COMMON(GF), 1, 4);
    set_status(&f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FEATURES_OK);
    g_assert_cmpuint(status(&f), ==, VIRTIO_STATUS_ACKNOWLEDGE);
    /* Clearing bits without a reset is ignored. */
    negotiate(&f, VERSION_1);
    set_status(&f, VIRTIO_STATUS_ACKNOWLEDGE);
    g_assert_cmpuint(status(&f), ==, S_FEATURES);
    /* DRIVER_OK without FEATURES_OK: the device needs a reset. */
    set_status(&f, 0);
    set_status(&f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpuint(status(&f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
    g_assert_cmpint(f.dev.activations, ==, 0);
    /* The driver cannot set NEEDS_RESET itself. */
    set_status(&f, 0);
    set_status(&f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET);
    g_assert_cmpuint(status(&f), ==, VIRTIO_STATUS_ACKNOWLEDGE);
    fixture_fini(&f);
}

/* Each bad queue leads to NEEDS_RESET at DRIVER_OK, activate not called. */
static void check_bad_queue(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
    struct fixture f;

    fixture_init(&f, false);
    probe(&f);
    negotiate(&f, VERSION_1);
    setup_queue(&f, 0, 64, 0x1000, 0x2000, 0x3000, VIRTIO_MSI_NO_VECTOR);
    setup_queue(&f, 1, size, desc, avail, used, VIRTIO_MSI_NO_VECTOR);
    set_status(&f, S_FEATURES | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpuint(status(&f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
    g_assert_cmpint(f.dev.activations, ==, 0);
    /* A reset recovers. */
    negotiate(&f, VERSION_1);
    setup_queue(&f, 0, 64, 0x1000, 0x2000, 0x3000, VIRTIO_MSI_NO_VECTOR);
    set_status(&f, S_FEATURES | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpuint(status(&f), ==, S_FEATURES | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpint(f.dev.activations, ==, 1);
    g_assert_cmpuint(f.dev.act.nr_queues, ==, 1);
    fixture_fini(&f);
}

static void test_bad_queues(void)
{
    check_bad_queue(3, 0x4000, 0x5000, 0x6000);                 /* not a power of two */
    check_bad_queue(0, 0x4000, 0x5000, 0x6000);                 /* empty */
    check_bad_queue(MAX_QSIZE * 2, 0x4000, 0x5000, 0x6000);     /* above the maximum */
    check_bad_queue(64, 0x4008, 0x5000, 0x6000);                /* descriptors unaligned */
    check_bad_queue(64, 0x4000, 0x5001, 0x6000);                /* avail unaligned */
    check_bad_queue(64, 0x4000, 0x5000, 0x6002);                /* used unaligned */
    check_bad_queue(64, RAM_SIZE - 0x100, 0x5000, 0x6000);      /* runs past RAM */
    check_bad_queue(64, 0x4000, 0x5000, 0xfffffffffffff000ull); /* wraps */
    check_bad_queue(64, 0x4000, LAYOUT_GiB(3), 0x6000);         /* not RAM at all */
}

static void test_activate_failure(void)
{
    struct fixture f;

    fixture_init(&f, false);
    probe(&f);
    f.dev.activate_ret = -ENOMEM;
    negotiate(&f, VERSION_1);
    setup_queue(&f, 0, 64, 0x1000, 0x2000, 0x3000, VIRTIO_MSI_NO_VECTOR);
    set_status(&f, S_FEATURES | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpuint(status(&f) & VIRTIO_STATUS_NEEDS_RESET, !=, 0);
    /* Not active, so a reset does not call the device's reset. */
    set_status(&f, 0);
    g_assert_cmpint(f.dev.resets, ==, 0);
    fixture_fini(&f);
}

static void test_bar_move_and_no_ioeventfd(void)
{
    struct fixture f;
    uint64_t moved = LAYOUT_PCI_MMIO32_START + 0x10000;

    fixture_init(&f, true);
    probe(&f);
    g_assert_cmpint(f.ioev.adds, ==, 2);
    cfg_write(&f, 4, 0, 2);
    g_assert_cmpint(f.ioev.dels, ==, 2);
    cfg_write(&f, 0x10, (uint32_t)moved, 4);
    cfg_write(&f, 0x14, 0, 4);
    cfg_write(&f, 4, PCI_COMMAND_MEMORY, 2);
    g_assert_cmpuint(f.ioev.nr, ==, 2);
    g_assert_cmphex(f.ioev.addr[0], ==, moved + VIRTIO_PCI_NOTIFY_OFFSET);
    f.bar = moved;
    g_assert_cmpuint(bar_read(&f, COMMON(NUMQ), 2), ==, 2);
    fixture_fini(&f);

    /* Without ioeventfd support notify writes still kick. */
    fixture_init(&f, false);
    probe(&f);
    bar_write(&f, VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
    g_assert_true(fd_readable(virtio_pci_kick_fd(f.vp, 0)));
    fixture_fini(&f);
}

static void test_pci_cfg_window_and_odd_accesses(void)
{
    struct fixture f;
    uint32_t cap;

    fixture_init(&f, false);
    probe(&f);
    cap = f.cap[VIRTIO_PCI_CAP_PCI_CFG];
    /* Read device_status through VIRTIO_PCI_CAP_PCI_CFG. */
    set_status(&f, VIRTIO_STATUS_ACKNOWLEDGE);
    cfg_write(&f, cap + 4, 0, 1);
    cfg_write(&f, cap + 8, VIRTIO_PCI_COMMON_STATUS, 4);
    cfg_write(&f, cap + 12, 1, 4);
    g_assert_cmphex(cfg_read(&f, cap + 16, 1), ==, VIRTIO_STATUS_ACKNOWLEDGE);
    /* And write it. */
    cfg_write(&f, cap + 16, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    g_assert_cmpuint(status(&f), ==, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    /* A bad length or BAR: no access. */
    cfg_write(&f, cap + 12, 3, 4);
    cfg_write(&f, cap + 16, 0, 1);
    g_assert_cmpuint(status(&f), ==, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    cfg_write(&f, cap + 12, 1, 4);
    cfg_write(&f, cap + 4, 3, 1);
    cfg_write(&f, cap + 16, 0, 1);
    g_assert_cmpuint(status(&f), ==, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    /* Odd BAR accesses: read-only registers, wrong widths, holes. */
    bar_write(&f, COMMON(NUMQ), 9, 2);
    g_assert_cmpuint(bar_read(&f, COMMON(NUMQ), 2), ==, 2);
    bar_write(&f, COMMON(STATUS), 0, 2); /* wrong width: not a reset */
    g_assert_cmpuint(status(&f), !=, 0);
    bar_write(&f, COMMON(Q_DESCLO) + 2, 0xffff, 2);
    g_assert_cmphex(bar_read(&f, COMMON(STATUS) - 2, 4) >> 16 & 0xff, ==, status(&f));
    g_assert_cmphex(bar_read(&f, 0x100, 4), ==, 0);
    g_assert_cmphex(bar_read(&f, 0x7000, 4), ==, 0);
    bar_write(&f, VIRTIO_PCI_ISR_OFFSET, 0xff, 1);
    bar_write(&f, VIRTIO_PCI_PBA_OFFSET, 0xff, 4);
    bar_write(&f, VIRTIO_PCI_NOTIFY_OFFSET + 2, 0, 2); /* between two queues */
    g_assert_false(fd_readable(virtio_pci_kick_fd(f.vp, 0)));
    bar_write(&f, 0xffe, 0xffffffff, 4); /* straddles two regions */
    fixture_fini(&f);
}

static void test_bad_construction(void)
{
    struct fake_dev d = {0};
    struct fake_msi msi = {0};
    struct guest_memory mem = {0};
    struct virtio_device vdev = {
        .ops = &fake_dev_ops, .dev = &d, .max_queues = 2, .max_queue_size = 100};
    struct virtio_pci_env env = {.mem = &mem, .msi = &msi_ops, .msi_opaque = &msi};
    struct virtio_pci *vp;

    g_assert_cmpint(virtio_pci_new(&vdev, &env, &vp), ==, -EINVAL); /* size not 2^n */
    vdev.max_queue_size = 64;
    vdev.max_queues = 0;
    g_assert_cmpint(virtio_pci_new(&vdev, &env, &vp), ==, -EINVAL);
    vdev.max_queues = VIRTIO_PCI_MAX_QUEUES + 1;
    g_assert_cmpint(virtio_pci_new(&vdev, &env, &vp), ==, -EINVAL);
    /* Routes run out: the device is not freed, the routes are released. */
    vdev.max_queues = NR_VECTORS; /* needs one more route than there are */
    g_assert_cmpint(virtio_pci_new(&vdev, &env, &vp), ==, -ENOSPC);
    g_assert_cmpint(d.frees, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-pci/full-init", test_full_init);
    g_test_add_func("/virtio-pci/feature-refusal", test_feature_refusal);
    g_test_add_func("/virtio-pci/bad-queues", test_bad_queues);
    g_test_add_func("/virtio-pci/activate-failure", test_activate_failure);
    g_test_add_func("/virtio-pci/bar-move-and-no-ioeventfd", test_bar_move_and_no_ioeventfd);
    g_test_add_func("/virtio-pci/pci-cfg-window-and-odd-accesses",
                    test_pci_cfg_window_and_odd_accesses);
    g_test_add_func("/virtio-pci/bad-construction", test_bad_construction);
    return g_test_run();
}
