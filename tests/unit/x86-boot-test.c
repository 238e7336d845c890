/* Tests for vmm/arch/x86 boot: the PVH and bzImage loaders on synthesized
 * kernel files, the e820 map, the boot GDT and page tables, and the errors
 * for files that are neither. */
#include "arch/x86/boot.h"

#include <elf.h>
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <glib/gstdio.h>
#include <string.h>

#include "arch/x86/e820.h"
#include "arch/x86/layout.h"

#define MEM_SIZE LAYOUT_MiB(64)

struct fixture {
    struct guest_memory mem;
    uint8_t *ram;
    char *dir;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
    f->ram = g_malloc(MEM_SIZE);
    memset(f->ram, 0xaa, MEM_SIZE); /* loaders must zero what they claim */
    f->mem.nr_regions = 1;
    f->mem.regions[0] = (struct guest_region){0, MEM_SIZE, f->ram};
    f->dir = g_dir_make_tmp("x86-boot-test-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(f->dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->ram);
}

static char *write_file(struct fixture *f, const char *name, const void *data, size_t len)
{
    char *path = g_build_filename(f->dir, name, NULL);

    g_assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
    return path;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* --- bzImage --- */

#define BZ_SETUP_SECTS 3
#define BZ_SIZE        0x6000

static uint8_t *make_bzimage(uint16_t version, uint16_t xloadflags, uint32_t cmdline_size)
{
    uint8_t *k = g_malloc0(BZ_SIZE);

    k[0x1f1] = BZ_SETUP_SECTS;
    k[0x1fe] = 0x55;
    k[0x1ff] = 0xaa;
    k[0x200] = 0xeb;
    k[0x201] = 0x66; /* header ends at 0x268 */
    memcpy(k + 0x202, "HdrS", 4);
    k[0x206] = version & 0xff;
    k[0x207] = version >> 8;
    k[0x211] = 0x01; /* LOADED_HIGH */
    put32(k + 0x214, 0x100000);
    put32(k + 0x22c, 0x37ffffff);
    k[0x236] = (uint8_t)xloadflags;
    put32(k + 0x238, cmdline_size);
    put32(k + 0x258, 0x1000000);
    put32(k + 0x260, 0x200000);
    put32(k + 0x270, 0xdeadbeef); /* past the header: must not be copied */
    for (size_t i = (BZ_SETUP_SECTS + 1) * 512; i < BZ_SIZE; i++)
        k[i] = (uint8_t)(i * 7);
    return k;
}

static void test_bzimage(struct fixture *f, gconstpointer data)
{
    g_autofree uint8_t *k = make_bzimage(0x20f, 0x1, 2047);
    g_autofree char *kpath = write_file(f, "bzImage", k, BZ_SIZE);
    uint8_t initrd[10000];
    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i ^ 0x5a);
    g_autofree char *ipath = write_file(f, "initrd", initrd, sizeof(initrd));
    struct x86_boot_config cfg = {
        .kernel = kpath,
        .initramfs = ipath,
        .cmdline = "console=ttyS0 quiet",
        .rsdp_addr = LAYOUT_ACPI_START,
        .low_ram_end = MEM_SIZE,
    };
    struct x86_boot_entry entry;
    char err[256] = "";
    const uint8_t *zp = f->ram + LAYOUT_ZERO_PAGE_START;

    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, 0);
    g_assert_cmpint(entry.mode, ==, X86_ENTRY_LINUX64);
    g_assert_cmphex(entry.rip, ==, 0x100200);
    g_assert_cmphex(entry.arg, ==, LAYOUT_ZERO_PAGE_START);

