/* IOAPIC: indirect register window (IOREGSEL/IOWIN), ID/version/arbitration
 * registers and 64-bit redirection entries. An interrupt is sent as the MSI
 * the entry describes; level-triggered pins track remote IRR until the
 * core reports the EOI. */
#include "devices/ioapic.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IOREGSEL 0x00
#define IOWIN    0x10

#define REG_ID     0x00
#define REG_VER    0x01
#define REG_ARB    0x02
#define REG_REDTBL 0x10 /* two registers per pin */

#define RTE_VECTOR        0xffull
#define RTE_DELIVERY_MODE (7ull << 8)
#define RTE_DEST_LOGICAL  (1ull << 11)
#define RTE_DELIVERY_PEND (1ull << 12)
#define RTE_ACTIVE_LOW    (1ull << 13)
#define RTE_REMOTE_IRR    (1ull << 14)
#define RTE_LEVEL         (1ull << 15)
#define RTE_MASKED        (1ull << 16)
#define RTE_READ_ONLY     (RTE_DELIVERY_PEND | RTE_REMOTE_IRR)
/* Bits 49-55 extend the destination (Linux's "extended destination ID"),
 * bits 56-63 are the 8-bit destination. */
#define RTE_DEST_SHIFT 49
#define RTE_DEST_MASK  0x7fffull

#define DELIVERY_LOWEST_PRIO 1

#define MSI_ADDRESS_BASE       0xfee00000ull
#define MSI_ADDR_DEST_SHIFT    5 /* entry bits 49-63 land at address bits 5-19 */
#define MSI_ADDR_REDIR_HINT    (1u << 3)
#define MSI_ADDR_DEST_LOGICAL  (1u << 2)
#define MSI_DATA_LEVEL_ASSERT  (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL (1u << 15)

struct ioapic {
    pthread_mutex_t lock;
    const struct ioapic_msi_ops *ops;
    void *opaque;
    uint32_t ioregsel;
    uint32_t id;
    uint64_t redtbl[IOAPIC_NR_PINS];
    uint32_t line; /* pin levels as the devices last set them */
};

void ioapic_entry_to_msi(uint64_t entry, uint64_t *address, uint32_t *data)
{
    unsigned int mode = (entry & RTE_DELIVERY_MODE) >> 8;

    *address =
        MSI_ADDRESS_BASE | (((entry >> RTE_DEST_SHIFT) & RTE_DEST_MASK) << MSI_ADDR_DEST_SHIFT);
    if (entry & RTE_DEST_LOGICAL)
        *address |= MSI_ADDR_DEST_LOGICAL;
    if (mode == DELIVERY_LOWEST_PRIO)
        *address |= MSI_ADDR_REDIR_HINT;
    *data = (entry & RTE_VECTOR) | (mode << 8);
    if (entry & RTE_LEVEL)
        *data |= MSI_DATA_TRIGGER_LEVEL | MSI_DATA_LEVEL_ASSERT;
}

static int ioapic_update_route(struct ioapic *io, unsigned int pin)
{
    uint64_t address;
    uint32_t data;

    if (!io->ops->update_route)
        return 0;
    ioapic_entry_to_msi(io->redtbl[pin], &address, &data);
    return io->ops->update_route(io->opaque, pin, address, data, io->redtbl[pin] & RTE_MASKED);
}

/* Sends pin's interrupt if its entry allows; level pins then wait for EOI. */
static int ioapic_service(struct ioapic *io, unsigned int pin)
{
    uint64_t *entry = &io->redtbl[pin], address;
    uint32_t data;
    int ret;

    if (*entry & RTE_MASKED)
        return 0;
    if ((*entry & RTE_LEVEL) && (*entry & RTE_REMOTE_IRR))
        return 0;
    ioapic_entry_to_msi(*entry, &address, &data);
    ret = io->ops->signal_msi(io->opaque, address, data);
    if (ret < 0)
        return ret;
    if (*entry & RTE_LEVEL)
        *entry |= RTE_REMOTE_IRR;
    return 0;
}

static uint32_t ioapic_read_reg(struct ioapic *io)
{
    uint32_t reg = io->ioregsel, pin;

    switch (reg) {
    case REG_ID:
        return io->id;
    case REG_VER:
        return ((IOAPIC_NR_PINS - 1) << 16) | IOAPIC_VERSION;
    case REG_ARB:
        return io->id;
    default:
        if (reg < REG_REDTBL || reg >= REG_REDTBL + 2 * IOAPIC_NR_PINS)
            return 0;
        pin = (reg - REG_REDTBL) / 2;
        return (reg & 1) ? io->redtbl[pin] >> 32 : (uint32_t)io->redtbl[pin];
    }
}

