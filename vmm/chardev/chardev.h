/* Character backends: where the bytes a guest writes to a serial port or
 * console go, and where the bytes it reads come from (off, null, our tty, a
 * file, a pty, or a unix socket that serves one client at a time). */
#ifndef VIREO_VMM_CHARDEV_CHARDEV_H
#define VIREO_VMM_CHARDEV_CHARDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum chardev_kind {
    CHARDEV_OFF,
    CHARDEV_NULL,
    CHARDEV_TTY,
    CHARDEV_FILE,
    CHARDEV_PTY,
    CHARDEV_SOCKET,
};

struct chardev;

/* Receives input; returns how many bytes it took (at most len). What it
 * does not take is offered again after chardev_input_ready() or shortly. */
typedef size_t (*chardev_input_fn)(void *opaque, const uint8_t *buf, size_t len);

/* Parses "off", "null", "tty", "pty", "file=PATH" or "socket=PATH" and opens
 * the backend. On failure returns NULL and sets *err to a message the caller
 * frees with g_free(). */
struct chardev *chardev_new(const char *spec, char **err);

/* Stops the input thread, closes everything, restores the tty mode and
 * removes the socket file this chardev created. */
void chardev_free(struct chardev *c);

enum chardev_kind chardev_kind(const struct chardev *c);

/* The pty's slave path, or the file or socket path; NULL for other kinds. */
const char *chardev_path(const struct chardev *c);

/* Sends guest output. Never blocks for long: when the peer stalls, or there
 * is no peer, the bytes are dropped and counted. 0, or -EAGAIN when bytes
 * were dropped, or -errno of a failed write (also counted as dropped). */
int chardev_write(struct chardev *c, const void *buf, size_t len);
uint64_t chardev_dropped(struct chardev *c);

/* For a VMM event loop that pumps input itself: the fd to poll (stdin, the
 * pty master) or -1 (off, null, file; socket, whose client changes: use
 * chardev_start_input). chardev_read() never blocks: bytes read, 0 at end
 * of input, -EAGAIN when nothing is there, or -errno. */
int chardev_input_fd(const struct chardev *c);
ssize_t chardev_read(struct chardev *c, void *buf, size_t len);

/* Spawns a thread that delivers input to cb until chardev_stop_input() or
 * chardev_free(). -EBUSY when already started, -ENOTSUP for kinds with no
 * input (then nothing is started). */
int chardev_start_input(struct chardev *c, chardev_input_fn cb, void *opaque)
    __attribute__((warn_unused_result));
/* Joins the input thread; after it returns cb is not called again. */
void chardev_stop_input(struct chardev *c);
/* The consumer has room again: deliver held-back input now. Lock-free, so
 * it may be called with the consumer's lock held. */
void chardev_input_ready(struct chardev *c);

#endif
