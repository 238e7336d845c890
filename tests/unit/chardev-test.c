/* Tests for vmm/chardev/chardev.c: spec parsing, file output, pty and
 * socket round trips through the input thread, input held back while the
 * consumer is full, and output dropped (not blocking) when the peer stalls. */
#include "chardev/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* Collects input; takes at most `room` bytes per call when room > 0. */
struct sink {
    pthread_mutex_t lock;
    GString *got;
    size_t room;
    unsigned int calls;
};

static size_t sink_cb(void *opaque, const uint8_t *buf, size_t len)
{
    struct sink *s = opaque;
    size_t take = len;

    pthread_mutex_lock(&s->lock);
    s->calls++;
    if (s->room && take > s->room)
        take = s->room;
    g_string_append_len(s->got, (const char *)buf, take);
    pthread_mutex_unlock(&s->lock);
    return take;
}

static bool sink_wait(struct sink *s, size_t len)
{
    for (int i = 0; i < 2000; i++) {
        bool done;
        pthread_mutex_lock(&s->lock);
        done = s->got->len >= len;
        pthread_mutex_unlock(&s->lock);
        if (done)
            return true;
        g_usleep(1000);
    }
    return false;
}

/* The sink's contents so far, read under its lock. */
static char *sink_text(struct sink *s, unsigned int *calls)
{
    char *text;

    pthread_mutex_lock(&s->lock);
    text = g_strdup(s->got->str);
    if (calls)
        *calls = s->calls;
    pthread_mutex_unlock(&s->lock);
    return text;
}

static ssize_t read_timeout(int fd, void *buf, size_t len)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    if (poll(&pfd, 1, 2000) <= 0)
        return -ETIMEDOUT;
    return read(fd, buf, len);
}

static void test_parse(void)
{
    const char *bad[] = {"", "file=", "socket=", "bogus", "file", "pty=1", "tty2", "Off"};
    struct chardev *c;
    char *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_null(chardev_new(bad[i], &err));
        g_assert_nonnull(err);
        g_free(err);
        err = NULL;
    }
    g_assert_null(chardev_new(NULL, &err));
    g_free(err);
    g_assert_null(chardev_new("file=/nonexistent-dir/x", &err));
    g_assert_nonnull(strstr(err, "/nonexistent-dir/x"));
    g_free(err);

    c = chardev_new("off", &err);
    g_assert_cmpint(chardev_kind(c), ==, CHARDEV_OFF);
    g_assert_cmpint(chardev_write(c, "x", 1), ==, 0);
    g_assert_cmpint(chardev_input_fd(c), ==, -1);
    g_assert_cmpint(chardev_start_input(c, sink_cb, NULL), ==, -ENOTSUP);
    chardev_free(c);
    c = chardev_new("null", &err);
    g_assert_cmpint(chardev_kind(c), ==, CHARDEV_NULL);
    g_assert_null(chardev_path(c));
    g_assert_cmpint(chardev_write(c, "x", 1), ==, 0);
    g_assert_cmpint(chardev_read(c, (char[4]){0}, 4), ==, 0);
    g_assert_cmpuint(chardev_dropped(c), ==, 0);
    chardev_free(c);
    chardev_free(NULL);
}

static void test_file_truncates(void)
{
    g_autofree char *dir = g_dir_make_tmp("chardev-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "log", NULL);
    g_autofree char *spec = g_strdup_printf("file=%s", path);
    g_autofree char *contents = NULL;
    char *err = NULL;
    struct chardev *c;

    g_assert_true(g_file_set_contents(path, "old contents, longer", -1, NULL));
    c = chardev_new(spec, &err);
    g_assert_nonnull(c);
    g_assert_cmpint(chardev_kind(c), ==, CHARDEV_FILE);
    g_assert_cmpstr(chardev_path(c), ==, path);
    g_assert_cmpint(chardev_write(c, "new", 3), ==, 0);
    g_assert_cmpint(chardev_write(c, "", 0), ==, 0);
    g_assert_cmpint(chardev_write(c, "!", 1), ==, 0);
    g_assert_cmpint(chardev_start_input(c, sink_cb, NULL), ==, -ENOTSUP);
    chardev_free(c);
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "new!");
    g_unlink(path);
    g_rmdir(dir);
}

