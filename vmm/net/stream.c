/* Stream backend: a relay thread between a length-prefixed frame stream
 * (passt) and the SOCK_SEQPACKET pair virtio-net reads and writes. */
#include "config.h"

#include "net/stream.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define LEN_SIZE  4u                            /* the big-endian length in front */
#define MIN_FRAME 14u                           /* an Ethernet header */
#define SLOT      (LEN_SIZE + STREAM_MAX_FRAME) /* room for one prefixed frame */
#define IN_SIZE   (4 * SLOT)                    /* peer -> guest buffer */
#define OUT_SIZE  (4 * SLOT)                    /* guest -> peer: frames batched per send */
#define BUDGET    64                            /* syscalls per direction per wakeup */

struct stream {
    int sock;    /* the peer's stream */
    int relay;   /* our end of the frame pair */
    int dev_fd;  /* virtio-net's end */
    int stop_fd; /* eventfd: the thread ends */
    pid_t child; /* the peer process we started, reaped at the end */
    pthread_t thread;
    bool thread_started;
    char label[16];

    /* Peer -> guest: bytes read from the stream, in[in_off, in_len). */
    uint8_t *in;
    size_t in_off, in_len;
    bool in_blocked; /* a whole frame waits for room in the pair */

    /* Guest -> peer: prefixed frames not yet written, out[out_off, out_len). */
    uint8_t *out;
    size_t out_off, out_len;

    bool peer_gone;   /* EOF, an error or a protocol violation on the stream */
    bool guest_gone;  /* virtio-net's end closed */
    uint64_t dropped; /* frames lost: malformed, too large, or after peer_gone */
};

static void stream_reap_child(struct stream *s, bool wait_for_it)
{
    int status;

    if (s->child <= 0)
        return;
    for (int i = 0; i < (wait_for_it ? 100 : 1); i++) {
        pid_t r = waitpid(s->child, &status, WNOHANG);

        if (r == s->child) {
            if (WIFEXITED(status) && WEXITSTATUS(status))
                log_warn("%s (pid %d) exited with status %d", s->label, (int)s->child,
                         WEXITSTATUS(status));
            else if (WIFSIGNALED(status))
                log_warn("%s (pid %d) was killed by signal %d", s->label, (int)s->child,
                         WTERMSIG(status));
            s->child = 0;
            return;
        }
        if (r < 0) {
            s->child = 0; /* not ours any more */
            return;
        }
        if (wait_for_it)
            g_usleep(10000);
    }
}

static void stream_peer_lost(struct stream *s, const char *why, int err)
{
    if (s->peer_gone)
        return;
    s->peer_gone = true;
    s->out_off = s->out_len = 0; /* nowhere to go: the guest's frames are dropped from now on */
    if (err)
        log_error("network backend %s: %s: %s; the guest's link has no peer any more", s->label,
                  why, g_strerror(err));
    else
        log_error("network backend %s: %s; the guest's link has no peer any more", s->label, why);
    stream_reap_child(s, true);
}

/* Hands whole frames from the input buffer to virtio-net. False when the
 * pair is full (in_blocked). */
static bool stream_deliver(struct stream *s)
{
    while (s->in_len - s->in_off >= LEN_SIZE) {
        uint8_t *at = s->in + s->in_off;
        uint32_t len;

        memcpy(&len, at, LEN_SIZE);
        len = be32toh(len);
        if (len > STREAM_MAX_FRAME) {
            log_error("network backend %s: a frame of %u bytes (at most %u)", s->label, len,
                      STREAM_MAX_FRAME);
            stream_peer_lost(s, "the stream is out of step", 0);
            return true;
        }
        if (s->in_len - s->in_off < LEN_SIZE + len)
            break;
        if (len < MIN_FRAME) {
            s->dropped++;
        } else if (send(s->relay, at + LEN_SIZE, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                s->in_blocked = true;
                return false;
            }
            if (errno == EPIPE || errno == ECONNRESET)
                s->guest_gone = true;
            s->dropped++;
        }
        s->in_off += LEN_SIZE + len;
    }
    s->in_blocked = false;
    return true;
}

/* Peer -> guest: reads the stream and delivers what is whole. */
static void stream_pump_in(struct stream *s)
{
    for (int n = 0; n < BUDGET && !s->peer_gone; n++) {
        ssize_t got;

        if (!stream_deliver(s) || s->peer_gone)
            return;
        if (s->in_off) {
            memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
            s->in_len -= s->in_off;
            s->in_off = 0;
        }
        got = read(s->sock, s->in + s->in_len, IN_SIZE - s->in_len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno == EAGAIN)
            return;
        if (got <= 0) {
            stream_peer_lost(s, got == 0 ? "the peer closed the connection" : "reading",
                             got == 0 ? 0 : errno);
            return;
        }
        s->in_len += (size_t)got;
    }
}

/* Guest -> peer: batches frames from the pair behind their lengths and
 * writes them to the stream; after the peer is gone they are dropped. */
