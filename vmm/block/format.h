/* The interface between disk.c and the image formats: a format maps ranges of
 * the virtual disk to the image file, and does itself whatever is not a plain
 * file range (compressed clusters, backing files, cluster allocation). */
#ifndef VIREO_VMM_BLOCK_FORMAT_H
#define VIREO_VMM_BLOCK_FORMAT_H

#include "block/disk.h"

enum disk_extent_kind {
    DISK_EXTENT_DATA, /* at file_offset in the image file: the engine's job */
    DISK_EXTENT_ZERO, /* reads as zeroes (never for writes) */
    DISK_EXTENT_SYNC, /* the format's read()/write() must handle it */
};

struct disk_extent {
    enum disk_extent_kind kind;
    uint64_t len; /* > 0, from the queried offset */
    uint64_t file_offset;
};

struct disk_ops {
    const char *name;
    /* d->fd, d->meta_fd, d->path, d->readonly are set; sets d->fmt, d->size. */
    int (*open)(struct disk *d, char **err);
    int (*map)(void *fmt, uint64_t offset, uint64_t len, bool write, struct disk_extent *ext);
    int (*read)(void *fmt, uint64_t offset, void *buf, size_t len);
    int (*write)(void *fmt, uint64_t offset, const void *buf, size_t len);
    int (*zero)(void *fmt, uint64_t offset, uint64_t len, bool discard);
    void (*close)(void *fmt);
};

struct disk {
    const struct disk_ops *ops;
    void *fmt;
    char *path;
    int fd;      /* data I/O, O_DIRECT when asked */
    int meta_fd; /* buffered: metadata and synchronous I/O (fd itself unless direct) */
    bool readonly;
    bool direct;
    unsigned int chain_depth; /* 0 for the disk itself, +1 per backing file */
    uint64_t size;
};

extern const struct disk_ops disk_raw_ops;
extern const struct disk_ops disk_qcow2_ops;

/* Opens a backing file read-only, `depth` levels down the chain. */
int disk_open_backing(const char *path, enum disk_image_type type, unsigned int depth,
                      struct disk **out, char **err);

/* Full-length pread/pwrite on the buffered fd; reads past EOF give zeroes. */
int disk_file_read(int fd, void *buf, size_t len, uint64_t offset);
int disk_file_write(int fd, const void *buf, size_t len, uint64_t offset);

#define DISK_MAX_CHAIN 16

#endif
