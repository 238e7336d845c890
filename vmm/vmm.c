/* The control loop: one epoll on the main thread over the request eventfd
 * (the API thread posts requests and waits for their answers), a signalfd
 * (SIGTERM, SIGINT) and the VM's event fd (power off, reboot, failure). All
 * VM state changes happen here, one at a time, so the state the API reports
 * is always the state the VM is in. */
#include "config.h"

#include "vmm.h"

#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "api/server.h"
#include "log.h"
#include "vm.h"
#include "virtio/net.h"

enum vmm_state {
    VMM_NO_VM, /* nothing created yet, or deleted */
    VMM_CREATED,
    VMM_RUNNING,
    VMM_PAUSED,
    VMM_SHUTDOWN,
};

enum vmm_request_kind {
    VMM_REQ_CREATE,
    VMM_REQ_ACTION,
    VMM_REQ_INFO,
    VMM_REQ_COUNTERS,
};

/* A request from the API thread. It waits for `done`; when it gives up
 * (timeout) it sets `abandoned` and the control loop frees the request. */
struct vmm_request {
    enum vmm_request_kind kind;
    enum api_action action;
    struct vm_config cfg;    /* CREATE: moved in; INFO: the answer */
    enum api_vm_state state; /* INFO */
    JsonNode *counters;      /* COUNTERS: an object */
    int ret;
    char *err;
    bool done;      /* under vmm->lock */
    bool abandoned; /* under vmm->lock */
};

struct vmm {
    const struct vmm_options *opts;
    struct event_monitor *events;
    struct api_server *server;
    int epfd;
    int wake_fd;
    int sig_fd;

    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    GQueue queue;  /* of struct vmm_request, under lock */
    bool stopping; /* under lock: requests are refused */

    /* Control loop only. */
    enum vmm_state state;
    struct vm_config cfg; /* valid from CREATED on */
    struct vm *vm;        /* RUNNING and PAUSED */
    bool quit;
    int status;
};

static void vmm_request_free(struct vmm_request *r)
{
    vm_config_clear(&r->cfg);
    if (r->counters)
        json_node_unref(r->counters);
    g_free(r->err);
    g_free(r);
}

/* ---- the API thread's side ---- */

/* On a timeout *rp becomes NULL: the control loop frees the request. */
static int vmm_post(struct vmm *v, struct vmm_request **rp, char **err)
{
    struct vmm_request *r = *rp;
    struct timespec deadline;
    uint64_t one = 1;
    int ret = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += VMM_REQUEST_TIMEOUT_MS / 1000;
    deadline.tv_nsec += (long)(VMM_REQUEST_TIMEOUT_MS % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&v->lock);
    if (v->stopping) {
        pthread_mutex_unlock(&v->lock);
        *err = g_strdup("the VMM is shutting down");
        return -EAGAIN;
    }
    g_queue_push_tail(&v->queue, r);
    if (write(v->wake_fd, &one, sizeof(one)) < 0) {
        /* Only fails when the counter would overflow: it is signalled. */
    }
    while (!r->done && ret != ETIMEDOUT)
        ret = pthread_cond_timedwait(&v->done_cond, &v->lock, &deadline);
    if (!r->done) {
        r->abandoned = true;
        *rp = NULL;
        pthread_mutex_unlock(&v->lock);
        *err = g_strdup_printf("the VM did not answer within %u s", VMM_REQUEST_TIMEOUT_MS / 1000);
        return -ETIMEDOUT;
    }
    pthread_mutex_unlock(&v->lock);
    if (r->ret)
        *err = g_steal_pointer(&r->err);
    return r->ret;
}

static int vmm_api_create(void *opaque, struct vm_config *cfg, char **err)
{
    struct vmm_request *r = g_new0(struct vmm_request, 1);
    int ret;

    r->kind = VMM_REQ_CREATE;
    r->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    ret = vmm_post(opaque, &r, err);
    if (r)
        vmm_request_free(r);
    return ret;
}

static int vmm_api_action(void *opaque, enum api_action action, char **err)
{
    struct vmm_request *r = g_new0(struct vmm_request, 1);
    int ret;

    r->kind = VMM_REQ_ACTION;
    r->action = action;
    ret = vmm_post(opaque, &r, err);
    if (r)
        vmm_request_free(r);
    return ret;
}

