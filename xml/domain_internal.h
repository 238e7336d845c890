/* What the parse, post-parse and format units of the domain definition share.
 * Internal to xml/. */
#ifndef VIREO_XML_DOMAIN_INTERNAL_H
#define VIREO_XML_DOMAIN_INTERNAL_H

#include "domain_def.h"

#include <libxml/tree.h>

void vireo_disk_def_free(struct vireo_disk_def *disk);
void vireo_net_def_free(struct vireo_net_def *net);
void vireo_chardev_def_free(struct vireo_chardev_def *chr);

/* domain_devices.c: the children of <devices>. */
int vireo_devices_parse(struct vireo_domain_def *def, xmlNode *devices, unsigned int flags,
                        GError **error) __attribute__((warn_unused_result));
/* An <address> element: only PCI on domain 0, bus 0, function 0. */
int vireo_pci_address_parse(xmlNode *node, const char *owner, struct vireo_pci_address *addr,
                            GError **error) __attribute__((warn_unused_result));
/* Returns the alias given by <alias name=> when it is kept under flags. */
int vireo_alias_parse(xmlNode *node, unsigned int flags, char **alias, GError **error)
    __attribute__((warn_unused_result));

/* <boot order=> of a device; owner names the element in messages. */
int vireo_boot_order_parse(xmlNode *node, const char *owner, unsigned int *order, GError **error)
    __attribute__((warn_unused_result));
/* No model, or a virtio one (Vireo's devices are virtio 1.0). */
bool vireo_is_virtio_model(const char *model);
/* domain_net.c: one <interface>, appended to def->nets. */
int vireo_interface_parse(struct vireo_domain_def *def, xmlNode *node, unsigned int flags,
                          GError **error) __attribute__((warn_unused_result));

/* domain_postparse.c: defaults (aliases, PCI slots) and whole-domain checks. */
int vireo_domain_def_post_parse(struct vireo_domain_def *def, GError **error)
    __attribute__((warn_unused_result));

/* schema.c: validation against one of libvirt's RNG files, by base name
 * ("domain.rng"). 0 when valid or when the schema is not installed. */
int vireo_schema_validate(xmlDoc *doc, const char *rng, GError **error)
    __attribute__((warn_unused_result));
/* Parses an XML document held in memory: NULL with VIR_ERR_XML_ERROR naming
 * libxml2's message and line. Documents with a DTD are refused. */
xmlDoc *vireo_xml_read(const char *xml, const char *what, GError **error);

#endif
