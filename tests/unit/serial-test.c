/* Tests for vmm/devices/serial.c through its port I/O registers: transmit,
 * receive and its interrupt, FIFO limits, divisor latch, the probe Linux's
 * 8250 driver runs, and input flow control from a chardev. */
#include "devices/serial.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct irq_probe {
    bool level;
    int changes;
};

static void probe_set(void *opaque, unsigned int pin, bool level)
{
    struct irq_probe *p = opaque;

    g_assert_cmpuint(pin, ==, 4);
    p->level = level;
    p->changes++;
}

static void out(struct serial *s, uint64_t reg, uint8_t v)
{
    serial_bus_ops()->write(s, reg, &v, 1);
}

static uint8_t in(struct serial *s, uint64_t reg)
{
    uint8_t v;

    serial_bus_ops()->read(s, reg, &v, 1);
    return v;
}

static struct serial *serial_with_probe(struct irq_probe *p, struct chardev *backend)
{
    struct irq_line line = {.set_level = probe_set, .opaque = p, .pin = 4};

    return serial_new(&line, backend);
}

static void test_transmit_to_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("serial-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "out", NULL);
    g_autofree char *spec = g_strdup_printf("file=%s", path);
    g_autofree char *err = NULL;
    g_autofree char *contents = NULL;
    struct chardev *c = chardev_new(spec, &err);
    struct irq_probe p = {0};
    struct serial *s;
    const char *msg = "Linux version\r\n";

    g_assert_nonnull(c);
    s = serial_with_probe(&p, c);
    for (const char *m = msg; *m; m++) {
        g_assert_cmphex(in(s, LSR) & 0x60, ==, 0x60); /* THRE and TEMT */
        out(s, THR, *m);
    }
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, msg);
    g_assert_false(p.level);
    serial_free(s);
    chardev_free(c);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_receive_interrupt(void)
{
    struct irq_probe p = {0};
    struct serial *s = serial_with_probe(&p, NULL);
    const uint8_t bytes[] = {'a', 'b', 'c'};

    out(s, FCR, 0x07);
    g_assert_cmpuint(serial_input(s, bytes, sizeof(bytes)), ==, 3);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0x01);
    g_assert_false(p.level); /* not enabled yet */
    g_assert_cmphex(in(s, IIR), ==, 0xc1);
    out(s, IER, 0x01);
    g_assert_true(p.level);
    g_assert_cmphex(in(s, IIR), ==, 0xc4);
    g_assert_cmphex(in(s, THR), ==, 'a');
    g_assert_cmphex(in(s, THR), ==, 'b');
    g_assert_true(p.level);
    g_assert_cmphex(in(s, THR), ==, 'c');
    g_assert_false(p.level);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    g_assert_cmphex(in(s, IIR), ==, 0xc1);
    /* New data raises the line again; masking IER lowers it. */
    g_assert_cmpuint(serial_input(s, bytes, 1), ==, 1);
    g_assert_true(p.level);
    out(s, IER, 0x00);
    g_assert_false(p.level);
    serial_free(s);
}

static void test_thre_interrupt(void)
{
    struct irq_probe p = {0};
    struct serial *s = serial_with_probe(&p, NULL);

    out(s, FCR, 0x01);
    out(s, IER, 0x02);
    g_assert_true(p.level);
    g_assert_cmphex(in(s, IIR), ==, 0xc2);
    g_assert_false(p.level); /* reading IIR acknowledged it */
    g_assert_cmphex(in(s, IIR), ==, 0xc1);
    out(s, THR, 'x');
    g_assert_true(p.level);
    /* The 8250 driver's THRE re-assert test: IER off and on again. */
    out(s, IER, 0x00);
    g_assert_false(p.level);
    out(s, IER, 0x02);
    g_assert_cmphex(in(s, IIR), ==, 0xc2);
    /* Received data outranks THRE. */
    out(s, IER, 0x03);
    out(s, IER, 0x00);
    out(s, IER, 0x03);
    g_assert_cmpuint(serial_input(s, (const uint8_t *)"z", 1), ==, 1);
    g_assert_cmphex(in(s, IIR), ==, 0xc4);
    serial_free(s);
}

