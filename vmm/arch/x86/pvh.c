/* PVH boot: an ELF kernel carrying a XEN_ELFNOTE_PHYS32_ENTRY note is loaded
 * by its PT_LOAD segments and entered in 32-bit protected mode with EBX
 * pointing at an hvm_start_info (Xen's public arch-x86/hvm/start_info.h). */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/boot_file.h"
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC          0x336ec578u

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr; /* version 1 onwards */
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_modlist_entry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type; /* the e820 types */
    uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

#define PVH_MODLIST_START (LAYOUT_PVH_INFO_START + sizeof(struct hvm_start_info))
#define PVH_MEMMAP_START  (PVH_MODLIST_START + sizeof(struct hvm_modlist_entry))

/* A program header, whichever ELF class the file is. */
struct pvh_phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

struct pvh_elf {
    bool is64;
    uint64_t phoff;
    unsigned int phnum;
};

static bool pvh_elf_header(const struct boot_file *f, struct pvh_elf *elf)
{
    const uint8_t *id = f->data;

    if (f->size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) || id[EI_DATA] != ELFDATA2LSB)
        return false;
    if (id[EI_CLASS] == ELFCLASS64 && f->size >= sizeof(Elf64_Ehdr)) {
        Elf64_Ehdr eh;
        memcpy(&eh, f->data, sizeof(eh));
        if (eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr))
            return false;
        elf->is64 = true;
        elf->phoff = eh.e_phoff;
        elf->phnum = eh.e_phnum;
    } else if (id[EI_CLASS] == ELFCLASS32 && f->size >= sizeof(Elf32_Ehdr)) {
        Elf32_Ehdr eh;
        memcpy(&eh, f->data, sizeof(eh));
        if ((eh.e_machine != EM_386 && eh.e_machine != EM_X86_64) ||
            eh.e_phentsize != sizeof(Elf32_Phdr))
            return false;
        elf->is64 = false;
        elf->phoff = eh.e_phoff;
        elf->phnum = eh.e_phnum;
    } else {
        return false;
    }
    size_t entsize = elf->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    return elf->phoff <= f->size && elf->phnum <= (f->size - elf->phoff) / entsize;
}

static void pvh_elf_phdr(const struct boot_file *f, const struct pvh_elf *elf, unsigned int i,
                         struct pvh_phdr *ph)
{
    if (elf->is64) {
        Elf64_Phdr p;
        memcpy(&p, f->data + elf->phoff + i * sizeof(p), sizeof(p));
        *ph = (struct pvh_phdr){p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz};
    } else {
        Elf32_Phdr p;
        memcpy(&p, f->data + elf->phoff + i * sizeof(p), sizeof(p));
        *ph = (struct pvh_phdr){p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz};
    }
}

/* Walks the notes of every PT_NOTE segment for Xen's PHYS32_ENTRY. */
static bool pvh_find_entry(const struct boot_file *f, const struct pvh_elf *elf, uint64_t *entry)
{
    for (unsigned int i = 0; i < elf->phnum; i++) {
        struct pvh_phdr ph;
        pvh_elf_phdr(f, elf, i, &ph);
        if (ph.type != PT_NOTE || ph.offset > f->size || ph.filesz > f->size - ph.offset)
            continue;
        const uint8_t *p = f->data + ph.offset, *end = p + ph.filesz;
        while (end - p >= 12) {
            uint32_t hdr[3]; /* namesz, descsz, type */
            memcpy(hdr, p, sizeof(hdr));
            uint64_t name_len = ((uint64_t)hdr[0] + 3) & ~3ull;
            uint64_t desc_len = ((uint64_t)hdr[1] + 3) & ~3ull;
            p += 12;
            if (name_len > (uint64_t)(end - p) || desc_len > (uint64_t)(end - p) - name_len)
                break;
            if (hdr[0] == 4 && !memcmp(p, "Xen", 4) && hdr[2] == XEN_ELFNOTE_PHYS32_ENTRY) {
                const uint8_t *desc = p + name_len;
                if (hdr[1] == 4) {
                    uint32_t v;
                    memcpy(&v, desc, 4);
                    *entry = v;
                    return true;
                }
                if (hdr[1] == 8) {
                    memcpy(entry, desc, 8);
                    return true;
                }
            }
            p += name_len + desc_len;
        }
    }
    return false;
}

