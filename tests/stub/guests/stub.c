/* A tiny freestanding test guest for the stub layer. It reads its kernel
 * command line from the PVH start info and runs the test named by
 * `stub.test=NAME`, reporting on the serial port in lines starting "STUB". */
#include <stdint.h>

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};

void stub_main(const struct hvm_start_info *si);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define COM1 0x3f8

static void putc_serial(char c)
{
    /* Wait for the transmitter holding register to empty (LSR bit 5),
     * but not forever: a missing port must not hang the test. */
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        ;
    outb(COM1, (uint8_t)c);
}

static void puts_serial(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            putc_serial('\r');
        putc_serial(*s);
    }
}

static void put_hex(uint32_t v, int digits)
{
    char buf[9];

    for (int i = digits - 1; i >= 0; i--) {
        buf[i] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    }
    buf[digits] = 0;
    puts_serial(buf);
}

static void put_dec(uint32_t v)
{
    char buf[11];
    int i = 10;

    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    puts_serial(&buf[i]);
}

static int str_eq_word(const char *a, const char *word)
{
    while (*word && *a == *word) {
        a++;
        word++;
    }
    return !*word && (*a == 0 || *a == ' ');
}

/* The value of `stub.test=` on the command line, or "" */
static const char *find_test(const char *cmdline)
{
    static const char key[] = "stub.test=";

    for (const char *p = cmdline; p && *p; p++) {
        if (p != cmdline && p[-1] != ' ')
            continue;
        const char *k = key, *q = p;
        while (*k && *q == *k) {
            k++;
            q++;
        }
        if (!*k)
            return q;
    }
    return "";
}

/* ACPI S5 through the sleep control register (SLP_TYP = 5, SLP_EN). */
static void poweroff(void)
{
    outb(0x600, (5 << 2) | (1 << 5));
    puts_serial("STUB poweroff did not happen\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static uint32_t bcd(uint8_t v, int binary)
{
    return binary ? v : (uint32_t)((v >> 4) * 10 + (v & 0xf));
}

static void test_rtc(void)
{
    /* Wait out an update in progress (register A bit 7). */
    for (int i = 0; i < 1000000 && (cmos_read(0x0a) & 0x80); i++)
        ;
    uint8_t b = cmos_read(0x0b);
    int binary = b & 0x04;
    uint32_t year = bcd(cmos_read(0x09), binary);
    uint32_t century = bcd(cmos_read(0x32), binary);
    puts_serial("STUB rtc year=");
    put_dec(century * 100 + year);
    puts_serial("\n");
}

static void test_unhandled(void)
{
    uint8_t b = inb(0x1234);
    uint32_t l = inl(0x5678);
    outb(0x1234, 0x5a);
    volatile uint32_t *mmio = (volatile uint32_t *)0xd0000000u; /* in the 32-bit hole */
    uint32_t m = *mmio;
    *mmio = 0x12345678;
    puts_serial("STUB unhandled inb=");
    put_hex(b, 2);
    puts_serial(" inl=");
    put_hex(l, 8);
    puts_serial(" mmio=");
    put_hex(m, 8);
    puts_serial("\nSTUB still running\n");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Counts forever, one line per 2^27 TSC ticks (tens of ms), so a host can
 * tell whether the guest makes progress (e.g. while paused). */
static void test_count(void)
{
    uint64_t next = rdtsc();

    for (uint32_t n = 0;; n++) {
        next += 1ull << 27;
        while (rdtsc() < next)
            ;
        puts_serial("STUB count ");
        put_dec(n);
        puts_serial("\n");
    }
}

/* QEMU's ISA pvpanic port: read the supported events, report a panic. */
static void test_pvpanic(void)
{
    puts_serial("STUB pvpanic caps=");
    put_hex(inb(0x505), 2);
    puts_serial("\n");
    outb(0x505, 1);
    puts_serial("STUB pvpanic sent\n");
}

/* The local APIC's timer wakes the interactive test from hlt every 10 ms,
 * so a waiting stub guest costs its host almost nothing. */
#define LAPIC_BASE      0xfee00000u
#define LAPIC_EOI       0xb0
#define LAPIC_SVR       0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_DCR 0x3e0
#define TIMER_VECTOR    0x40

static inline void lapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

/* The timer's handler only acknowledges it: the work is done after hlt. */
void stub_timer_isr(void);
__asm__(".text\n.globl stub_timer_isr\nstub_timer_isr:\n"
        "    movl $0, 0xfee000b0\n" /* LAPIC_BASE + LAPIC_EOI */
        "    iret\n");

struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t zero;
    uint8_t type; /* present, ring 0, 32-bit interrupt gate */
    uint16_t offset_hi;
};

static struct idt_gate idt[256];

static void start_timer(void)
{
    uint16_t cs;
    uint32_t isr = (uint32_t)(uintptr_t)stub_timer_isr;
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } idtr = {sizeof(idt) - 1, (uint32_t)(uintptr_t)idt};

    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[TIMER_VECTOR] = (struct idt_gate){(uint16_t)isr, cs, 0, 0x8e, (uint16_t)(isr >> 16)};
    __asm__ volatile("lidt %0" : : "m"(idtr));
    lapic_write(LAPIC_SVR, 0x100 | 0xff);                    /* APIC on, spurious 0xff */
    lapic_write(LAPIC_TIMER_DCR, 0xb);                       /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, (1u << 17) | TIMER_VECTOR); /* periodic */
    lapic_write(LAPIC_TIMER_ICR, 10000000);                  /* 10 ms at KVM's 1 GHz */
}

