/* libFuzzer target for vmm/virtio/queue.c: the input is a queue setup header
 * followed by guest memory; the device pops, pushes and decides on
 * notifications until the queue is empty or broken. Build from the source
 * tree, with BUILD a configured build directory (for config.h):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -IBUILD -Ivmm \
 *       tests/fuzz/virtq-fuzz.c vmm/virtio/queue.c vmm/guest_memory.c -o virtq-fuzz
 *   ./virtq-fuzz -max_total_time=30
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/queue.h"

#define RAM_SIZE (64u << 10)
#define HDR_SIZE 12u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t u16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t ram[RAM_SIZE];
    static struct virtq_chain chain;
    struct guest_memory mem = {.nr_regions = 1};
    struct virtq q = {0};

    if (size < HDR_SIZE)
        return 0;
    memset(ram, 0, sizeof(ram));
    memcpy(ram, data + HDR_SIZE, size - HDR_SIZE < RAM_SIZE ? size - HDR_SIZE : RAM_SIZE);
    /* Guest RAM sits at a nonzero address so that gpa 0 is outside it. */
    mem.regions[0] = (struct guest_region){.gpa = 0x1000, .size = RAM_SIZE, .hva = ram};
    q.mem = &mem;
    q.size = (uint16_t)(1u << (data[0] % 9)); /* 1..256; other sizes are refused */
    if (data[1] & 0x80)
        q.size = u16_at(data + 10); /* anything, to check the refusal */
    q.event_idx = data[1] & 1;
    q.indirect = data[1] & 2;
    q.desc_gpa = 0x1000 + (uint64_t)u16_at(data + 2) * 2;
    q.avail_gpa = 0x1000 + (uint64_t)u16_at(data + 4) * 2;
    q.used_gpa = 0x1000 + (uint64_t)u16_at(data + 6) * 2;
    q.ready = true;
    virtq_reset(&q);
    q.next_avail = (uint16_t)(data[8] * 257);
    q.next_used = q.next_avail;

    for (int i = 0; i < 300; i++) {
        int r = virtq_pop(&q, &chain);
        uint64_t readable = 0, writable = 0;

        if (r <= 0) {
            if (r < 0 && !q.broken)
                abort();
            break;
        }
        /* What pop hands out must hold together. */
        if (chain.nr_bufs > VIRTQ_MAX_CHAIN || chain.head >= q.size)
            abort();
        for (unsigned int b = 0; b < chain.nr_bufs; b++) {
            const struct virtq_buf *buf = &chain.bufs[b];

            if (buf->len && !guest_memory_ptr(&mem, buf->gpa, buf->len))
                abort();
            if (buf->device_writes)
                writable += buf->len;
            else if (writable)
                abort();
            else
                readable += buf->len;
        }
        if (readable != chain.readable || writable != chain.writable)
            abort();
        if (virtq_push(&q, chain.head, (uint32_t)chain.writable) < 0)
            abort();
        if (data[9] & (1u << (i % 8)))
            (void)virtq_needs_notification(&q);
        virtq_set_notification(&q, i & 1);
    }
    (void)virtq_has_available(&q);
    return 0;
}
