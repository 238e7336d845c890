/* Domain XML -> struct vireo_domain_def: the children of <devices>. Each
 * device Vireo has is read into its struct; each it has not is refused by
 * name with VIR_ERR_CONFIG_UNSUPPORTED. */
#include "domain_def.h"
#include "domain_internal.h"
#include "i18n.h"
#include "xml_util.h"

#include <libvirt/virterror.h>
#include <string.h>

#define UNSUPPORTED(error, ...)                                                                    \
    g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)
#define XML_ERROR(error, ...) g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, __VA_ARGS__)

bool vireo_is_virtio_model(const char *model)
{
    return !model || !strcmp(model, "virtio") || !strcmp(model, "virtio-non-transitional");
}

int vireo_pci_address_parse(xmlNode *node, const char *owner, struct vireo_pci_address *addr,
                            GError **error)
{
    g_autofree char *type = vireo_xml_prop(node, "type");
    g_autofree char *domain = vireo_xml_prop(node, "domain");
    g_autofree char *bus = vireo_xml_prop(node, "bus");
    g_autofree char *slot = vireo_xml_prop(node, "slot");
    g_autofree char *function = vireo_xml_prop(node, "function");
    g_autofree char *multifunction = vireo_xml_prop(node, "multifunction");
    unsigned int d = 0, b = 0, s = 0, f = 0;

    if (!type) {
        XML_ERROR(error, _("<%s><address> has no type attribute"), owner);
        return -1;
    }
    if (strcmp(type, "pci")) {
        UNSUPPORTED(error, _("<%s><address type='%s'>: Vireo places devices on PCI only"), owner,
                    type);
        return -1;
    }
    if ((domain && !vireo_parse_uint(domain, 0, 0xffff, &d)) ||
        (bus && !vireo_parse_uint(bus, 0, 0xff, &b)) || !vireo_parse_uint(slot, 0, 0x1f, &s) ||
        (function && !vireo_parse_uint(function, 0, 7, &f))) {
        XML_ERROR(error,
                  _("<%s><address type='pci'>: invalid or missing domain, bus, slot or function"),
                  owner);
        return -1;
    }
    if (d != 0 || b != 0) {
        UNSUPPORTED(error,
                    _("<%s><address type='pci' domain='%s' bus='%s'>: Vireo has one PCI bus, "
                      "0000:00"),
                    owner, domain ? domain : "0", bus ? bus : "0");
        return -1;
    }
    if (s == 0) {
        UNSUPPORTED(error, _("<%s><address type='pci' slot='%s'>: slot 0 is the host bridge"),
                    owner, slot);
        return -1;
    }
    if (f != 0 || (multifunction && !strcmp(multifunction, "on"))) {
        UNSUPPORTED(error, _("<%s><address type='pci'>: Vireo has no multifunction devices"),
                    owner);
        return -1;
    }
    *addr =
        (struct vireo_pci_address){.set = true, .domain = d, .bus = b, .slot = s, .function = f};
    return 0;
}

static bool alias_chars_valid(const char *alias)
{
    if (!*alias)
        return false;
    for (const char *p = alias; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    }
    return true;
}

int vireo_alias_parse(xmlNode *node, unsigned int flags, char **alias, GError **error)
{
    g_autofree char *name = vireo_xml_prop(node, "name");

    if (!name || !alias_chars_valid(name)) {
        XML_ERROR(error, _("<alias name='%s'>: an alias is letters, digits, '-', '_' and '.'"),
                  name ? name : "");
        return -1;
    }
    /* As libvirt: only user aliases survive a definition; the rest are ours. */
    if (!(flags & VIREO_DOMAIN_DEF_PARSE_LIVE) && !g_str_has_prefix(name, "ua-"))
        return 0;
    g_free(*alias);
    *alias = g_steal_pointer(&name);
    return 0;
}

int vireo_boot_order_parse(xmlNode *node, const char *owner, unsigned int *order, GError **error)
{
    g_autofree char *value = vireo_xml_prop(node, "order");

    if (!vireo_parse_uint(value, 10, G_MAXINT, order) || *order == 0) {
        XML_ERROR(error, _("<%s><boot order='%s'>: invalid boot order"), owner, value ? value : "");
        return -1;
    }
    return 0;
}