static int open_pty_peer(const char *path)
{
    struct termios raw;
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    tcgetattr(fd, &raw);
    cfmakeraw(&raw);
    tcsetattr(fd, TCSANOW, &raw);
    return fd;
}

static void test_pty_round_trip(void)
{
    struct sink s = {.lock = PTHREAD_MUTEX_INITIALIZER, .got = g_string_new(NULL)};
    char *err = NULL;
    struct chardev *c = chardev_new("pty", &err);
    g_autofree char *text = NULL;
    char buf[64];
    int peer;

    g_assert_nonnull(c);
    g_assert_cmpint(chardev_kind(c), ==, CHARDEV_PTY);
    g_assert_true(g_str_has_prefix(chardev_path(c), "/dev/pts/"));
    g_assert_cmpint(chardev_input_fd(c), >=, 0);
    peer = open_pty_peer(chardev_path(c));

    g_assert_cmpint(chardev_write(c, "to peer\n", 8), ==, 0);
    g_assert_cmpint(read_timeout(peer, buf, sizeof(buf)), ==, 8);
    g_assert_cmpmem(buf, 8, "to peer\n", 8); /* raw: no \r added */

    g_assert_cmpint(chardev_read(c, buf, sizeof(buf)), ==, -EAGAIN);
    g_assert_cmpint(chardev_start_input(c, sink_cb, &s), ==, 0);
    g_assert_cmpint(chardev_start_input(c, sink_cb, &s), ==, -EBUSY);
    g_assert_cmpint(write(peer, "from peer", 9), ==, 9);
    g_assert_true(sink_wait(&s, 9));
    text = sink_text(&s, NULL);
    g_assert_cmpstr(text, ==, "from peer");
    chardev_stop_input(c);
    chardev_stop_input(c); /* twice is fine */

    /* Without the thread, the event-loop style read works too. */
    g_assert_cmpint(write(peer, "polled", 6), ==, 6);
    g_usleep(20000);
    g_assert_cmpint(chardev_read(c, buf, sizeof(buf)), ==, 6);
    close(peer);
    chardev_free(c);
    g_string_free(s.got, TRUE);
}

static void test_input_held_back(void)
{
    struct sink s = {.lock = PTHREAD_MUTEX_INITIALIZER, .got = g_string_new(NULL), .room = 3};
    g_autofree char *text = NULL;
    unsigned int calls;
    char *err = NULL;
    struct chardev *c = chardev_new("pty", &err);
    int peer = open_pty_peer(chardev_path(c));

    g_assert_cmpint(chardev_start_input(c, sink_cb, &s), ==, 0);
    g_assert_cmpint(write(peer, "abcdefghij", 10), ==, 10);
    /* The consumer takes three at a time; the rest is offered again. */
    g_assert_true(sink_wait(&s, 3));
    chardev_input_ready(c);
    g_assert_true(sink_wait(&s, 10));
    text = sink_text(&s, &calls);
    g_assert_cmpstr(text, ==, "abcdefghij");
    g_assert_cmpuint(calls, >=, 4);
    close(peer);
    chardev_free(c); /* joins the thread */
    g_string_free(s.got, TRUE);
}

static void test_stalled_peer_drops(void)
{
    char *err = NULL;
    struct chardev *c = chardev_new("pty", &err);
    g_autofree char *big = g_malloc0(1 << 20);
    gint64 start = g_get_monotonic_time();
    int ret = 0;

    /* Nobody reads the pty: the buffer fills, then output is dropped. */
    for (int i = 0; i < 16 && ret == 0; i++)
        ret = chardev_write(c, big, 1 << 20);
    g_assert_cmpint(ret, ==, -EAGAIN);
    g_assert_cmpuint(chardev_dropped(c), >, 0);
    /* Once stalled, further writes return at once. */
    start = g_get_monotonic_time();
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(chardev_write(c, "x", 1), ==, -EAGAIN);
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
    chardev_free(c);
}

static int connect_to(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    strcpy(addr.sun_path, path);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return fd;
}

