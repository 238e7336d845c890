/* i8042 controller: status register, controller configuration byte, self
 * tests, output port, and the pulse-output commands whose bit 0 is the CPU
 * reset line. Bytes for the keyboard or mouse go nowhere. */
#include "devices/i8042.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_OBF     0x01 /* output buffer full */
#define STATUS_SYS     0x04 /* passed self test */
#define STATUS_CMD     0x08 /* last write was a command */
#define STATUS_UNLOCK  0x10 /* keyboard not inhibited */
#define STATUS_AUX_OBF 0x20 /* output byte is from the aux port */

#define CTR_KBD_INT     0x01
#define CTR_AUX_INT     0x02
#define CTR_SYS         0x04
#define CTR_KBD_DISABLE 0x10
#define CTR_AUX_DISABLE 0x20
#define CTR_XLATE       0x40

#define OUTPORT_RESET 0x01 /* active low: clearing it resets the CPU */
#define OUTPORT_A20   0x02

enum {
    CMD_READ_CTR = 0x20,
    CMD_WRITE_CTR = 0x60,
    CMD_AUX_DISABLE = 0xa7,
    CMD_AUX_ENABLE = 0xa8,
    CMD_AUX_TEST = 0xa9,
    CMD_SELF_TEST = 0xaa,
    CMD_KBD_TEST = 0xab,
    CMD_KBD_DISABLE = 0xad,
    CMD_KBD_ENABLE = 0xae,
    CMD_READ_INPORT = 0xc0,
    CMD_READ_OUTPORT = 0xd0,
    CMD_WRITE_OUTPORT = 0xd1,
    CMD_WRITE_KBD_OUT = 0xd2,
    CMD_WRITE_AUX_OUT = 0xd3,
    CMD_WRITE_AUX = 0xd4,
    CMD_PULSE_FIRST = 0xf0,
};

#define SELF_TEST_OK 0x55
#define PORT_TEST_OK 0x00
#define OUT_QUEUE    16

struct i8042 {
    pthread_mutex_t lock;
    void (*reset)(void *opaque);
    void *opaque;

    uint8_t status;
    uint8_t ctr;
    uint8_t outport;
    uint8_t pending; /* command waiting for its data byte, or 0 */
    uint8_t out[OUT_QUEUE];
    bool out_aux[OUT_QUEUE];
    unsigned int out_head, out_count;
    uint8_t last_out;
};

static void i8042_queue(struct i8042 *dev, uint8_t byte, bool aux)
{
    unsigned int at;

    if (dev->out_count == OUT_QUEUE)
        return; /* a real controller holds one byte; the driver flushes anyway */
    at = (dev->out_head + dev->out_count) % OUT_QUEUE;
    dev->out[at] = byte;
    dev->out_aux[at] = aux;
    dev->out_count++;
}

static uint8_t i8042_status(const struct i8042 *dev)
{
    uint8_t status = dev->status;

    if (dev->out_count) {
        status |= STATUS_OBF;
        if (dev->out_aux[dev->out_head])
            status |= STATUS_AUX_OBF;
    }
    return status;
}

/* Runs a controller command; returns true when it pulses the reset line. */
static bool i8042_command(struct i8042 *dev, uint8_t cmd)
{
    dev->pending = 0;
    switch (cmd) {
    case CMD_READ_CTR:
        i8042_queue(dev, dev->ctr, false);
        break;
    case CMD_WRITE_CTR:
    case CMD_WRITE_OUTPORT:
    case CMD_WRITE_KBD_OUT:
    case CMD_WRITE_AUX_OUT:
    case CMD_WRITE_AUX:
        dev->pending = cmd;
        break;
    case CMD_AUX_DISABLE:
        dev->ctr |= CTR_AUX_DISABLE;
        break;
    case CMD_AUX_ENABLE:
        dev->ctr &= ~CTR_AUX_DISABLE;
        break;
    case CMD_AUX_TEST:
    case CMD_KBD_TEST:
        i8042_queue(dev, PORT_TEST_OK, false);
        break;
    case CMD_SELF_TEST:
        dev->status |= STATUS_SYS;
        i8042_queue(dev, SELF_TEST_OK, false);
        break;
    case CMD_KBD_DISABLE:
        dev->ctr |= CTR_KBD_DISABLE;
        break;
    case CMD_KBD_ENABLE:
        dev->ctr &= ~CTR_KBD_DISABLE;
        break;
    case CMD_READ_INPORT:
        i8042_queue(dev, 0x00, false);
        break;
    case CMD_READ_OUTPORT:
        i8042_queue(dev, dev->outport, false);
        break;
    default:
        /* 0xf0-0xff pulse the output lines whose bit is clear; bit 0 is reset. */
        if (cmd >= CMD_PULSE_FIRST && !(cmd & OUTPORT_RESET))
            return true;
        break; /* anything else is accepted and ignored */
    }
    return false;
}