bool pvh_probe(const struct boot_file *kernel)
{
    struct pvh_elf elf;
    uint64_t entry;

    return pvh_elf_header(kernel, &elf) && pvh_find_entry(kernel, &elf, &entry);
}

int pvh_load(const struct guest_memory *mem, const struct x86_boot_config *cfg,
             const struct boot_file *kernel, const struct boot_file *initrd,
             struct x86_boot_entry *entry, char *err, size_t errlen)
{
    struct pvh_elf elf;
    uint64_t start, kernel_end = 0;
    struct hvm_start_info info = {
        .magic = HVM_START_MAGIC,
        .version = 1,
        .cmdline_paddr = LAYOUT_CMDLINE_START,
        .rsdp_paddr = cfg->rsdp_addr,
        .memmap_paddr = PVH_MEMMAP_START,
    };
    struct e820_entry e820[E820_MAX_ENTRIES];
    int ret;

    if (!pvh_elf_header(kernel, &elf) || !pvh_find_entry(kernel, &elf, &start)) {
        snprintf(err, errlen, "kernel %s: no PVH entry note", kernel->path);
        return -ENOEXEC;
    }
    for (unsigned int i = 0; i < elf.phnum; i++) {
        struct pvh_phdr ph;
        pvh_elf_phdr(kernel, &elf, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (ph.offset > kernel->size || ph.filesz > kernel->size - ph.offset ||
            ph.filesz > ph.memsz) {
            snprintf(err, errlen, "kernel %s: segment %u lies outside the file", kernel->path, i);
            return -ENOEXEC;
        }
        uint8_t *dst = guest_memory_ptr(mem, ph.paddr, ph.memsz);
        if (!dst) {
            snprintf(err, errlen,
                     "kernel %s: segment %u (0x%llx+0x%llx) does not fit in guest memory",
                     kernel->path, i, (unsigned long long)ph.paddr, (unsigned long long)ph.memsz);
            return -ENOSPC;
        }
        memcpy(dst, kernel->data + ph.offset, ph.filesz);
        memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
        if (ph.paddr + ph.memsz > kernel_end)
            kernel_end = ph.paddr + ph.memsz;
    }
    if (kernel_end == 0) {
        snprintf(err, errlen, "kernel %s: no loadable segment", kernel->path);
        return -ENOEXEC;
    }

    ret =
        boot_write_cmdline(mem, cfg->cmdline ? cfg->cmdline : "", LAYOUT_CMDLINE_MAX, err, errlen);
    if (ret)
        return ret;

    if (initrd) {
        struct hvm_modlist_entry mod = {.size = initrd->size};
        ret = boot_place_initramfs(mem, initrd, (kernel_end + 0xfff) & ~0xfffull, cfg->low_ram_end,
                                   &mod.paddr, err, errlen);
        if (ret)
            return ret;
        if (guest_memory_write(mem, PVH_MODLIST_START, &mod, sizeof(mod)) < 0)
            goto no_room;
        info.nr_modules = 1;
        info.modlist_paddr = PVH_MODLIST_START;
    }

    info.memmap_entries = e820_build_reserved(cfg->low_ram_end, cfg->high_ram_size,
                                              cfg->reserved_start, cfg->reserved_size, e820);
    for (unsigned int i = 0; i < info.memmap_entries; i++) {
        struct hvm_memmap_table_entry m = {e820[i].addr, e820[i].size, e820[i].type, 0};
        if (guest_memory_write(mem, PVH_MEMMAP_START + i * sizeof(m), &m, sizeof(m)) < 0)
            goto no_room;
    }
    if (guest_memory_write(mem, LAYOUT_PVH_INFO_START, &info, sizeof(info)) < 0)
        goto no_room;

    *entry = (struct x86_boot_entry){X86_ENTRY_PVH32, start, LAYOUT_PVH_INFO_START};
    return 0;

no_room:
    snprintf(err, errlen, "no guest RAM for the PVH start info");
    return -EFAULT;
}
