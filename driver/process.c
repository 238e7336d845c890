/* Launch, watch and tear down vireo-vmm processes, and keep their status
 * files so that a restarted daemon finds them again. */
#include <config.h>

#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <grp.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "network.h"
#include "vmconfig.h"

/* How long SIGTERM gets before SIGKILL, and a graceful destroy in all. */
#define TERM_WAIT_MS     5000
#define GRACEFUL_WAIT_MS 10000
/* A VMM still there this long after its VM stopped is stopped. */
#define SHUTDOWN_GRACE_MS 200

#define STATUS_GROUP "vmm"

static int pidfd_open_pid(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

unsigned long long vireo_process_start_time(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    g_auto(GStrv) fields = NULL;
    const char *p;

    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return 0;
    /* The command name may hold spaces and parentheses: fields start after
     * the last ')'. Field 3 (state) is fields[0], so field 22 is fields[19]. */
    if (!(p = strrchr(stat, ')')))
        return 0;
    fields = g_strsplit(p + 2, " ", 0);
    if (g_strv_length(fields) < 20)
        return 0;
    return g_ascii_strtoull(fields[19], NULL, 10);
}

unsigned long long vireo_process_cpu_time(const struct vireo_domain *dom)
{
    g_autofree char *path = NULL;
    g_autofree char *stat = NULL;
    g_auto(GStrv) fields = NULL;
    const char *p;
    long hz = sysconf(_SC_CLK_TCK);

    if (!dom->vm)
        return 0;
    path = g_strdup_printf("/proc/%d/stat", (int)dom->vm->pid);
    if (!g_file_get_contents(path, &stat, NULL, NULL) || !(p = strrchr(stat, ')')))
        return 0;
    fields = g_strsplit(p + 2, " ", 0);
    if (g_strv_length(fields) < 20 || hz <= 0)
        return 0;
    /* utime and stime: fields 14 and 15. */
    return (g_ascii_strtoull(fields[11], NULL, 10) + g_ascii_strtoull(fields[12], NULL, 10)) *
           (1000000000ull / hz);
}

/* ---- files ---- */

static char *run_file(struct vireo_driver *drv, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);

    return g_build_filename(drv->run_dir, file, NULL);
}

void vireo_process_save_status(struct vireo_driver *drv, struct vireo_domain *dom)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *data = NULL;
    gsize len;
    struct vireo_vm *vm = dom->vm;

    if (!vm || !dom->live)
        return;
    xml = vireo_domain_def_format(dom->live, VIREO_DOMAIN_DEF_FORMAT_SECURE);
    g_key_file_set_integer(kf, STATUS_GROUP, "pid", vm->pid);
    g_key_file_set_uint64(kf, STATUS_GROUP, "start_time", vm->start_time);
    g_key_file_set_string(kf, STATUS_GROUP, "api_socket", vm->api_socket);
    g_key_file_set_string(kf, STATUS_GROUP, "event_fifo", vm->event_fifo);
    g_key_file_set_string(kf, STATUS_GROUP, "log", vm->log_path);
    g_key_file_set_integer(kf, STATUS_GROUP, "state", dom->state);
    g_key_file_set_integer(kf, STATUS_GROUP, "reason", dom->reason);
    g_key_file_set_boolean(kf, STATUS_GROUP, "persistent", dom->persistent);
    g_key_file_set_string(kf, "domain", "xml", xml ? xml : "");
    data = g_key_file_to_data(kf, &len, NULL);
    /* Private: the live XML may hold secrets. */
    if (!g_file_set_contents_full(vm->status_path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  &error))
        g_warning(_("cannot write the status of domain '%s': %s"), dom->def->name, error->message);
}

