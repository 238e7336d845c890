/* Tests for vmm/virtio/queue.c: chains as real drivers build them, event idx
 * arithmetic, and every way a driver can get the rings wrong. */
#include "config.h"

#include <errno.h>
#include <glib.h>

#include "virtq-driver.h"

static struct virtq_chain chain;

static void test_simple_chain(void)
{
    struct drv d;
    uint64_t hdr, data, status;
    uint32_t id, len;
    uint16_t head;

    drv_init(&d, 16, false, false);
    hdr = drv_alloc(&d, 16);
    data = drv_alloc(&d, 512);
    status = drv_alloc(&d, 1);
    head = drv_chain(&d, (struct drv_buf[]){{hdr, 16, false}, {data, 512, true}, {status, 1, true}},
                     3);
    g_assert_true(virtq_has_available(&d.q));
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
    g_assert_cmpuint(chain.head, ==, head);
    g_assert_cmpuint(chain.nr_bufs, ==, 3);
    g_assert_cmpuint(chain.readable, ==, 16);
    g_assert_cmpuint(chain.writable, ==, 513);
    g_assert_cmpuint(chain.bufs[1].gpa, ==, data);
    g_assert_true(chain.bufs[1].device_writes);
    g_assert_false(chain.bufs[0].device_writes);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 0);
    g_assert_false(virtq_has_available(&d.q));

    g_assert_cmpint(virtq_push(&d.q, head, 513), ==, 0);
    g_assert_cmpuint(drv_used_idx(&d), ==, 1);
    drv_used_elem(&d, 0, &id, &len);
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 513);
    g_assert_cmpint(virtq_push(&d.q, 16, 0), ==, -EINVAL);
    drv_free(&d);
}

/* Ring indexes wrap at 65536 while slots wrap at the queue size. */
static void test_index_wraparound(void)
{
    struct drv d;
    uint64_t buf;

    drv_init(&d, 4, false, false);
    buf = drv_alloc(&d, 64);
    d.avail_idx = 65534;
    d.q.next_avail = 65534;
    d.q.next_used = 65534;
    for (int i = 0; i < 6; i++) {
        uint16_t head = drv_chain(&d, (struct drv_buf[]){{buf, 64, true}}, 1);

        g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
        g_assert_cmpuint(chain.head, ==, head);
        g_assert_cmpint(virtq_push(&d.q, head, 64), ==, 0);
    }
    g_assert_cmpuint(d.q.next_avail, ==, 4);
    g_assert_cmpuint(drv_used_idx(&d), ==, 4);
    drv_free(&d);
}

static void test_indirect(void)
{
    struct drv d;
    uint64_t table, hdr, data, status, pre;

    drv_init(&d, 8, false, true);
    table = drv_alloc(&d, 3 * 16);
    hdr = drv_alloc(&d, 16);
    data = drv_alloc(&d, 4096);
    status = drv_alloc(&d, 1);
    /* Table order differs from walk order: next links are followed. */
    drv_desc_at(&d, table, 0, hdr, 16, DESC_F_NEXT, 2);
    drv_desc_at(&d, table, 2, data, 4096, DESC_F_NEXT | DESC_F_WRITE, 1);
    drv_desc_at(&d, table, 1, status, 1, DESC_F_WRITE, 0);
    drv_desc(&d, 5, table, 48, DESC_F_INDIRECT, 0);
    drv_publish(&d, 5);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
    g_assert_cmpuint(chain.head, ==, 5);
    g_assert_cmpuint(chain.nr_bufs, ==, 3);
    g_assert_cmpuint(chain.bufs[1].gpa, ==, data);
    g_assert_cmpuint(chain.bufs[2].gpa, ==, status);
    g_assert_cmpuint(chain.writable, ==, 4097);

    /* A direct descriptor may precede the indirect one. */
    pre = drv_alloc(&d, 16);
    drv_desc(&d, 0, pre, 16, DESC_F_NEXT, 1);
    drv_desc_at(&d, table, 0, data, 512, DESC_F_WRITE, 0);
    drv_desc(&d, 1, table, 16, DESC_F_INDIRECT, 0);
    drv_publish(&d, 0);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
    g_assert_cmpuint(chain.nr_bufs, ==, 2);
    g_assert_cmpuint(chain.readable, ==, 16);
    g_assert_cmpuint(chain.writable, ==, 512);
    drv_free(&d);
}

