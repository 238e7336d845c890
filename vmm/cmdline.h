/* The command-line front end of vireo-vmm: Cloud Hypervisor's options,
 * parsed into a struct vm_config. */
#ifndef VIREO_VMM_CMDLINE_H
#define VIREO_VMM_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "vm_config.h"

struct vmm_options {
    int verbosity; /* number of -v */
    bool help;
    bool version;
    /* --api-socket path=P|fd=N and --event-monitor path=P|fd=N: at most one
     * of path (g_free'd by vmm_options_clear) and fd (-1: none) is set. */
    char *api_socket_path;
    int api_socket_fd;
    char *event_monitor_path;
    int event_monitor_fd;
};

void vmm_options_clear(struct vmm_options *opts);

/* Parses argv into `cfg` (already vm_config_init'ed) and `opts`. Returns 0,
 * or -EINVAL with a one-line message naming the offending option in *err
 * (g_free it). Options match exactly: no abbreviations. */
int vmm_cmdline_parse(int argc, char **argv, struct vm_config *cfg, struct vmm_options *opts,
                      char **err) __attribute__((warn_unused_result));

const char *vmm_cmdline_usage(void);

/* "512M", "1G", "4096K", "1048576": a byte count with an optional K/M/G
 * (binary) suffix. Returns false on anything else or on overflow. */
bool vmm_parse_size(const char *s, uint64_t *out);

#endif