static void test_fifo_limits(void)
{
    struct irq_probe p = {0};
    struct serial *s = serial_with_probe(&p, NULL);
    uint8_t buf[100];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = i;
    /* FIFO off: one holding register. */
    g_assert_cmpuint(serial_input(s, buf, sizeof(buf)), ==, 1);
    g_assert_cmpuint(serial_input(s, buf, sizeof(buf)), ==, 0);
    g_assert_cmphex(in(s, IIR) & 0xc0, ==, 0);
    /* Enabling the FIFO resets it. */
    out(s, FCR, 0x01);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    g_assert_cmpuint(serial_input(s, buf, sizeof(buf)), ==, SERIAL_RX_FIFO_SIZE);
    g_assert_cmpuint(serial_input(s, buf, sizeof(buf)), ==, 0);
    g_assert_cmphex(in(s, LSR) & 0x02, ==, 0); /* held back is not an overrun */
    for (unsigned int i = 0; i < SERIAL_RX_FIFO_SIZE; i++)
        g_assert_cmphex(in(s, THR), ==, i);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    /* FCR bit 1 clears the receive FIFO. */
    g_assert_cmpuint(serial_input(s, buf, 10), ==, 10);
    out(s, FCR, 0x03);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    serial_free(s);
}

static void test_loopback_overrun(void)
{
    struct irq_probe p = {0};
    struct serial *s = serial_with_probe(&p, NULL);

    out(s, FCR, 0x01);
    out(s, MCR, 0x10);
    for (unsigned int i = 0; i < SERIAL_RX_FIFO_SIZE + 1; i++)
        out(s, THR, i);
    out(s, IER, 0x04);
    g_assert_true(p.level);
    g_assert_cmphex(in(s, IIR), ==, 0xc6);
    g_assert_cmphex(in(s, LSR) & 0x03, ==, 0x03); /* DR and OE */
    g_assert_cmphex(in(s, LSR) & 0x02, ==, 0);    /* OE cleared by the read */
    g_assert_false(p.level);
    g_assert_cmphex(in(s, THR), ==, 0); /* the first bytes survived, the last was lost */
    /* Input from the line is disconnected in loopback. */
    g_assert_cmpuint(serial_input(s, (const uint8_t *)"abc", 3), ==, 3);
    for (unsigned int i = 1; i < SERIAL_RX_FIFO_SIZE; i++)
        g_assert_cmphex(in(s, THR), ==, i);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    serial_free(s);
}

static void test_divisor_latch(void)
{
    struct serial *s = serial_new(NULL, NULL);

    out(s, LCR, 0x83);
    g_assert_cmphex(in(s, THR), ==, 12); /* 9600 baud at reset */
    out(s, THR, 0x01);                   /* 115200 baud */
    out(s, IER, 0x00);
    g_assert_cmphex(in(s, THR), ==, 0x01);
    g_assert_cmphex(in(s, IER), ==, 0x00);
    out(s, IER, 0x05); /* DLM, not IER */
    out(s, LCR, 0x03);
    g_assert_cmphex(in(s, IER), ==, 0x00);
    g_assert_cmphex(in(s, LCR), ==, 0x03);
    out(s, LCR, 0x83);
    g_assert_cmphex(in(s, IER), ==, 0x05);
    g_assert_cmphex(in(s, THR), ==, 0x01);
    out(s, LCR, 0x03);
    serial_free(s);
}

/* The sequence of drivers/tty/serial/8250's autoconfig() for a 16550A. */
static void test_linux_probe(void)
{
    struct serial *s = serial_new(NULL, NULL);
    uint8_t save_mcr;

    /* IER scratch test. */
    out(s, IER, 0x00);
    g_assert_cmphex(in(s, IER) & 0x0f, ==, 0x00);
    out(s, IER, 0x0f);
    g_assert_cmphex(in(s, IER) & 0x0f, ==, 0x0f);
    out(s, IER, 0x00);
    /* Loopback test: RTS|OUT2 show up as CTS|DCD. */
    save_mcr = in(s, MCR);
    out(s, MCR, 0x1a);
    g_assert_cmphex(in(s, MSR) & 0xf0, ==, 0x90);
    out(s, MCR, save_mcr);
    /* FIFO identification: both IIR FIFO bits after enabling, bit 5 never. */
    out(s, FCR, 0x01);
    g_assert_cmphex(in(s, IIR) >> 6, ==, 3);
    out(s, FCR, 0x21);
    g_assert_cmphex(in(s, IIR) & 0x20, ==, 0);
    /* No EFR behind LCR=0xbf: offset 2 reads as IIR, which is non-zero. */
    out(s, LCR, 0xbf);
    g_assert_cmphex(in(s, 2), !=, 0);
    out(s, LCR, 0x03);
    /* IER bits 4-7 do not stick (not an XScale UART). */
    out(s, IER, 0x40);
    g_assert_cmphex(in(s, IER), ==, 0x00);
    /* Scratch register. */
    out(s, SCR, 0xa5);
    g_assert_cmphex(in(s, SCR), ==, 0xa5);
    out(s, SCR, 0x5a);
    g_assert_cmphex(in(s, SCR), ==, 0x5a);
    /* The LSR safety check: never 0xff. */
    g_assert_cmphex(in(s, LSR), !=, 0xff);
    serial_free(s);
}

