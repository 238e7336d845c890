/* Character backends for serial and console: output that never stalls a
 * vCPU for long, and an input thread that holds bytes back while the
 * consumer (a UART FIFO) is full. */
#define _GNU_SOURCE /* accept4 */
#include "chardev/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* How long one write may wait for a slow peer before output is dropped;
 * once dropping, writes do not wait at all until the peer drains. */
#define CHARDEV_STALL_MS 20
/* How often held-back input is offered again if no one calls
 * chardev_input_ready(). */
#define CHARDEV_RETRY_MS    50
#define CHARDEV_INPUT_CHUNK 256

struct chardev {
    enum chardev_kind kind;
    char *path;

    pthread_mutex_t lock; /* out_fd state, socket client, counters */
    int in_fd;            /* stdin or pty master; -1 otherwise */
    int out_fd;           /* stdout, file, pty master; -1 otherwise */
    int pty_slave;        /* held open so the master never sees a hangup */
    int listen_fd;
    int client_fd;
    unsigned int client_gen; /* bumped on every accept, so a stale poll is detected */
    bool stalled;
    uint64_t dropped;

    bool tty_raw; /* stdin was a tty we switched to raw mode */
    struct termios tty_saved;

    int wake_fd;
    bool thread_running;
    atomic_bool stop;
    pthread_t thread;
    chardev_input_fn cb;
    void *cb_opaque;
};

static struct chardev *chardev_alloc(enum chardev_kind kind)
{
    struct chardev *c = g_new0(struct chardev, 1);

    c->kind = kind;
    c->in_fd = c->out_fd = c->pty_slave = c->listen_fd = c->client_fd = c->wake_fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static int chardev_open_tty(struct chardev *c, char **err)
{
    struct termios raw;

    c->in_fd = STDIN_FILENO;
    c->out_fd = STDOUT_FILENO;
    if (!isatty(STDIN_FILENO))
        return 0;
    if (tcgetattr(STDIN_FILENO, &c->tty_saved) < 0) {
        *err = g_strdup_printf("cannot read the terminal mode of stdin: %s", g_strerror(errno));
        return -errno;
    }
    raw = c->tty_saved;
    cfmakeraw(&raw);
    /* Keep output post-processing so host-side newlines stay readable. */
    raw.c_oflag |= OPOST;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0) {
        *err = g_strdup_printf("cannot put stdin in raw mode: %s", g_strerror(errno));
        return -errno;
    }
    c->tty_raw = true;
    return 0;
}

static int chardev_open_file(struct chardev *c, const char *path, char **err)
{
    c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (c->out_fd < 0) {
        *err = g_strdup_printf("cannot open %s: %s", path, g_strerror(errno));
        return -errno;
    }
    return 0;
}

static int chardev_open_pty(struct chardev *c, char **err)
{
    char name[PATH_MAX];
    struct termios raw;
    int master, slave;

    if (openpty(&master, &slave, name, NULL, NULL) < 0) {
        *err = g_strdup_printf("cannot allocate a pty: %s", g_strerror(errno));
        return -errno;
    }
    /* The guest owns the line discipline: no echo, no translation. */
    if (tcgetattr(slave, &raw) == 0) {
        cfmakeraw(&raw);
        tcsetattr(slave, TCSANOW, &raw);
    }
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    fcntl(master, F_SETFD, FD_CLOEXEC);
    fcntl(slave, F_SETFD, FD_CLOEXEC);
    c->in_fd = c->out_fd = master;
    c->pty_slave = slave;
    c->path = g_strdup(name);
    return 0;
}

static int chardev_open_socket(struct chardev *c, const char *path, char **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        *err = g_strdup_printf("socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    /* A socket left by an earlier run is replaced; anything else is not ours. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            *err = g_strdup_printf("%s exists and is not a socket", path);
            return -EEXIST;
        }
        unlink(path);
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = g_strdup_printf("cannot create a socket: %s", g_strerror(errno));
        return -errno;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        int ret = -errno;
        *err = g_strdup_printf("cannot listen on %s: %s", path, g_strerror(errno));
        close(fd);
        return ret;
    }
    c->listen_fd = fd;
    c->path = g_strdup(path);
    return 0;
}

struct chardev *chardev_new(const char *spec, char **err)
{
    struct chardev *c = NULL;
    int ret;