static void ioapic_write_reg(struct ioapic *io, uint32_t val)
{
    uint32_t reg = io->ioregsel, pin;
    uint64_t entry;

    if (reg == REG_ID) {
        io->id = val & (0xfu << 24);
        return;
    }
    if (reg < REG_REDTBL || reg >= REG_REDTBL + 2 * IOAPIC_NR_PINS)
        return; /* VER, ARB and the holes are read-only */
    pin = (reg - REG_REDTBL) / 2;
    entry = io->redtbl[pin];
    if (reg & 1)
        entry = (entry & 0xffffffffull) | ((uint64_t)val << 32);
    else
        entry = (entry & ~0xffffffffull) | (val & ~RTE_READ_ONLY) | (entry & RTE_READ_ONLY);
    /* Remote IRR only means something for level-triggered pins. */
    if (!(entry & RTE_LEVEL))
        entry &= ~RTE_REMOTE_IRR;
    io->redtbl[pin] = entry;
    /* The callback's errors are the core's to report; the guest sees none. */
    (void)ioapic_update_route(io, pin);
    /* Unmasking an asserted level pin delivers it now. */
    if ((entry & RTE_LEVEL) && (io->line & (1u << pin)))
        (void)ioapic_service(io, pin);
}

static void ioapic_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct ioapic *io = opaque;
    uint32_t val = 0;

    memset(data, 0, len);
    if (len > 4)
        return;
    pthread_mutex_lock(&io->lock);
    if (offset == IOREGSEL)
        val = io->ioregsel;
    else if (offset == IOWIN)
        val = ioapic_read_reg(io);
    pthread_mutex_unlock(&io->lock);
    for (uint32_t i = 0; i < len; i++)
        data[i] = val >> (8 * i);
}

static void ioapic_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct ioapic *io = opaque;
    uint32_t val = 0;

    if (len > 4)
        return;
    for (uint32_t i = 0; i < len; i++)
        val |= (uint32_t)data[i] << (8 * i);
    pthread_mutex_lock(&io->lock);
    if (offset == IOREGSEL)
        io->ioregsel = val & 0xff;
    else if (offset == IOWIN && len == 4)
        ioapic_write_reg(io, val);
    pthread_mutex_unlock(&io->lock);
}

static const struct bus_ops ioapic_ops = {
    .read = ioapic_read,
    .write = ioapic_write,
};

const struct bus_ops *ioapic_bus_ops(void)
{
    return &ioapic_ops;
}

struct ioapic *ioapic_new(const struct ioapic_msi_ops *ops, void *opaque)
{
    struct ioapic *io;

    if (!ops || !ops->signal_msi)
        return NULL;
    io = calloc(1, sizeof(*io));
    if (!io)
        return NULL;
    pthread_mutex_init(&io->lock, NULL);
    io->ops = ops;
    io->opaque = opaque;
    io->id = IOAPIC_ID << 24;
    for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++)
        io->redtbl[pin] = RTE_MASKED;
    return io;
}

void ioapic_free(struct ioapic *io)
{
    if (!io)
        return;
    pthread_mutex_destroy(&io->lock);
    free(io);
}

int ioapic_sync_routes(struct ioapic *io)
{
    int ret = 0;

    pthread_mutex_lock(&io->lock);
    for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
        int r = ioapic_update_route(io, pin);
        if (r < 0 && ret == 0)
            ret = r;
    }
    pthread_mutex_unlock(&io->lock);
    return ret;
}

int ioapic_set_irq(struct ioapic *io, unsigned int pin, bool level)
{
    uint32_t bit;
    bool rising;
    int ret = 0;

    if (pin >= IOAPIC_NR_PINS)
        return -EINVAL;
    bit = 1u << pin;
    pthread_mutex_lock(&io->lock);
    rising = level && !(io->line & bit);
    if (level)
        io->line |= bit;
    else
        io->line &= ~bit;
    if (io->redtbl[pin] & RTE_LEVEL) {
        if (level)
            ret = ioapic_service(io, pin);
    } else if (rising) {
        ret = ioapic_service(io, pin);
    }
    pthread_mutex_unlock(&io->lock);
    return ret;
}

void ioapic_end_of_interrupt(struct ioapic *io, uint8_t vector)
{
    pthread_mutex_lock(&io->lock);
    for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
        uint64_t *entry = &io->redtbl[pin];

        if ((*entry & RTE_VECTOR) != vector || !(*entry & RTE_LEVEL) || !(*entry & RTE_REMOTE_IRR))
            continue;
        *entry &= ~RTE_REMOTE_IRR;
        if (io->line & (1u << pin))
            (void)ioapic_service(io, pin);
    }
    pthread_mutex_unlock(&io->lock);
}

static void ioapic_line_set(void *opaque, unsigned int pin, bool level)
{
    (void)ioapic_set_irq(opaque, pin, level);
}

int ioapic_irq_line(struct ioapic *io, unsigned int pin, struct irq_line *line)
{
    if (pin >= IOAPIC_NR_PINS)
        return -EINVAL;
    *line = (struct irq_line){.set_level = ioapic_line_set, .opaque = io, .pin = pin};
    return 0;
}
