/* Tests for vmm/pci/msix.c: the capability, table programming, vector and
 * function masking, pending bits delivered on unmask, the irqfd and
 * trigger() delivery paths, and accesses that must be harmless. */
#include "pci/msix.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define NR_VECTORS 4
#define MAX_FAKE   8

/* A stand-in for the VM core's KVM routing. */
struct fake_msi {
    unsigned int allocated, released;
    int irqfd[MAX_FAKE];
    bool use_irqfd;
    int fail_at; /* alloc number that fails, -1: none */
    unsigned int updates;
    uint64_t address[MAX_FAKE];
    uint32_t data[MAX_FAKE];
    bool masked[MAX_FAKE];
    atomic_uint triggers[MAX_FAKE];
};

static int fake_alloc(void *opaque, unsigned int *handle, int *irqfd)
{
    struct fake_msi *f = opaque;

    if ((int)f->allocated == f->fail_at || f->allocated >= MAX_FAKE)
        return -ENOSPC;
    *handle = f->allocated;
    *irqfd = f->use_irqfd ? f->irqfd[f->allocated] : -1;
    f->masked[f->allocated] = true;
    f->allocated++;
    return 0;
}

static void fake_release(void *opaque, unsigned int handle)
{
    struct fake_msi *f = opaque;

    f->released++;
}

static int fake_update(void *opaque, unsigned int handle, uint64_t address, uint32_t data,
                       bool masked)
{
    struct fake_msi *f = opaque;

    g_assert_cmpuint(handle, <, f->allocated);
    f->updates++;
    f->address[handle] = address;
    f->data[handle] = data;
    f->masked[handle] = masked;
    return 0;
}

static int fake_trigger(void *opaque, unsigned int handle)
{
    struct fake_msi *f = opaque;

    atomic_fetch_add(&f->triggers[handle], 1);
    return 0;
}

static const struct msi_ops fake_ops = {
    .alloc = fake_alloc,
    .release = fake_release,
    .update = fake_update,
    .trigger = fake_trigger,
};