static void test_socket(void)
{
    g_autofree char *dir = g_dir_make_tmp("chardev-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "console.sock", NULL);
    g_autofree char *spec = g_strdup_printf("socket=%s", path);
    struct sink s = {.lock = PTHREAD_MUTEX_INITIALIZER, .got = g_string_new(NULL)};
    char *err = NULL;
    struct chardev *c = chardev_new(spec, &err);
    g_autofree char *text = NULL;
    char buf[64];
    int first, second;

    g_assert_nonnull(c);
    g_assert_cmpint(chardev_kind(c), ==, CHARDEV_SOCKET);
    g_assert_cmpstr(chardev_path(c), ==, path);
    g_assert_cmpint(chardev_input_fd(c), ==, -1);
    /* No client yet: output is dropped and counted. */
    g_assert_cmpint(chardev_write(c, "lost", 4), ==, -EAGAIN);
    g_assert_cmpuint(chardev_dropped(c), ==, 4);
    g_assert_cmpint(chardev_start_input(c, sink_cb, &s), ==, 0);

    first = connect_to(path);
    g_assert_cmpint(write(first, "hello", 5), ==, 5);
    g_assert_true(sink_wait(&s, 5));
    g_assert_cmpint(chardev_write(c, "world", 5), ==, 0);
    g_assert_cmpint(read_timeout(first, buf, sizeof(buf)), ==, 5);
    g_assert_cmpmem(buf, 5, "world", 5);

    /* One client at a time: a second one is turned away. */
    second = connect_to(path);
    g_assert_cmpint(read_timeout(second, buf, sizeof(buf)), ==, 0);
    close(second);

    /* After the first leaves, the next one is served. */
    close(first);
    second = -1;
    for (int i = 0; i < 200 && second < 0; i++) {
        int fd = connect_to(path);
        char b;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        /* A turned-away client sees EOF at once; a served one sees nothing. */
        if (poll(&pfd, 1, 20) == 0 || recv(fd, &b, 1, MSG_DONTWAIT) < 0)
            second = fd;
        else
            close(fd);
    }
    g_assert_cmpint(second, >=, 0);
    g_assert_cmpint(write(second, "again", 5), ==, 5);
    g_assert_true(sink_wait(&s, 10));
    text = sink_text(&s, NULL);
    g_assert_cmpstr(text, ==, "helloagain");
    g_assert_cmpint(chardev_write(c, "ok", 2), ==, 0);
    g_assert_cmpint(read_timeout(second, buf, sizeof(buf)), ==, 2);
    close(second);
    chardev_free(c);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* removed on free */

    /* A stale socket is replaced; a regular file in the way is refused. */
    c = chardev_new(spec, &err);
    g_assert_nonnull(c);
    chardev_free(c);
    g_assert_true(g_file_set_contents(path, "", 0, NULL));
    g_assert_null(chardev_new(spec, &err));
    g_assert_nonnull(err);
    g_free(err);
    g_unlink(path);
    g_rmdir(dir);
    g_string_free(s.got, TRUE);
}

static void test_tty_without_terminal(void)
{
    char *err = NULL;
    struct chardev *c;

    if (isatty(STDIN_FILENO)) {
        g_test_skip("stdin is a terminal; not switching it to raw mode in a test");
        return;
    }
    c = chardev_new("tty", &err);
    g_assert_nonnull(c);
    g_assert_cmpint(chardev_kind(c), ==, CHARDEV_TTY);
    g_assert_cmpint(chardev_input_fd(c), ==, STDIN_FILENO);
    /* Output is our stdout: a TAP comment keeps the test output valid. */
    g_assert_cmpint(chardev_write(c, "# tty chardev output\n", 21), ==, 0);
    chardev_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/chardev/parse", test_parse);
    g_test_add_func("/chardev/file-truncates", test_file_truncates);
    g_test_add_func("/chardev/pty-round-trip", test_pty_round_trip);
    g_test_add_func("/chardev/input-held-back", test_input_held_back);
    g_test_add_func("/chardev/stalled-peer-drops", test_stalled_peer_drops);
    g_test_add_func("/chardev/socket", test_socket);
    g_test_add_func("/chardev/tty-without-terminal", test_tty_without_terminal);
    return g_test_run();
}