    *err = NULL;
    if (!spec) {
        *err = g_strdup("no character device given");
        return NULL;
    }
    if (strcmp(spec, "off") == 0)
        return chardev_alloc(CHARDEV_OFF);
    if (strcmp(spec, "null") == 0)
        return chardev_alloc(CHARDEV_NULL);
    if (strcmp(spec, "tty") == 0) {
        c = chardev_alloc(CHARDEV_TTY);
        ret = chardev_open_tty(c, err);
    } else if (strcmp(spec, "pty") == 0) {
        c = chardev_alloc(CHARDEV_PTY);
        ret = chardev_open_pty(c, err);
    } else if (g_str_has_prefix(spec, "file=") && spec[5]) {
        c = chardev_alloc(CHARDEV_FILE);
        c->path = g_strdup(spec + 5);
        ret = chardev_open_file(c, spec + 5, err);
    } else if (g_str_has_prefix(spec, "socket=") && spec[7]) {
        c = chardev_alloc(CHARDEV_SOCKET);
        ret = chardev_open_socket(c, spec + 7, err);
    } else {
        *err = g_strdup_printf("invalid character device '%s': expected "
                               "off, null, tty, pty, file=PATH or socket=PATH",
                               spec);
        return NULL;
    }
    if (ret < 0) {
        chardev_free(c);
        return NULL;
    }
    return c;
}

void chardev_free(struct chardev *c)
{
    if (!c)
        return;
    chardev_stop_input(c);
    if (c->tty_raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &c->tty_saved);
    if (c->kind == CHARDEV_FILE && c->out_fd >= 0)
        close(c->out_fd);
    if (c->kind == CHARDEV_PTY) {
        close(c->out_fd);
        close(c->pty_slave);
    }
    if (c->client_fd >= 0)
        close(c->client_fd);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->path);
    }
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    pthread_mutex_destroy(&c->lock);
    g_free(c->path);
    g_free(c);
}

enum chardev_kind chardev_kind(const struct chardev *c)
{
    return c->kind;
}

const char *chardev_path(const struct chardev *c)
{
    return c->path;
}

/* Takes a waiting client, or turns away a second one. Called locked. */
static void chardev_accept(struct chardev *c)
{
    int fd;

    while ((fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        if (c->client_fd >= 0) {
            close(fd);
            continue;
        }
        c->client_fd = fd;
        c->client_gen++;
        c->stalled = false;
    }
}

static void chardev_drop_client(struct chardev *c)
{
    close(c->client_fd);
    c->client_fd = -1;
    c->client_gen++;
}

/* Writes all of buf to fd or gives up after a short wait. Called locked. */
static int chardev_write_fd(struct chardev *c, int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        size_t chunk = len < PIPE_BUF ? len : PIPE_BUF;
        ssize_t n;
        int ready;

        ready = poll(&pfd, 1, c->stalled ? 0 : CHARDEV_STALL_MS);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0 || !(pfd.revents & POLLOUT)) {
            c->stalled = true;
            c->dropped += len;
            return (pfd.revents & (POLLERR | POLLHUP)) ? -EPIPE : -EAGAIN;
        }
        if (c->kind == CHARDEV_SOCKET)
            n = send(fd, buf, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        else
            n = write(fd, buf, chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            int ret = n < 0 ? -errno : -EIO;
            c->dropped += len;
            return ret;
        }
        c->stalled = false;
        buf += n;
        len -= n;
    }
    return 0;
}

int chardev_write(struct chardev *c, const void *buf, size_t len)
{
    int ret = 0;

    if (len == 0)
        return 0;
    pthread_mutex_lock(&c->lock);
    switch (c->kind) {
    case CHARDEV_OFF:
    case CHARDEV_NULL:
        break;
    case CHARDEV_SOCKET:
        if (c->client_fd < 0)
            chardev_accept(c);
        if (c->client_fd < 0) {
            c->dropped += len;
            ret = -EAGAIN;
            break;
        }
        ret = chardev_write_fd(c, c->client_fd, buf, len);
        /* The input thread notices the hangup itself; without one, clean up here. */
        if (ret == -EPIPE || ret == -ECONNRESET)
            if (!c->thread_running)
                chardev_drop_client(c);
        break;
    default:
        ret = chardev_write_fd(c, c->out_fd, buf, len);
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return ret;
}

uint64_t chardev_dropped(struct chardev *c)
{
    uint64_t n;

    pthread_mutex_lock(&c->lock);
    n = c->dropped;
    pthread_mutex_unlock(&c->lock);
    return n;
}

int chardev_input_fd(const struct chardev *c)
{
    return c->in_fd;
}

static ssize_t chardev_read_fd(int fd, void *buf, size_t len)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;

    /* stdin is shared with our parent, so it stays blocking: look first. */
    if (poll(&pfd, 1, 0) <= 0)
        return -EAGAIN;
    n = read(fd, buf, len);
    if (n < 0)
        return errno == EINTR ? -EAGAIN : -errno;
    return n;
}

