/* 16550A UART: divisor latch, FIFO control, interrupt identification with
 * the usual priorities, modem-control loopback. Transmission is instant, so
 * THR and the transmitter are always empty and THRE re-arms on every write. */
#include "devices/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
    UART_RBR_THR = 0, /* DLL when DLAB */
    UART_IER = 1,     /* DLM when DLAB */
    UART_IIR_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

#define IER_RDA  0x01 /* received data available */
#define IER_THRE 0x02
#define IER_RLS  0x04 /* receiver line status */
#define IER_MS   0x08 /* modem status */
#define IER_MASK 0x0f

#define IIR_NONE    0x01
#define IIR_MS      0x00
#define IIR_THRE    0x02
#define IIR_RDA     0x04
#define IIR_RLS     0x06
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_TRIGGER  0xc0

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_PE     0x04
#define LSR_FE     0x08
#define LSR_BI     0x10
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
#define MSR_DELTA 0x0f

#define DEFAULT_DIVISOR 12 /* 9600 baud from the 1.8432 MHz clock */

struct serial {
    pthread_mutex_t lock;
    struct irq_line irq;
    bool has_irq;
    bool irq_level;
    struct chardev *backend;

    uint8_t ier, lcr, mcr, msr, scr, fcr;
    uint8_t dll, dlm;
    uint8_t lsr_errors; /* sticky until LSR is read */
    bool thr_pending;   /* THRE interrupt waiting to be identified */
    bool rx_refused;    /* input was held back: tell the backend when there is room */

    uint8_t rx[SERIAL_RX_FIFO_SIZE];
    unsigned int rx_head, rx_count;
    uint8_t last_rx;
};

static unsigned int serial_rx_capacity(const struct serial *s)
{
    return (s->fcr & FCR_ENABLE) ? SERIAL_RX_FIFO_SIZE : 1;
}

static uint8_t serial_iir(const struct serial *s)
{
    uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;

    if ((s->ier & IER_RLS) && s->lsr_errors)
        return fifo | IIR_RLS;
    if ((s->ier & IER_RDA) && s->rx_count)
        return fifo | IIR_RDA;
    if ((s->ier & IER_THRE) && s->thr_pending)
        return fifo | IIR_THRE;
    if ((s->ier & IER_MS) && (s->msr & MSR_DELTA))
        return fifo | IIR_MS;
    return fifo | IIR_NONE;
}

static void serial_update_irq(struct serial *s)
{
    bool level = !(serial_iir(s) & IIR_NONE);

    if (level != s->irq_level) {
        s->irq_level = level;
        if (s->has_irq)
            irq_line_set(&s->irq, level);
    }
}

/* Modem inputs: in loopback they mirror the modem outputs, otherwise a
 * peer is always there and ready. Changes latch the delta bits. */
static void serial_update_msr(struct serial *s)
{
    uint8_t lines = MSR_DCD | MSR_DSR | MSR_CTS, old = s->msr, changed;

    if (s->mcr & MCR_LOOP) {
        lines = 0;
        if (s->mcr & MCR_RTS)
            lines |= MSR_CTS;
        if (s->mcr & MCR_DTR)
            lines |= MSR_DSR;
        if (s->mcr & MCR_OUT1)
            lines |= MSR_RI;
        if (s->mcr & MCR_OUT2)
            lines |= MSR_DCD;
    }
    changed = (old ^ lines) & ~MSR_DELTA;
    s->msr = lines | (old & MSR_DELTA);
    if (changed & MSR_CTS)
        s->msr |= MSR_DCTS;
    if (changed & MSR_DSR)
        s->msr |= MSR_DDSR;
    if (changed & MSR_DCD)
        s->msr |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI))
        s->msr |= MSR_TERI;
}

static void serial_rx_clear(struct serial *s)
{
    s->rx_head = s->rx_count = 0;
}

/* Appends what fits; returns how many bytes did. */
static size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
    size_t n = 0;

    while (n < len && s->rx_count < serial_rx_capacity(s)) {
        s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO_SIZE] = buf[n++];
        s->rx_count++;
    }
    return n;
}

static uint8_t serial_rx_pop(struct serial *s)
{
    if (s->rx_count) {
        s->last_rx = s->rx[s->rx_head];
        s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO_SIZE;
        s->rx_count--;
        if (s->rx_count == 0 && s->rx_refused && s->backend) {
            s->rx_refused = false;
            chardev_input_ready(s->backend);
        }
    }
    return s->last_rx;
}

static void serial_transmit(struct serial *s, uint8_t byte)
{
    if (s->mcr & MCR_LOOP) {
        /* A full receiver overruns: the new character is lost. */
        if (serial_rx_push(s, &byte, 1) == 0)
            s->lsr_errors |= LSR_OE;
    } else if (s->backend) {
        /* A stalled backend drops and counts; nothing for the guest to see. */
        (void)chardev_write(s->backend, &byte, 1);
    }
    s->thr_pending = true;
}

