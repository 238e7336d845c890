/* The VMM process around one VM: the control loop on the main thread
 * (signals, requests from the API server, the VM's lifecycle events), the
 * VM's state as the control API reports it, and the API backend. */
#ifndef VIREO_VMM_VMM_H
#define VIREO_VMM_VMM_H

#include "api/events.h"
#include "cmdline.h"
#include "vm_config.h"

/* How long an API request waits for the control loop. */
#define VMM_REQUEST_TIMEOUT_MS 30000

/* Runs until the VMM is done and returns the process exit status.
 *
 * With a kernel in `cfg` (already validated) the VM boots at once; without
 * one (only with an API socket) the VMM waits for vm.create. `cfg` is moved
 * in (left zeroed); `events` (may be NULL) stays the caller's. Without an
 * API socket the VMM exits when the VM stops: 0 on a guest power off, 1 on
 * a failure. With one, a stopped VM stays in state Shutdown and the VMM
 * exits on vmm.shutdown. SIGTERM and SIGINT end it cleanly (status 0). */
int vmm_run(struct vm_config *cfg, const struct vmm_options *opts, struct event_monitor *events);

#endif