static void test_zero_length_buffer(void)
{
    struct drv d;
    uint64_t b = 0;

    drv_init(&d, 8, false, false);
    b = drv_alloc(&d, 8);
    drv_chain(&d, (struct drv_buf[]){{DRV_RAM_SIZE * 2, 0, false}, {b, 8, true}}, 2);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
    g_assert_cmpuint(chain.nr_bufs, ==, 2);
    g_assert_cmpuint(chain.readable, ==, 0);
    drv_free(&d);
}

/* ---- malformed chains: pop fails, queue broken, nothing crashes ---- */

typedef void (*setup_fn)(struct drv *d);

static void expect_broken(setup_fn setup, bool indirect, int err)
{
    struct drv d;

    drv_init(&d, 8, false, indirect);
    setup(&d);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, err);
    g_assert_true(d.q.broken);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, -EIO);
    g_assert_false(virtq_has_available(&d.q));
    virtq_reset(&d.q);
    g_assert_false(d.q.broken);
    drv_free(&d);
}

static void setup_loop(struct drv *d)
{
    uint64_t b = drv_alloc(d, 16);

    drv_desc(d, 0, b, 16, DESC_F_NEXT, 1);
    drv_desc(d, 1, b, 16, DESC_F_NEXT, 2);
    drv_desc(d, 2, b, 16, DESC_F_NEXT, 0);
    drv_publish(d, 0);
}

static void setup_self_loop(struct drv *d)
{
    drv_desc(d, 3, drv_alloc(d, 16), 16, DESC_F_NEXT, 3);
    drv_publish(d, 3);
}

static void setup_head_out_of_range(struct drv *d)
{
    drv_publish(d, 8);
}

static void setup_next_out_of_range(struct drv *d)
{
    drv_desc(d, 0, drv_alloc(d, 16), 16, DESC_F_NEXT, 200);
    drv_publish(d, 0);
}

static void setup_addr_outside(struct drv *d)
{
    drv_desc(d, 0, DRV_RAM_SIZE - 8, 16, 0, 0);
    drv_publish(d, 0);
}

static void setup_addr_overflow(struct drv *d)
{
    drv_desc(d, 0, UINT64_MAX - 4, 16, 0, 0);
    drv_publish(d, 0);
}

static void setup_read_after_write(struct drv *d)
{
    uint64_t b = drv_alloc(d, 16);

    drv_chain(d, (struct drv_buf[]){{b, 16, true}, {b, 16, false}}, 2);
}

static void setup_read_after_empty_write(struct drv *d)
{
    uint64_t b = drv_alloc(d, 16);

    drv_chain(d, (struct drv_buf[]){{b, 16, false}, {b, 0, true}, {b, 16, false}}, 3);
}

static void setup_avail_jump(struct drv *d)
{
    drv_desc(d, 0, drv_alloc(d, 16), 16, 0, 0);
    drv_publish(d, 0);
    drv_put16(d, d->q.avail_gpa + 2, 9); /* 9 outstanding in a queue of 8 */
}

static void setup_avail_backwards(struct drv *d)
{
    drv_put16(d, d->q.avail_gpa + 2, 65535);
}