static int vmm_api_info(void *opaque, struct api_vm_info *info, char **err)
{
    struct vmm_request *r = g_new0(struct vmm_request, 1);
    int ret;

    r->kind = VMM_REQ_INFO;
    ret = vmm_post(opaque, &r, err);
    if (!r)
        return ret;
    if (!ret) {
        info->state = r->state;
        info->config = r->cfg;
        info->memory_actual_size = r->cfg.memory_size;
        memset(&r->cfg, 0, sizeof(r->cfg));
    }
    vmm_request_free(r);
    return ret;
}

static int vmm_api_counters(void *opaque, JsonBuilder *b, char **err)
{
    struct vmm_request *r = g_new0(struct vmm_request, 1);
    int ret;

    r->kind = VMM_REQ_COUNTERS;
    ret = vmm_post(opaque, &r, err);
    if (!r)
        return ret;
    if (!ret && r->counters) {
        JsonObject *o = json_node_get_object(r->counters);
        g_autoptr(GList) names = json_object_get_members(o);

        for (GList *l = names; l; l = l->next) {
            json_builder_set_member_name(b, l->data);
            json_builder_add_value(b, json_node_copy(json_object_get_member(o, l->data)));
        }
    }
    vmm_request_free(r);
    return ret;
}

static const struct api_backend_ops vmm_api_ops = {
    .vm_create = vmm_api_create,
    .vm_action = vmm_api_action,
    .vm_info = vmm_api_info,
    .vm_counters = vmm_api_counters,
};

/* ---- the control loop's side ---- */

static void vmm_emit(struct vmm *v, const char *event, const char *const *props)
{
    event_monitor_emit(v->events, "vm", event, props);
}

static void vmm_watch_vm(struct vmm *v, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = vm_event_fd(v->vm)};

    if (epoll_ctl(v->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, ev.data.fd, &ev) < 0)
        log_warn("epoll_ctl on the VM's event fd: %s", strerror(errno));
}

/* The vCPUs are stopped (or never ran): the VM goes, its config stays. */
static void vmm_stop_vm(struct vmm *v, const char *reason)
{
    const char *props[] = {"reason", reason, NULL};

    vm_pause(v->vm);
    vmm_watch_vm(v, false);
    g_clear_pointer(&v->vm, vm_free);
    v->state = VMM_SHUTDOWN;
    vmm_emit(v, "shutdown", props);
}

static int vmm_boot(struct vmm *v, char **err)
{
    int ret;

    v->vm = vm_new(&v->cfg, err);
    if (!v->vm) {
        log_error("%s", *err);
        return -EINVAL;
    }
    vm_set_event_monitor(v->vm, v->events);
    vmm_watch_vm(v, true);
    vmm_emit(v, "booting", NULL);
    ret = vm_start(v->vm);
    if (ret) {
        /* vm_start has logged why. A kernel that cannot be loaded is the caller's mistake (400). */
        if (vm_boot_error(v->vm)) {
            *err = g_strdup(vm_boot_error(v->vm));
            ret = -EINVAL;
        } else {
            *err = g_strdup_printf("booting the VM: %s", strerror(-ret));
        }
        vm_pause(v->vm);
        vmm_watch_vm(v, false);
        g_clear_pointer(&v->vm, vm_free);
        return ret;
    }
    v->state = VMM_RUNNING;
    vmm_emit(v, "booted", NULL);
    return 0;
}

/* The vCPUs are stopped. */
static int vmm_reboot(struct vmm *v, char **err)
{
    int ret;

    vmm_emit(v, "rebooting", NULL);
    ret = vm_start(v->vm);
    if (ret) {
        *err = g_strdup_printf("rebooting the VM: %s",
                               vm_boot_error(v->vm) ? vm_boot_error(v->vm) : strerror(-ret));
        log_error("%s", *err);
        vmm_stop_vm(v, "error");
        return ret;
    }
    v->state = VMM_RUNNING;
    vmm_emit(v, "rebooted", NULL);
    return 0;
}

static void vmm_delete(struct vmm *v)
{
    if (v->vm)
        vmm_stop_vm(v, "deleted");
    vm_config_clear(&v->cfg);
    v->state = VMM_NO_VM;
    vmm_emit(v, "deleted", NULL);
}

static int vmm_state_error(struct vmm *v, const char *what, char **err)
{
    static const char *const names[] = {"no VM", "created", "running", "paused", "shut down"};

    if (v->state == VMM_NO_VM) {
        *err = g_strdup("no VM: create one with vm.create first");
        return -ENOENT;
    }
    *err = g_strdup_printf("cannot %s a VM that is %s", what, names[v->state]);
    return -EBUSY;
}