static void fake_init(struct fake_msi *f, bool use_irqfd)
{
    memset(f, 0, sizeof(*f));
    f->use_irqfd = use_irqfd;
    f->fail_at = -1;
    for (int i = 0; i < MAX_FAKE; i++)
        f->irqfd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static void fake_fini(struct fake_msi *f)
{
    for (int i = 0; i < MAX_FAKE; i++)
        close(f->irqfd[i]);
}

/* Interrupts delivered on handle i since the last call. */
static uint64_t fired(struct fake_msi *f, unsigned int i)
{
    uint64_t n = 0;

    if (!f->use_irqfd)
        return atomic_exchange(&f->triggers[i], 0);
    if (read(f->irqfd[i], &n, sizeof(n)) < 0)
        return 0;
    return n;
}

static void table_write32(struct msix *m, unsigned int vector, unsigned int field, uint32_t v)
{
    uint8_t b[4] = {v, v >> 8, v >> 16, v >> 24};

    msix_table_write(m, vector * MSIX_ENTRY_SIZE + field, b, 4);
}

static uint32_t table_read32(struct msix *m, uint64_t offset)
{
    uint8_t b[4];

    msix_table_read(m, offset, b, 4);
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void set_control(struct msix *m, struct pci_config *cfg, int cap, uint16_t ctrl)
{
    uint8_t b[2] = {ctrl, ctrl >> 8};

    pci_config_write(cfg, cap + 2, b, 2);
    msix_config_written(m, cfg);
}

struct fixture {
    struct fake_msi fake;
    struct msix *m;
    struct pci_config cfg;
    int cap;
};

static void fixture_init(struct fixture *f, bool use_irqfd)
{
    const struct pci_ids ids = {.vendor = 0x1af4};

    fake_init(&f->fake, use_irqfd);
    g_assert_cmpint(msix_new(NR_VECTORS, &fake_ops, &f->fake, &f->m), ==, 0);
    pci_config_init(&f->cfg, &ids);
    f->cap = msix_add_capability(f->m, &f->cfg, 0, 0x4000, 0x6000);
    g_assert_cmpint(f->cap, >=, PCI_CAP_START);
}

static void fixture_fini(struct fixture *f)
{
    msix_free(f->m);
    g_assert_cmpuint(f->fake.released, ==, NR_VECTORS);
    fake_fini(&f->fake);
}

/* Programs vector v with a message and unmasks it. */
static void program(struct fixture *f, unsigned int v, uint32_t data)
{
    table_write32(f->m, v, 0, 0xfee00000);
    table_write32(f->m, v, 4, 0);
    table_write32(f->m, v, 8, data);
    table_write32(f->m, v, 12, 0);
}

static void test_capability(void)
{
    struct fixture f;

    fixture_init(&f, true);
    g_assert_cmpuint(f.fake.allocated, ==, NR_VECTORS);
    g_assert_cmpuint(f.cfg.data[f.cap], ==, PCI_CAP_ID_MSIX);
    g_assert_cmphex(pci_config_get16(&f.cfg, f.cap + 2), ==, NR_VECTORS - 1);
    g_assert_cmphex(pci_config_get32(&f.cfg, f.cap + 4), ==, 0x4000);
    g_assert_cmphex(pci_config_get32(&f.cfg, f.cap + 8), ==, 0x6000);
    g_assert_cmpuint(msix_table_size(f.m), ==, NR_VECTORS * 16);
    g_assert_cmpuint(msix_pba_size(f.m), ==, 8);
    /* Only enable and function mask are writable. */
    set_control(f.m, &f.cfg, f.cap, 0xffff);
    g_assert_cmphex(pci_config_get16(&f.cfg, f.cap + 2), ==, 0xc000 | (NR_VECTORS - 1));
    g_assert_true(msix_enabled(f.m));
    g_assert_cmpint(msix_add_capability(f.m, &f.cfg, 0, 0x4000, 0x6000), ==, -EINVAL);
    fixture_fini(&f);
}

static void test_table(void)
{
    struct fixture f;
    uint8_t b[8];

    fixture_init(&f, true);
    /* Power-on: messages zero, every vector masked. */
    g_assert_cmphex(table_read32(f.m, 12), ==, 1);
    g_assert_cmphex(table_read32(f.m, 3 * 16 + 12), ==, 1);
    table_write32(f.m, 2, 0, 0xfee01000);
    table_write32(f.m, 2, 4, 0x1);
    table_write32(f.m, 2, 8, 0x4041);
    table_write32(f.m, 2, 12, 0xfffffffe); /* reserved bits stay zero, unmasked */
    g_assert_cmphex(table_read32(f.m, 32), ==, 0xfee01000);
    g_assert_cmphex(table_read32(f.m, 36), ==, 1);
    g_assert_cmphex(table_read32(f.m, 40), ==, 0x4041);
    g_assert_cmphex(table_read32(f.m, 44), ==, 0);
    /* 8-byte accesses. */
    msix_table_read(f.m, 32, b, 8);
    g_assert_cmphex(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24, ==, 0xfee01000);
    g_assert_cmphex(b[4], ==, 1);
    memset(b, 0, 8);
    b[0] = 0x33;
    b[4] = 1;
    msix_table_write(f.m, 8, b, 8); /* data and control of vector 0 */
    g_assert_cmphex(table_read32(f.m, 8), ==, 0x33);
    g_assert_cmphex(table_read32(f.m, 12), ==, 1);
    /* Harmless: past the table, misaligned, odd sizes. */
    g_assert_cmphex(table_read32(f.m, NR_VECTORS * 16), ==, 0xffffffff);
    table_write32(f.m, NR_VECTORS, 0, 0x1234);
    table_write32(f.m, 1000, 8, 0x1234);
    g_assert_cmphex(table_read32(f.m, 2), ==, 0xffffffff);
    msix_table_write(f.m, 2, b, 4);
    msix_table_write(f.m, 8, b, 2);
    msix_table_read(f.m, 8, b, 2);
    g_assert_cmphex(b[0], ==, 0xff);
    msix_table_read(f.m, 4, b, 8); /* 8 bytes not 8-aligned */
    g_assert_cmphex(b[7], ==, 0xff);
    g_assert_cmphex(table_read32(f.m, 8), ==, 0x33);
    fixture_fini(&f);
}

static void test_delivery_and_masking(void)
{
    struct fixture f;
    uint8_t pba[8];

    fixture_init(&f, true);
    program(&f, 1, 0x41);
    /* MSI-X still off: the interrupt waits in the PBA. */
    g_assert_true(msix_vector_masked(f.m, 1));
    msix_signal(f.m, 1);
    g_assert_cmpuint(fired(&f.fake, 1), ==, 0);
    g_assert_true(msix_vector_pending(f.m, 1));
    msix_pba_read(f.m, 0, pba, 4);
    g_assert_cmphex(pba[0], ==, 0x02);
    /* Enabling delivers it, with the route updated first. */
    set_control(f.m, &f.cfg, f.cap, MSIX_CTRL_ENABLE);
    g_assert_false(f.fake.masked[1]);
    g_assert_cmphex(f.fake.address[1], ==, 0xfee00000);
    g_assert_cmphex(f.fake.data[1], ==, 0x41);
    g_assert_cmpuint(fired(&f.fake, 1), ==, 1);
    g_assert_false(msix_vector_pending(f.m, 1));
    /* Live: straight through. */
    msix_signal(f.m, 1);
    msix_signal(f.m, 1);
    g_assert_cmpuint(fired(&f.fake, 1), ==, 2);
    /* Masked vector: pending, delivered once on unmask. */
    table_write32(f.m, 1, 12, 1);
    g_assert_true(f.fake.masked[1]);
    msix_signal(f.m, 1);
    msix_signal(f.m, 1);
    g_assert_cmpuint(fired(&f.fake, 1), ==, 0);
    g_assert_true(msix_vector_pending(f.m, 1));
    table_write32(f.m, 1, 12, 0);
    g_assert_cmpuint(fired(&f.fake, 1), ==, 1);
    g_assert_false(msix_vector_pending(f.m, 1));
    /* Unmasking with nothing pending delivers nothing. */
    table_write32(f.m, 1, 12, 1);
    table_write32(f.m, 1, 12, 0);
    g_assert_cmpuint(fired(&f.fake, 1), ==, 0);
    /* Function mask holds every vector. */
    program(&f, 3, 0x43);
    set_control(f.m, &f.cfg, f.cap, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    g_assert_true(msix_vector_masked(f.m, 3));
    msix_signal(f.m, 1);
    msix_signal(f.m, 3);
    g_assert_cmpuint(fired(&f.fake, 1) + fired(&f.fake, 3), ==, 0);
    msix_pba_read(f.m, 0, pba, 8);
    g_assert_cmphex(pba[0], ==, 0x0a);
    set_control(f.m, &f.cfg, f.cap, MSIX_CTRL_ENABLE);
    g_assert_cmpuint(fired(&f.fake, 1), ==, 1);
    g_assert_cmpuint(fired(&f.fake, 3), ==, 1);
    /* A masked entry stays pending across the function unmask. */
    msix_signal(f.m, 0);
    g_assert_cmpuint(fired(&f.fake, 0), ==, 0);
    g_assert_true(msix_vector_pending(f.m, 0));
    /* Out of range: nothing happens. */
    msix_signal(f.m, NR_VECTORS);
    msix_signal(f.m, UINT32_MAX);
    g_assert_false(msix_vector_pending(f.m, NR_VECTORS));
    /* The PBA is read-only and bounded. */
    msix_pba_read(f.m, 8, pba, 4);
    g_assert_cmphex(pba[0], ==, 0xff);
    /* A message change of a live vector reaches the route. */
    table_write32(f.m, 3, 8, 0x53);
    g_assert_cmphex(f.fake.data[3], ==, 0x53);
    /* Reset: all masked, nothing pending, MSI-X off. */
    msix_reset(f.m, &f.cfg);
    g_assert_false(msix_enabled(f.m));
    g_assert_false(msix_vector_pending(f.m, 0));
    g_assert_cmphex(table_read32(f.m, 3 * 16 + 12), ==, 1);
    g_assert_cmphex(pci_config_get16(&f.cfg, f.cap + 2), ==, NR_VECTORS - 1);
    fixture_fini(&f);
}

static void test_trigger_path(void)
{
    struct fixture f;

    fixture_init(&f, false);
    program(&f, 2, 0x22);
    set_control(f.m, &f.cfg, f.cap, MSIX_CTRL_ENABLE);
    msix_signal(f.m, 2);
    g_assert_cmpuint(fired(&f.fake, 2), ==, 1);
    fixture_fini(&f);
}

static void test_alloc_failure(void)
{
    struct fake_msi fake;
    struct msix *m = NULL;

    fake_init(&fake, true);
    fake.fail_at = 2;
    g_assert_cmpint(msix_new(NR_VECTORS, &fake_ops, &fake, &m), ==, -ENOSPC);
    g_assert_null(m);
    g_assert_cmpuint(fake.released, ==, 2);
    g_assert_cmpint(msix_new(0, &fake_ops, &fake, &m), ==, -EINVAL);
    g_assert_cmpint(msix_new(MSIX_MAX_VECTORS + 1, &fake_ops, &fake, &m), ==, -EINVAL);
    fake_fini(&fake);
}

/* A device thread signalling while a vCPU masks and unmasks: every signal
 * is delivered or still pending, and nothing is left pending at the end. */
struct race {
    struct msix *m;
    atomic_bool stop;
    unsigned int sent;
};

static void *race_signaller(void *opaque)
{
    struct race *r = opaque;

    while (!atomic_load(&r->stop)) {
        msix_signal(r->m, 0);
        r->sent++;
    }
    return NULL;
}

static void test_mask_race(void)
{
    struct fixture f;
    struct race r = {0};
    pthread_t t;
    uint64_t total = 0;

    fixture_init(&f, true);
    program(&f, 0, 0x40);
    set_control(f.m, &f.cfg, f.cap, MSIX_CTRL_ENABLE);
    r.m = f.m;
    g_assert_cmpint(pthread_create(&t, NULL, race_signaller, &r), ==, 0);
    for (int i = 0; i < 20000; i++) {
        table_write32(f.m, 0, 12, 1);
        table_write32(f.m, 0, 12, 0);
        total += fired(&f.fake, 0);
    }
    atomic_store(&r.stop, true);
    pthread_join(t, NULL);
    total += fired(&f.fake, 0);
    g_assert_false(msix_vector_pending(f.m, 0));
    g_assert_cmpuint(total, >, 0);
    g_assert_cmpuint(total, <=, r.sent);
    fixture_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/msix/capability", test_capability);
    g_test_add_func("/msix/table", test_table);
    g_test_add_func("/msix/delivery-and-masking", test_delivery_and_masking);
    g_test_add_func("/msix/trigger-path", test_trigger_path);
    g_test_add_func("/msix/alloc-failure", test_alloc_failure);
    g_test_add_func("/msix/mask-race", test_mask_race);
    return g_test_run();
}
