/* Running a domain: launching vireo-vmm with a pre-bound api socket and an
 * event FIFO, creating and booting the VM through the control API, the
 * status file that lets a restarted daemon find the VMM again, watching the
 * process (pidfd), and the teardown. Also what happens when the guest or the
 * VMM ends on its own (on_poweroff / on_reboot / on_crash).
 *
 * Files of a running domain, in the run dir:
 *   <name>.status  key file: pid, process start time, paths, state, live XML
 *   <name>.sock    the api socket (bound by the daemon, passed as fd 3)
 *   <name>.events  a FIFO; the VMM gets a read-write fd of it as fd 4
 *                  (--event-monitor fd=4), so events wait in the FIFO while
 *                  the daemon is away and a restarted daemon reopens it by
 *                  path. The VMM itself never needs access to the run dir.
 * and its log, <log dir>/<name>.log, takes the VMM's stdout and stderr. */
#ifndef VIREO_DRIVER_PROCESS_H
#define VIREO_DRIVER_PROCESS_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "driver.h"
#include "monitor.h"

struct vireo_console;

struct vireo_vm {
    pid_t pid;
    unsigned long long start_time; /* /proc/<pid>/stat field 22: tells pid reuse apart */
    bool is_child;                 /* started by this daemon (we reap it) */
    int pidfd;
    guint pid_watch;
    char *api_socket;
    char *event_fifo;
    char *status_path;
    char *log_path;
    struct vireo_event_reader *events;
    bool stopping;                 /* the driver is stopping it: its exit is expected */
    bool guest_shutdown;           /* the guest powered off (event or exit status 0) */
    guint action_timer;            /* applies on_poweroff/on_crash outside the event reader */
    bool action_crashed;           /* ... as a crash */
    void *watch_ctx;               /* shared by the watches above */
    struct vireo_console *console; /* the console stream attached, if any */
};

/* Starts dom (inactive) with its definition, or with `run` for this run
 * only (virsh create over a defined domain): on success it runs (or is
 * paused with VIR_DOMAIN_START_PAUSED), its status file is written and the
 * STARTED (and SUSPENDED) events are sent. On failure nothing is left
 * behind and *error carries the VMM's message and points at its log. */
int vireo_process_start(struct vireo_driver *drv, struct vireo_domain *dom,
                        const struct vireo_domain_def *run, unsigned int flags, GError **error)
    __attribute__((warn_unused_result));

/* Stops the VMM of an active domain: SIGTERM, then SIGKILL after a few
 * seconds unless graceful (then -1 if it does not go). Marks the domain shut
 * off with `reason`, sends STOPPED/`detail`, and forgets a transient domain
 * (dom is freed then: do not touch it after). */
int vireo_process_stop(struct vireo_driver *drv, struct vireo_domain *dom, int reason, int detail,
                       bool graceful, GError **error) __attribute__((warn_unused_result));

/* A request to the domain's VMM (see vireo_monitor_call). */
int vireo_process_api(struct vireo_domain *dom, const char *method, const char *endpoint,
                      const char *body, char **response, GError **error)
    __attribute__((warn_unused_result));

/* Rewrites the status file after a state change. */
void vireo_process_save_status(struct vireo_driver *drv, struct vireo_domain *dom);

/* Sets the state of an active domain, saves it, and sends the event. */
void vireo_process_set_state(struct vireo_driver *drv, struct vireo_domain *dom, int state,
                             int reason, int event, int detail);

/* CPU time used by the VMM process, in nanoseconds (0 if unknown). */
unsigned long long vireo_process_cpu_time(const struct vireo_domain *dom);

/* The start time (field 22 of /proc/<pid>/stat), or 0 when pid is gone. */
unsigned long long vireo_process_start_time(pid_t pid);

/* Finds the VMMs of an earlier daemon again (status files). */
void vireo_process_recover_all(struct vireo_driver *drv);

/* Forgets the VMM without stopping it (daemon shutdown). */
void vireo_process_detach(struct vireo_domain *dom);

/* Ends an attached console stream (console.c). */
void vireo_console_domain_stopped(struct vireo_domain *dom);

#endif