ssize_t chardev_read(struct chardev *c, void *buf, size_t len)
{
    ssize_t n = -EAGAIN;

    if (len == 0)
        return 0;
    if (c->in_fd >= 0)
        return chardev_read_fd(c->in_fd, buf, len);
    if (c->kind != CHARDEV_SOCKET)
        return 0;
    pthread_mutex_lock(&c->lock);
    if (c->client_fd < 0)
        chardev_accept(c);
    if (c->client_fd >= 0) {
        n = chardev_read_fd(c->client_fd, buf, len);
        if (n == 0 || (n < 0 && n != -EAGAIN)) {
            chardev_drop_client(c);
            n = -EAGAIN;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Reads one chunk for the input thread. Returns bytes read, 0 when there is
 * nothing (yet), -1 when the input has ended for good. */
static ssize_t chardev_pump(struct chardev *c, struct pollfd *pfd, unsigned int gen, uint8_t *buf)
{
    ssize_t n;

    if (c->kind != CHARDEV_SOCKET) {
        n = chardev_read_fd(c->in_fd, buf, CHARDEV_INPUT_CHUNK);
        if (n == -EAGAIN)
            return 0;
        return n > 0 ? n : -1;
    }
    pthread_mutex_lock(&c->lock);
    if (pfd[1].revents & POLLIN)
        chardev_accept(c);
    n = 0;
    if (pfd[2].fd >= 0 && pfd[2].revents && gen == c->client_gen && c->client_fd >= 0) {
        n = chardev_read_fd(c->client_fd, buf, CHARDEV_INPUT_CHUNK);
        if (n == -EAGAIN) {
            n = 0;
        } else if (n <= 0) {
            chardev_drop_client(c); /* the client left; wait for the next one */
            n = 0;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

static void *chardev_input_thread(void *opaque)
{
    struct chardev *c = opaque;
    uint8_t buf[CHARDEV_INPUT_CHUNK];
    size_t have = 0, off = 0;
    bool eof = false;

    while (!atomic_load(&c->stop)) {
        struct pollfd pfd[3] = {{.fd = c->wake_fd, .events = POLLIN}, {.fd = -1}, {.fd = -1}};
        unsigned int gen = 0;
        uint64_t v;
        ssize_t n;

        /* While input is held back, only a wake-up or the retry timer matter. */
        if (have == 0 && !eof) {
            if (c->kind == CHARDEV_SOCKET) {
                pthread_mutex_lock(&c->lock);
                pfd[1] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
                pfd[2] = (struct pollfd){.fd = c->client_fd, .events = POLLIN};
                gen = c->client_gen;
                pthread_mutex_unlock(&c->lock);
            } else {
                pfd[1] = (struct pollfd){.fd = c->in_fd, .events = POLLIN};
            }
        }
        if (poll(pfd, 3, have ? CHARDEV_RETRY_MS : -1) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN) {
            if (read(c->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                break;
        }
        if (atomic_load(&c->stop))
            break;
        if (have == 0 && (pfd[1].revents || pfd[2].revents)) {
            n = chardev_pump(c, pfd, gen, buf);
            if (n < 0)
                eof = true; /* stdin closed or pty gone: only a stop wakes us now */
            else
                have = n;
            off = 0;
        }
        if (have > 0) {
            size_t took = c->cb(c->cb_opaque, buf + off, have - off);
            off += took < have - off ? took : have - off;
            if (off == have)
                have = off = 0;
        }
    }
    return NULL;
}

int chardev_start_input(struct chardev *c, chardev_input_fn cb, void *opaque)
{
    int ret;

    if (!cb)
        return -EINVAL;
    if (c->in_fd < 0 && c->kind != CHARDEV_SOCKET)
        return -ENOTSUP;
    if (c->thread_running)
        return -EBUSY;
    if (c->wake_fd < 0) {
        c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (c->wake_fd < 0)
            return -errno;
    }
    c->cb = cb;
    c->cb_opaque = opaque;
    atomic_store(&c->stop, false);
    ret = pthread_create(&c->thread, NULL, chardev_input_thread, c);
    if (ret != 0)
        return -ret;
    pthread_mutex_lock(&c->lock);
    c->thread_running = true;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void chardev_stop_input(struct chardev *c)
{
    if (!c->thread_running)
        return;
    atomic_store(&c->stop, true);
    chardev_input_ready(c);
    pthread_join(c->thread, NULL);
    pthread_mutex_lock(&c->lock);
    c->thread_running = false;
    pthread_mutex_unlock(&c->lock);
}

void chardev_input_ready(struct chardev *c)
{
    uint64_t one = 1;

    if (c->wake_fd >= 0 && write(c->wake_fd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is already non-zero, the thread will wake. */
    }
}
