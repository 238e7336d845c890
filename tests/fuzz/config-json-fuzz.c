/* libFuzzer target for the VmConfig JSON front end: any bytes as the body
 * of vm.create. A document that parses must survive config -> JSON ->
 * config unchanged; nothing may crash, leak or read out of bounds. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/config_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vm_config a, b;
    char *err = NULL, *json, *json2;

    if (config_json_parse((const char *)data, size, &a, &err)) {
        if (!err)
            abort();
        g_free(err);
        return 0;
    }
    json = config_json_to_string(&a);
    if (config_json_parse(json, strlen(json), &b, &err))
        abort();
    json2 = config_json_to_string(&b);
    if (strcmp(json, json2))
        abort();
    if (vm_config_validate(&b, &err) == 0 && err)
        abort();
    g_free(err);
    g_free(json);
    g_free(json2);
    vm_config_clear(&a);
    vm_config_clear(&b);
    return 0;
}
