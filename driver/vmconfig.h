/* The domain definition as the VMM's configuration: the VmConfig JSON
 * document of the control API (Cloud Hypervisor's shapes) that vm.create
 * takes, and the pty paths vm.info reports back. */
#ifndef VIREO_DRIVER_VMCONFIG_H
#define VIREO_DRIVER_VMCONFIG_H

#include <glib.h>

#include "xml/domain_def.h"

/* The first fd of the taps the VMM inherits (0-2 are stdio, 3 the api
 * socket, 4 the event FIFO): each interface in order takes
 * vireo_vmconfig_net_fds() of them, one per queue pair. */
#define VIREO_VMCONFIG_FIRST_NET_FD 5

unsigned int vireo_vmconfig_net_fds(const struct vireo_net_def *net);

/* The VmConfig document for def. NULL with *error set (VIR_ERR_CONFIG_UNSUPPORTED
 * naming the element) for what the driver cannot start yet. */
char *vireo_vmconfig_build(const struct vireo_domain_def *def, GError **error);

/* Copies the pty paths of vm.info's answer ({"config":{"serial":{"mode":"Pty",
 * "file":"/dev/pts/N"},"console":{...}}}) into the serial port, the serial
 * console and the virtio console of a live definition. -1 with *error set
 * when the answer is not JSON or a pty the definition asks for is missing. */
int vireo_vmconfig_apply_info(struct vireo_domain_def *live, const char *info_json, GError **error)
    __attribute__((warn_unused_result));

/* The "state" of vm.info's answer ("Running", "Paused", ...), or NULL. */
char *vireo_vmconfig_info_state(const char *info_json);

#endif
