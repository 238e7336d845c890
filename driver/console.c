/* virsh console: a stream (procedure 201) between a client and the pty of
 * a running domain's serial port or virtio console. Output read from the
 * pty goes out as STREAM/CONTINUE packets; the client's STREAM packets are
 * keyboard input (CONTINUE), finish (OK) or abort (ERROR). One stream per
 * domain; --force takes it over. The stream ends (an empty CONTINUE, end of
 * file) when the VMM goes away. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "driver.h"
#include "error.h"
#include "process.h"
#include "rpc/message.h"
#include "rpc/server.h"

#define PROC_DOMAIN_OPEN_CONSOLE 201
/* Stop reading the pty while this many packets wait for the client. */
#define BACKLOG_MAX      64
#define BACKLOG_RETRY_MS 20

struct vireo_console {
    struct vireo_conn *conn;
    unsigned int serial;      /* of the OPEN_CONSOLE call */
    struct vireo_domain *dom; /* NULL once the stream is over on our side */
    int fd;                   /* the pty, or -1 */
    guint watch, retry;
};

static void send_packet(struct vireo_console *con, int status, const void *data, size_t len)
{
    wire_header hdr = {
        .prog = RPC_PROGRAM,
        .vers = RPC_PROGRAM_VERSION,
        .proc = PROC_DOMAIN_OPEN_CONSOLE,
        .type = WIRE_STREAM,
        .serial = con->serial,
        .status = status,
    };

    rpc_client_send(con->conn->client, rpc_stream_encode(&hdr, data, len));
}

static void send_error(struct vireo_console *con, int code, const char *message)
{
    wire_header hdr = {
        .prog = RPC_PROGRAM,
        .vers = RPC_PROGRAM_VERSION,
        .proc = PROC_DOMAIN_OPEN_CONSOLE,
        .type = WIRE_STREAM,
        .serial = con->serial,
    };

    rpc_client_send(con->conn->client,
                    rpc_error_encode(&hdr, WIRE_STREAM, code, VIR_FROM_STREAMS, message));
}

/* Stops reading and writing the pty and lets go of the domain; the record
 * stays until the client finishes or aborts the stream. */
static void console_detach(struct vireo_console *con)
{
    if (con->watch)
        g_source_remove(con->watch);
    if (con->retry)
        g_source_remove(con->retry);
    con->watch = con->retry = 0;
    if (con->fd >= 0)
        close(con->fd);
    con->fd = -1;
    if (con->dom && con->dom->vm && con->dom->vm->console == con)
        con->dom->vm->console = NULL;
    con->dom = NULL;
}

static void console_free(struct vireo_console *con)
{
    console_detach(con);
    con->conn->streams = g_list_remove(con->conn->streams, con);
    g_free(con);
}

static gboolean console_readable(int fd, GIOCondition cond, gpointer opaque);

static gboolean console_retry(gpointer opaque)
{
    struct vireo_console *con = opaque;

    con->retry = 0;
    if (con->fd >= 0 && !con->watch)
        con->watch = g_unix_fd_add(con->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, console_readable, con);
    return G_SOURCE_REMOVE;
}

static gboolean console_readable(int fd, GIOCondition cond, gpointer opaque)
{
    struct vireo_console *con = opaque;
    char buf[16384];
    ssize_t n;

    if (rpc_client_queue_length(con->conn->client) >= BACKLOG_MAX) {
        /* The client is slow: let the pty (and the guest) wait. */
        con->watch = 0;
        con->retry = g_timeout_add(BACKLOG_RETRY_MS, console_retry, con);
        return G_SOURCE_REMOVE;
    }
    n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n > 0) {
        send_packet(con, WIRE_CONTINUE, buf, n);
        return G_SOURCE_CONTINUE;
    }
    /* EIO or end of file: the VMM closed its side of the pty. */
    con->watch = 0;
    console_detach(con);
    send_packet(con, WIRE_CONTINUE, NULL, 0);
    return G_SOURCE_REMOVE;
}

static struct vireo_chardev_def *find_chardev(const struct vireo_domain_def *live, const char *name)
{
    if (!name) {
        if (live->serials->len)
            return live->serials->pdata[0];
        return live->consoles->len ? live->consoles->pdata[0] : NULL;
    }
    for (guint i = 0; i < live->serials->len; i++) {
        struct vireo_chardev_def *c = live->serials->pdata[i];
        if (!g_strcmp0(c->alias, name))
            return c;
    }
    for (guint i = 0; i < live->consoles->len; i++) {
        struct vireo_chardev_def *c = live->consoles->pdata[i];
        if (!g_strcmp0(c->alias, name))
            return c;
    }
    return NULL;
}