/* The last few lines the VMM wrote to its log since `offset`. */
static char *log_tail(const char *path, off_t offset)
{
    g_autofree char *text = NULL;
    gsize len;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    guint n, first;

    if (!path || !g_file_get_contents(path, &text, &len, NULL) || (gsize)offset >= len)
        return NULL;
    lines = g_strsplit(g_strstrip(text + offset), "\n", 0);
    n = g_strv_length(lines);
    first = n > 3 ? n - 3 : 0;
    for (guint i = first; i < n; i++) {
        if (!*g_strstrip(lines[i]))
            continue;
        if (out->len)
            g_string_append(out, "; ");
        g_string_append(out, lines[i]);
    }
    return out->len ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

/* ---- teardown ---- */

static void vm_free(struct vireo_vm *vm)
{
    if (!vm)
        return;
    if (vm->pid_watch)
        g_source_remove(vm->pid_watch);
    if (vm->action_timer)
        g_source_remove(vm->action_timer);
    g_free(vm->watch_ctx);
    if (vm->pidfd >= 0)
        close(vm->pidfd);
    vireo_event_reader_free(vm->events);
    g_free(vm->api_socket);
    g_free(vm->event_fifo);
    g_free(vm->status_path);
    g_free(vm->log_path);
    g_free(vm);
}

/* Removes what a VMM leaves in the run dir. */
static void remove_files(const struct vireo_vm *vm)
{
    if (vm->status_path)
        unlink(vm->status_path);
    if (vm->api_socket)
        unlink(vm->api_socket);
    if (vm->event_fifo)
        unlink(vm->event_fifo);
}

/* Waits for the process behind pidfd to end; true if it did. Reaps our
 * child and gives its wait status. */
static bool wait_exit(struct vireo_vm *vm, int timeout_ms, int *wstatus)
{
    gint64 deadline = g_get_monotonic_time() / 1000 + timeout_ms;

    for (;;) {
        struct pollfd p = {.fd = vm->pidfd, .events = POLLIN};
        gint64 left = deadline - g_get_monotonic_time() / 1000;
        int n;

        if (vm->pidfd < 0)
            return kill(vm->pid, 0) < 0 && errno == ESRCH;
        n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            break;
        if (left <= 0)
            return false;
    }
    if (vm->is_child) {
        while (waitpid(vm->pid, wstatus, 0) < 0 && errno == EINTR)
            ;
        vm->is_child = false;
    }
    return true;
}

/* True once the process has ended, waiting up to timeout_ms (without
 * reaping it). */
static bool process_exited(const struct vireo_vm *vm, int timeout_ms)
{
    struct pollfd p = {.fd = vm->pidfd, .events = POLLIN};

    if (vm->pidfd < 0)
        return kill(vm->pid, 0) < 0;
    return poll(&p, 1, timeout_ms) > 0;
}

/* The VMM is gone (or about to be): forget it and mark the domain shut
 * off. Sends the STOPPED event; a transient domain is removed unless it is
 * restarted (then true is returned and dom stays valid). */
static void domain_stopped(struct vireo_driver *drv, struct vireo_domain *dom, int reason,
                           int detail, bool restart)
{
    struct vireo_vm *vm = dom->vm;

    vireo_console_domain_stopped(dom);
    if (vm) {
        remove_files(vm);
        vm_free(vm);
        dom->vm = NULL;
    }
    g_clear_pointer(&dom->live, vireo_domain_def_free);
    dom->id = -1;
    dom->state = VIR_DOMAIN_SHUTOFF;
    dom->reason = reason;
    vireo_event_lifecycle(drv, dom, VIR_DOMAIN_EVENT_STOPPED, detail);
    if (restart) {
        g_autoptr(GError) error = NULL;

        g_info("domain '%s': restarting it as its definition asks", dom->def->name);
        if (vireo_process_start(drv, dom, NULL, 0, &error) == 0)
            return;
        g_warning(_("cannot restart domain '%s': %s"), dom->def->name, error->message);
    }
    if (!dom->persistent)
        vireo_domain_list_remove(drv->domains, dom);
}

int vireo_process_stop(struct vireo_driver *drv, struct vireo_domain *dom, int reason, int detail,
                       bool graceful, GError **error)
{
    struct vireo_vm *vm = dom->vm;
    int wstatus = 0;

    if (!vm) {
        domain_stopped(drv, dom, reason, detail, false);
        return 0;
    }
    vm->stopping = true;
    if (kill(vm->pid, SIGTERM) < 0 && errno != ESRCH) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("failed to kill process %d: %s"), (int)vm->pid, g_strerror(saved));
        vm->stopping = false;
        return -1;
    }
    if (!wait_exit(vm, graceful ? GRACEFUL_WAIT_MS : TERM_WAIT_MS, &wstatus)) {
        if (graceful) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                        _("operation failed: failed to terminate process %d with SIGTERM"),
                        (int)vm->pid);
            vm->stopping = false;
            return -1;
        }
        kill(vm->pid, SIGKILL);
        if (!wait_exit(vm, TERM_WAIT_MS, &wstatus))
            g_warning(_("process %d of domain '%s' survived SIGKILL"), (int)vm->pid,
                      dom->def->name);
    }
    domain_stopped(drv, dom, reason, detail, false);
    return 0;
}