static int vmm_do_action(struct vmm *v, enum api_action action, char **err)
{
    int ret;

    switch (action) {
    case API_VM_BOOT:
        if (v->state != VMM_CREATED && v->state != VMM_SHUTDOWN)
            return vmm_state_error(v, "boot", err);
        return vmm_boot(v, err);
    case API_VM_SHUTDOWN:
        if (v->state != VMM_RUNNING && v->state != VMM_PAUSED)
            return vmm_state_error(v, "shut down", err);
        vmm_stop_vm(v, "vm.shutdown");
        return 0;
    case API_VM_REBOOT:
        if (v->state != VMM_RUNNING)
            return vmm_state_error(v, "reboot", err);
        vm_pause(v->vm);
        return vmm_reboot(v, err);
    case API_VM_POWER_BUTTON:
        if (v->state != VMM_RUNNING)
            return vmm_state_error(v, "press the power button of", err);
        ret = vm_power_button(v->vm);
        if (ret)
            *err = g_strdup_printf("pressing the power button: %s", strerror(-ret));
        return ret;
    case API_VM_PAUSE:
        if (v->state != VMM_RUNNING)
            return vmm_state_error(v, "pause", err);
        vmm_emit(v, "pausing", NULL);
        vm_pause(v->vm);
        v->state = VMM_PAUSED;
        vmm_emit(v, "paused", NULL);
        return 0;
    case API_VM_RESUME:
        if (v->state != VMM_PAUSED)
            return vmm_state_error(v, "resume", err);
        vmm_emit(v, "resuming", NULL);
        ret = vm_resume(v->vm);
        if (ret) {
            *err = g_strdup_printf("resuming the vCPUs: %s", strerror(-ret));
            return ret;
        }
        v->state = VMM_RUNNING;
        vmm_emit(v, "resumed", NULL);
        return 0;
    case API_VM_DELETE:
        if (v->state == VMM_NO_VM)
            return vmm_state_error(v, "delete", err);
        vmm_delete(v);
        return 0;
    case API_VMM_SHUTDOWN:
        if (v->state != VMM_NO_VM)
            vmm_delete(v);
        v->quit = true;
        v->status = 0;
        return 0;
    }
    *err = g_strdup("unknown action");
    return -EINVAL;
}

static int vmm_do_info(struct vmm *v, struct vmm_request *r, char **err)
{
    static const enum api_vm_state states[] = {
        [VMM_CREATED] = API_VM_STATE_CREATED,
        [VMM_RUNNING] = API_VM_STATE_RUNNING,
        [VMM_PAUSED] = API_VM_STATE_PAUSED,
        [VMM_SHUTDOWN] = API_VM_STATE_SHUTDOWN,
    };
    const char *pty;

    if (v->state == VMM_NO_VM)
        return vmm_state_error(v, "describe", err);
    r->state = states[v->state];
    vm_config_copy(&r->cfg, &v->cfg);
    /* The ptys allocated at boot, shown as CH shows them ("file"). */
    if (v->vm && (pty = vm_serial_pty(v->vm))) {
        g_free(r->cfg.serial.path);
        r->cfg.serial.path = g_strdup(pty);
    }
    if (v->vm && (pty = vm_console_pty(v->vm))) {
        g_free(r->cfg.console.path);
        r->cfg.console.path = g_strdup(pty);
    }
    /* The ids the disks go by (vm.c names unnamed ones as CH does). */
    for (unsigned int i = 0; i < r->cfg.nr_disks; i++) {
        if (!r->cfg.disks[i].id)
            r->cfg.disks[i].id = g_strdup_printf("_disk%u", i);
    }
    for (unsigned int i = 0; i < r->cfg.nr_nets; i++) {
        if (!r->cfg.nets[i].id)
            r->cfg.nets[i].id = g_strdup_printf("_net%u", i);
    }
    return 0;
}

static void add_counter(JsonBuilder *b, const char *name, uint64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, (gint64)v);
}