static int open_pty(const char *path, GError **error)
{
    struct termios tio;
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: cannot open the console pty '%s': %s"), path,
                    g_strerror(saved));
        return -1;
    }
    /* Bytes pass through untouched: no echo, no line editing on our side. */
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(fd, TCSANOW, &tio);
    }
    return fd;
}

VIREO_ENTRY(vireo_domain_open_console)
{
    struct vireo_driver *drv = opaque;
    wire_domain_open_console_args *a = args;
    const wire_header *call = rpc_client_current_call(client);
    const char *name = a->dev_name ? *a->dev_name : NULL;
    struct vireo_chardev_def *chr;
    struct vireo_console *con, *old;
    struct vireo_domain *dom;
    int fd;

    if (!vireo_check_flags(a->flags, VIR_DOMAIN_CONSOLE_FORCE | VIR_DOMAIN_CONSOLE_SAFE,
                           "virDomainOpenConsole", error))
        return -1;
    if (!(dom = vireo_lookup(drv, &a->dom, error)))
        return -1;
    if (!dom->vm || !dom->live) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is not running"));
        return -1;
    }
    if (!(chr = find_chardev(dom->live, name))) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: cannot find character device %s"),
                    name ? name : _("(the domain has no serial port or console)"));
        return -1;
    }
    if (chr->kind != VIREO_CHARDEV_PTY || !chr->path) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                    _("Operation not supported: character device %s is not using a PTY"),
                    chr->alias ? chr->alias : "");
        return -1;
    }
    old = dom->vm->console;
    if (old && !(a->flags & VIR_DOMAIN_CONSOLE_FORCE)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: Active console session exists for this domain"));
        return -1;
    }
    if ((fd = open_pty(chr->path, error)) < 0)
        return -1;
    if (old) {
        console_detach(old);
        send_error(old, VIR_ERR_OPERATION_ABORTED,
                   _("operation aborted: the console was taken over by another session"));
    }
    con = g_new0(struct vireo_console, 1);
    con->conn = vireo_conn_of(drv, client);
    con->serial = call ? call->serial : 0;
    con->dom = dom;
    con->fd = fd;
    /* Watched from the next main loop turn: the reply goes out first. */
    con->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, console_readable, con);
    con->conn->streams = g_list_prepend(con->conn->streams, con);
    dom->vm->console = con;
    return 0;
}

static struct vireo_console *find_stream(struct vireo_conn *conn, unsigned int serial)
{
    for (GList *l = conn->streams; l; l = l->next) {
        struct vireo_console *con = l->data;
        if (con->serial == serial)
            return con;
    }
    return NULL;
}

/* Keyboard input: written to the pty, waiting briefly if it is full. */
static void console_write(struct vireo_console *con, const uint8_t *data, size_t len)
{
    size_t off = 0;
    int tries = 0;

    while (off < len && con->fd >= 0) {
        ssize_t n = write(con->fd, data + off, len - off);

        if (n > 0) {
            off += n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR) && tries++ < 100) {
            g_usleep(1000);
            continue;
        }
        g_debug("console: dropping %zu bytes of input", len - off);
        return;
    }
}

void vireo_console_stream_packet(void *opaque, struct rpc_client *client, const wire_header *hdr,
                                 const uint8_t *payload, size_t len)
{
    struct vireo_conn *conn = vireo_conn_of(opaque, client);
    struct vireo_console *con = find_stream(conn, hdr->serial);

    if (hdr->proc != PROC_DOMAIN_OPEN_CONSOLE)
        return;
    if (hdr->status == WIRE_CONTINUE) {
        if (con)
            console_write(con, payload, len);
        return; /* stray data after the stream ended is dropped */
    }
    /* Finish (OK) or abort (ERROR): confirm, and forget the stream. */
    if (!con) {
        struct vireo_console tmp = {.conn = conn, .serial = hdr->serial, .fd = -1};
        send_packet(&tmp, WIRE_OK, NULL, 0);
        return;
    }
    send_packet(con, WIRE_OK, NULL, 0);
    console_free(con);
}

void vireo_console_conn_closed(struct vireo_conn *conn)
{
    while (conn->streams) {
        struct vireo_console *con = conn->streams->data;
        console_free(con);
    }
}

void vireo_console_domain_stopped(struct vireo_domain *dom)
{
    struct vireo_console *con = dom->vm ? dom->vm->console : NULL;

    if (!con)
        return;
    console_detach(con);
    send_packet(con, WIRE_CONTINUE, NULL, 0); /* end of file */
}