int vireo_process_api(struct vireo_domain *dom, const char *method, const char *endpoint,
                      const char *body, char **response, GError **error)
{
    if (!dom->vm) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is not running"));
        return -1;
    }
    return vireo_monitor_call(dom->vm->api_socket, dom->vm->pidfd, method, endpoint, body, response,
                              error);
}

void vireo_process_set_state(struct vireo_driver *drv, struct vireo_domain *dom, int state,
                             int reason, int event, int detail)
{
    dom->state = state;
    dom->reason = reason;
    vireo_process_save_status(drv, dom);
    vireo_event_lifecycle(drv, dom, event, detail);
}

/* ---- the guest or the VMM ending on its own ---- */

struct watch_ctx {
    struct vireo_driver *drv;
    uint8_t uuid[16];
};

static struct vireo_domain *watched_domain(struct watch_ctx *ctx)
{
    struct vireo_domain *dom = vireo_domain_list_find_uuid(ctx->drv->domains, ctx->uuid);

    return dom && dom->vm ? dom : NULL;
}

enum ending {
    GUEST_POWEROFF, /* shutoff (shutdown), STOPPED_SHUTDOWN, on_poweroff */
    GUEST_CRASH,    /* shutoff (crashed), STOPPED_CRASHED, on_crash */
    VMM_FAILED,     /* shutoff (crashed), STOPPED_FAILED, on_crash: as libvirt's
                       qemu driver reports an emulator that died unexplained */
};

/* The guest powered off, rebooted into a destroy action, or crashed, or
 * the VMM died. */
static void apply_action(struct vireo_driver *drv, struct vireo_domain *dom, enum ending how)
{
    bool crashed = how != GUEST_POWEROFF;
    enum vireo_lifecycle_action action = crashed ? dom->def->on_crash : dom->def->on_poweroff;
    int reason = crashed ? VIR_DOMAIN_SHUTOFF_CRASHED : VIR_DOMAIN_SHUTOFF_SHUTDOWN;
    int detail = how == GUEST_POWEROFF ? VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN
                 : how == GUEST_CRASH  ? VIR_DOMAIN_EVENT_STOPPED_CRASHED
                                       : VIR_DOMAIN_EVENT_STOPPED_FAILED;
    struct vireo_vm *vm = dom->vm;
    int wstatus;

    if (vm && kill(vm->pid, 0) == 0 && !(vm->pidfd >= 0 && wait_exit(vm, 0, &wstatus))) {
        vm->stopping = true;
        kill(vm->pid, SIGTERM);
        if (!wait_exit(vm, TERM_WAIT_MS, &wstatus)) {
            kill(vm->pid, SIGKILL);
            wait_exit(vm, TERM_WAIT_MS, &wstatus);
        }
    }
    g_info("domain '%s': %s, on_%s is %s", dom->def->name,
           crashed ? "crashed" : "guest powered off", crashed ? "crash" : "poweroff",
           action == VIREO_ACTION_RESTART ? "restart" : "destroy");
    domain_stopped(drv, dom, reason, detail, action == VIREO_ACTION_RESTART);
}

