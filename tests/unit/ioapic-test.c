/* Tests for vmm/devices/ioapic.c through its MMIO window, with fake
 * signal_msi/update_route callbacks recording what the core would see. */
#include "devices/ioapic.h"

#include <errno.h>
#include <glib.h>

#define IOREGSEL 0x00
#define IOWIN    0x10

struct msi {
    uint64_t address;
    uint32_t data;
};

struct recorder {
    struct msi sent[64];
    unsigned int nr_sent;
    unsigned int nr_routes;
    unsigned int last_pin;
    struct msi last_route;
    bool last_masked;
    int fail;
};

static int rec_signal(void *opaque, uint64_t address, uint32_t data)
{
    struct recorder *r = opaque;

    if (r->fail)
        return r->fail;
    g_assert_cmpuint(r->nr_sent, <, G_N_ELEMENTS(r->sent));
    r->sent[r->nr_sent++] = (struct msi){address, data};
    return 0;
}

static int rec_route(void *opaque, unsigned int pin, uint64_t address, uint32_t data, bool masked)
{
    struct recorder *r = opaque;

    r->nr_routes++;
    r->last_pin = pin;
    r->last_route = (struct msi){address, data};
    r->last_masked = masked;
    return 0;
}

static const struct ioapic_msi_ops rec_ops = {.signal_msi = rec_signal, .update_route = rec_route};

static void mmio_write32(struct ioapic *io, uint64_t offset, uint32_t v)
{
    uint8_t b[4] = {v, v >> 8, v >> 16, v >> 24};

    ioapic_bus_ops()->write(io, offset, b, 4);
}

static uint32_t mmio_read32(struct ioapic *io, uint64_t offset)
{
    uint8_t b[4];

    ioapic_bus_ops()->read(io, offset, b, 4);
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t reg_read(struct ioapic *io, uint32_t reg)
{
    mmio_write32(io, IOREGSEL, reg);
    return mmio_read32(io, IOWIN);
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
    mmio_write32(io, IOREGSEL, reg);
    mmio_write32(io, IOWIN, v);
}

static void set_entry(struct ioapic *io, unsigned int pin, uint64_t entry)
{
    reg_write(io, 0x10 + 2 * pin + 1, entry >> 32);
    reg_write(io, 0x10 + 2 * pin, (uint32_t)entry);
}

static uint64_t get_entry(struct ioapic *io, unsigned int pin)
{
    return reg_read(io, 0x10 + 2 * pin) | (uint64_t)reg_read(io, 0x10 + 2 * pin + 1) << 32;
}

#define LEVEL      (1ull << 15)
#define MASKED     (1ull << 16)
#define REMOTE_IRR (1ull << 14)
#define DEST(x)    ((uint64_t)(x) << 56)

static void test_id_version(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);

    g_assert_cmphex(reg_read(io, 1), ==, 0x00170011);
    g_assert_cmphex(reg_read(io, 0), ==, IOAPIC_ID << 24);
    reg_write(io, 0, 0x0a000000);
    g_assert_cmphex(reg_read(io, 0), ==, 0x0a000000);
    reg_write(io, 0, 0xffffffff); /* only the 4-bit ID sticks */
    g_assert_cmphex(reg_read(io, 0), ==, 0x0f000000);
    reg_write(io, 1, 0); /* version is read-only */
    g_assert_cmphex(reg_read(io, 1), ==, 0x00170011);
    g_assert_cmphex(reg_read(io, 2), ==, 0x0f000000); /* arbitration id follows */
    for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++)
        g_assert_cmphex(get_entry(io, pin), ==, MASKED); /* all masked at reset */
    g_assert_cmpuint(r.nr_sent, ==, 0);
    ioapic_free(io);
}

static void test_masked_pins_do_not_deliver(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);

    g_assert_cmpint(ioapic_set_irq(io, 4, true), ==, 0);
    g_assert_cmpint(ioapic_set_irq(io, 4, false), ==, 0);
    set_entry(io, 4, MASKED | 0x31);
    g_assert_cmpint(ioapic_set_irq(io, 4, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 0);
    /* An edge that arrived while masked is lost, not delivered on unmask. */
    set_entry(io, 4, 0x31);
    g_assert_cmpuint(r.nr_sent, ==, 0);
    ioapic_free(io);
}

