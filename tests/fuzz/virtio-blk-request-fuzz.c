/* libFuzzer target for blk_request_parse() in vmm/virtio/blk.c: the input
 * describes a descriptor chain (as virtq_pop() would hand it over) followed
 * by guest memory. Build from the source tree, with BUILD a configured build
 * directory (for config.h):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -IBUILD -Ivmm \
 *       $(pkg-config --cflags --libs glib-2.0 liburing zlib) \
 *       tests/fuzz/virtio-blk-request-fuzz.c vmm/virtio/blk.c vmm/virtio/queue.c \
 *       vmm/block/[a-z]*.c vmm/guest_memory.c vmm/log.c -o virtio-blk-request-fuzz
 *   ./virtio-blk-request-fuzz -max_total_time=30
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/blk.h"

#define RAM_SIZE (16u << 10)
#define BUF_DESC 5u /* gpa (2 bytes), len (2 bytes), flags (1 byte) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t ram[RAM_SIZE];
    static struct virtq_chain chain;
    static struct blk_request req;
    struct guest_memory mem = {.nr_regions = 1};
    struct blk_limits lim = {
        .capacity = 2048,
        .max_data = 8192,
        .max_discard_sectors = 64,
        .max_write_zeroes_sectors = 64,
    };
    unsigned int n;
    uint64_t sum = 0;
    bool writable = false;

    if (size < 2)
        return 0;
    n = data[0] % 17;
    lim.readonly = data[1] & 1;
    data += 2;
    size -= 2;
    if (size < n * BUF_DESC)
        return 0;
    mem.regions[0] = (struct guest_region){.gpa = 0x10000, .size = RAM_SIZE, .hva = ram};
    memset(ram, 0, sizeof(ram));
    memcpy(ram, data + n * BUF_DESC,
           size - n * BUF_DESC < RAM_SIZE ? size - n * BUF_DESC : RAM_SIZE);

    /* Keep to what virtq_pop() guarantees: in RAM, readable first. */
    memset(&chain, 0, sizeof(chain));
    for (unsigned int i = 0; i < n; i++) {
        const uint8_t *d = data + i * BUF_DESC;
        struct virtq_buf b = {
            .gpa = 0x10000 + (d[0] | d[1] << 8) % RAM_SIZE,
            .len = (uint32_t)(d[2] | d[3] << 8),
            .device_writes = d[4] & 1,
        };

        if (b.len > 0x10000 + RAM_SIZE - b.gpa)
            b.len = (uint32_t)(0x10000 + RAM_SIZE - b.gpa);
        if (writable && !b.device_writes)
            b.device_writes = true;
        writable |= b.device_writes;
        chain.bufs[chain.nr_bufs++] = b;
        if (b.device_writes)
            chain.writable += b.len;
        else
            chain.readable += b.len;
    }
    if (blk_request_parse(&mem, &chain, &lim, &req) < 0)
        return 0;
    if (!guest_memory_ptr(&mem, req.status_gpa, 1))
        abort();
    for (unsigned int i = 0; i < req.nr_segs; i++) {
        if (!guest_memory_ptr(&mem, req.segs[i].gpa, req.segs[i].len))
            abort();
        sum += req.segs[i].len;
    }
    if (sum != req.data_len)
        abort();
    if (req.status == VIRTIO_BLK_S_OK &&
        (req.type == VIRTIO_BLK_T_IN || req.type == VIRTIO_BLK_T_OUT)) {
        if (req.data_len % 512 || req.sector + req.data_len / 512 > lim.capacity ||
            req.data_len > lim.max_data || (lim.readonly && req.type == VIRTIO_BLK_T_OUT))
            abort();
    }
    if (req.status == VIRTIO_BLK_S_OK &&
        (req.type == VIRTIO_BLK_T_DISCARD || req.type == VIRTIO_BLK_T_WRITE_ZEROES) &&
        (lim.readonly || req.zero_sector + req.zero_sectors > lim.capacity))
        abort();
    return 0;
}
