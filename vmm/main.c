/* vireo-vmm entry point: parses the command line and runs one VM. */
#include "config.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("vireo-vmm %s\n", PACKAGE_VERSION);
            return 0;
        }
    }
    fprintf(stderr, "vireo-vmm: booting a VM is not yet supported\n");
    return 1;
}