/* A data byte: the argument of a pending command, or meant for the
 * keyboard, of which there is none. Returns true on a reset. */
static bool i8042_data(struct i8042 *dev, uint8_t val)
{
    uint8_t cmd = dev->pending;

    dev->pending = 0;
    switch (cmd) {
    case CMD_WRITE_CTR:
        dev->ctr = val;
        break;
    case CMD_WRITE_OUTPORT:
        dev->outport = val | OUTPORT_RESET;
        return !(val & OUTPORT_RESET);
    case CMD_WRITE_KBD_OUT:
        i8042_queue(dev, val, false);
        break;
    case CMD_WRITE_AUX_OUT:
        i8042_queue(dev, val, true);
        break;
    default:
        break;
    }
    return false;
}

static void i8042_data_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct i8042 *dev = opaque;

    memset(data, 0xff, len);
    if (len != 1 || offset != 0)
        return;
    pthread_mutex_lock(&dev->lock);
    if (dev->out_count) {
        dev->last_out = dev->out[dev->out_head];
        dev->out_head = (dev->out_head + 1) % OUT_QUEUE;
        dev->out_count--;
    }
    data[0] = dev->last_out;
    pthread_mutex_unlock(&dev->lock);
}

static void i8042_data_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct i8042 *dev = opaque;
    bool reset;

    if (len != 1 || offset != 0)
        return;
    pthread_mutex_lock(&dev->lock);
    dev->status &= ~STATUS_CMD;
    reset = i8042_data(dev, data[0]);
    pthread_mutex_unlock(&dev->lock);
    if (reset && dev->reset)
        dev->reset(dev->opaque);
}

static void i8042_command_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct i8042 *dev = opaque;

    memset(data, 0xff, len);
    if (len != 1 || offset != 0)
        return;
    pthread_mutex_lock(&dev->lock);
    data[0] = i8042_status(dev);
    pthread_mutex_unlock(&dev->lock);
}

static void i8042_command_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct i8042 *dev = opaque;
    bool reset;

    if (len != 1 || offset != 0)
        return;
    pthread_mutex_lock(&dev->lock);
    dev->status |= STATUS_CMD;
    reset = i8042_command(dev, data[0]);
    pthread_mutex_unlock(&dev->lock);
    if (reset && dev->reset)
        dev->reset(dev->opaque);
}

static const struct bus_ops i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
};

static const struct bus_ops i8042_command_ops = {
    .read = i8042_command_read,
    .write = i8042_command_write,
};

const struct bus_ops *i8042_data_bus_ops(void)
{
    return &i8042_data_ops;
}

const struct bus_ops *i8042_command_bus_ops(void)
{
    return &i8042_command_ops;
}

struct i8042 *i8042_new(void (*reset)(void *opaque), void *opaque)
{
    struct i8042 *dev = calloc(1, sizeof(*dev));

    if (!dev)
        return NULL;
    pthread_mutex_init(&dev->lock, NULL);
    dev->reset = reset;
    dev->opaque = opaque;
    /* As firmware leaves it: self test passed, translation on, ports enabled. */
    dev->status = STATUS_SYS | STATUS_UNLOCK;
    dev->ctr = CTR_KBD_INT | CTR_AUX_INT | CTR_SYS | CTR_XLATE;
    dev->outport = OUTPORT_RESET | OUTPORT_A20;
    return dev;
}

void i8042_free(struct i8042 *dev)
{
    if (!dev)
        return;
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

void i8042_aml(struct aml *dsdt, uint16_t base)
{
    size_t dev = aml_device_begin(dsdt, "PS2K"), crs;

    aml_name_eisaid(dsdt, "_HID", "PNP0303");
    aml_name(dsdt, "_CRS");
    crs = aml_resource_template_begin(dsdt);
    aml_io(dsdt, base + I8042_DATA_PORT_OFFSET, base + I8042_DATA_PORT_OFFSET, 1, 1);
    aml_io(dsdt, base + I8042_COMMAND_PORT_OFFSET, base + I8042_COMMAND_PORT_OFFSET, 1, 1);
    aml_interrupt(dsdt, 1, true, false, false);
    aml_resource_template_end(dsdt, crs);
    aml_end(dsdt, dev);
}