static int parse_disk_driver(struct vireo_disk_def *disk, xmlNode *node, GError **error)
{
    g_autofree char *name = vireo_xml_prop(node, "name");
    g_autofree char *type = vireo_xml_prop(node, "type");

    if (name && strcmp(name, "qemu")) {
        UNSUPPORTED(error, _("<disk><driver name='%s'>: Vireo understands driver name 'qemu'"),
                    name);
        return -1;
    }
    if (!type || !strcmp(type, "raw")) {
        disk->format = VIREO_DISK_RAW;
    } else if (!strcmp(type, "qcow2")) {
        disk->format = VIREO_DISK_QCOW2;
    } else {
        UNSUPPORTED(error, _("<disk><driver type='%s'>: Vireo opens raw and qcow2 images"), type);
        return -1;
    }
    /* A repeated <driver> replaces what an earlier one said. */
    g_free(disk->cache);
    disk->cache = vireo_xml_prop(node, "cache");
    g_free(disk->io);
    disk->io = vireo_xml_prop(node, "io");
    g_free(disk->discard);
    disk->discard = vireo_xml_prop(node, "discard");
    return 0;
}

static int parse_disk_target(struct vireo_disk_def *disk, xmlNode *node, GError **error)
{
    g_autofree char *dev = vireo_xml_prop(node, "dev");
    g_autofree char *bus = vireo_xml_prop(node, "bus");

    if (!dev || !*dev) {
        XML_ERROR(error, _("<disk><target> has no dev attribute"));
        return -1;
    }
    for (const char *p = dev; *p; p++) {
        if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p)) {
            XML_ERROR(error, _("<disk><target dev='%s'>: invalid disk name"), dev);
            return -1;
        }
    }
    /* Without bus=, libvirt picks the bus from the name's prefix. */
    if (!bus && !g_str_has_prefix(dev, "vd"))
        bus = g_strdup(g_str_has_prefix(dev, "sd")    ? "scsi"
                       : g_str_has_prefix(dev, "hd")  ? "ide"
                       : g_str_has_prefix(dev, "xvd") ? "xen"
                                                      : "unknown");
    if (bus && strcmp(bus, "virtio")) {
        UNSUPPORTED(error, _("<disk><target dev='%s' bus='%s'>: Vireo disks are on bus 'virtio'"),
                    dev, bus);
        return -1;
    }
    disk->target = g_steal_pointer(&dev);
    return 0;
}