    /* Protected-mode code at 1 MiB. */
    g_assert_cmpmem(f->ram + 0x100000, BZ_SIZE - 2048, k + 2048, BZ_SIZE - 2048);
    /* Setup header copied, the rest of the zero page zeroed. */
    g_assert_cmpmem(zp + 0x202, 4, "HdrS", 4);
    g_assert_cmpuint(zp[0x1f1], ==, BZ_SETUP_SECTS);
    g_assert_cmphex(rd32(zp + 0x270), ==, 0);
    g_assert_cmphex(rd32(zp + 0x000), ==, 0);
    g_assert_cmphex(zp[0x210], ==, 0xff);
    g_assert_true(zp[0x211] & 0x80);
    g_assert_cmphex(rd32(zp + 0x228), ==, LAYOUT_CMDLINE_START);
    g_assert_cmpstr((const char *)f->ram + LAYOUT_CMDLINE_START, ==, "console=ttyS0 quiet");
    g_assert_cmphex(rd64(zp + 0x070), ==, LAYOUT_ACPI_START);

    /* Initramfs: page aligned, as high as possible, clear of the kernel. */
    uint32_t ri = rd32(zp + 0x218), rs = rd32(zp + 0x21c);
    g_assert_cmpuint(rs, ==, sizeof(initrd));
    g_assert_cmphex(ri & 0xfff, ==, 0);
    g_assert_cmpuint(ri + rs, <=, MEM_SIZE);
    g_assert_cmpuint(ri + rs, >, MEM_SIZE - 0x1000);
    g_assert_cmpuint(ri, >=, 0x1000000 + 0x200000);
    g_assert_cmpmem(f->ram + ri, rs, initrd, sizeof(initrd));

    /* e820: RAM below the EBDA, ACPI area reserved, RAM from 1 MiB. */
    g_assert_cmpuint(zp[0x1e8], ==, 3);
    const uint8_t *e = zp + 0x2d0;
    g_assert_cmphex(rd64(e), ==, 0);
    g_assert_cmphex(rd64(e + 8), ==, LAYOUT_EBDA_START);
    g_assert_cmpuint(rd32(e + 16), ==, E820_RAM);
    g_assert_cmphex(rd64(e + 20), ==, LAYOUT_ACPI_START);
    g_assert_cmpuint(rd32(e + 36), ==, E820_RESERVED);
    g_assert_cmphex(rd64(e + 40), ==, LAYOUT_HIGH_RAM_START);
    g_assert_cmphex(rd64(e + 48), ==, MEM_SIZE - LAYOUT_HIGH_RAM_START);
    g_assert_cmpuint(rd32(e + 56), ==, E820_RAM);
}

static void test_bzimage_32bit_and_old(struct fixture *f, gconstpointer data)
{
    g_autofree uint8_t *k32 = make_bzimage(0x20b, 0, 255);
    g_autofree char *p32 = write_file(f, "bz32", k32, BZ_SIZE);
    g_autofree uint8_t *old = make_bzimage(0x205, 0, 255);
    g_autofree char *pold = write_file(f, "bzold", old, BZ_SIZE);
    struct x86_boot_config cfg = {.kernel = p32, .low_ram_end = MEM_SIZE};
    struct x86_boot_entry entry;
    char err[256] = "";

    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, 0);
    g_assert_cmpint(entry.mode, ==, X86_ENTRY_LINUX32);
    g_assert_cmphex(entry.rip, ==, 0x100000);
    /* No ACPI RSDP field before 2.14. */
    g_assert_cmphex(rd64(f->ram + LAYOUT_ZERO_PAGE_START + 0x70), ==, 0);

    cfg.kernel = pold;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOEXEC);
    g_assert_nonnull(strstr(err, pold));
    g_assert_nonnull(strstr(err, "2.05"));
}

