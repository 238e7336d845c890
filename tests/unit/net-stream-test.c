/* Tests for vmm/net/stream.c (the passt framing relay) and vmm/net/passt.c:
 * the test plays passt on the other end of a stream socket pair and
 * virtio-net on the backend fd. */
#include "net/passt.h"
#include "net/stream.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS 5000

struct fixture {
    int peer; /* passt's end */
    struct net_backend be;
};

static void fixture_open(struct fixture *f, pid_t child)
{
    g_autofree char *err = NULL;
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    f->peer = sv[0];
    g_assert_cmpint(stream_backend_open(sv[1], child, "test", &f->be, &err), ==, 0);
    g_assert_null(err);
    g_assert_cmpuint(f->be.nr_fds, ==, 1);
    g_assert_false(f->be.vnet_hdr);
    g_assert_false(f->be.offloads);
}

static void fixture_close(struct fixture *f)
{
    f->be.ops->free(f->be.opaque);
    if (f->peer >= 0)
        close(f->peer);
}

static void wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};

    g_assert_cmpint(poll(&p, 1, TIMEOUT_MS), ==, 1);
}

static void make_frame(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seed + i * 7);
}

static void put_prefixed(GByteArray *a, const uint8_t *frame, uint32_t len)
{
    uint32_t be = htobe32(len);

    g_byte_array_append(a, (const uint8_t *)&be, 4);
    g_byte_array_append(a, frame, len);
}

static void write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EAGAIN) {
            wait_fd(fd, POLLOUT);
            continue;
        }
        g_assert_cmpint(w, >, 0);
        p += w;
        len -= (size_t)w;
    }
}

static void read_all(int fd, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t r;

        wait_fd(fd, POLLIN);
        r = read(fd, p, len);
        g_assert_cmpint(r, >, 0);
        p += r;
        len -= (size_t)r;
    }
}

/* One whole frame from the backend fd, as virtio-net reads it. */
static ssize_t read_frame(struct fixture *f, uint8_t *buf, size_t cap)
{
    wait_fd(f->be.fds[0], POLLIN);
    return read(f->be.fds[0], buf, cap);
}

/* Frames from passt, in pieces of every size, come out whole and in order;
 * a runt is dropped. */
static void test_peer_to_guest(void)
{
    static const uint32_t lens[] = {60, 1514, 14, 9000, STREAM_MAX_FRAME, 64};
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree uint8_t *frame = g_malloc(STREAM_MAX_FRAME);
    g_autofree uint8_t *got = g_malloc(STREAM_MAX_FRAME + 1);
    struct fixture f;
    uint8_t runt[10] = {0};

    fixture_open(&f, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        make_frame(frame, lens[i], (uint8_t)i);
        put_prefixed(stream, frame, lens[i]);
        if (i == 1)
            put_prefixed(stream, runt, sizeof(runt));
    }
    /* Dribbled out in odd-sized pieces: lengths split across writes. */
    for (size_t at = 0, piece = 1; at < stream->len; piece = piece * 3 % 4093 + 1) {
        size_t n = MIN(piece, stream->len - at);

        write_all(f.peer, stream->data + at, n);
        at += n;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        ssize_t n = read_frame(&f, got, STREAM_MAX_FRAME + 1);

        g_assert_cmpint(n, ==, lens[i]);
        make_frame(frame, lens[i], (uint8_t)i);
        g_assert_cmpmem(got, (size_t)n, frame, lens[i]);
    }
    fixture_close(&f);
}

/* Frames from the guest reach passt behind their lengths. */
static void test_guest_to_peer(void)
{
    static const uint32_t lens[] = {42, 1514, STREAM_MAX_FRAME, 60};
    g_autofree uint8_t *frame = g_malloc(STREAM_MAX_FRAME);
    g_autofree uint8_t *got = g_malloc(STREAM_MAX_FRAME);
    struct fixture f;

    fixture_open(&f, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        make_frame(frame, lens[i], (uint8_t)(i + 100));
        write_all(f.be.fds[0], frame, lens[i]);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        uint32_t len;

        read_all(f.peer, (uint8_t *)&len, 4);
        g_assert_cmpuint(be32toh(len), ==, lens[i]);
        read_all(f.peer, got, lens[i]);
        make_frame(frame, lens[i], (uint8_t)(i + 100));
        g_assert_cmpmem(got, lens[i], frame, lens[i]);
    }
    fixture_close(&f);
}

/* Many frames each way at once: nothing is lost or reordered while both
 * sides are slow to read (backpressure, not drops). */