/* Cloud Hypervisor's names for the totals, then the same per queue pair. */
static void vmm_net_counters(JsonBuilder *b, const struct virtio_net *n)
{
    struct virtio_net_stats t = {0};

    json_builder_set_member_name(b, virtio_net_id(n));
    json_builder_begin_object(b);
    for (unsigned int q = 0; q < virtio_net_pairs(n); q++) {
        struct virtio_net_stats s;

        virtio_net_pair_stats(n, q, &s);
        t.rx_bytes += s.rx_bytes;
        t.rx_frames += s.rx_frames;
        t.rx_dropped += s.rx_dropped;
        t.tx_bytes += s.tx_bytes;
        t.tx_frames += s.tx_frames;
        t.tx_dropped += s.tx_dropped;
    }
    add_counter(b, "rx_bytes", t.rx_bytes);
    add_counter(b, "rx_frames", t.rx_frames);
    add_counter(b, "rx_dropped", t.rx_dropped);
    add_counter(b, "tx_bytes", t.tx_bytes);
    add_counter(b, "tx_frames", t.tx_frames);
    add_counter(b, "tx_dropped", t.tx_dropped);
    add_counter(b, "ctrl_dropped", virtio_net_ctrl_dropped(n));
    for (unsigned int q = 0; q < virtio_net_pairs(n); q++) {
        struct virtio_net_stats s;
        char name[32];

        virtio_net_pair_stats(n, q, &s);
#define PAIR_COUNTER(field)                                                                        \
    snprintf(name, sizeof(name), "q%u_" #field, q);                                                \
    add_counter(b, name, s.field)
        PAIR_COUNTER(rx_bytes);
        PAIR_COUNTER(rx_frames);
        PAIR_COUNTER(rx_dropped);
        PAIR_COUNTER(tx_bytes);
        PAIR_COUNTER(tx_frames);
        PAIR_COUNTER(tx_dropped);
#undef PAIR_COUNTER
    }
    json_builder_end_object(b);
}

static int vmm_do_counters(struct vmm *v, struct vmm_request *r, char **err)
{
    g_autoptr(JsonBuilder) b = NULL;

    if (!v->vm)
        return vmm_state_error(v, "read the counters of", err);
    b = json_builder_new_immutable();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "vm");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "boots");
    json_builder_add_int_value(b, vm_boots(v->vm));
    json_builder_end_object(b);
    for (unsigned int i = 0; i < vm_nr_nets(v->vm); i++)
        vmm_net_counters(b, vm_net(v->vm, i));
    json_builder_end_object(b);
    r->counters = json_builder_get_root(b);
    return 0;
}

static void vmm_serve(struct vmm *v, struct vmm_request *r)
{
    char *err = NULL;
    int ret = 0;

    switch (r->kind) {
    case VMM_REQ_CREATE:
        if (v->state != VMM_NO_VM) {
            err = g_strdup("a VM is already created (vm.delete it first)");
            ret = -EEXIST;
            break;
        }
        v->cfg = r->cfg;
        memset(&r->cfg, 0, sizeof(r->cfg));
        v->state = VMM_CREATED;
        break;
    case VMM_REQ_ACTION:
        ret = vmm_do_action(v, r->action, &err);
        break;
    case VMM_REQ_INFO:
        ret = vmm_do_info(v, r, &err);
        break;
    case VMM_REQ_COUNTERS:
        ret = vmm_do_counters(v, r, &err);
        break;
    }
    if (ret && r->kind == VMM_REQ_ACTION)
        log_info("%s: %s", api_action_endpoint(r->action), err ? err : strerror(-ret));
    pthread_mutex_lock(&v->lock);
    r->ret = ret;
    r->err = err;
    r->done = true;
    if (r->abandoned) {
        pthread_mutex_unlock(&v->lock);
        vmm_request_free(r);
        return;
    }
    pthread_cond_broadcast(&v->done_cond);
    pthread_mutex_unlock(&v->lock);
}

