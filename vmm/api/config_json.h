/* The JSON front end of the VM configuration: Cloud Hypervisor's VmConfig
 * document (vm.create's body, vm.info's "config") <-> struct vm_config. */
#ifndef VIREO_VMM_API_CONFIG_JSON_H
#define VIREO_VMM_API_CONFIG_JSON_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "vm_config.h"

/* Deepest nesting of arrays and objects accepted in a document. */
#define CONFIG_JSON_MAX_DEPTH 32

/* Parses a VmConfig document. Fields Cloud Hypervisor defines but Vireo does
 * not implement are refused unless they hold their default (null, false,
 * 0, "", [], {} or CH's default value); names CH does not define are ignored,
 * as CH (serde) ignores them. On success *cfg (whose previous contents are
 * overwritten, not freed) holds the configuration; on failure *cfg is left
 * untouched and *err names the field: "cpus.boot_vcpus: expected an
 * integer". Range checks happen here, in JSON terms; vm_config_validate()
 * is still the caller's job. */
int config_json_parse(const char *data, size_t len, struct vm_config *cfg, char **err)
    __attribute__((warn_unused_result));

/* The same, from an already parsed document. */
int config_json_parse_node(JsonNode *root, struct vm_config *cfg, char **err)
    __attribute__((warn_unused_result));

/* Adds the configuration as one object value to `b`. A PTY chardev's path
 * (the pty allocated at boot) is written as "file", as Cloud Hypervisor
 * reports it. */
void config_json_build(JsonBuilder *b, const struct vm_config *cfg);

/* The configuration as a compact JSON document (g_free it). */
char *config_json_to_string(const struct vm_config *cfg);

/* Checks that nesting never exceeds `max_depth`, so that a hostile
 * document cannot exhaust the stack of json-glib's recursive parser. */
bool config_json_depth_ok(const char *data, size_t len, unsigned int max_depth);

#endif
