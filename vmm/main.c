/* vireo-vmm entry point: parses the command line into a vm_config, builds
 * the VM and runs it until the guest powers off or fails. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cmdline.h"
#include "log.h"
#include "vm.h"

int main(int argc, char **argv)
{
    struct vm_config cfg;
    struct vmm_options opts;
    g_autofree char *err = NULL;
    struct vm *vm;
    int status;

    vm_config_init(&cfg);
    if (vmm_cmdline_parse(argc, argv, &cfg, &opts, &err)) {
        fprintf(stderr, "vireo-vmm: %s\n", err);
        vm_config_clear(&cfg);
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
    log_init(opts.verbosity);
    if (vm_config_validate(&cfg, &err)) {
        fprintf(stderr, "vireo-vmm: %s\n", err);
        vm_config_clear(&cfg);
        return 1;
    }

    vm = vm_new(&cfg, &err);
    if (!vm) {
        log_error("%s", err);
        vm_config_clear(&cfg);
        return 1;
    }
    status = vm_run(vm);
    vm_free(vm);
    vm_config_clear(&cfg);
    return status;
}
