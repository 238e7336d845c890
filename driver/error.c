/* Maps GError domains to libvirt error domains. */
#include <config.h>

#include "error.h"

#include <libvirt/virterror.h>

#include "xml/domain_def.h"

GQuark vireo_driver_error_quark(void)
{
    return g_quark_from_static_string("vireo-driver-error-quark");
}

/* libvirt's wording for the codes xml/ reports. */
static const char *xml_error_prefix(int code)
{
    switch (code) {
    case VIR_ERR_CONFIG_UNSUPPORTED:
        return _("unsupported configuration");
    case VIR_ERR_XML_ERROR:
        return _("XML error");
    case VIR_ERR_XML_DETAIL:
        return _("XML error");
    case VIR_ERR_NO_NAME:
        return _("missing name information");
    case VIR_ERR_OVERFLOW:
        return _("value too large");
    case VIR_ERR_XML_INVALID_SCHEMA:
        return _("XML document failed to validate against schema");
    case VIR_ERR_INVALID_ARG:
        return _("invalid argument");
    default:
        return NULL;
    }
}

char *vireo_error_describe(const GError *error, int *code, int *domain)
{
    const char *prefix;

    if (error->domain == VIREO_DRIVER_ERROR) {
        *code = error->code;
        *domain = VIR_FROM_DOMAIN;
    } else if (error->domain == VIREO_RPC_ERROR) {
        *code = error->code;
        *domain = VIR_FROM_RPC;
    } else if (error->domain == VIREO_XML_ERROR) {
        *code = error->code;
        *domain = VIR_FROM_DOMAIN;
        prefix = xml_error_prefix(error->code);
        if (prefix)
            return g_strdup_printf("%s: %s", prefix, error->message);
    } else {
        *code = VIR_ERR_INTERNAL_ERROR;
        *domain = VIR_FROM_NONE;
        return g_strdup_printf(_("internal error: %s"), error->message);
    }
    return g_strdup(error->message);
}
