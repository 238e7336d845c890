/* Raw images: the virtual disk is the file, byte for byte. */
#include "config.h"

#include "block/format.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct raw {
    struct disk *d;
};

static int raw_open(struct disk *d, char **err)
{
    struct raw *raw;
    struct stat st;
    off_t end;

    if (fstat(d->meta_fd, &st) < 0)
        return -errno;
    if (S_ISBLK(st.st_mode)) {
        end = lseek(d->meta_fd, 0, SEEK_END);
        if (end < 0)
            return -errno;
        d->size = (uint64_t)end;
    } else if (S_ISREG(st.st_mode)) {
        d->size = (uint64_t)st.st_size;
    } else {
        if (err)
            *err = g_strdup_printf("%s: not a regular file or block device", d->path);
        return -EINVAL;
    }
    raw = g_new0(struct raw, 1);
    raw->d = d;
    d->fmt = raw;
    return 0;
}

static int raw_map(void *fmt, uint64_t offset, uint64_t len, bool write, struct disk_extent *ext)
{
    ext->kind = DISK_EXTENT_DATA;
    ext->len = len;
    ext->file_offset = offset;
    return 0;
}

static int raw_read(void *fmt, uint64_t offset, void *buf, size_t len)
{
    struct raw *raw = fmt;

    return disk_file_read(raw->d->meta_fd, buf, len, offset);
}

static int raw_write(void *fmt, uint64_t offset, const void *buf, size_t len)
{
    struct raw *raw = fmt;

    return disk_file_write(raw->d->meta_fd, buf, len, offset);
}

static int raw_zero_write(struct raw *raw, uint64_t offset, uint64_t len)
{
    g_autofree uint8_t *zeroes = g_malloc0(MIN(len, 1u << 20));

    while (len) {
        size_t n = MIN(len, 1u << 20);
        int r = disk_file_write(raw->d->meta_fd, zeroes, n, offset);

        if (r < 0)
            return r;
        offset += n;
        len -= n;
    }
    return 0;
}

/* Discard punches a hole; write-zeroes asks the filesystem for a zeroed range.
 * Both keep the size and fall back to writing zeroes. */
static int raw_zero(void *fmt, uint64_t offset, uint64_t len, bool discard)
{
    struct raw *raw = fmt;
    int mode = discard ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
                       : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;

    if (fallocate(raw->d->meta_fd, mode, (off_t)offset, (off_t)len) == 0)
        return 0;
    if (!discard && fallocate(raw->d->meta_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                              (off_t)offset, (off_t)len) == 0)
        return 0;
    return raw_zero_write(raw, offset, len);
}

static void raw_close(void *fmt)
{
    g_free(fmt);
}

const struct disk_ops disk_raw_ops = {
    .name = "raw",
    .open = raw_open,
    .map = raw_map,
    .read = raw_read,
    .write = raw_write,
    .zero = raw_zero,
    .close = raw_close,
};