static void test_bzimage_limits(struct fixture *f, gconstpointer data)
{
    g_autofree uint8_t *k = make_bzimage(0x20f, 0x1, 15);
    g_autofree char *kpath = write_file(f, "bzImage", k, BZ_SIZE);
    g_autofree uint8_t *big = g_malloc0(LAYOUT_MiB(60));
    g_autofree char *bigpath = write_file(f, "big", big, LAYOUT_MiB(60));
    struct x86_boot_config cfg = {
        .kernel = kpath, .cmdline = "0123456789abcdef", .low_ram_end = MEM_SIZE};
    struct x86_boot_entry entry;
    char err[256] = "";

    /* cmdline_size 15 allows 15 characters. */
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -E2BIG);
    g_assert_nonnull(strstr(err, "command line"));
    cfg.cmdline = "0123456789abcde";
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, 0);

    cfg.initramfs = bigpath;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOSPC);
    g_assert_nonnull(strstr(err, bigpath));
    g_assert_nonnull(strstr(err, "--memory"));

    /* Too little memory to decompress into. */
    cfg.initramfs = NULL;
    cfg.low_ram_end = LAYOUT_MiB(8);
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOSPC);
    g_assert_nonnull(strstr(err, "--memory"));
}

/* --- PVH --- */

struct elf_note_xen {
    uint32_t namesz, descsz, type;
    char name[4];
    uint8_t desc[8];
};

static size_t make_pvh64(uint8_t *buf, uint32_t note_type, uint64_t entry)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
    struct elf_note_xen note = {4, 8, note_type, "Xen", {0}};
    size_t note_off = 0x200, seg_off = 0x400;

    memset(buf, 0, 0x1000);
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_phoff = sizeof(*eh);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 2;
    memcpy(note.desc, &entry, 8);
    memcpy(buf + note_off, &note, sizeof(note));
    ph[0] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = note_off, .p_filesz = sizeof(note)};
    ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
                         .p_offset = seg_off,
                         .p_paddr = 0x200000,
                         .p_vaddr = 0xffffffff81000000ull,
                         .p_filesz = 0x100,
                         .p_memsz = 0x3000};
    for (int i = 0; i < 0x100; i++)
        buf[seg_off + i] = (uint8_t)(i + 1);
    return 0x1000;
}

struct hvm_start_info_view {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};

static void test_pvh(struct fixture *f, gconstpointer data)
{
    uint8_t k[0x1000];
    size_t klen = make_pvh64(k, 18, 0x200010);
    g_autofree char *kpath = write_file(f, "vmlinux", k, klen);
    uint8_t initrd[5000];
    memset(initrd, 0x42, sizeof(initrd));
    g_autofree char *ipath = write_file(f, "initrd", initrd, sizeof(initrd));
    struct x86_boot_config cfg = {
        .kernel = kpath,
        .initramfs = ipath,
        .cmdline = "console=ttyS0",
        .rsdp_addr = 0xe0000,
        .low_ram_end = MEM_SIZE,
    };
    struct x86_boot_entry entry;
    char err[256] = "";
    struct hvm_start_info_view si;

    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, 0);
    g_assert_cmpint(entry.mode, ==, X86_ENTRY_PVH32);
    g_assert_cmphex(entry.rip, ==, 0x200010);
    g_assert_cmphex(entry.arg, ==, LAYOUT_PVH_INFO_START);

    /* Segment by physical address, BSS zeroed. */
    g_assert_cmpmem(f->ram + 0x200000, 0x100, k + 0x400, 0x100);
    for (size_t i = 0x100; i < 0x3000; i++)
        g_assert_cmpuint(f->ram[0x200000 + i], ==, 0);
    g_assert_cmpuint(f->ram[0x203000], ==, 0xaa);

    memcpy(&si, f->ram + LAYOUT_PVH_INFO_START, sizeof(si));
    g_assert_cmphex(si.magic, ==, 0x336ec578);
    g_assert_cmpuint(si.version, ==, 1);
    g_assert_cmphex(si.cmdline_paddr, ==, LAYOUT_CMDLINE_START);
    g_assert_cmpstr((const char *)f->ram + si.cmdline_paddr, ==, "console=ttyS0");
    g_assert_cmphex(si.rsdp_paddr, ==, 0xe0000);
    g_assert_cmpuint(si.nr_modules, ==, 1);
    const uint8_t *mod = f->ram + si.modlist_paddr;
    g_assert_cmpuint(rd64(mod + 8), ==, sizeof(initrd));
    g_assert_cmphex(rd64(mod) & 0xfff, ==, 0);
    g_assert_cmpuint(rd64(mod) + sizeof(initrd), <=, MEM_SIZE);
    g_assert_cmpmem(f->ram + rd64(mod), sizeof(initrd), initrd, sizeof(initrd));

    g_assert_cmpuint(si.memmap_entries, ==, 3);
    const uint8_t *mm = f->ram + si.memmap_paddr;
    g_assert_cmphex(rd64(mm + 0), ==, 0);
    g_assert_cmpuint(rd32(mm + 16), ==, E820_RAM);
    g_assert_cmphex(rd64(mm + 48), ==, LAYOUT_HIGH_RAM_START);
    g_assert_cmphex(rd64(mm + 56), ==, MEM_SIZE - LAYOUT_HIGH_RAM_START);
    g_assert_cmpuint(rd32(mm + 64), ==, E820_RAM);
}