static void test_edge(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);

    set_entry(io, 4, DEST(1) | 0x34);
    g_assert_cmpint(ioapic_set_irq(io, 4, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 1);
    g_assert_cmphex(r.sent[0].address, ==, 0xfee01000);
    g_assert_cmphex(r.sent[0].data, ==, 0x34);
    /* Staying high is not a new edge. */
    g_assert_cmpint(ioapic_set_irq(io, 4, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 1);
    g_assert_cmpint(ioapic_set_irq(io, 4, false), ==, 0);
    g_assert_cmpint(ioapic_set_irq(io, 4, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 2);
    /* An EOI means nothing to an edge pin. */
    ioapic_end_of_interrupt(io, 0x34);
    g_assert_cmpuint(r.nr_sent, ==, 2);
    g_assert_false(get_entry(io, 4) & REMOTE_IRR);
    ioapic_free(io);
}

static void test_level_remote_irr_eoi(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);

    set_entry(io, 10, LEVEL | DEST(2) | 0x41);
    g_assert_cmpint(ioapic_set_irq(io, 10, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 1);
    g_assert_cmphex(r.sent[0].data, ==, 0x41 | (1u << 15) | (1u << 14));
    g_assert_cmphex(r.sent[0].address, ==, 0xfee02000);
    g_assert_true(get_entry(io, 10) & REMOTE_IRR);
    /* Asserted again while in service: nothing until the EOI. */
    g_assert_cmpint(ioapic_set_irq(io, 10, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 1);
    /* An EOI for another vector leaves it alone. */
    ioapic_end_of_interrupt(io, 0x42);
    g_assert_true(get_entry(io, 10) & REMOTE_IRR);
    g_assert_cmpuint(r.nr_sent, ==, 1);
    /* Still asserted at EOI: delivered again. */
    ioapic_end_of_interrupt(io, 0x41);
    g_assert_cmpuint(r.nr_sent, ==, 2);
    g_assert_true(get_entry(io, 10) & REMOTE_IRR);
    /* Deasserted, then EOI: remote IRR clears, nothing more. */
    g_assert_cmpint(ioapic_set_irq(io, 10, false), ==, 0);
    ioapic_end_of_interrupt(io, 0x41);
    g_assert_cmpuint(r.nr_sent, ==, 2);
    g_assert_false(get_entry(io, 10) & REMOTE_IRR);
    /* Masked while asserted; unmasking delivers. */
    set_entry(io, 10, MASKED | LEVEL | DEST(2) | 0x41);
    g_assert_cmpint(ioapic_set_irq(io, 10, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 2);
    set_entry(io, 10, LEVEL | DEST(2) | 0x41);
    g_assert_cmpuint(r.nr_sent, ==, 3);
    /* Switching to edge drops remote IRR. */
    set_entry(io, 10, DEST(2) | 0x41);
    g_assert_false(get_entry(io, 10) & REMOTE_IRR);
    ioapic_free(io);
}

static void test_failed_delivery_keeps_level_pending(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);

    set_entry(io, 3, LEVEL | 0x50);
    r.fail = -EIO;
    g_assert_cmpint(ioapic_set_irq(io, 3, true), ==, -EIO);
    g_assert_false(get_entry(io, 3) & REMOTE_IRR);
    r.fail = 0;
    g_assert_cmpint(ioapic_set_irq(io, 3, true), ==, 0);
    g_assert_cmpuint(r.nr_sent, ==, 1);
    ioapic_free(io);
}

static void test_routes(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);

    g_assert_cmpint(ioapic_sync_routes(io), ==, 0);
    g_assert_cmpuint(r.nr_routes, ==, IOAPIC_NR_PINS);
    g_assert_true(r.last_masked);
    r.nr_routes = 0;
    set_entry(io, 7, LEVEL | DEST(3) | 0x60);
    g_assert_cmpuint(r.nr_routes, ==, 2); /* one per half written */
    g_assert_cmpuint(r.last_pin, ==, 7);
    g_assert_false(r.last_masked);
    g_assert_cmphex(r.last_route.address, ==, 0xfee03000);
    g_assert_cmphex(r.last_route.data, ==, 0x60 | (1u << 15) | (1u << 14));
    g_assert_cmpuint(r.nr_sent, ==, 0);
    ioapic_free(io);
}

static void test_msi_composition(void)
{
    uint64_t address;
    uint32_t data;

    /* Logical destination 0x0f, lowest priority (1): redirection hint set. */
    ioapic_entry_to_msi(DEST(0x0f) | (1ull << 11) | (1ull << 8) | 0x99, &address, &data);
    g_assert_cmphex(address, ==, 0xfee0f000 | (1u << 2) | (1u << 3));
    g_assert_cmphex(data, ==, 0x199);
    /* NMI delivery mode (4), active low is the guest's business. */
    ioapic_entry_to_msi(DEST(0) | (4ull << 8) | (1ull << 13) | 0x02, &address, &data);
    g_assert_cmphex(address, ==, 0xfee00000);
    g_assert_cmphex(data, ==, 0x402);
    /* Extended destination id bits 49-55 land in address bits 5-11. */
    ioapic_entry_to_msi(DEST(0x01) | (0x7full << 49) | 0x20, &address, &data);
    g_assert_cmphex(address, ==, 0xfee01000 | (0x7f << 5));
}

static void test_garbage_registers(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);
    uint8_t b[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    /* Holes and indexes past the table read as zero and ignore writes. */
    const uint32_t regs[] = {0x03, 0x0f, 0x10 + 2 * IOAPIC_NR_PINS, 0x80, 0xff};
    for (size_t i = 0; i < G_N_ELEMENTS(regs); i++) {
        reg_write(io, regs[i], 0xffffffff);
        g_assert_cmphex(reg_read(io, regs[i]), ==, 0);
    }
    /* IOREGSEL keeps 8 bits. */
    mmio_write32(io, IOREGSEL, 0x12345610);
    g_assert_cmphex(mmio_read32(io, IOREGSEL), ==, 0x10);
    /* Read-only entry bits are not taken from the guest. */
    set_entry(io, 2, MASKED | REMOTE_IRR | (1ull << 12) | 0x40);
    g_assert_cmphex(get_entry(io, 2), ==, MASKED | 0x40);
    /* Accesses outside the two registers, or of odd sizes. */
    mmio_write32(io, 0x08, 0xdeadbeef);
    g_assert_cmphex(mmio_read32(io, 0x08), ==, 0);
    g_assert_cmphex(mmio_read32(io, 0x1c), ==, 0);
    ioapic_bus_ops()->write(io, IOWIN, b, 8);
    ioapic_bus_ops()->read(io, IOWIN, b, 8);
    g_assert_cmphex(b[0], ==, 0);
    mmio_write32(io, IOREGSEL, 0x14);
    ioapic_bus_ops()->write(io, IOWIN, b, 1); /* partial IOWIN writes are dropped */
    g_assert_cmphex(get_entry(io, 2), ==, MASKED | 0x40);
    g_assert_cmpuint(r.nr_sent, ==, 0);
    ioapic_free(io);
}

static void test_bad_pins_and_lines(void)
{
    struct recorder r = {0};
    struct ioapic *io = ioapic_new(&rec_ops, &r);
    struct irq_line line = {0};

    g_assert_cmpint(ioapic_set_irq(io, IOAPIC_NR_PINS, true), ==, -EINVAL);
    g_assert_cmpint(ioapic_set_irq(io, UINT32_MAX, true), ==, -EINVAL);
    g_assert_cmpint(ioapic_irq_line(io, IOAPIC_NR_PINS, &line), ==, -EINVAL);
    ioapic_end_of_interrupt(io, 0); /* nothing pending: harmless */
    g_assert_cmpint(ioapic_irq_line(io, 5, &line), ==, 0);
    set_entry(io, 5, 0x55);
    irq_line_set(&line, true);
    g_assert_cmpuint(r.nr_sent, ==, 1);
    g_assert_cmphex(r.sent[0].data, ==, 0x55);
    ioapic_free(io);
    g_assert_null(ioapic_new(NULL, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ioapic/id-version", test_id_version);
    g_test_add_func("/ioapic/masked-pins-do-not-deliver", test_masked_pins_do_not_deliver);
    g_test_add_func("/ioapic/edge", test_edge);
    g_test_add_func("/ioapic/level-remote-irr-eoi", test_level_remote_irr_eoi);
    g_test_add_func("/ioapic/failed-delivery", test_failed_delivery_keeps_level_pending);
    g_test_add_func("/ioapic/routes", test_routes);
    g_test_add_func("/ioapic/msi-composition", test_msi_composition);
    g_test_add_func("/ioapic/garbage-registers", test_garbage_registers);
    g_test_add_func("/ioapic/bad-pins-and-lines", test_bad_pins_and_lines);
    return g_test_run();
}