static void test_both_ways_backpressure(void)
{
    enum { N = 2000, LEN = 1514 };
    uint8_t frame[LEN], got[LEN + 1];
    g_autoptr(GByteArray) stream = g_byte_array_new();
    unsigned int sent = 0, recvd_guest = 0, recvd_peer = 0;
    size_t stream_at = 0, peer_have = 0;
    g_autofree uint8_t *peer_buf = g_malloc(4 + LEN);
    struct fixture f;

    fixture_open(&f, 0);
    g_assert_cmpint(fcntl(f.peer, F_SETFL, O_NONBLOCK), ==, 0);
    for (unsigned int i = 0; i < N; i++) {
        make_frame(frame, LEN, (uint8_t)i);
        put_prefixed(stream, frame, LEN);
    }
    while (recvd_guest < N || recvd_peer < N) {
        struct pollfd p[2] = {
            {.fd = f.peer, .events = POLLIN | (stream_at < stream->len ? POLLOUT : 0)},
            {.fd = f.be.fds[0], .events = POLLIN | (sent < N ? POLLOUT : 0)},
        };

        g_assert_cmpint(poll(p, 2, TIMEOUT_MS), >, 0);
        if (p[0].revents & POLLOUT) {
            ssize_t w = write(f.peer, stream->data + stream_at, stream->len - stream_at);

            if (w > 0)
                stream_at += (size_t)w;
        }
        if (p[1].revents & POLLOUT) {
            make_frame(frame, LEN, (uint8_t)(sent + 1));
            if (write(f.be.fds[0], frame, LEN) == LEN)
                sent++;
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = read(f.be.fds[0], got, sizeof(got));

            g_assert_cmpint(n, ==, LEN);
            make_frame(frame, LEN, (uint8_t)recvd_guest);
            g_assert_cmpmem(got, LEN, frame, LEN);
            recvd_guest++;
        }
        if (p[0].revents & POLLIN) {
            ssize_t n = read(f.peer, peer_buf + peer_have, 4 + LEN - peer_have);

            g_assert_cmpint(n, >, 0);
            peer_have += (size_t)n;
            if (peer_have == 4 + LEN) {
                uint32_t len;

                memcpy(&len, peer_buf, 4);
                g_assert_cmpuint(be32toh(len), ==, LEN);
                make_frame(frame, LEN, (uint8_t)(recvd_peer + 1));
                g_assert_cmpmem(peer_buf + 4, LEN, frame, LEN);
                recvd_peer++;
                peer_have = 0;
            }
        }
    }
    fixture_close(&f);
}

/* A length beyond any frame: the stream is out of step and given up; the
 * guest's frames are then dropped rather than left to fill the queue. */
static void test_hostile_length(void)
{
    g_autofree uint8_t *frame = g_malloc(1514);
    uint32_t bad = htobe32(STREAM_MAX_FRAME + 1);
    struct fixture f;
    uint8_t b;

    fixture_open(&f, 0);
    write_all(f.peer, (uint8_t *)&bad, 4);
    make_frame(frame, 1514, 1);
    /* Far more than the pair's buffers hold: the relay must keep draining. */
    for (int i = 0; i < 5000; i++)
        write_all(f.be.fds[0], frame, 1514);
    /* Nothing reached passt after the bad length; it sees its end closed
     * only when the backend goes. */
    g_assert_cmpint(fcntl(f.peer, F_SETFL, O_NONBLOCK), ==, 0);
    g_assert_cmpint(read(f.peer, &b, 1), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
    fixture_close(&f);
}

/* passt leaving: the guest's frames are drained and dropped, and the child
 * the backend was given is reaped when it goes. */
static void test_peer_exit_reaped(void)
{
    g_autofree char *err = NULL;
    uint8_t frame[100] = {0};
    struct net_backend be;
    int sv[2], status;
    pid_t pid;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        char c;

        close(sv[1]);
        /* Reads one frame's worth, then leaves like a crashed passt. */
        while (read(sv[0], &c, 1) == 1 && c == 0)
            ;
        _exit(3);
    }
    close(sv[0]);
    g_assert_cmpint(stream_backend_open(sv[1], pid, "test", &be, &err), ==, 0);
    frame[20] = 1; /* the child stops at the first non-zero byte */
    for (int i = 0; i < 3000; i++)
        write_all(be.fds[0], frame, sizeof(frame));
    be.ops->free(be.opaque);
    g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, -1);
    g_assert_cmpint(errno, ==, ECHILD);
}

static void test_not_a_stream(void)
{
    g_autofree char *err = NULL;
    struct net_backend be;
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_assert_cmpint(stream_backend_open(sv[0], 0, "test", &be, &err), ==, -ENOTSOCK);
    g_assert_nonnull(strstr(err, "not a stream socket"));
    g_assert_cmpint(fcntl(sv[0], F_GETFD), ==, -1); /* taken over: closed */
    close(sv[1]);
}

static void test_connect_unix_errors(void)
{
    g_autofree char *err = NULL, *err2 = NULL;
    g_autofree char *longpath = g_strnfill(200, 'x');

    g_assert_cmpint(stream_connect_unix("/nonexistent/passt.socket", &err), ==, -ENOENT);
    g_assert_nonnull(strstr(err, "/nonexistent/passt.socket"));
    g_assert_cmpint(stream_connect_unix(longpath, &err2), ==, -ENAMETOOLONG);
}

/* The real passt, when installed: it starts on our socket and ends when the
 * backend closes it. */
static void test_passt_start(void)
{
    g_autofree char *path = g_find_program_in_path("passt");
    g_autofree char *err = NULL;
    struct net_backend be;
    pid_t pid = 0;
    int fd;

    if (!path) {
        g_test_skip("passt is not installed");
        return;
    }
    fd = passt_start(1500, &pid, &err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pid, >, 0);
    g_assert_cmpint(stream_backend_open(fd, pid, "passt", &be, &err), ==, 0);
    be.ops->free(be.opaque);
    g_assert_cmpint(kill(pid, 0), ==, -1); /* ended and reaped */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/net-stream/peer-to-guest", test_peer_to_guest);
    g_test_add_func("/net-stream/guest-to-peer", test_guest_to_peer);
    g_test_add_func("/net-stream/both-ways-backpressure", test_both_ways_backpressure);
    g_test_add_func("/net-stream/hostile-length", test_hostile_length);
    g_test_add_func("/net-stream/peer-exit-reaped", test_peer_exit_reaped);
    g_test_add_func("/net-stream/not-a-stream", test_not_a_stream);
    g_test_add_func("/net-stream/connect-unix-errors", test_connect_unix_errors);
    g_test_add_func("/net-stream/passt-start", test_passt_start);
    return g_test_run();
}