static void stream_pump_out(struct stream *s)
{
    for (int n = 0; n < BUDGET; n++) {
        if (s->out_off < s->out_len) {
            ssize_t w = send(s->sock, s->out + s->out_off, s->out_len - s->out_off,
                             MSG_DONTWAIT | MSG_NOSIGNAL);

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN)
                return;
            if (w < 0) {
                stream_peer_lost(s, "writing", errno);
                s->out_off = s->out_len = 0;
                continue;
            }
            s->out_off += (size_t)w;
            continue;
        }
        s->out_off = s->out_len = 0;
        while (s->out_len + SLOT <= OUT_SIZE) {
            uint8_t *at = s->out + s->out_len;
            ssize_t got = recv(s->relay, at + LEN_SIZE, STREAM_MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC);
            uint32_t len;

            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                break; /* EAGAIN: nothing more for now */
            if (got == 0) {
                s->guest_gone = true;
                break;
            }
            if ((size_t)got > STREAM_MAX_FRAME || s->peer_gone) {
                s->dropped++;
                continue;
            }
            len = htobe32((uint32_t)got);
            memcpy(at, &len, LEN_SIZE);
            s->out_len += LEN_SIZE + (size_t)got;
        }
        if (!s->out_len)
            return;
    }
}

static void *stream_thread(void *opaque)
{
    struct stream *s = opaque;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        struct pollfd fds[3] = {
            {.fd = s->stop_fd, .events = POLLIN},
            {.fd = s->sock, .events = 0},
            {.fd = s->relay, .events = 0},
        };

        if (!s->peer_gone) {
            if (!s->in_blocked)
                fds[1].events |= POLLIN;
            if (s->out_off < s->out_len)
                fds[1].events |= POLLOUT;
        } else {
            fds[1].fd = -1;
        }
        if (s->guest_gone) {
            fds[2].fd = -1;
        } else {
            if (s->in_blocked)
                fds[2].events |= POLLOUT;
            if (s->out_off == s->out_len)
                fds[2].events |= POLLIN;
        }
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("network backend %s: poll: %s", s->label, g_strerror(errno));
            break;
        }
        if (fds[0].revents)
            break;
        if (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))
            stream_pump_out(s);
        if (fds[1].revents & (POLLIN | POLLERR | POLLHUP) || fds[2].revents & POLLOUT)
            stream_pump_in(s);
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
            stream_pump_out(s);
    }
    return NULL;
}

static void stream_close(struct stream *s)
{
    if (s->thread_started) {
        uint64_t one = 1;

        if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
            log_error("network backend %s: cannot stop the relay", s->label);
        pthread_join(s->thread, NULL);
    }
    if (s->sock >= 0)
        close(s->sock);
    if (s->relay >= 0)
        close(s->relay);
    if (s->dev_fd >= 0)
        close(s->dev_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    /* The stream closed, passt ends by itself (it serves one connection). */
    if (s->child > 0) {
        stream_reap_child(s, true);
        if (s->child > 0) {
            kill(s->child, SIGTERM);
            waitpid(s->child, NULL, 0);
        }
    }
    if (s->dropped)
        log_info("network backend %s: %" G_GUINT64_FORMAT " frames dropped", s->label, s->dropped);
    g_free(s->in);
    g_free(s->out);
    g_free(s);
}

static void stream_free(void *opaque)
{
    if (opaque)
        stream_close(opaque);
}

static const struct net_backend_ops stream_ops = {
    .free = stream_free,
};

int stream_backend_open(int fd, pid_t child, const char *label, struct net_backend *out, char **err)
{
    struct stream *s = g_new0(struct stream, 1);
    int pair[2], type = 0, fl, ret;
    socklen_t tlen = sizeof(type);
    int sndbuf = 1 << 20;

    memset(out, 0, sizeof(*out));
    s->sock = fd;
    s->relay = s->dev_fd = s->stop_fd = -1;
    s->child = child;
    g_strlcpy(s->label, label, sizeof(s->label));
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM) {
        *err = g_strdup_printf("%s: fd %d is not a stream socket", label, fd);
        ret = -ENOTSOCK;
        goto fail;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
        ret = -errno;
        *err = g_strdup_printf("%s: setting up the relay: %s", label, g_strerror(errno));
        goto fail;
    }
    s->relay = pair[0];
    s->dev_fd = pair[1];
    /* Room for a burst of full-size frames either way. */
    setsockopt(s->relay, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    setsockopt(s->dev_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (s->stop_fd < 0) {
        ret = -errno;
        *err = g_strdup_printf("%s: eventfd: %s", label, g_strerror(errno));
        goto fail;
    }
    s->in = g_malloc(IN_SIZE);
    s->out = g_malloc(OUT_SIZE);
    ret = -pthread_create(&s->thread, NULL, stream_thread, s);
    if (ret) {
        *err = g_strdup_printf("%s: starting the relay thread: %s", label, g_strerror(-ret));
        goto fail;
    }
    s->thread_started = true;
    out->ops = &stream_ops;
    out->opaque = s;
    out->fds = &s->dev_fd;
    out->nr_fds = 1;
    g_strlcpy(out->name, label, sizeof(out->name));
    return 0;
fail:
    stream_close(s);
    return ret;
}

int stream_connect_unix(const char *path, char **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd, ret;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        *err = g_strdup_printf("socket path %s is longer than %zu bytes", path,
                               sizeof(addr.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ret = -errno;
        *err = g_strdup_printf("socket: %s", g_strerror(errno));
        return ret;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        ret = -errno;
        *err = g_strdup_printf("connecting to %s: %s", path, g_strerror(errno));
        close(fd);
        return ret;
    }
    return fd;
}