static void test_modem_status(void)
{
    struct irq_probe p = {0};
    struct serial *s = serial_with_probe(&p, NULL);

    g_assert_cmphex(in(s, MSR), ==, 0xb0); /* DCD, DSR, CTS: a peer is there */
    out(s, IER, 0x08);
    g_assert_false(p.level);
    out(s, MCR, 0x10); /* loopback with every output low: all inputs drop */
    g_assert_true(p.level);
    g_assert_cmphex(in(s, IIR) & 0x0f, ==, 0x00);
    g_assert_cmphex(in(s, MSR), ==, 0x0b); /* DCTS, DDSR, DDCD */
    g_assert_false(p.level);
    out(s, MCR, 0x14); /* OUT1 -> RI */
    g_assert_cmphex(in(s, MSR), ==, 0x40);
    out(s, MCR, 0x10); /* RI falling edge: TERI */
    g_assert_cmphex(in(s, MSR), ==, 0x04);
    serial_free(s);
}

static void test_bad_accesses(void)
{
    struct irq_probe p = {0};
    struct serial *s = serial_with_probe(&p, NULL);
    uint8_t two[2] = {0x0f, 0x0f};

    serial_bus_ops()->write(s, IER, two, 2);
    g_assert_cmphex(in(s, IER), ==, 0);
    serial_bus_ops()->read(s, LSR, two, 2);
    g_assert_cmphex(two[0], ==, 0xff);
    out(s, 8, 0x0f);
    out(s, UINT32_MAX, 0x0f);
    g_assert_cmphex(in(s, 8), ==, 0xff);
    out(s, LSR, 0x00); /* read-only */
    out(s, MSR, 0x00);
    g_assert_cmphex(in(s, LSR), ==, 0x60);
    g_assert_cmphex(in(s, THR), ==, 0); /* empty FIFO: no harm */
    g_assert_cmpuint(serial_input(s, NULL, 0), ==, 0);
    g_assert_cmpint(serial_start_input(s), ==, -ENOTSUP); /* no backend */
    g_assert_false(p.level);
    serial_free(s);
}

/* Input the guest cannot take yet waits in the chardev, and arrives whole
 * once it reads. */
static void test_input_flow_control(void)
{
    g_autofree char *dir = g_dir_make_tmp("serial-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "sock", NULL);
    g_autofree char *spec = g_strdup_printf("socket=%s", path);
    g_autofree char *err = NULL;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct chardev *c = chardev_new(spec, &err);
    struct irq_probe p = {0};
    struct serial *s;
    uint8_t buf[200];
    unsigned int got = 0;
    int fd;

    g_assert_nonnull(c);
    s = serial_with_probe(&p, c);
    out(s, FCR, 0x01);
    out(s, IER, 0x01);
    g_assert_cmpint(serial_start_input(s), ==, 0);
    g_assert_cmpint(serial_start_input(s), ==, -EBUSY);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(addr.sun_path, path);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = i;
    g_assert_cmpint(write(fd, buf, sizeof(buf)), ==, sizeof(buf));
    /* The guest drains whatever is there until all 200 bytes came through. */
    for (int tries = 0; got < sizeof(buf) && tries < 2000; tries++) {
        while (in(s, LSR) & 0x01) {
            g_assert_cmphex(in(s, THR), ==, got % 256);
            got++;
        }
        g_usleep(1000);
    }
    g_assert_cmpuint(got, ==, sizeof(buf));
    g_assert_cmphex(in(s, LSR) & 0x02, ==, 0); /* nothing was lost */
    close(fd);
    serial_free(s); /* stops the input thread before the UART goes */
    chardev_free(c);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/serial/transmit-to-file", test_transmit_to_file);
    g_test_add_func("/serial/receive-interrupt", test_receive_interrupt);
    g_test_add_func("/serial/thre-interrupt", test_thre_interrupt);
    g_test_add_func("/serial/fifo-limits", test_fifo_limits);
    g_test_add_func("/serial/loopback-overrun", test_loopback_overrun);
    g_test_add_func("/serial/divisor-latch", test_divisor_latch);
    g_test_add_func("/serial/linux-probe", test_linux_probe);
    g_test_add_func("/serial/modem-status", test_modem_status);
    g_test_add_func("/serial/bad-accesses", test_bad_accesses);
    g_test_add_func("/serial/input-flow-control", test_input_flow_control);
    return g_test_run();
}
