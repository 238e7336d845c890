/* The Vireo driver: the state behind virtvireod (paths, the domain list) and
 * one entry point per libvirt API it serves. Each entry point takes the
 * decoded arguments of its RPC call and fills its reply, following one
 * sequence: check flags -> look up or parse -> validate -> job -> act. */
#ifndef VIREO_DRIVER_DRIVER_H
#define VIREO_DRIVER_DRIVER_H

#include <glib.h>
#include <stdbool.h>

#include "domain.h"
#include "xml/capabilities.h"
#include "rpc/dispatch.h"

struct vireo_driver {
    bool privileged;  /* system daemon (vireo:///system) */
    char *uri;        /* the URI this daemon serves */
    char *config_dir; /* persistent definitions */
    char *run_dir;    /* state of running domains */
    struct vireo_domain_list *domains;
    struct vireo_host_info *host; /* probed once at start */
    struct rpc_program program;   /* see vireo_driver_program() */
};

/* emulator: the vireo-vmm binary the driver runs. */
struct vireo_driver *vireo_driver_new(bool privileged, const char *config_dir, const char *run_dir,
                                      const char *emulator);
void vireo_driver_free(struct vireo_driver *drv);

/* The RPC program that dispatches libvirt's remote protocol to the entry
 * points of drv. */
const struct rpc_program *vireo_driver_program(struct vireo_driver *drv);

/* Entry points; their arguments are the RPC structs of vireo_protocol.x. */
#define VIREO_ENTRY(name)                                                                          \
    int name(void *opaque, struct rpc_client *client, void *args, void *ret, GError **error)

/* connect.c */
VIREO_ENTRY(vireo_connect_open);
VIREO_ENTRY(vireo_connect_close);
VIREO_ENTRY(vireo_connect_auth_list);
VIREO_ENTRY(vireo_connect_supports_feature);
VIREO_ENTRY(vireo_connect_get_type);
VIREO_ENTRY(vireo_connect_get_version);
VIREO_ENTRY(vireo_connect_get_lib_version);
VIREO_ENTRY(vireo_connect_get_hostname);
VIREO_ENTRY(vireo_connect_get_uri);
VIREO_ENTRY(vireo_connect_get_max_vcpus);
VIREO_ENTRY(vireo_connect_is_secure);
VIREO_ENTRY(vireo_connect_register_close_callback);
VIREO_ENTRY(vireo_connect_unregister_close_callback);
VIREO_ENTRY(vireo_node_get_info);
VIREO_ENTRY(vireo_connect_get_capabilities);
VIREO_ENTRY(vireo_connect_get_domain_capabilities);

/* driver.c */
VIREO_ENTRY(vireo_connect_list_all_domains);
VIREO_ENTRY(vireo_connect_num_of_domains);
VIREO_ENTRY(vireo_connect_list_domains);
VIREO_ENTRY(vireo_connect_num_of_defined_domains);
VIREO_ENTRY(vireo_connect_list_defined_domains);
VIREO_ENTRY(vireo_domain_lookup_by_name);
VIREO_ENTRY(vireo_domain_lookup_by_uuid);
VIREO_ENTRY(vireo_domain_lookup_by_id);
VIREO_ENTRY(vireo_domain_define_xml);
VIREO_ENTRY(vireo_domain_define_xml_flags);
VIREO_ENTRY(vireo_domain_undefine);
VIREO_ENTRY(vireo_domain_undefine_flags);
VIREO_ENTRY(vireo_domain_get_xml_desc);
VIREO_ENTRY(vireo_domain_get_info);
VIREO_ENTRY(vireo_domain_get_state);
VIREO_ENTRY(vireo_domain_is_active);
VIREO_ENTRY(vireo_domain_is_persistent);
VIREO_ENTRY(vireo_domain_is_updated);
VIREO_ENTRY(vireo_domain_get_autostart);
VIREO_ENTRY(vireo_domain_set_autostart);
VIREO_ENTRY(vireo_domain_get_max_memory);
VIREO_ENTRY(vireo_domain_get_vcpus_flags);
VIREO_ENTRY(vireo_domain_get_os_type);
VIREO_ENTRY(vireo_domain_has_managed_save_image);
VIREO_ENTRY(vireo_domain_get_metadata);
VIREO_ENTRY(vireo_domain_create);
VIREO_ENTRY(vireo_domain_create_with_flags);
VIREO_ENTRY(vireo_domain_create_xml);

/* The connection state of one client. */
struct vireo_conn {
    bool open;
    char *uri;
};

struct vireo_conn *vireo_conn_of(struct rpc_client *client);

#endif
