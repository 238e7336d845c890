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
#include "vireo_protocol.h"
#include <sys/types.h>

struct vireo_driver {
    bool privileged;  /* system daemon (vireo:///system) */
    char *uri;        /* the URI this daemon serves */
    char *config_dir; /* persistent definitions (and vireo.conf) */
    char *run_dir;    /* state of running domains: status files, api sockets, event FIFOs */
    char *log_dir;    /* one <name>.log per domain: the VMM's stderr */
    char *emulator;   /* the vireo-vmm binary */
    struct vireo_domain_list *domains;
    struct vireo_host_info *host; /* probed once at start */
    struct rpc_program program;   /* see vireo_driver_program() */
    GList *conns;                 /* struct vireo_conn *: every client, for events */
    int next_id;                  /* the id of the next domain started */
    /* vireo.conf: who the VMM runs as (system daemon only). */
    bool run_as_set;
    uid_t run_uid;
    gid_t run_gid;
    char *run_user; /* for messages */
    /* vireo.conf: network.NAME = "BRIDGE"; NULL when none. */
    GHashTable *networks;
};

/* emulator: the vireo-vmm binary the driver runs; log_dir: where each
 * domain's VMM log goes. */
struct vireo_driver *vireo_driver_new(bool privileged, const char *config_dir, const char *run_dir,
                                      const char *log_dir, const char *emulator);

/* Reads vireo.conf in the config dir (user=, group=, network.NAME=). A missing file is
 * fine; a bad one is an error. */
int vireo_driver_load_config(struct vireo_driver *drv, GError **error)
    __attribute__((warn_unused_result));

/* At daemon start: reattaches to every VMM still running (status files in
 * the run dir), marks the dead ones shut off (crashed), then starts the
 * autostart domains. */
void vireo_driver_recover(struct vireo_driver *drv);

/* At daemon stop: detaches from the running VMMs (they keep running). */
void vireo_driver_detach_all(struct vireo_driver *drv);
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

/* lifecycle.c */
VIREO_ENTRY(vireo_domain_destroy);
VIREO_ENTRY(vireo_domain_destroy_flags);
VIREO_ENTRY(vireo_domain_shutdown);
VIREO_ENTRY(vireo_domain_shutdown_flags);
VIREO_ENTRY(vireo_domain_reboot);
VIREO_ENTRY(vireo_domain_suspend);
VIREO_ENTRY(vireo_domain_resume);
VIREO_ENTRY(vireo_domain_set_vcpus);
VIREO_ENTRY(vireo_domain_set_vcpus_flags);
VIREO_ENTRY(vireo_domain_set_memory);
VIREO_ENTRY(vireo_domain_set_memory_flags);

/* events.c */
VIREO_ENTRY(vireo_connect_domain_event_register);
VIREO_ENTRY(vireo_connect_domain_event_deregister);
VIREO_ENTRY(vireo_connect_domain_event_register_any);
VIREO_ENTRY(vireo_connect_domain_event_deregister_any);
VIREO_ENTRY(vireo_connect_domain_event_callback_register_any);
VIREO_ENTRY(vireo_connect_domain_event_callback_deregister_any);

/* console.c */
VIREO_ENTRY(vireo_domain_open_console);

/* network.c */
VIREO_ENTRY(vireo_domain_interface_stats);

/* The connection state of one client. */
struct vireo_conn {
    struct vireo_driver *drv;
    struct rpc_client *client;
    bool open;
    char *uri;
    GArray *callbacks; /* struct vireo_event_callback: events this client asked for */
    int next_callback_id;
    GList *streams; /* struct vireo_console *: console streams of this client */
};

/* The connection state of a client, created on first use. */
struct vireo_conn *vireo_conn_of(struct vireo_driver *drv, struct rpc_client *client);

/* Sends a lifecycle event (VIR_DOMAIN_EVENT_*, detail) about dom to every
 * client that registered for it. */
void vireo_event_lifecycle(struct vireo_driver *drv, const struct vireo_domain *dom, int event,
                           int detail);

/* Sends a reboot event (VIR_DOMAIN_EVENT_ID_REBOOT) about dom. */
void vireo_event_reboot(struct vireo_driver *drv, const struct vireo_domain *dom);

/* Reports an error to a client's console stream and the STREAM packets a
 * client sends (console.c). */
void vireo_console_stream_packet(void *opaque, struct rpc_client *client, const wire_header *hdr,
                                 const uint8_t *payload, size_t len);
void vireo_console_conn_closed(struct vireo_conn *conn);

/* Shared by the entry point files (driver.c). */
bool vireo_check_flags(unsigned int flags, unsigned int supported, const char *api, GError **error);
struct vireo_domain *vireo_lookup(struct vireo_driver *drv, const wire_nonnull_domain *wd,
                                  GError **error);
void vireo_wire_domain_fill(wire_nonnull_domain *out, const struct vireo_domain *dom);

#endif