static void test_pvh_stub_elf32(struct fixture *f, gconstpointer data)
{
    /* The shape of the stub guests: ELF32 with a 4-byte entry note. */
    uint8_t k[0x800] = {0};
    Elf32_Ehdr *eh = (Elf32_Ehdr *)k;
    Elf32_Phdr *ph = (Elf32_Phdr *)(k + sizeof(*eh));
    uint32_t note[5] = {4, 4, 18, 0x006e6558 /* "Xen\0" */, 0x100000};
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_machine = EM_386;
    eh->e_phoff = sizeof(*eh);
    eh->e_phentsize = sizeof(Elf32_Phdr);
    eh->e_phnum = 2;
    memcpy(k + 0x100, note, sizeof(note));
    ph[0] = (Elf32_Phdr){.p_type = PT_LOAD,
                         .p_offset = 0x200,
                         .p_paddr = 0x100000,
                         .p_filesz = 0x10,
                         .p_memsz = 0x10};
    ph[1] = (Elf32_Phdr){.p_type = PT_NOTE, .p_offset = 0x100, .p_filesz = sizeof(note)};
    g_autofree char *kpath = write_file(f, "stub.elf", k, sizeof(k));
    struct x86_boot_config cfg = {.kernel = kpath, .low_ram_end = MEM_SIZE};
    struct x86_boot_entry entry;
    char err[256] = "";
    struct hvm_start_info_view si;

    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, 0);
    g_assert_cmpint(entry.mode, ==, X86_ENTRY_PVH32);
    g_assert_cmphex(entry.rip, ==, 0x100000);
    memcpy(&si, f->ram + LAYOUT_PVH_INFO_START, sizeof(si));
    g_assert_cmpuint(si.nr_modules, ==, 0);
    g_assert_cmpstr((const char *)f->ram + si.cmdline_paddr, ==, "");
}

static void test_not_a_kernel(struct fixture *f, gconstpointer data)
{
    uint8_t elf[0x1000];
    size_t len = make_pvh64(elf, 17 /* not PHYS32_ENTRY */, 0x200010);
    g_autofree char *noteless = write_file(f, "vmlinux-nopvh", elf, len);
    g_autofree char *junk = write_file(f, "junk", "hello, world, not a kernel", 26);
    g_autofree char *empty = write_file(f, "empty", "", 0);
    g_autofree char *missing = g_build_filename(f->dir, "missing", NULL);
    struct x86_boot_config cfg = {.low_ram_end = MEM_SIZE};
    struct x86_boot_entry entry;
    char err[256];

    cfg.kernel = noteless;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOEXEC);
    g_assert_nonnull(strstr(err, noteless));
    g_assert_nonnull(strstr(err, "PVH"));

    cfg.kernel = junk;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOEXEC);
    g_assert_nonnull(strstr(err, junk));
    g_assert_nonnull(strstr(err, "neither an ELF vmlinux with a PVH note nor a bzImage"));

    cfg.kernel = empty;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), <, 0);
    g_assert_nonnull(strstr(err, empty));

    cfg.kernel = missing;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOENT);
    g_assert_nonnull(strstr(err, missing));

    cfg.kernel = junk;
    cfg.initramfs = missing;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOENT);
    g_assert_nonnull(strstr(err, "initramfs"));
    g_assert_nonnull(strstr(err, missing));
}