static void vmm_serve_queue(struct vmm *v)
{
    uint64_t n;

    if (read(v->wake_fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: a spurious wake-up. */
    }
    for (;;) {
        struct vmm_request *r;

        pthread_mutex_lock(&v->lock);
        r = g_queue_pop_head(&v->queue);
        /* Not acted on once its client has stopped waiting. */
        while (r && r->abandoned) {
            vmm_request_free(r);
            r = g_queue_pop_head(&v->queue);
        }
        pthread_mutex_unlock(&v->lock);
        if (!r)
            return;
        vmm_serve(v, r);
    }
}

static void vmm_vm_event(struct vmm *v)
{
    g_autofree char *err = NULL;
    bool api = v->server != NULL;

    switch (vm_take_event(v->vm)) {
    case VM_EVENT_NONE:
        return;
    case VM_EVENT_RESET:
        log_info("guest reboot");
        if (vmm_reboot(v, &err) && !api) {
            v->quit = true;
            v->status = 1;
        }
        return;
    case VM_EVENT_POWEROFF:
        log_info("guest powered off");
        vmm_stop_vm(v, "poweroff");
        if (!api) {
            v->quit = true;
            v->status = 0;
        }
        return;
    case VM_EVENT_FATAL:
        vmm_stop_vm(v, "error");
        if (!api) {
            v->quit = true;
            v->status = 1;
        }
        return;
    }
}

static int vmm_signal(struct vmm *v)
{
    struct signalfd_siginfo si;

    if (read(v->sig_fd, &si, sizeof(si)) != sizeof(si))
        return 0;
    log_notice("%s: shutting down", strsignal((int)si.ssi_signo));
    if (v->state != VMM_NO_VM)
        vmm_delete(v);
    v->quit = true;
    v->status = 0;
    return 0;
}

static int vmm_loop(struct vmm *v)
{
    while (!v->quit) {
        struct epoll_event evs[4];
        int n = epoll_wait(v->epfd, evs, G_N_ELEMENTS(evs), -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("epoll_wait: %s", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n && !v->quit; i++) {
            int fd = evs[i].data.fd;

            if (fd == v->sig_fd)
                vmm_signal(v);
            else if (fd == v->wake_fd)
                vmm_serve_queue(v);
            else if (v->vm && fd == vm_event_fd(v->vm))
                vmm_vm_event(v);
        }
    }
    return v->status;
}

static int vmm_add_fd(struct vmm *v, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

    return epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int vmm_start_api(struct vmm *v)
{
    g_autofree char *err = NULL;
    int fd = v->opts->api_socket_fd;
    int ret;

    if (v->opts->api_socket_path)
        ret = api_socket_listen_path(v->opts->api_socket_path, &fd, &err);
    else
        ret = api_socket_check_fd(fd, &err);
    if (!ret)
        ret =
            api_server_start(fd, v->opts->api_socket_path, &vmm_api_ops, v, NULL, &v->server, &err);
    if (ret)
        log_error("%s", err);
    return ret;
}

/* Answers whatever is still queued: the loop will not serve it. */
static void vmm_refuse_requests(struct vmm *v)
{
    struct vmm_request *r;

    pthread_mutex_lock(&v->lock);
    v->stopping = true;
    while ((r = g_queue_pop_head(&v->queue))) {
        if (r->abandoned) {
            vmm_request_free(r);
            continue;
        }
        r->ret = -EAGAIN;
        r->err = g_strdup("the VMM is shutting down");
        r->done = true;
    }
    pthread_cond_broadcast(&v->done_cond);
    pthread_mutex_unlock(&v->lock);
}

int vmm_run(struct vm_config *cfg, const struct vmm_options *opts, struct event_monitor *events)
{
    struct vmm vmm = {
        .opts = opts, .events = events, .epfd = -1, .wake_fd = -1, .sig_fd = -1, .status = 1};
    struct vmm *v = &vmm;
    pthread_condattr_t ca;
    sigset_t sigs;
    bool api = opts->api_socket_path || opts->api_socket_fd >= 0;

    pthread_mutex_init(&v->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&v->done_cond, &ca);
    pthread_condattr_destroy(&ca);
    g_queue_init(&v->queue);

    /* Blocked before any thread starts, so every thread inherits the mask
     * and the signals reach only the signalfd. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    v->sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    v->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    v->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (v->sig_fd < 0 || v->wake_fd < 0 || v->epfd < 0 || vmm_add_fd(v, v->sig_fd) ||
        vmm_add_fd(v, v->wake_fd)) {
        log_error("setting up the control loop: %s", strerror(errno));
        goto out;
    }
    if (api && vmm_start_api(v))
        goto out;

    if (cfg->kernel) {
        g_autofree char *err = NULL;

        v->cfg = *cfg;
        memset(cfg, 0, sizeof(*cfg));
        v->state = VMM_CREATED;
        if (vmm_boot(v, &err))
            goto out; /* logged */
    }
    v->status = vmm_loop(v);

out:
    vmm_refuse_requests(v);
    api_server_stop(v->server);
    if (v->vm) {
        vm_pause(v->vm);
        vm_free(v->vm);
    }
    vm_config_clear(&v->cfg);
    if (v->epfd >= 0)
        close(v->epfd);
    if (v->wake_fd >= 0)
        close(v->wake_fd);
    if (v->sig_fd >= 0)
        close(v->sig_fd);
    pthread_cond_destroy(&v->done_cond);
    pthread_mutex_destroy(&v->lock);
    return v->status;
}