static void setup_indirect_not_negotiated(struct drv *d)
{
    uint64_t t = drv_alloc(d, 16);

    drv_desc_at(d, t, 0, drv_alloc(d, 16), 16, 0, 0);
    drv_desc(d, 0, t, 16, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_nested(struct drv *d)
{
    uint64_t t1 = drv_alloc(d, 16), t2 = drv_alloc(d, 16);

    drv_desc_at(d, t2, 0, drv_alloc(d, 16), 16, 0, 0);
    drv_desc_at(d, t1, 0, t2, 16, DESC_F_INDIRECT, 0);
    drv_desc(d, 0, t1, 16, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_len_zero(struct drv *d)
{
    drv_desc(d, 0, drv_alloc(d, 16), 0, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_len_odd(struct drv *d)
{
    drv_desc(d, 0, drv_alloc(d, 32), 17, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_too_long(struct drv *d)
{
    uint32_t n = VIRTQ_MAX_CHAIN + 1;
    uint64_t t = drv_alloc(d, 16u * n), b = drv_alloc(d, 16);

    for (uint32_t i = 0; i < n; i++)
        drv_desc_at(d, t, (uint16_t)i, b, 16, i + 1 < n ? DESC_F_NEXT : 0, (uint16_t)(i + 1));
    drv_desc(d, 0, t, 16u * n, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_outside(struct drv *d)
{
    drv_desc(d, 0, DRV_RAM_SIZE - 16, 32, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_next_outside(struct drv *d)
{
    uint64_t t = drv_alloc(d, 32), b = drv_alloc(d, 16);

    drv_desc_at(d, t, 0, b, 16, DESC_F_NEXT, 2);
    drv_desc(d, 0, t, 32, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_loop(struct drv *d)
{
    uint64_t t = drv_alloc(d, 32), b = drv_alloc(d, 16);

    drv_desc_at(d, t, 0, b, 16, DESC_F_NEXT, 1);
    drv_desc_at(d, t, 1, b, 16, DESC_F_NEXT, 0);
    drv_desc(d, 0, t, 32, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_with_next(struct drv *d)
{
    uint64_t t = drv_alloc(d, 16), b = drv_alloc(d, 16);

    drv_desc_at(d, t, 0, b, 16, 0, 0);
    drv_desc(d, 0, t, 16, DESC_F_INDIRECT | DESC_F_NEXT, 1);
    drv_desc(d, 1, b, 16, 0, 0);
    drv_publish(d, 0);
}

static void setup_indirect_read_after_write(struct drv *d)
{
    uint64_t t = drv_alloc(d, 32), b = drv_alloc(d, 16);

    drv_desc_at(d, t, 0, b, 16, DESC_F_NEXT | DESC_F_WRITE, 1);
    drv_desc_at(d, t, 1, b, 16, 0, 0);
    drv_desc(d, 0, t, 32, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_indirect_buf_outside(struct drv *d)
{
    uint64_t t = drv_alloc(d, 16);

    drv_desc_at(d, t, 0, DRV_RAM_SIZE, 1, 0, 0);
    drv_desc(d, 0, t, 16, DESC_F_INDIRECT, 0);
    drv_publish(d, 0);
}

static void setup_rings_outside(struct drv *d)
{
    d->q.used_gpa = DRV_RAM_SIZE - 8;
}

static void setup_rings_misaligned(struct drv *d)
{
    d->q.desc_gpa += 8;
}

static void setup_size_not_power_of_two(struct drv *d)
{
    d->q.size = 6;
}

#define BROKEN_CASE(name, indirect, err)                                                           \
    static void test_##name(void)                                                                  \
    {                                                                                              \
        expect_broken(setup_##name, indirect, err);                                                \
    }
BROKEN_CASE(loop, false, -EINVAL)
BROKEN_CASE(self_loop, false, -EINVAL)
BROKEN_CASE(head_out_of_range, false, -EINVAL)
BROKEN_CASE(next_out_of_range, false, -EINVAL)
BROKEN_CASE(addr_outside, false, -EFAULT)
BROKEN_CASE(addr_overflow, false, -EFAULT)
BROKEN_CASE(read_after_write, false, -EINVAL)
BROKEN_CASE(read_after_empty_write, false, -EINVAL)
BROKEN_CASE(avail_jump, false, -EINVAL)
BROKEN_CASE(avail_backwards, false, -EINVAL)
BROKEN_CASE(indirect_not_negotiated, false, -EINVAL)
BROKEN_CASE(indirect_nested, true, -EINVAL)
BROKEN_CASE(indirect_len_zero, true, -EINVAL)
BROKEN_CASE(indirect_len_odd, true, -EINVAL)
BROKEN_CASE(indirect_too_long, true, -EINVAL)
BROKEN_CASE(indirect_outside, true, -EFAULT)
BROKEN_CASE(indirect_next_outside, true, -EINVAL)
BROKEN_CASE(indirect_loop, true, -EINVAL)
BROKEN_CASE(indirect_with_next, true, -EINVAL)
BROKEN_CASE(indirect_read_after_write, true, -EINVAL)
BROKEN_CASE(indirect_buf_outside, true, -EFAULT)
BROKEN_CASE(rings_outside, false, -EFAULT)
BROKEN_CASE(rings_misaligned, false, -EINVAL)
BROKEN_CASE(size_not_power_of_two, false, -EINVAL)

/* A chain may be as long as the queue, not longer (longer means a loop). */
static void test_chain_as_long_as_queue(void)
{
    struct drv d;
    struct drv_buf bufs[8];
    uint64_t b;

    drv_init(&d, 8, false, false);
    b = drv_alloc(&d, 16);
    for (int i = 0; i < 8; i++)
        bufs[i] = (struct drv_buf){b, 16, false};
    drv_chain(&d, bufs, 8);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
    g_assert_cmpuint(chain.nr_bufs, ==, 8);
    drv_free(&d);
}

/* An indirect table of exactly VIRTQ_MAX_CHAIN entries is accepted. */
static void test_indirect_max_chain(void)
{
    struct drv d;
    uint32_t n = VIRTQ_MAX_CHAIN;
    uint64_t t, b;

    drv_init(&d, 8, false, true);
    t = drv_alloc(&d, 16u * n);
    b = drv_alloc(&d, 16);
    for (uint32_t i = 0; i < n; i++)
        drv_desc_at(&d, t, (uint16_t)i, b, 16, i + 1 < n ? DESC_F_NEXT : 0, (uint16_t)(i + 1));
    drv_desc(&d, 0, t, 16u * n, DESC_F_INDIRECT, 0);
    drv_publish(&d, 0);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
    g_assert_cmpuint(chain.nr_bufs, ==, n);
    drv_free(&d);
}

/* ---- notification suppression ---- */

static void push_n(struct drv *d, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        g_assert_cmpint(virtq_push(&d->q, 0, 0), ==, 0);
}

static void test_no_interrupt_flag(void)
{
    struct drv d;

    drv_init(&d, 8, false, false);
    g_assert_false(virtq_needs_notification(&d.q)); /* nothing pushed yet */
    push_n(&d, 1);
    g_assert_true(virtq_needs_notification(&d.q));
    g_assert_false(virtq_needs_notification(&d.q)); /* nothing new */
    drv_put16(&d, d.q.avail_gpa, 1);                /* VIRTQ_AVAIL_F_NO_INTERRUPT */
    push_n(&d, 1);
    g_assert_false(virtq_needs_notification(&d.q));
    drv_put16(&d, d.q.avail_gpa, 0);
    push_n(&d, 1);
    g_assert_true(virtq_needs_notification(&d.q));
    drv_free(&d);
}

static void set_used_event(struct drv *d, uint16_t v)
{
    drv_put16(d, d->q.avail_gpa + 4 + 2u * d->q.size, v);
}

static void test_event_idx(void)
{
    struct drv d;

    drv_init(&d, 8, true, false);
    /* The flag means nothing once EVENT_IDX is negotiated. */
    drv_put16(&d, d.q.avail_gpa, 1);
    set_used_event(&d, 0);
    push_n(&d, 1);
    g_assert_true(virtq_needs_notification(&d.q)); /* first: always */
    set_used_event(&d, 5);
    for (int i = 2; i <= 5; i++) {
        push_n(&d, 1);
        g_assert_false(virtq_needs_notification(&d.q));
    }
    push_n(&d, 1); /* used idx 6 passes used_event 5 */
    g_assert_true(virtq_needs_notification(&d.q));
    /* A batch that jumps over used_event notifies once. */
    set_used_event(&d, 8);
    push_n(&d, 4); /* 6 -> 10 */
    g_assert_true(virtq_needs_notification(&d.q));
    /* An old used_event (already passed) does not. */
    set_used_event(&d, 9);
    push_n(&d, 2);
    g_assert_false(virtq_needs_notification(&d.q));
    drv_free(&d);
}

static void test_event_idx_wraparound(void)
{
    struct drv d;

    drv_init(&d, 8, true, false);
    d.q.next_used = 65533;
    d.q.signalled_used = 65533;
    d.q.signalled_used_valid = true;
    set_used_event(&d, 65535);
    push_n(&d, 1); /* 65534 */
    g_assert_false(virtq_needs_notification(&d.q));
    push_n(&d, 1); /* 65535 */
    g_assert_false(virtq_needs_notification(&d.q));
    push_n(&d, 1); /* 0: entry 65535 is now used */
    g_assert_true(virtq_needs_notification(&d.q));
    /* Across the wrap in one batch. */
    d.q.next_used = 65530;
    d.q.signalled_used = 65530;
    set_used_event(&d, 65534);
    push_n(&d, 10); /* 65530 -> 4 */
    g_assert_true(virtq_needs_notification(&d.q));
    set_used_event(&d, 10);
    push_n(&d, 3); /* 4 -> 7 */
    g_assert_false(virtq_needs_notification(&d.q));
    drv_free(&d);
}

static void test_set_notification(void)
{
    struct drv d;
    uint64_t avail_event;

    drv_init(&d, 8, false, false);
    virtq_set_notification(&d.q, false);
    g_assert_cmpuint(drv_get16(&d, d.q.used_gpa), ==, 1); /* VIRTQ_USED_F_NO_NOTIFY */
    virtq_set_notification(&d.q, true);
    g_assert_cmpuint(drv_get16(&d, d.q.used_gpa), ==, 0);
    drv_free(&d);

    drv_init(&d, 8, true, false);
    avail_event = d.q.used_gpa + 4 + 8u * d.q.size;
    drv_chain(&d, (struct drv_buf[]){{drv_alloc(&d, 8), 8, true}}, 1);
    g_assert_cmpint(virtq_pop(&d.q, &chain), ==, 1);
    virtq_set_notification(&d.q, true);
    g_assert_cmpuint(drv_get16(&d, avail_event), ==, 1);
    g_assert_cmpuint(drv_get16(&d, d.q.used_gpa), ==, 0);
    drv_free(&d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtq/simple-chain", test_simple_chain);
    g_test_add_func("/virtq/index-wraparound", test_index_wraparound);
    g_test_add_func("/virtq/indirect", test_indirect);
    g_test_add_func("/virtq/zero-length-buffer", test_zero_length_buffer);
    g_test_add_func("/virtq/chain-as-long-as-queue", test_chain_as_long_as_queue);
    g_test_add_func("/virtq/indirect-max-chain", test_indirect_max_chain);
    g_test_add_func("/virtq/bad/loop", test_loop);
    g_test_add_func("/virtq/bad/self-loop", test_self_loop);
    g_test_add_func("/virtq/bad/head-out-of-range", test_head_out_of_range);
    g_test_add_func("/virtq/bad/next-out-of-range", test_next_out_of_range);
    g_test_add_func("/virtq/bad/addr-outside", test_addr_outside);
    g_test_add_func("/virtq/bad/addr-overflow", test_addr_overflow);
    g_test_add_func("/virtq/bad/read-after-write", test_read_after_write);
    g_test_add_func("/virtq/bad/read-after-empty-write", test_read_after_empty_write);
    g_test_add_func("/virtq/bad/avail-jump", test_avail_jump);
    g_test_add_func("/virtq/bad/avail-backwards", test_avail_backwards);
    g_test_add_func("/virtq/bad/indirect-not-negotiated", test_indirect_not_negotiated);
    g_test_add_func("/virtq/bad/indirect-nested", test_indirect_nested);
    g_test_add_func("/virtq/bad/indirect-len-zero", test_indirect_len_zero);
    g_test_add_func("/virtq/bad/indirect-len-odd", test_indirect_len_odd);
    g_test_add_func("/virtq/bad/indirect-too-long", test_indirect_too_long);
    g_test_add_func("/virtq/bad/indirect-outside", test_indirect_outside);
    g_test_add_func("/virtq/bad/indirect-next-outside", test_indirect_next_outside);
    g_test_add_func("/virtq/bad/indirect-loop", test_indirect_loop);
    g_test_add_func("/virtq/bad/indirect-with-next", test_indirect_with_next);
    g_test_add_func("/virtq/bad/indirect-read-after-write", test_indirect_read_after_write);
    g_test_add_func("/virtq/bad/indirect-buf-outside", test_indirect_buf_outside);
    g_test_add_func("/virtq/bad/rings-outside", test_rings_outside);
    g_test_add_func("/virtq/bad/rings-misaligned", test_rings_misaligned);
    g_test_add_func("/virtq/bad/size-not-power-of-two", test_size_not_power_of_two);
    g_test_add_func("/virtq/notify/no-interrupt-flag", test_no_interrupt_flag);
    g_test_add_func("/virtq/notify/event-idx", test_event_idx);
    g_test_add_func("/virtq/notify/event-idx-wraparound", test_event_idx_wraparound);
    g_test_add_func("/virtq/notify/set-notification", test_set_notification);
    return g_test_run();
}