static void test_pvh_segment_outside_memory(struct fixture *f, gconstpointer data)
{
    uint8_t k[0x1000];
    size_t len = make_pvh64(k, 18, 0x200010);
    Elf64_Phdr *ph = (Elf64_Phdr *)(k + sizeof(Elf64_Ehdr));
    ph[1].p_paddr = MEM_SIZE - 0x1000; /* memsz 0x3000 runs past the end */
    g_autofree char *kpath = write_file(f, "vmlinux", k, len);
    struct x86_boot_config cfg = {.kernel = kpath, .low_ram_end = MEM_SIZE};
    struct x86_boot_entry entry;
    char err[256];

    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOSPC);
    g_assert_nonnull(strstr(err, kpath));

    ph[1].p_paddr = 0x200000;
    ph[1].p_filesz = 0x100000; /* beyond the file */
    g_autofree char *k2 = write_file(f, "vmlinux2", k, len);
    cfg.kernel = k2;
    g_assert_cmpint(x86_boot_load(&f->mem, &cfg, &entry, err, sizeof(err)), ==, -ENOEXEC);
}

/* --- e820 and boot tables --- */

static void test_e820(void)
{
    struct e820_entry e[E820_MAX_ENTRIES];

    g_assert_cmpuint(e820_build(LAYOUT_MiB(512), 0, e), ==, 3);
    g_assert_cmphex(e[2].addr + e[2].size, ==, LAYOUT_MiB(512));
    g_assert_cmpuint(e820_build(LAYOUT_MEM_32BIT_GAP_START, LAYOUT_GiB(1), e), ==, 4);
    g_assert_cmphex(e[2].addr + e[2].size, ==, LAYOUT_MEM_32BIT_GAP_START);
    g_assert_cmphex(e[3].addr, ==, LAYOUT_GiB(4));
    g_assert_cmphex(e[3].size, ==, LAYOUT_GiB(1));
    g_assert_cmpuint(e[3].type, ==, E820_RAM);
}

