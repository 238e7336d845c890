/* Domain XML -> struct vireo_domain_def: <interface>. Taps (ethernet,
 * bridge, network) and passt (user) with virtio network cards; anything else
 * is refused by name with VIR_ERR_CONFIG_UNSUPPORTED. */
#include "domain_def.h"
#include "domain_internal.h"
#include "i18n.h"
#include "xml_util.h"

#include <libvirt/virterror.h>
#include <string.h>

#define UNSUPPORTED(error, ...)                                                                    \
    g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)
#define XML_ERROR(error, ...) g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, __VA_ARGS__)

static int parse_net_type(struct vireo_net_def *net, const char *type, GError **error)
{
    if (!type) {
        XML_ERROR(error, _("<interface> has no type attribute"));
        return -1;
    }
    if (!strcmp(type, "ethernet"))
        net->type = VIREO_NET_ETHERNET;
    else if (!strcmp(type, "bridge"))
        net->type = VIREO_NET_BRIDGE;
    else if (!strcmp(type, "network"))
        net->type = VIREO_NET_NETWORK;
    else if (!strcmp(type, "user"))
        net->type = VIREO_NET_USER;
    else {
        UNSUPPORTED(error,
                    _("<interface type='%s'>: Vireo has interfaces of type ethernet, bridge, "
                      "network and user (passt)"),
                    type);
        return -1;
    }
    return 0;
}

static int parse_net_child(struct vireo_net_def *net, xmlNode *child, unsigned int flags,
                           bool *passt, GError **error)
{
    const char *name = VIREO_NODE_NAME(child);

    if (!strcmp(name, "mac")) {
        g_autofree char *address = vireo_xml_prop(child, "address");

        if (!vireo_mac_parse(address, net->mac)) {
            XML_ERROR(error, _("<interface><mac address='%s'>: malformed MAC address"),
                      address ? address : "");
            return -1;
        }
        if (net->mac[0] & 1) {
            XML_ERROR(error, _("<interface><mac address='%s'>: a multicast address"), address);
            return -1;
        }
        return 0;
    }
    if (!strcmp(name, "source")) {
        if (net->type == VIREO_NET_BRIDGE || net->type == VIREO_NET_NETWORK) {
            g_free(net->source);
            net->source =
                vireo_xml_prop(child, net->type == VIREO_NET_BRIDGE ? "bridge" : "network");
        }
        /* The bridge a network resolved to is the daemon's, kept in its status
         * file; a definition that gives one has it dropped, as libvirt does. */
        if (net->type == VIREO_NET_NETWORK && (flags & VIREO_DOMAIN_DEF_PARSE_LIVE)) {
            g_free(net->bridge);
            net->bridge = vireo_xml_prop(child, "bridge");
        }
        return 0;
    }
    if (!strcmp(name, "target")) {
        g_autofree char *dev = vireo_xml_prop(child, "dev");

        /* libvirt drops the tap names it made up itself ("vnetN") from a definition. */
        if (dev && !(flags & VIREO_DOMAIN_DEF_PARSE_LIVE) && g_str_has_prefix(dev, "vnet"))
            g_clear_pointer(&dev, g_free);
        g_free(net->target_dev);
        net->target_dev = g_steal_pointer(&dev);
        return 0;
    }
    if (!strcmp(name, "model")) {
        g_autofree char *type = vireo_xml_prop(child, "type");

        if (!type || !vireo_is_virtio_model(type)) {
            UNSUPPORTED(error,
                        _("<interface><model type='%s'>: Vireo network cards are virtio only"),
                        type ? type : "");
            return -1;
        }
        return 0;
    }
    if (!strcmp(name, "driver")) {
        g_autofree char *queues = vireo_xml_prop(child, "queues");

        if (queues && (!vireo_parse_uint(queues, 10, 256, &net->queues) || net->queues == 0)) {
            XML_ERROR(error, _("<interface><driver queues='%s'>: expected 1 to 256"), queues);
            return -1;
        }
        return 0;
    }
    if (!strcmp(name, "mtu")) {
        g_autofree char *size = vireo_xml_prop(child, "size");

        if (!vireo_parse_uint(size, 10, 65535, &net->mtu) || net->mtu < 68) {
            XML_ERROR(error, _("<interface><mtu size='%s'>: expected 68 to 65535"),
                      size ? size : "");
            return -1;
        }
        return 0;
    }
    if (!strcmp(name, "backend")) {
        g_autofree char *type = vireo_xml_prop(child, "type");

        *passt = type && !strcmp(type, "passt");
        if (type && !*passt && strcmp(type, "default")) {
            UNSUPPORTED(error, _("<interface><backend type='%s'>: Vireo has passt or taps"), type);
            return -1;
        }
        return 0;
    }
    if (!strcmp(name, "link")) {
        g_autofree char *state = vireo_xml_prop(child, "state");

        if (state && strcmp(state, "up")) {
            UNSUPPORTED(error, _("<interface><link state='%s'>: Vireo links are always up"), state);
            return -1;
        }
        return 0;
    }
    if (!strcmp(name, "alias"))
        return vireo_alias_parse(child, flags, &net->alias, error);
    if (!strcmp(name, "address"))
        return vireo_pci_address_parse(child, "interface", &net->addr, error);
    if (!strcmp(name, "boot"))
        return vireo_boot_order_parse(child, "interface", &net->boot_order, error);
    UNSUPPORTED(error, _("<interface><%s>: Vireo does not support this interface setting"), name);
    return -1;
}

int vireo_interface_parse(struct vireo_domain_def *def, xmlNode *node, unsigned int flags,
                          GError **error)
{
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_net_def_free);
    g_autofree char *type = vireo_xml_prop(node, "type");
    struct vireo_net_def *net = g_new0(struct vireo_net_def, 1);
    bool have_mac = false, passt = false;

    g_ptr_array_add(keep, net);
    if (parse_net_type(net, type, error) < 0)
        return -1;
    vireo_for_each_child(child, node)
    {
        if (parse_net_child(net, child, flags, &passt, error) < 0)
            return -1;
        have_mac |= !strcmp(VIREO_NODE_NAME(child), "mac");
    }
    if (!have_mac)
        vireo_mac_generate(net->mac);
    if (net->type == VIREO_NET_USER && !passt) {
        UNSUPPORTED(error, _("<interface type='user'>: Vireo needs <backend type='passt'/> for "
                             "user networking"));
        return -1;
    }
    if (net->type != VIREO_NET_USER && passt) {
        XML_ERROR(error,
                  _("<interface type='%s'><backend type='passt'>: passt is for "
                    "interfaces of type 'user'"),
                  type);
        return -1;
    }
    if ((net->type == VIREO_NET_BRIDGE || net->type == VIREO_NET_NETWORK) &&
        (!net->source || !*net->source)) {
        if (net->type == VIREO_NET_BRIDGE)
            XML_ERROR(error, _("<interface type='bridge'> has no <source bridge='...'>"));
        else
            XML_ERROR(error, _("<interface type='network'> has no <source network='...'>"));
        return -1;
    }
    g_ptr_array_add(def->nets, g_ptr_array_steal_index(keep, 0));
    return 0;
}
