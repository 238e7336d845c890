/* vireo-vmm entry point: parses the command line into a vm_config and the
 * VMM's options, opens the event monitor and hands over to the control loop
 * (vmm.c), which boots the VM and serves the API. */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/events.h"
#include "cmdline.h"
#include "log.h"
#include "vmm.h"

int main(int argc, char **argv)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;
    struct event_monitor *events = NULL;
    int status = 1;
    bool api;

    vm_config_init(&cfg);
    if (vmm_cmdline_parse(argc, argv, &cfg, &opts, &err)) {
        fprintf(stderr, "vireo-vmm: %s\n", err);
        vm_config_clear(&cfg);
        vmm_options_clear(&opts);
        return 1;
    }
    if (opts.help) {
        fputs(vmm_cmdline_usage(), stdout);
        vm_config_clear(&cfg);
        return 0;
    }
    if (opts.version) {
        printf("vireo-vmm %s\n", PACKAGE_VERSION);
        vm_config_clear(&cfg);
        return 0;
    }
    /* First, so that event timestamps count from here. */
    if (opts.event_monitor_path) {
        events = event_monitor_open(opts.event_monitor_path, &err);
    } else if (opts.event_monitor_fd >= 0) {
        if (fcntl(opts.event_monitor_fd, F_GETFD) < 0)
            err = g_strdup_printf("--event-monitor: fd=%d is not open", opts.event_monitor_fd);
        else
            events = event_monitor_new(opts.event_monitor_fd);
    }
    if (err) {
        fprintf(stderr, "vireo-vmm: %s\n", err);
        goto out;
    }
    /* A client or event reader that goes away must not kill the VMM. */
    signal(SIGPIPE, SIG_IGN);
    log_init(opts.verbosity);
    event_monitor_emit(events, "vmm", "starting", NULL);
    /* With an API socket and no kernel, vm.create brings the config later. */
    api = opts.api_socket_path || opts.api_socket_fd >= 0;
    if ((cfg.kernel || !api) && vm_config_validate(&cfg, &err)) {
        fprintf(stderr, "vireo-vmm: %s\n", err);
        goto out;
    }
    status = vmm_run(&cfg, &opts, events);
    event_monitor_emit(events, "vmm", "shutdown", NULL);

out:
    event_monitor_free(events, 200);
    vm_config_clear(&cfg);
    vmm_options_clear(&opts);
    return status;
}