static void test_boot_tables(struct fixture *f, gconstpointer data)
{
    const uint8_t *gdt = f->ram + LAYOUT_GDT_START;

    g_assert_cmpint(x86_cpu_write_boot_tables(&f->mem, X86_ENTRY_LINUX64), ==, 0);
    g_assert_cmphex(rd64(gdt + 0), ==, 0);
    g_assert_cmphex(rd64(gdt + X86_BOOT_CS), ==, 0x00af9b000000ffffull);
    g_assert_cmphex(rd64(gdt + X86_BOOT_DS), ==, 0x00cf93000000ffffull);
    g_assert_cmphex(rd64(gdt + X86_BOOT_TSS), ==, 0x00008b0000000067ull);
    g_assert_cmphex(rd64(f->ram + LAYOUT_PML4_START), ==, LAYOUT_PDPTE_START | 3);
    g_assert_cmphex(rd64(f->ram + LAYOUT_PDPTE_START), ==, LAYOUT_PDE_START | 3);
    g_assert_cmphex(rd64(f->ram + LAYOUT_PDE_START), ==, 0x83);
    g_assert_cmphex(rd64(f->ram + LAYOUT_PDE_START + 511 * 8), ==, (511ull << 21) | 0x83);

    /* The reset vector writes 0x01 to port 0x602: mov dx, 0x602; mov al, 1; out dx, al */
    g_assert_cmpint(x86_cpu_write_reset_vector(&f->mem, 0x602, 0x01), ==, 0);
    static const uint8_t reset_code[] = {0xba, 0x02, 0x06, 0xb0, 0x01, 0xee};
    g_assert_cmpmem(f->ram + 0xffff0, sizeof(reset_code), reset_code, sizeof(reset_code));

    g_assert_cmpint(x86_cpu_write_boot_tables(&f->mem, X86_ENTRY_PVH32), ==, 0);
    g_assert_cmphex(rd64(gdt + X86_BOOT_CS), ==, 0x00cf9b000000ffffull);

    struct kvm_sregs s;
    memset(&s, 0, sizeof(s));
    x86_cpu_boot_sregs(&s, X86_ENTRY_LINUX64);
    g_assert_cmphex(s.cr0 & 0x80000001ull, ==, 0x80000001ull);
    g_assert_cmphex(s.cr3, ==, LAYOUT_PML4_START);
    g_assert_cmphex(s.cr4 & 0x20, ==, 0x20);
    g_assert_cmphex(s.efer, ==, 0x500);
    g_assert_cmpuint(s.cs.l, ==, 1);
    g_assert_cmpuint(s.cs.selector, ==, X86_BOOT_CS);
    x86_cpu_boot_sregs(&s, X86_ENTRY_PVH32);
    g_assert_cmphex(s.cr0 & 0x80000001ull, ==, 1);
    g_assert_cmphex(s.cr4, ==, 0);
    g_assert_cmphex(s.efer, ==, 0);
    g_assert_cmpuint(s.cs.db, ==, 1);
    g_assert_cmpuint(s.cs.l, ==, 0);
    g_assert_cmphex(s.cs.limit, ==, 0xffffffff);

    struct kvm_regs r;
    struct x86_boot_entry pvh = {X86_ENTRY_PVH32, 0x1000000, LAYOUT_PVH_INFO_START};
    x86_cpu_boot_regs(&r, &pvh);
    g_assert_cmphex(r.rbx, ==, LAYOUT_PVH_INFO_START);
    g_assert_cmphex(r.rip, ==, 0x1000000);
    g_assert_cmphex(r.rflags, ==, 2);
    struct x86_boot_entry lin = {X86_ENTRY_LINUX64, 0x100200, LAYOUT_ZERO_PAGE_START};
    x86_cpu_boot_regs(&r, &lin);
    g_assert_cmphex(r.rsi, ==, LAYOUT_ZERO_PAGE_START);

    struct kvm_lapic_state lapic;
    memset(&lapic, 0xff, sizeof(lapic));
    x86_cpu_lapic_lint(&lapic);
    g_assert_cmphex((rd32((uint8_t *)lapic.regs + X86_LAPIC_LVT_LINT0) >> 8) & 7, ==, 7);
    g_assert_cmphex((rd32((uint8_t *)lapic.regs + X86_LAPIC_LVT_LINT1) >> 8) & 7, ==, 4);

    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[X86_CPU_BOOT_MSRS];
    } msrs;
    x86_cpu_boot_msrs(&msrs.hdr);
    bool fast_strings = false;
    for (unsigned int i = 0; i < msrs.hdr.nmsrs; i++) {
        if (msrs.e[i].index == 0x1a0)
            fast_strings = msrs.e[i].data & 1;
    }
    g_assert_true(fast_strings);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD_F(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD_F("/x86-boot/bzimage", test_bzimage);
    ADD_F("/x86-boot/bzimage-32bit-and-old", test_bzimage_32bit_and_old);
    ADD_F("/x86-boot/bzimage-limits", test_bzimage_limits);
    ADD_F("/x86-boot/pvh", test_pvh);
    ADD_F("/x86-boot/pvh-stub-elf32", test_pvh_stub_elf32);
    ADD_F("/x86-boot/pvh-segment-outside-memory", test_pvh_segment_outside_memory);
    ADD_F("/x86-boot/not-a-kernel", test_not_a_kernel);
    ADD_F("/x86-boot/boot-tables", test_boot_tables);
    g_test_add_func("/x86-boot/e820", test_e820);
    return g_test_run();
}
