/* Tests for vmm/block/qcow2.c against images made by qemu-img: v2 and v3,
 * converted, compressed, with raw and qcow2 backing files; our writes must
 * leave `qemu-img check` clean, and corrupt images must be refused. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "block/disk.h"

#define IMG_SIZE (4u << 20)

static char *tmpdir;
static uint8_t *pattern; /* content of base.raw */

static char *path_of(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

/* Runs a command; returns its exit status. */
static int run(const char *const *argv)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL, *errout = NULL;
    int status = 0;

    if (!g_spawn_sync(tmpdir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout,
                      &status, &err))
        g_error("%s: %s", argv[0], err->message);
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_test_message("%s: %s%s", argv[0], out, errout);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return 0;
}

#define RUN(...) g_assert_cmpint(run((const char *const[]){__VA_ARGS__, NULL}), ==, 0)

static struct disk *open_img(const char *name, bool readonly, int *ret)
{
    g_autofree char *p = path_of(name);
    g_autofree char *err = NULL;
    struct disk_open_opts o = {.path = p, .readonly = readonly, .type = DISK_IMAGE_AUTO};
    struct disk *d = NULL;

    *ret = disk_open(&o, &d, &err);
    if (*ret < 0)
        g_test_message("open %s: %s", name, err ? err : "(no message)");
    else
        g_assert_null(err);
    return d;
}

static struct disk *must_open(const char *name, bool readonly)
{
    int r;
    struct disk *d = open_img(name, readonly, &r);

    g_assert_cmpint(r, ==, 0);
    return d;
}

static void assert_reads(struct disk *d, const uint8_t *expect)
{
    g_autofree uint8_t *buf = g_malloc(IMG_SIZE);

    g_assert_cmpuint(disk_size(d), ==, IMG_SIZE);
    g_assert_cmpint(disk_pread(d, buf, IMG_SIZE, 0), ==, 0);
    g_assert_true(memcmp(buf, expect, IMG_SIZE) == 0);
    /* Unaligned, cluster-crossing reads too. */
    g_assert_cmpint(disk_pread(d, buf, 70000, 65536 - 1234), ==, 0);
    g_assert_true(memcmp(buf, expect + 65536 - 1234, 70000) == 0);
}

static void assert_file_content(const char *img, const uint8_t *expect)
{
    g_autofree char *raw = path_of("check.raw");
    g_autofree char *img_path = path_of(img);
    g_autofree char *data = NULL;
    gsize len = 0;

    if (g_str_has_suffix(img, ".qcow2"))
        RUN("qemu-img", "check", img_path);
    RUN("qemu-img", "convert", "-O", "raw", img_path, raw);
    g_assert_true(g_file_get_contents(raw, &data, &len, NULL));
    g_assert_cmpuint(len, ==, IMG_SIZE);
    g_assert_true(memcmp(data, expect, IMG_SIZE) == 0);
    g_unlink(raw);
}

static void test_empty(gconstpointer compat)
{
    g_autofree uint8_t *zeroes = g_malloc0(IMG_SIZE);
    struct disk *d;

    RUN("qemu-img", "create", "-q", "-f", "qcow2", "-o", compat, "empty.qcow2", "4M");
    d = must_open("empty.qcow2", true);
    g_assert_cmpstr(disk_format_name(d), ==, "qcow2");
    assert_reads(d, zeroes);
    disk_close(d);
}

static void test_converted(gconstpointer args)
{
    const char *const *a = args; /* compat, extra flag */
    struct disk *d;

    RUN("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", a[0], a[1], "base.raw",
        "conv.qcow2");
    d = must_open("conv.qcow2", true);
    assert_reads(d, pattern);
    disk_close(d);
}