static int parse_disk(struct vireo_domain_def *def, xmlNode *node, unsigned int flags,
                      GError **error)
{
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_disk_def_free);
    g_autofree char *type = vireo_xml_prop(node, "type");
    g_autofree char *device = vireo_xml_prop(node, "device");
    g_autofree char *model = vireo_xml_prop(node, "model");
    struct vireo_disk_def *disk = g_new0(struct vireo_disk_def, 1);

    g_ptr_array_add(keep, disk);
    if (type && strcmp(type, "file") && strcmp(type, "block")) {
        UNSUPPORTED(error, _("<disk type='%s'>: Vireo opens disks of type 'file' or 'block'"),
                    type);
        return -1;
    }
    disk->is_block = type && !strcmp(type, "block");
    if (device && strcmp(device, "disk")) {
        UNSUPPORTED(error, _("<disk device='%s'>: Vireo has virtio disks only"), device);
        return -1;
    }
    if (!vireo_is_virtio_model(model)) {
        UNSUPPORTED(error, _("<disk model='%s'>: Vireo disks are virtio 1.0 devices"), model);
        return -1;
    }
    vireo_for_each_child(child, node)
    {
        const char *name = VIREO_NODE_NAME(child);
        int rc = 0;

        if (!strcmp(name, "driver")) {
            rc = parse_disk_driver(disk, child, error);
        } else if (!strcmp(name, "source")) {
            g_free(disk->source);
            disk->source = vireo_xml_prop(child, disk->is_block ? "dev" : "file");
        } else if (!strcmp(name, "target")) {
            g_clear_pointer(&disk->target, g_free);
            rc = parse_disk_target(disk, child, error);
        } else if (!strcmp(name, "readonly")) {
            disk->readonly = true;
        } else if (!strcmp(name, "serial")) {
            g_free(disk->serial);
            disk->serial = vireo_xml_text(child);
        } else if (!strcmp(name, "alias")) {
            rc = vireo_alias_parse(child, flags, &disk->alias, error);
        } else if (!strcmp(name, "address")) {
            rc = vireo_pci_address_parse(child, "disk", &disk->addr, error);
        } else if (!strcmp(name, "boot")) {
            rc = vireo_boot_order_parse(child, "disk", &disk->boot_order, error);
        } else if (!strcmp(name, "backingStore")) {
            /* Status information that libvirt shows; the image header is the truth. */
        } else {
            UNSUPPORTED(error, _("<disk><%s>: Vireo does not support this disk setting"), name);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    if (!disk->source || !*disk->source) {
        if (disk->is_block)
            XML_ERROR(error, _("<disk type='block'> has no <source dev='...'>"));
        else
            XML_ERROR(error, _("<disk type='file'> has no <source file='...'>"));
        return -1;
    }
    if (!disk->target) {
        XML_ERROR(error, _("<disk> has no <target dev='...'>"));
        return -1;
    }
    g_ptr_array_add(def->disks, g_ptr_array_steal_index(keep, 0));
    return 0;
}

static int parse_chardev_target(struct vireo_chardev_def *chr, xmlNode *node, bool console,
                                GError **error)
{
    g_autofree char *type = vireo_xml_prop(node, "type");
    g_autofree char *port = vireo_xml_prop(node, "port");
    unsigned int p;

    if (port && (!vireo_parse_uint(port, 10, G_MAXINT, &p))) {
        XML_ERROR(error, _("<%s><target port='%s'>: invalid port"), console ? "console" : "serial",
                  port);
        return -1;
    }
    if (console) {
        chr->virtio = type && !strcmp(type, "virtio");
        if (type && !chr->virtio && strcmp(type, "serial")) {
            UNSUPPORTED(error,
                        _("<console><target type='%s'>: Vireo consoles are 'serial' or 'virtio'"),
                        type);
            return -1;
        }
        return 0;
    }
    if (type && strcmp(type, "isa-serial")) {
        UNSUPPORTED(error, _("<serial><target type='%s'>: Vireo has one isa-serial port"), type);
        return -1;
    }
    if (port && p != 0) {
        UNSUPPORTED(error, _("<serial><target port='%s'>: Vireo has one serial port, port 0"),
                    port);
        return -1;
    }
    vireo_for_each_child(child, node)
    {
        g_autofree char *model = vireo_xml_prop(child, "name");

        if (strcmp(VIREO_NODE_NAME(child), "model") || !model || strcmp(model, "isa-serial")) {
            UNSUPPORTED(error, _("<serial><target><%s name='%s'>: Vireo has one isa-serial port"),
                        VIREO_NODE_NAME(child), model ? model : "");
            return -1;
        }
    }
    return 0;
}

static int parse_chardev(GPtrArray *list, xmlNode *node, unsigned int flags, GError **error)
{
    g_autoptr(GPtrArray) keep =
        g_ptr_array_new_with_free_func((GDestroyNotify)vireo_chardev_def_free);
    const char *what = VIREO_NODE_NAME(node);
    bool console = !strcmp(what, "console");
    g_autofree char *type = vireo_xml_prop(node, "type");
    struct vireo_chardev_def *chr = g_new0(struct vireo_chardev_def, 1);

    g_ptr_array_add(keep, chr);
    if (!type || !strcmp(type, "pty")) {
        chr->kind = VIREO_CHARDEV_PTY;
    } else if (!strcmp(type, "file")) {
        chr->kind = VIREO_CHARDEV_FILE;
    } else if (!strcmp(type, "null")) {
        chr->kind = VIREO_CHARDEV_NULL;
    } else {
        UNSUPPORTED(error,
                    _("<%s type='%s'>: Vireo connects serial ports and consoles to a pty, "
                      "a file or null"),
                    what, type);
        return -1;
    }
    vireo_for_each_child(child, node)
    {
        const char *name = VIREO_NODE_NAME(child);
        int rc = 0;

        if (!strcmp(name, "source")) {
            /* A pty's path is live information; a file's is configuration. */
            if (chr->kind == VIREO_CHARDEV_FILE ||
                (chr->kind == VIREO_CHARDEV_PTY && (flags & VIREO_DOMAIN_DEF_PARSE_LIVE))) {
                g_free(chr->path);
                chr->path = vireo_xml_prop(child, "path");
            }
        } else if (!strcmp(name, "target")) {
            rc = parse_chardev_target(chr, child, console, error);
        } else if (!strcmp(name, "alias")) {
            rc = vireo_alias_parse(child, flags, &chr->alias, error);
        } else if (!strcmp(name, "address") && console) {
            rc = vireo_pci_address_parse(child, what, &chr->addr, error);
        } else {
            UNSUPPORTED(error, _("<%s><%s>: Vireo does not support this character device setting"),
                        what, name);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    if (chr->kind == VIREO_CHARDEV_FILE && (!chr->path || !*chr->path)) {
        XML_ERROR(error, _("<%s type='file'> has no <source path='...'>"), what);
        return -1;
    }
    if (chr->addr.set && !chr->virtio) {
        UNSUPPORTED(error, _("<%s><address>: only a virtio console sits on PCI"), what);
        return -1;
    }
    g_ptr_array_add(list, g_ptr_array_steal_index(keep, 0));
    return 0;
}

static int parse_rng(struct vireo_domain_def *def, xmlNode *node, unsigned int flags,
                     GError **error)
{
    g_autofree char *model = vireo_xml_prop(node, "model");
    g_autofree char *backend = NULL;
    bool have_backend = false;

    if (def->rng) {
        UNSUPPORTED(error, _("more than one <rng>: Vireo has one entropy device"));
        return -1;
    }
    if (!model || !vireo_is_virtio_model(model)) {
        UNSUPPORTED(error, _("<rng model='%s'>: Vireo's entropy device is virtio"),
                    model ? model : "");
        return -1;
    }
    vireo_for_each_child(child, node)
    {
        const char *name = VIREO_NODE_NAME(child);

        if (!strcmp(name, "backend")) {
            g_autofree char *bmodel = vireo_xml_prop(child, "model");

            if (!bmodel || strcmp(bmodel, "random")) {
                UNSUPPORTED(error, _("<rng><backend model='%s'>: Vireo reads a random device"),
                            bmodel ? bmodel : "");
                return -1;
            }
            g_free(backend);
            backend = g_strstrip(vireo_xml_text(child));
            have_backend = true;
        } else if (!strcmp(name, "alias")) {
            if (vireo_alias_parse(child, flags, &def->rng_alias, error) < 0)
                return -1;
        } else if (!strcmp(name, "address")) {
            if (vireo_pci_address_parse(child, "rng", &def->rng_addr, error) < 0)
                return -1;
        } else {
            UNSUPPORTED(error, _("<rng><%s>: Vireo does not support this entropy setting"), name);
            return -1;
        }
    }
    if (!have_backend) {
        XML_ERROR(error, _("<rng> has no <backend>"));
        return -1;
    }
    if (!*backend) {
        g_free(backend);
        backend = g_strdup("/dev/urandom");
    }
    if (strcmp(backend, "/dev/urandom") && strcmp(backend, "/dev/random")) {
        UNSUPPORTED(error, _("<rng><backend>%s</backend>: Vireo reads /dev/urandom or /dev/random"),
                    backend);
        return -1;
    }
    def->rng = true;
    def->rng_backend = g_steal_pointer(&backend);
    return 0;
}

static int parse_vsock_cid(struct vireo_domain_def *def, xmlNode *node, unsigned int flags,
                           GError **error)
{
    g_autofree char *autocid = vireo_xml_prop(node, "auto");
    g_autofree char *address = vireo_xml_prop(node, "address");
    unsigned int cid = 0;

    if (autocid && strcmp(autocid, "yes") && strcmp(autocid, "no")) {
        XML_ERROR(error, _("<vsock><cid auto='%s'>: expected 'yes' or 'no'"), autocid);
        return -1;
    }
    def->vsock_auto_cid = autocid && !strcmp(autocid, "yes");
    /* 0-2 are reserved (hypervisor, local, host), and U32_MAX is VMADDR_CID_ANY. */
    if (address && (!vireo_parse_uint(address, 10, G_MAXUINT32 - 1, &cid) || cid < 3)) {
        XML_ERROR(error, _("<vsock><cid address='%s'>: expected 3 to 4294967294"), address);
        return -1;
    }
    if (!def->vsock_auto_cid && !address) {
        XML_ERROR(error, _("<vsock><cid auto='no'> needs an address"));
        return -1;
    }
    /* An automatic cid is picked at start; a definition does not keep it. */
    if (!def->vsock_auto_cid || (flags & VIREO_DOMAIN_DEF_PARSE_LIVE))
        def->vsock_cid = cid;
    return 0;
}

static int parse_vsock(struct vireo_domain_def *def, xmlNode *node, unsigned int flags,
                       GError **error)
{
    g_autofree char *model = vireo_xml_prop(node, "model");
    bool have_cid = false;

    if (def->vsock) {
        UNSUPPORTED(error, _("more than one <vsock>: Vireo has one vsock device"));
        return -1;
    }
    if (!vireo_is_virtio_model(model)) {
        UNSUPPORTED(error, _("<vsock model='%s'>: Vireo's vsock device is virtio"), model);
        return -1;
    }
    vireo_for_each_child(child, node)
    {
        const char *name = VIREO_NODE_NAME(child);
        int rc = 0;

        if (!strcmp(name, "cid")) {
            rc = parse_vsock_cid(def, child, flags, error);
            have_cid = true;
        } else if (!strcmp(name, "alias")) {
            rc = vireo_alias_parse(child, flags, &def->vsock_alias, error);
        } else if (!strcmp(name, "address")) {
            rc = vireo_pci_address_parse(child, "vsock", &def->vsock_addr, error);
        } else {
            UNSUPPORTED(error, _("<vsock><%s>: Vireo does not support this vsock setting"), name);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    /* libvirt's default when <cid> is absent: automatic. */
    if (!have_cid)
        def->vsock_auto_cid = true;
    def->vsock = true;
    return 0;
}

static int parse_controller(struct vireo_domain_def *def, xmlNode *node, GError **error)
{
    g_autofree char *type = vireo_xml_prop(node, "type");
    g_autofree char *model = vireo_xml_prop(node, "model");
    bool ok = false;

    if (!type) {
        XML_ERROR(error, _("<controller> has no type attribute"));
        return -1;
    }
    if (!strcmp(type, "pci"))
        ok = model && (!strcmp(model, "pci-root") || !strcmp(model, "pcie-root"));
    else if (!strcmp(type, "usb"))
        ok = model && !strcmp(model, "none");
    else if (!strcmp(type, "virtio-serial"))
        ok = true;
    if (!ok) {
        if (model)
            UNSUPPORTED(error,
                        _("<controller type='%s' model='%s'>: Vireo has one PCI root bus and no "
                          "other controllers"),
                        type, model);
        else
            UNSUPPORTED(error,
                        _("<controller type='%s'>: Vireo has one PCI root bus and no other "
                          "controllers"),
                        type);
        return -1;
    }
    g_ptr_array_add(def->controllers_xml, vireo_xml_node_dump(node));
    return 0;
}

static int parse_input(struct vireo_domain_def *def, xmlNode *node, GError **error)
{
    g_autofree char *type = vireo_xml_prop(node, "type");
    g_autofree char *bus = vireo_xml_prop(node, "bus");

    if (type && (!bus || !strcmp(bus, "ps2"))) {
        if (!strcmp(type, "mouse")) {
            def->input_ps2_mouse = true;
            return 0;
        }
        if (!strcmp(type, "keyboard")) {
            def->input_ps2_keyboard = true;
            return 0;
        }
    }
    UNSUPPORTED(error, _("<input type='%s' bus='%s'>: Vireo has only the implicit PS/2 devices"),
                type ? type : "", bus ? bus : "");
    return -1;
}

static int parse_video(struct vireo_domain_def *def, xmlNode *node, GError **error)
{
    g_autofree char *type = NULL;

    vireo_for_each_child(child, node)
    {
        if (!strcmp(VIREO_NODE_NAME(child), "model")) {
            g_free(type);
            type = vireo_xml_prop(child, "type");
        }
    }
    if (!type || strcmp(type, "none")) {
        UNSUPPORTED(error, _("<video><model type='%s'>: Vireo has no video devices"),
                    type ? type : "");
        return -1;
    }
    def->video_none = true;
    return 0;
}

static int parse_memballoon(struct vireo_domain_def *def, xmlNode *node, GError **error)
{
    g_autofree char *model = vireo_xml_prop(node, "model");

    if (!model || strcmp(model, "none")) {
        UNSUPPORTED(error,
                    _("<memballoon model='%s'>: Vireo has no memory balloon; use model='none'"),
                    model ? model : "");
        return -1;
    }
    return 0;
}

static int parse_graphics(xmlNode *node, GError **error)
{
    g_autofree char *type = vireo_xml_prop(node, "type");

    UNSUPPORTED(error, _("<graphics type='%s'>: Vireo has no graphics devices"), type ? type : "");
    return -1;
}

/* Devices libvirt knows and Vireo has not. */
static const struct {
    const char *name;
    const char *why;
} unsupported_devices[] = {
    {"lease", N_("<lease>: Vireo has no lock manager")},
    {"filesystem", N_("<filesystem>: Vireo has no shared filesystems yet")},
    {"hostdev", N_("<hostdev>: Vireo has no device passthrough yet")},
    {"smartcard", N_("<smartcard>: Vireo has no smartcard devices")},
    {"parallel", N_("<parallel>: Vireo has no parallel ports")},
    {"channel", N_("<channel>: Vireo has no virtio-serial channels")},
    {"tpm", N_("<tpm>: Vireo has no TPM devices")},
    {"sound", N_("<sound>: Vireo has no sound devices")},
    {"audio", N_("<audio>: Vireo has no sound devices")},
    {"redirdev", N_("<redirdev>: Vireo has no USB redirection")},
    {"redirfilter", N_("<redirfilter>: Vireo has no USB redirection")},
    {"hub", N_("<hub>: Vireo has no USB devices")},
    {"watchdog", N_("<watchdog>: Vireo has no watchdog devices")},
    {"panic", N_("<panic>: Vireo has no panic device")},
    {"shmem", N_("<shmem>: Vireo has no shared memory devices")},
    {"memory", N_("<memory>: Vireo has no memory hotplug")},
    {"iommu", N_("<iommu>: Vireo has no IOMMU in the domain definition yet")},
    {"crypto", N_("<crypto>: Vireo has no crypto devices")},
};

static int parse_device(struct vireo_domain_def *def, xmlNode *node, unsigned int flags,
                        GError **error)
{
    const char *name = VIREO_NODE_NAME(node);

    if (!strcmp(name, "emulator")) {
        g_free(def->emulator);
        def->emulator = g_strstrip(vireo_xml_text(node));
        return 0;
    }
    if (!strcmp(name, "disk"))
        return parse_disk(def, node, flags, error);
    if (!strcmp(name, "interface"))
        return vireo_interface_parse(def, node, flags, error);
    if (!strcmp(name, "serial"))
        return parse_chardev(def->serials, node, flags, error);
    if (!strcmp(name, "console"))
        return parse_chardev(def->consoles, node, flags, error);
    if (!strcmp(name, "rng"))
        return parse_rng(def, node, flags, error);
    if (!strcmp(name, "vsock"))
        return parse_vsock(def, node, flags, error);
    if (!strcmp(name, "controller"))
        return parse_controller(def, node, error);
    if (!strcmp(name, "input"))
        return parse_input(def, node, error);
    if (!strcmp(name, "video"))
        return parse_video(def, node, error);
    if (!strcmp(name, "memballoon"))
        return parse_memballoon(def, node, error);
    if (!strcmp(name, "graphics"))
        return parse_graphics(node, error);
    for (size_t i = 0; i < G_N_ELEMENTS(unsupported_devices); i++) {
        if (!strcmp(name, unsupported_devices[i].name)) {
            g_set_error_literal(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                                _(unsupported_devices[i].why));
            return -1;
        }
    }
    UNSUPPORTED(error, _("<devices><%s>: Vireo does not know this device"), name);
    return -1;
}

int vireo_devices_parse(struct vireo_domain_def *def, xmlNode *devices, unsigned int flags,
                        GError **error)
{
    vireo_for_each_child(child, devices)
    {
        if (parse_device(def, child, flags, error) < 0)
            return -1;
    }
    return 0;
}
