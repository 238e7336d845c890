/* libFuzzer target for vmm/block/qcow2.c: the input is a whole qcow2 image in
 * a memfd. Opening checks the header; reads walk L1/L2 tables and compressed
 * clusters; a write on a writable open allocates clusters. Nothing may crash,
 * and a failure is an -errno. Build from the source tree, with BUILD a
 * configured build directory (for config.h):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -IBUILD -Ivmm \
 *       $(pkg-config --cflags --libs glib-2.0 liburing zlib) \
 *       tests/fuzz/qcow2-header-fuzz.c vmm/block/[a-z]*.c -o qcow2-header-fuzz
 *   ./qcow2-header-fuzz -max_total_time=30 CORPUS   # e.g. small qemu-img images
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const uint8_t *data, size_t size, bool readonly)
{
    static uint8_t buf[128 << 10];
    /* A path whose directory does not exist: backing files never open. */
    struct disk_open_opts o = {
        .path = "/nonexistent/fuzz.qcow2", .readonly = readonly, .type = DISK_IMAGE_QCOW2};
    struct disk *d = NULL;
    char *err = NULL;
    int fd = memfd_create("qcow2-fuzz", MFD_CLOEXEC);
    uint64_t dsize;

    if (fd < 0)
        abort();
    if (write(fd, data, size) != (ssize_t)size)
        abort();
    if (disk_open_fd(fd, &o, &d, &err) < 0) {
        if (d)
            abort();
        free(err);
        return;
    }
    dsize = disk_size(d);
    for (uint64_t i = 0; i < 4 && dsize; i++) {
        uint64_t off = (dsize / 4) * i, len = dsize - off < sizeof(buf) ? dsize - off : sizeof(buf);

        if (disk_pread(d, buf, len, off) > 0)
            abort();
    }
    if (!readonly && dsize >= 4096) {
        memset(buf, 0x5a, 4096);
        if (disk_pwrite(d, buf, 4096, dsize / 2 - (dsize / 2) % 512) == 0 &&
            disk_pread(d, buf, 4096, dsize / 2 - (dsize / 2) % 512) == 0 && buf[100] != 0x5a)
            abort();
    }
    disk_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    exercise(data, size, true);
    exercise(data, size, false);
    return 0;
}