static void test_backing(gconstpointer fmt)
{
    struct disk *d;

    if (!strcmp(fmt, "qcow2"))
        RUN("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "base.raw", "mid.qcow2");
    RUN("qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b",
        !strcmp(fmt, "qcow2") ? "mid.qcow2" : "base.raw", "top.qcow2");
    d = must_open("top.qcow2", true);
    assert_reads(d, pattern);
    disk_close(d);
}

/* Writes that exercise every cluster state: allocated, unallocated, partial,
 * cross-cluster, and (for converted or compressed images) data replaced. */
static void write_pattern(struct disk *d, uint8_t *expect)
{
    static const struct {
        uint64_t off;
        size_t len;
    } w[] = {
        {0, 512},
        {65536 - 100, 300},
        {1 << 20, 3 * 65536},
        {(3u << 20) + 7, 1000},
        {IMG_SIZE - 4096, 4096},
        {200000, 65536},
    };

    for (unsigned int i = 0; i < G_N_ELEMENTS(w); i++) {
        g_autofree uint8_t *buf = g_malloc(w[i].len);

        for (size_t k = 0; k < w[i].len; k++)
            buf[k] = (uint8_t)(0xa5 ^ (k * 13) ^ i);
        g_assert_cmpint(disk_pwrite(d, buf, w[i].len, w[i].off), ==, 0);
        memcpy(expect + w[i].off, buf, w[i].len);
    }
    g_assert_cmpint(disk_flush(d), ==, 0);
}

static void test_write(gconstpointer args)
{
    const char *const *a = args; /* how to make it: "empty"/"convert"/"backing", options, flag */
    g_autofree uint8_t *expect = g_malloc0(IMG_SIZE);
    struct disk *d;

    if (!strcmp(a[0], "empty")) {
        RUN("qemu-img", "create", "-q", "-f", "qcow2", "-o", a[1], "w.qcow2", "4M");
    } else if (!strcmp(a[0], "convert")) {
        RUN("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", a[1], a[2], "base.raw",
            "w.qcow2");
        memcpy(expect, pattern, IMG_SIZE);
    } else {
        RUN("qemu-img", "create", "-q", "-f", "qcow2", "-o", a[1], "-F", "raw", "-b", "base.raw",
            "w.qcow2");
        memcpy(expect, pattern, IMG_SIZE);
    }
    d = must_open("w.qcow2", false);
    write_pattern(d, expect);
    assert_reads(d, expect);
    /* Overwrite what we allocated: the in-place path. */
    write_pattern(d, expect);
    g_assert_cmpint(disk_zero(d, 1 << 20, 65536 + 512, false), ==, 0);
    memset(expect + (1 << 20), 0, 65536 + 512);
    g_assert_cmpint(disk_zero(d, 2 << 20, 4 * 65536, true), ==, 0);
    memset(expect + (2 << 20), 0, 4 * 65536);
    assert_reads(d, expect);
    disk_close(d);
    assert_file_content("w.qcow2", expect);
    if (!strcmp(a[0], "backing")) /* the backing file is never written */
        assert_file_content("base.raw", pattern);
}

/* 512-byte clusters: refcount blocks cover 128 KiB, so writing a few MiB
 * allocates new refcount blocks as it goes. */
static void test_write_small_clusters(void)
{
    g_autofree uint8_t *expect = g_malloc0(IMG_SIZE);
    g_autofree uint8_t *buf = g_malloc(3u << 20);
    struct disk *d;

    RUN("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "s.qcow2", "4M");
    d = must_open("s.qcow2", false);
    for (size_t k = 0; k < (3u << 20); k++)
        buf[k] = (uint8_t)(k * 31 + (k >> 9));
    g_assert_cmpint(disk_pwrite(d, buf, 3u << 20, 4096), ==, 0);
    memcpy(expect + 4096, buf, 3u << 20);
    disk_close(d);
    assert_file_content("s.qcow2", expect);
}

static void test_readonly_refuses_writes(void)
{
    uint8_t b[512] = {1};
    struct disk *d;

    RUN("qemu-img", "create", "-q", "-f", "qcow2", "ro.qcow2", "4M");
    d = must_open("ro.qcow2", true);
    g_assert_true(disk_readonly(d));
    g_assert_cmpint(disk_pwrite(d, b, sizeof(b), 0), ==, -EROFS);
    g_assert_cmpint(disk_pread(d, b, sizeof(b), IMG_SIZE), ==, -EINVAL);
    disk_close(d);
}

/* ---- corrupt images ---- */

static void patch(const char *name, uint64_t off, const void *bytes, size_t len)
{
    g_autofree char *p = path_of(name);
    int fd = open(p, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, bytes, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

static uint64_t read_be64(const char *name, uint64_t off)
{
    g_autofree char *p = path_of(name);
    int fd = open(p, O_RDONLY);
    uint64_t v = 0;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, &v, 8, (off_t)off), ==, 8);
    close(fd);
    return be64toh(v);
}

static void patch_be32(const char *name, uint64_t off, uint32_t v)
{
    v = htobe32(v);
    patch(name, off, &v, 4);
}

static void patch_be64(const char *name, uint64_t off, uint64_t v)
{
    v = htobe64(v);
    patch(name, off, &v, 8);
}

static void expect_refused(const char *what)
{
    int r;
    struct disk *d = open_img("bad.qcow2", true, &r);

    g_test_message("%s", what);
    g_assert_null(d);
    g_assert_cmpint(r, <, 0);
}

static void fresh_bad(void)
{
    RUN("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "base.raw", "bad.qcow2");
}

static void test_corrupt_headers(void)
{
    fresh_bad();
    patch("bad.qcow2", 0, "QFI\xfa", 4);
    /* Bad magic makes it raw under autodetection: refuse when told qcow2. */
    {
        g_autofree char *p = path_of("bad.qcow2");
        struct disk_open_opts o = {.path = p, .readonly = true, .type = DISK_IMAGE_QCOW2};
        struct disk *d = NULL;
        g_autofree char *err = NULL;

        g_assert_cmpint(disk_open(&o, &d, &err), ==, -EINVAL);
        g_assert_nonnull(strstr(err, "magic"));
    }
    fresh_bad();
    patch_be32("bad.qcow2", 20, 40); /* cluster_bits */
    expect_refused("huge cluster_bits");
    fresh_bad();
    patch_be32("bad.qcow2", 20, 8);
    expect_refused("tiny cluster_bits");
    fresh_bad();
    patch_be32("bad.qcow2", 4, 4);
    expect_refused("version 4");
    fresh_bad();
    patch_be64("bad.qcow2", 40, 1ull << 40); /* l1_table_offset */
    expect_refused("L1 table beyond EOF");
    fresh_bad();
    patch_be64("bad.qcow2", 40, 65536 + 8);
    expect_refused("L1 table misaligned");
    fresh_bad();
    patch_be32("bad.qcow2", 36, 0x10000000); /* l1_size */
    expect_refused("huge l1_size");
    fresh_bad();
    patch_be64("bad.qcow2", 24, 1ull << 50); /* size vs l1_size */
    expect_refused("l1_size too small for the size");
    fresh_bad();
    patch_be64("bad.qcow2", 48, 1ull << 40); /* refcount_table_offset */
    expect_refused("refcount table beyond EOF");
    fresh_bad();
    patch_be32("bad.qcow2", 96, 7); /* refcount_order */
    expect_refused("refcount_order 7");
    fresh_bad();
    patch_be32("bad.qcow2", 100, 50); /* header_length */
    expect_refused("short header_length");
    fresh_bad();
    patch_be64("bad.qcow2", 72, 1ull << 2); /* external data file */
    expect_refused("external data file");
    fresh_bad();
    patch_be32("bad.qcow2", 32, 1); /* crypt_method */
    expect_refused("encryption");
    fresh_bad();
    patch_be64("bad.qcow2", 8, 65530); /* backing name past the cluster */
    patch_be32("bad.qcow2", 16, 100);
    expect_refused("backing name out of bounds");
}

static void test_corrupt_l2(void)
{
    uint64_t l1_off, l2_off;
    uint8_t buf[512];
    int r;
    struct disk *d;

    fresh_bad();
    l1_off = read_be64("bad.qcow2", 40);
    l2_off = read_be64("bad.qcow2", l1_off) & 0x00fffffffffffe00ull;
    g_assert_cmpuint(l2_off, !=, 0);
    /* Cluster 0 beyond the end of the file; cluster 1 misaligned. */
    patch_be64("bad.qcow2", l2_off, (1ull << 63) | (1ull << 40));
    patch_be64("bad.qcow2", l2_off + 8, (1ull << 63) | (l2_off + 512));
    /* Cluster 2: compressed, starting beyond the end of the file. */
    patch_be64("bad.qcow2", l2_off + 16, (1ull << 62) | (1ull << 40));
    d = open_img("bad.qcow2", true, &r);
    g_assert_nonnull(d);
    g_assert_cmpint(disk_pread(d, buf, sizeof(buf), 0), ==, -EIO);
    g_assert_cmpint(disk_pread(d, buf, sizeof(buf), 65536), ==, -EIO);
    g_assert_cmpint(disk_pread(d, buf, sizeof(buf), 2 * 65536), ==, -EIO);
    g_assert_cmpint(disk_pread(d, buf, sizeof(buf), 3 * 65536), ==, 0);
    disk_close(d);

    /* An L1 entry pointing outside the file fails the request too. */
    fresh_bad();
    patch_be64("bad.qcow2", l1_off, (1ull << 63) | (1ull << 40));
    d = open_img("bad.qcow2", false, &r);
    g_assert_nonnull(d);
    g_assert_cmpint(disk_pread(d, buf, sizeof(buf), 0), ==, -EIO);
    g_assert_cmpint(disk_pwrite(d, buf, sizeof(buf), 0), ==, -EIO);
    disk_close(d);
}

static void test_backing_loop(void)
{
    int r;
    struct disk *d;

    RUN("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "base.raw", "loop.qcow2");
    /* Point the image at itself: qcow2 all the way down. */
    RUN("qemu-img", "rebase", "-u", "-F", "qcow2", "-b", "loop.qcow2", "loop.qcow2");
    d = open_img("loop.qcow2", true, &r);
    g_assert_null(d);
    g_assert_cmpint(r, ==, -ELOOP);
}

static void setup_base(void)
{
    g_autofree char *p = path_of("base.raw");

    pattern = g_malloc0(IMG_SIZE);
    for (size_t i = 0; i < IMG_SIZE; i++) {
        /* Leave holes so images have unallocated and zero clusters. */
        if ((i >> 16) % 5 != 3)
            pattern[i] = (uint8_t)(i * 7 + (i >> 12));
    }
    g_assert_true(g_file_set_contents(p, (const char *)pattern, IMG_SIZE, NULL));
}

static void rm_rf(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);

        g_unlink(p);
    }
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    static const char *const conv_v3[] = {"compat=1.1", "-q"};
    static const char *const conv_v2[] = {"compat=0.10", "-q"};
    static const char *const conv_c3[] = {"compat=1.1", "-c"};
    static const char *const conv_c2[] = {"compat=0.10", "-c"};
    static const char *const w_empty3[] = {"empty", "compat=1.1", ""};
    static const char *const w_empty2[] = {"empty", "compat=0.10", ""};
    static const char *const w_conv3[] = {"convert", "compat=1.1", "-q"};
    static const char *const w_conv2[] = {"convert", "compat=0.10", "-q"};
    static const char *const w_comp[] = {"convert", "compat=1.1", "-c"};
    static const char *const w_back[] = {"backing", "compat=1.1", ""};
    int r;

    g_test_init(&argc, &argv, NULL);
    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");

    if (!qemu_img) {
        g_print("1..0 # SKIP qemu-img not installed\n");
        return 0;
    }
    tmpdir = g_dir_make_tmp("vireo-qcow2-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    setup_base();
    g_test_add_data_func("/qcow2/read/empty-v3", "compat=1.1", test_empty);
    g_test_add_data_func("/qcow2/read/empty-v2", "compat=0.10", test_empty);
    g_test_add_data_func("/qcow2/read/converted-v3", conv_v3, test_converted);
    g_test_add_data_func("/qcow2/read/converted-v2", conv_v2, test_converted);
    g_test_add_data_func("/qcow2/read/compressed-v3", conv_c3, test_converted);
    g_test_add_data_func("/qcow2/read/compressed-v2", conv_c2, test_converted);
    g_test_add_data_func("/qcow2/read/backing-raw", "raw", test_backing);
    g_test_add_data_func("/qcow2/read/backing-qcow2", "qcow2", test_backing);
    g_test_add_data_func("/qcow2/write/empty-v3", w_empty3, test_write);
    g_test_add_data_func("/qcow2/write/empty-v2", w_empty2, test_write);
    g_test_add_data_func("/qcow2/write/converted-v3", w_conv3, test_write);
    g_test_add_data_func("/qcow2/write/converted-v2", w_conv2, test_write);
    g_test_add_data_func("/qcow2/write/compressed", w_comp, test_write);
    g_test_add_data_func("/qcow2/write/backing", w_back, test_write);
    g_test_add_func("/qcow2/write/small-clusters", test_write_small_clusters);
    g_test_add_func("/qcow2/readonly", test_readonly_refuses_writes);
    g_test_add_func("/qcow2/corrupt/headers", test_corrupt_headers);
    g_test_add_func("/qcow2/corrupt/l2-entries", test_corrupt_l2);
    g_test_add_func("/qcow2/corrupt/backing-loop", test_backing_loop);
    r = g_test_run();
    rm_rf(tmpdir);
    g_free(tmpdir);
    g_free(pattern);
    return r;
}