/* Reads the GED's event register (reading clears it). */
static uint32_t ged_events(void)
{
    return *(volatile uint32_t *)(uintptr_t)0xfed00000u;
}

/* Echoes each line typed on the serial port as "STUB echo:<line>" and powers
 * off when the host presses the ACPI power button, as a guest that obeys
 * it would. Sleeps in hlt between looks. */
static void test_interactive(void)
{
    char line[80];
    unsigned int len = 0;

    start_timer();
    puts_serial("STUB interactive ready\n");
    for (;;) {
        __asm__ volatile("sti; hlt; cli");
        if (ged_events() & (1u << 3)) {
            puts_serial("STUB power button\n");
            return;
        }
        while (inb(COM1 + 5) & 0x01) { /* LSR: data ready */
            char c = (char)inb(COM1);

            if (c == '\r' || c == '\n') {
                line[len] = 0;
                puts_serial("STUB echo:");
                puts_serial(line);
                puts_serial("\n");
                len = 0;
            } else if (len < sizeof(line) - 1) {
                line[len++] = c;
            }
        }
    }
}

static void triple_fault(void)
{
    /* An empty IDT turns any exception into a triple fault. */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } idt = {0, 0};
    __asm__ volatile("lidt %0; int3" : : "m"(idt));
}

void stub_main(const struct hvm_start_info *si)
{
    const char *cmdline = "";
    const char *test;

    if (si->magic == 0x336ec578u && si->cmdline_paddr)
        cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
    test = find_test(cmdline);
    puts_serial("STUB start test=");
    puts_serial(test);
    puts_serial("\n");

    if (str_eq_word(test, "hello")) {
        puts_serial("STUB hello from the stub guest\n");
    } else if (str_eq_word(test, "reboot-i8042")) {
        outb(0x64, 0xfe);
        puts_serial("STUB i8042 reset did not happen\n");
    } else if (str_eq_word(test, "reboot-acpi")) {
        outb(0x602, 1); /* the FADT's RESET_REG, RESET_VALUE */
        puts_serial("STUB ACPI reset did not happen\n");
    } else if (str_eq_word(test, "rtc")) {
        test_rtc();
    } else if (str_eq_word(test, "port80")) {
        outb(0x80, 0x40);
        outb(0x80, 0x41);
        outb(0x80, 0x42);
        puts_serial("STUB port80 written\n");
    } else if (str_eq_word(test, "unhandled")) {
        test_unhandled();
    } else if (str_eq_word(test, "triple-fault")) {
        puts_serial("STUB triple fault next\n");
        triple_fault();
        puts_serial("STUB still alive after the triple fault\n");
    } else if (str_eq_word(test, "count")) {
        test_count();
    } else if (str_eq_word(test, "pvpanic")) {
        test_pvpanic();
    } else if (str_eq_word(test, "interactive")) {
        test_interactive();
    } else if (str_eq_word(test, "hang")) {
        for (;;)
            __asm__ volatile("cli; hlt");
    } else {
        puts_serial("STUB unknown test\n");
    }
    poweroff();
}