static gboolean on_vmm_exit(int fd, GIOCondition cond, gpointer opaque)
{
    struct watch_ctx *ctx = opaque;
    struct vireo_domain *dom = watched_domain(ctx);
    struct vireo_vm *vm;
    int wstatus = -1;
    bool clean;

    if (!dom)
        return G_SOURCE_REMOVE;
    vm = dom->vm;
    vm->pid_watch = 0; /* this source ends here */
    if (vm->stopping)
        return G_SOURCE_REMOVE;
    /* Events written just before the exit say why. */
    vireo_event_reader_drain(vm->events);
    if (vm->is_child) {
        while (waitpid(vm->pid, &wstatus, WNOHANG) < 0 && errno == EINTR)
            ;
        vm->is_child = false;
    }
    /* Exit status 0 is the guest powering off; without a status (not our
     * child) the event stream had to say so. */
    clean =
        !vm->action_crashed &&
        (vm->guest_shutdown || (wstatus >= 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0));
    if (wstatus >= 0 && !clean)
        g_warning(_("the VMM of domain '%s' (pid %d) ended: %s %d"), dom->def->name, (int)vm->pid,
                  WIFSIGNALED(wstatus) ? "signal" : "exit status",
                  WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
    else if (!clean)
        g_warning(_("the VMM of domain '%s' (pid %d) ended"), dom->def->name, (int)vm->pid);
    apply_action(ctx->drv, dom,
                 clean                ? GUEST_POWEROFF
                 : vm->action_crashed ? GUEST_CRASH
                                      : VMM_FAILED);
    return G_SOURCE_REMOVE;
}

static gboolean on_action_timer(gpointer opaque)
{
    struct watch_ctx *ctx = opaque;
    struct vireo_domain *dom = watched_domain(ctx);

    if (!dom)
        return G_SOURCE_REMOVE;
    dom->vm->action_timer = 0;
    if (!dom->vm->stopping)
        apply_action(ctx->drv, dom, dom->vm->action_crashed ? GUEST_CRASH : GUEST_POWEROFF);
    return G_SOURCE_REMOVE;
}

/* Events arrive inside the event reader, which the action frees: act from
 * the main loop instead. */
static void schedule_action(struct watch_ctx *ctx, struct vireo_vm *vm, bool crashed,
                            unsigned int delay_ms)
{
    vm->action_crashed = vm->action_crashed || crashed;
    if (!vm->action_timer)
        vm->action_timer = g_timeout_add(delay_ms, on_action_timer, ctx);
}

static void on_vmm_event(void *opaque, const struct vireo_vmm_event *ev)
{
    struct watch_ctx *ctx = opaque;
    struct vireo_domain *dom = watched_domain(ctx);
    struct vireo_vm *vm;

    if (!dom)
        return;
    vm = dom->vm;
    g_debug("domain '%s': VMM event %s %s", dom->def->name, ev->source, ev->event);
    if (vm->stopping)
        return;
    if (!strcmp(ev->source, "vm") && !strcmp(ev->event, "shutdown")) {
        /* The VM stopped: the guest powered off, or (reason "error") it
         * could not go on (a triple fault, a failed reboot). A VMM serving
         * the API stays up without a VM; one that exits first is seen by
         * the exit watch, which then knows why. */
        bool crashed = !g_strcmp0(ev->reason, "error");

        vm->guest_shutdown = !crashed;
        schedule_action(ctx, vm, crashed, SHUTDOWN_GRACE_MS);
    } else if (!strcmp(ev->source, "vm") && !strcmp(ev->event, "rebooting")) {
        vireo_event_reboot(ctx->drv, dom);
        if (dom->def->on_reboot == VIREO_ACTION_DESTROY) {
            vm->guest_shutdown = true;
            schedule_action(ctx, vm, false, 0);
        }
    } else if (!strcmp(ev->source, "guest") && !strcmp(ev->event, "panic")) {
        vireo_event_lifecycle(ctx->drv, dom, VIR_DOMAIN_EVENT_CRASHED,
                              VIR_DOMAIN_EVENT_CRASHED_PANICKED);
        if (dom->def->on_crash == VIREO_ACTION_PRESERVE) {
            dom->state = VIR_DOMAIN_CRASHED;
            dom->reason = VIR_DOMAIN_CRASHED_PANICKED;
            vireo_process_save_status(ctx->drv, dom);
        } else {
            schedule_action(ctx, vm, true, 0);
        }
    } else if (!strcmp(ev->source, "vm") && !strcmp(ev->event, "paused")) {
        if (dom->state != VIR_DOMAIN_PAUSED)
            vireo_process_set_state(ctx->drv, dom, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_UNKNOWN,
                                    VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else if (!strcmp(ev->source, "vm") && !strcmp(ev->event, "resumed")) {
        if (dom->state == VIR_DOMAIN_PAUSED)
            vireo_process_set_state(ctx->drv, dom, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED,
                                    VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
    }
}

/* Watches the process and its events; the context lives as long as the
 * sources (freed with the last of them). */
static void watch(struct vireo_driver *drv, struct vireo_domain *dom, int event_fd)
{
    struct watch_ctx *ctx = g_new0(struct watch_ctx, 1);
    struct vireo_vm *vm = dom->vm;

    ctx->drv = drv;
    memcpy(ctx->uuid, dom->def->uuid, 16);
    vm->watch_ctx = ctx; /* freed with vm, after its sources */
    vm->events = vireo_event_reader_new(event_fd, on_vmm_event, ctx);
    if (vm->pidfd >= 0)
        vm->pid_watch = g_unix_fd_add(vm->pidfd, G_IO_IN, on_vmm_exit, ctx);
}

/* ---- start ---- */

/* A path under the run dir that fits a unix socket address. */
static char *socket_path(struct vireo_driver *drv, const struct vireo_domain_def *def, int id)
{
    struct sockaddr_un addr;
    char *path = run_file(drv, def->name, ".sock");

    if (strlen(path) < sizeof(addr.sun_path))
        return path;
    g_free(path);
    g_autofree char *file = g_strdup_printf("domain-%d", id);
    return run_file(drv, file, ".sock");
}

static int listen_socket(const char *path, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: socket path '%s' is too long"), path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 16) < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot listen on the api socket '%s': %s"), path, g_strerror(saved));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int check_readable(const char *what, const char *path, GError **error)
{
    if (path && access(path, R_OK) < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: cannot read the %s '%s': %s"), what, path,
                    g_strerror(saved));
        return -1;
    }
    return 0;
}

/* Files the VMM opens itself: a missing one is named here, before launch. */
static int check_files(const struct vireo_domain_def *def, GError **error)
{
    if (check_readable(_("kernel"), def->kernel, error) < 0 ||
        check_readable(_("initrd"), def->initrd, error) < 0 ||
        check_readable(_("loader"), def->loader, error) < 0)
        return -1;
    for (guint i = 0; i < def->disks->len; i++) {
        const struct vireo_disk_def *d = def->disks->pdata[i];
        if (check_readable(_("disk"), d->source, error) < 0)
            return -1;
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Moves fd to 10 or above so that the child's dup2() to 0..4 cannot
 * clobber it. */
static int high_fd(int fd)
{
    int moved;

    if (fd < 0 || fd >= 10)
        return fd;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    close(fd);
    return moved;
}

/* Moves the tap fds above 10 and above every fd number the child gives
 * them, so that its dup2() calls never clobber one not yet moved. */
static int high_net_fds(GArray *fds, GError **error)
{
    int floor = MAX(10, VIREO_VMCONFIG_FIRST_NET_FD + (int)fds->len);

    for (guint i = 0; i < fds->len; i++) {
        int *fd = &g_array_index(fds, int, i);
        int moved;

        if (*fd >= floor)
            continue;
        if ((moved = fcntl(*fd, F_DUPFD_CLOEXEC, floor)) < 0) {
            int saved = errno;
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                        _("cannot move a tap fd: %s"), g_strerror(saved));
            return -1;
        }
        close(*fd);
        *fd = moved;
    }
    return 0;
}

struct launch {
    char **argv;
    int null_fd, log_fd, api_fd, event_fd;
    const int *net_fds; /* become VIREO_VMCONFIG_FIRST_NET_FD... in the VMM */
    unsigned int nr_net_fds;
    bool run_as;
    uid_t uid;
    gid_t gid;
};

/* In the child, between fork and exec: only async-signal-safe calls. */
static void G_GNUC_NORETURN child_exec(const struct launch *l)
{
    static const char exec_failed[] = "virtvireod: cannot execute the VMM\n";
    static const char setid_failed[] = "virtvireod: cannot switch to the configured user\n";

    if (dup2(l->null_fd, 0) < 0 || dup2(l->log_fd, 1) < 0 || dup2(l->log_fd, 2) < 0 ||
        dup2(l->api_fd, 3) < 0 || dup2(l->event_fd, 4) < 0)
        _exit(127);
    /* The sources sit above every target (high_net_fds()). */
    for (unsigned int i = 0; i < l->nr_net_fds; i++)
        if (dup2(l->net_fds[i], VIREO_VMCONFIG_FIRST_NET_FD + (int)i) < 0)
            _exit(127);
    syscall(SYS_close_range, VIREO_VMCONFIG_FIRST_NET_FD + l->nr_net_fds, ~0u, 0);
    setsid();
    if (l->run_as && (setgroups(1, &l->gid) < 0 || setgid(l->gid) < 0 || setuid(l->uid) < 0)) {
        if (write(2, setid_failed, sizeof(setid_failed) - 1) < 0)
            _exit(126);
        _exit(126);
    }
    execv(l->argv[0], l->argv);
    if (write(2, exec_failed, sizeof(exec_failed) - 1) < 0)
        _exit(127);
    _exit(127);
}

static void log_header(int fd, const struct vireo_driver *drv, const char *name)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    g_autofree char *line = g_strdup_printf(
        "%s: starting domain '%s': %s --api-socket fd=3 --event-monitor fd=4%s%s\n", stamp, name,
        drv->emulator, drv->run_as_set ? " as user " : "", drv->run_as_set ? drv->run_user : "");

    if (write(fd, line, strlen(line)) < 0)
        g_debug("cannot write to the log: %s", g_strerror(errno));
}

/* Adds the VMM's own words to a failure. */
static void explain_failure(GError **error, const char *log_path, off_t offset)
{
    g_autofree char *tail = log_tail(log_path, offset);

    if (!error || !*error)
        return;
    {
        GError *e = *error;
        char *msg =
            tail ? g_strdup_printf(_("%s; the VMM said: %s (see %s)"), e->message, tail, log_path)
                 : g_strdup_printf(_("%s (see %s)"), e->message, log_path);
        g_free(e->message);
        e->message = msg;
    }
}

int vireo_process_start(struct vireo_driver *drv, struct vireo_domain *dom,
                        const struct vireo_domain_def *run, unsigned int flags, GError **error)
{
    g_autoptr(vireo_domain_def) live = NULL;
    g_autofree char *config = NULL;
    g_autofree char *info = NULL;
    g_autoptr(GArray) net_fds = g_array_new(FALSE, FALSE, sizeof(int));
    struct vireo_vm *vm = NULL;
    struct launch l = {.null_fd = -1, .log_fd = -1, .api_fd = -1, .event_fd = -1};
    int reader_fd = -1;
    off_t log_offset = 0;
    int id;
    pid_t pid;

    if (dom->vm) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is already running"));
        return -1;
    }
    live = vireo_domain_def_copy(run ? run : dom->def);
    if (!(config = vireo_vmconfig_build(live, error)) || check_files(live, error) < 0)
        return -1;
    if (g_mkdir_with_parents(drv->run_dir, 0700) < 0 || g_mkdir_with_parents(drv->log_dir, 0700)) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot create the run or log directory: %s"), g_strerror(saved));
        return -1;
    }
    /* The taps: the VMM inherits their fds and owns them from then on. */
    if (vireo_network_prepare(drv, live, net_fds, error) < 0)
        return -1;
    if (high_net_fds(net_fds, error) < 0) {
        vireo_network_close_fds(net_fds);
        return -1;
    }
    l.net_fds = (const int *)(void *)net_fds->data;
    l.nr_net_fds = net_fds->len;
    id = drv->next_id++;

    vm = g_new0(struct vireo_vm, 1);
    vm->pidfd = -1;
    vm->api_socket = socket_path(drv, live, id);
    vm->event_fifo = run_file(drv, live->name, ".events");
    vm->status_path = run_file(drv, live->name, ".status");
    {
        g_autofree char *file = g_strconcat(live->name, ".log", NULL);
        vm->log_path = g_build_filename(drv->log_dir, file, NULL);
    }

    /* The api socket is listening before the VMM exists: no polling for it. */
    if ((l.api_fd = high_fd(listen_socket(vm->api_socket, error))) < 0)
        goto fail;
    unlink(vm->event_fifo);
    if (mkfifo(vm->event_fifo, 0600) < 0 ||
        (reader_fd = open(vm->event_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0 ||
        (l.event_fd = high_fd(open(vm->event_fifo, O_RDWR | O_CLOEXEC))) < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot create the event FIFO '%s': %s"), vm->event_fifo, g_strerror(saved));
        goto fail;
    }
    l.log_fd = high_fd(open(vm->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    l.null_fd = high_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
    if (l.log_fd < 0 || l.null_fd < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot open the log file '%s': %s"), vm->log_path, g_strerror(saved));
        goto fail;
    }
    log_header(l.log_fd, drv, live->name);
    log_offset = lseek(l.log_fd, 0, SEEK_END); /* what the VMM says comes after */
    if (drv->run_as_set) {
        l.run_as = true;
        l.uid = drv->run_uid;
        l.gid = drv->run_gid;
        if (fchown(l.log_fd, l.uid, l.gid) < 0)
            g_debug("cannot hand the log to the VMM's user: %s", g_strerror(errno));
    }
    {
        char *argv[] = {drv->emulator, "--api-socket", "fd=3", "--event-monitor", "fd=4", NULL};
        l.argv = argv;
        pid = fork();
        if (pid == 0)
            child_exec(&l);
    }
    if (pid < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot fork: %s"),
                    g_strerror(saved));
        goto fail;
    }
    vm->pid = pid;
    vm->is_child = true;
    vm->start_time = vireo_process_start_time(pid);
    vm->pidfd = pidfd_open_pid(pid);
    if (vm->pidfd < 0)
        g_warning("pidfd_open(%d): %s", (int)pid, g_strerror(errno));
    /* Only the VMM holds the socket now: if it dies, requests fail at once. */
    close_fd(&l.api_fd);
    close_fd(&l.event_fd);
    close_fd(&l.log_fd);
    close_fd(&l.null_fd);
    vireo_network_close_fds(net_fds);
    g_info("domain '%s': VMM started, pid %d", live->name, (int)pid);

    if (vireo_monitor_call(vm->api_socket, vm->pidfd, "PUT", "vm.create", config, NULL, error) <
            0 ||
        vireo_monitor_call(vm->api_socket, vm->pidfd, "PUT", "vm.boot", NULL, NULL, error) < 0)
        goto fail;
    if (((flags & VIR_DOMAIN_START_PAUSED) &&
         vireo_monitor_call(vm->api_socket, vm->pidfd, "PUT", "vm.pause", NULL, NULL, error) < 0) ||
        vireo_monitor_call(vm->api_socket, vm->pidfd, "GET", "vm.info", NULL, &info, error) < 0 ||
        vireo_vmconfig_apply_info(live, info, error) < 0) {
        /* The guest ran and is already over (it powered off at once): the
         * VMM has exited (its sockets close a moment before its exit is
         * seen), or it serves the API without a VM. The start happened;
         * the exit watch or the event reader reports the rest. */
        g_autofree char *state = NULL;
        g_autofree char *again = NULL;

        if (!process_exited(vm, 1000)) {
            if (vireo_monitor_call(vm->api_socket, vm->pidfd, "GET", "vm.info", NULL, &again,
                                   NULL) < 0 ||
                g_strcmp0(state = vireo_vmconfig_info_state(again), "Shutdown") != 0)
                goto fail;
        }
        g_info("domain '%s': the VM was over right after boot (%s)", live->name, (*error)->message);
        g_clear_error(error);
    }

    live->id = id;
    dom->id = id;
    dom->live = g_steal_pointer(&live);
    dom->vm = vm;
    if (flags & VIR_DOMAIN_START_PAUSED) {
        dom->state = VIR_DOMAIN_PAUSED;
        dom->reason = VIR_DOMAIN_PAUSED_USER;
    } else {
        dom->state = VIR_DOMAIN_RUNNING;
        dom->reason = VIR_DOMAIN_RUNNING_BOOTED;
    }
    watch(drv, dom, reader_fd);
    vireo_process_save_status(drv, dom);
    vireo_event_lifecycle(drv, dom, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
    if (flags & VIR_DOMAIN_START_PAUSED)
        vireo_event_lifecycle(drv, dom, VIR_DOMAIN_EVENT_SUSPENDED,
                              VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    return 0;

fail:
    if (vm->pid > 0) {
        int wstatus;
        kill(vm->pid, SIGKILL);
        vm->stopping = true;
        if (!wait_exit(vm, TERM_WAIT_MS, &wstatus))
            g_warning(_("process %d survived SIGKILL"), (int)vm->pid);
    }
    close_fd(&l.api_fd);
    close_fd(&l.event_fd);
    close_fd(&l.log_fd);
    close_fd(&l.null_fd);
    vireo_network_close_fds(net_fds);
    if (reader_fd >= 0)
        close(reader_fd);
    explain_failure(error, vm->log_path, log_offset);
    remove_files(vm);
    vm_free(vm);
    drv->next_id = id; /* nobody saw the id */
    return -1;
}

/* ---- daemon restart ---- */

void vireo_process_detach(struct vireo_domain *dom)
{
    if (!dom->vm)
        return;
    vireo_console_domain_stopped(dom);
    vm_free(dom->vm);
    dom->vm = NULL;
}

/* A status file whose VMM is gone, or unusable: clean up after it. */
static void recover_dead(struct vireo_driver *drv, struct vireo_domain *dom, struct vireo_vm *vm)
{
    g_warning(_("domain '%s': its VMM (pid %d) is gone; marking it shut off (crashed)"),
              dom->def->name, (int)vm->pid);
    dom->vm = vm;
    domain_stopped(drv, dom, VIR_DOMAIN_SHUTOFF_CRASHED, VIR_DOMAIN_EVENT_STOPPED_FAILED, false);
}

static void recover_one(struct vireo_driver *drv, const char *path)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(vireo_domain_def) live = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *info = NULL;
    g_autofree char *state = NULL;
    struct vireo_domain *dom;
    struct vireo_vm *vm;
    int event_fd;
    bool alive;

    if (!g_key_file_load_from_file(kf, path, 0, &error) ||
        !(xml = g_key_file_get_string(kf, "domain", "xml", &error)) ||
        !(live = vireo_domain_def_parse(xml, VIREO_DOMAIN_DEF_PARSE_LIVE, &error))) {
        g_warning(_("removing unusable status file '%s': %s"), path, error->message);
        unlink(path);
        return;
    }
    vm = g_new0(struct vireo_vm, 1);
    vm->pidfd = -1;
    vm->pid = g_key_file_get_integer(kf, STATUS_GROUP, "pid", NULL);
    vm->start_time = g_key_file_get_uint64(kf, STATUS_GROUP, "start_time", NULL);
    vm->api_socket = g_key_file_get_string(kf, STATUS_GROUP, "api_socket", NULL);
    vm->event_fifo = g_key_file_get_string(kf, STATUS_GROUP, "event_fifo", NULL);
    vm->log_path = g_key_file_get_string(kf, STATUS_GROUP, "log", NULL);
    vm->status_path = g_strdup(path);

    dom = vireo_domain_list_find_uuid(drv->domains, live->uuid);
    if (!dom) {
        g_autoptr(vireo_domain_def) def = vireo_domain_def_copy(live);
        dom = vireo_domain_list_add_transient(drv->domains, g_steal_pointer(&def), &error);
        if (!dom) {
            g_warning(_("cannot take over domain '%s': %s"), live->name, error->message);
            vm_free(vm);
            return;
        }
    }
    dom->id = live->id;
    dom->live = g_steal_pointer(&live);
    dom->state = g_key_file_get_integer(kf, STATUS_GROUP, "state", NULL);
    dom->reason = g_key_file_get_integer(kf, STATUS_GROUP, "reason", NULL);
    if (dom->id >= drv->next_id)
        drv->next_id = dom->id + 1;

    /* Same process: alive, and started when the status file says. */
    alive = vm->pid > 0 && vm->start_time && vireo_process_start_time(vm->pid) == vm->start_time;
    if (alive) {
        vm->pidfd = pidfd_open_pid(vm->pid);
        if (vm->pidfd < 0 || vireo_process_start_time(vm->pid) != vm->start_time)
            alive = false;
    }
    if (!alive ||
        vireo_monitor_call(vm->api_socket, vm->pidfd, "GET", "vm.info", NULL, &info, &error) < 0) {
        if (alive) {
            g_warning(_("domain '%s': its VMM (pid %d) does not answer (%s); killing it"),
                      dom->def->name, (int)vm->pid, error->message);
            kill(vm->pid, SIGKILL);
        }
        recover_dead(drv, dom, vm);
        return;
    }
    state = vireo_vmconfig_info_state(info);
    dom->vm = vm;
    event_fd = open(vm->event_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (event_fd < 0)
        g_warning(_("domain '%s': cannot reopen the event FIFO '%s': %s"), dom->def->name,
                  vm->event_fifo, g_strerror(errno));
    watch(drv, dom, event_fd);
    if (!g_strcmp0(state, "Paused") && dom->state != VIR_DOMAIN_PAUSED) {
        dom->state = VIR_DOMAIN_PAUSED;
        dom->reason = VIR_DOMAIN_PAUSED_UNKNOWN;
    } else if (!g_strcmp0(state, "Running") && dom->state == VIR_DOMAIN_PAUSED) {
        dom->state = VIR_DOMAIN_RUNNING;
        dom->reason = VIR_DOMAIN_RUNNING_UNPAUSED;
    } else if (!g_strcmp0(state, "Shutdown")) {
        vm->guest_shutdown = true;
        apply_action(drv, dom, GUEST_POWEROFF);
        return;
    }
    vireo_process_save_status(drv, dom);
    g_message(_("domain '%s': reattached to its VMM (pid %d)"), dom->def->name, (int)vm->pid);
}

void vireo_process_recover_all(struct vireo_driver *drv)
{
    g_autoptr(GDir) dir = g_dir_open(drv->run_dir, 0, NULL);
    const char *file;
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

    if (!dir)
        return;
    while ((file = g_dir_read_name(dir)))
        if (g_str_has_suffix(file, ".status"))
            g_ptr_array_add(paths, g_build_filename(drv->run_dir, file, NULL));
    for (guint i = 0; i < paths->len; i++)
        recover_one(drv, paths->pdata[i]);
}