static void serial_write_fcr(struct serial *s, uint8_t val)
{
    if ((val ^ s->fcr) & FCR_ENABLE)
        serial_rx_clear(s); /* switching modes resets both FIFOs */
    if (val & FCR_CLEAR_RX)
        serial_rx_clear(s);
    s->fcr = val & (FCR_ENABLE | FCR_TRIGGER);
}

static void serial_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct serial *s = opaque;
    uint8_t val = data[0];

    if (len != 1 || offset >= SERIAL_PIO_LEN)
        return;
    pthread_mutex_lock(&s->lock);
    switch (offset) {
    case UART_RBR_THR:
        if (s->lcr & LCR_DLAB)
            s->dll = val;
        else
            serial_transmit(s, val);
        break;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->dlm = val;
            break;
        }
        /* Enabling THRE with the holder empty raises it at once (the
         * 8250 driver tests this); disabling forgets it. */
        if ((val & IER_THRE) && !(s->ier & IER_THRE))
            s->thr_pending = true;
        else if (!(val & IER_THRE))
            s->thr_pending = false;
        s->ier = val & IER_MASK;
        break;
    case UART_IIR_FCR:
        serial_write_fcr(s, val);
        break;
    case UART_LCR:
        s->lcr = val;
        break;
    case UART_MCR:
        s->mcr = val & MCR_MASK;
        serial_update_msr(s);
        break;
    case UART_SCR:
        s->scr = val;
        break;
    default: /* LSR and MSR are read-only */
        break;
    }
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

static uint8_t serial_read_reg(struct serial *s, uint64_t offset)
{
    uint8_t val;

    switch (offset) {
    case UART_RBR_THR:
        return (s->lcr & LCR_DLAB) ? s->dll : serial_rx_pop(s);
    case UART_IER:
        return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
    case UART_IIR_FCR:
        val = serial_iir(s);
        /* Reading IIR acknowledges a THRE interrupt it reports. */
        if ((val & 0x0f) == IIR_THRE)
            s->thr_pending = false;
        return val;
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        val = LSR_THRE | LSR_TEMT | s->lsr_errors;
        if (s->rx_count)
            val |= LSR_DR;
        s->lsr_errors = 0;
        return val;
    case UART_MSR:
        val = s->msr;
        s->msr &= ~MSR_DELTA;
        return val;
    default:
        return s->scr;
    }
}

static void serial_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct serial *s = opaque;

    memset(data, 0xff, len);
    if (len != 1 || offset >= SERIAL_PIO_LEN)
        return;
    pthread_mutex_lock(&s->lock);
    data[0] = serial_read_reg(s, offset);
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops serial_ops = {
    .read = serial_read,
    .write = serial_write,
};

const struct bus_ops *serial_bus_ops(void)
{
    return &serial_ops;
}

struct serial *serial_new(const struct irq_line *irq, struct chardev *backend)
{
    struct serial *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    if (irq) {
        s->irq = *irq;
        s->has_irq = true;
    }
    s->backend = backend;
    s->dll = DEFAULT_DIVISOR;
    s->lcr = 0x03; /* 8N1 */
    s->mcr = MCR_OUT2;
    serial_update_msr(s);
    s->msr &= ~MSR_DELTA;
    return s;
}

void serial_free(struct serial *s)
{
    if (!s)
        return;
    if (s->backend)
        chardev_stop_input(s->backend);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

size_t serial_input(struct serial *s, const uint8_t *buf, size_t len)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    if (s->mcr & MCR_LOOP) {
        n = len;
    } else {
        n = serial_rx_push(s, buf, len);
        if (n < len)
            s->rx_refused = true;
    }
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
    return n;
}

static size_t serial_input_cb(void *opaque, const uint8_t *buf, size_t len)
{
    return serial_input(opaque, buf, len);
}

int serial_start_input(struct serial *s)
{
    if (!s->backend)
        return -ENOTSUP;
    return chardev_start_input(s->backend, serial_input_cb, s);
}

void serial_aml(struct aml *dsdt, const char *name, unsigned int uid, uint16_t port,
                unsigned int irq)
{
    size_t dev = aml_device_begin(dsdt, name), crs;

    aml_name_eisaid(dsdt, "_HID", "PNP0501");
    aml_name_integer(dsdt, "_UID", uid);
    aml_name(dsdt, "_CRS");
    crs = aml_resource_template_begin(dsdt);
    aml_io(dsdt, port, port, 1, SERIAL_PIO_LEN);
    aml_interrupt(dsdt, irq, true, false, false);
    aml_resource_template_end(dsdt, crs);
    aml_end(dsdt, dev);
}
