/* Errors inside virtvireod: GErrors whose code is a libvirt virErrorNumber,
 * reported once where they happen and sent back to the client unchanged. The
 * GError domain says which libvirt error domain (VIR_FROM_...) they belong to. */
#ifndef VIREO_DRIVER_ERROR_H
#define VIREO_DRIVER_ERROR_H

#include <glib.h>

#include <libintl.h>

/* Translatable messages, in the text domain of the package. */
#define _(s)  dgettext(PACKAGE, s)
#define N_(s) s

/* Errors of the driver and its domain list: VIR_FROM_DOMAIN. */
#define VIREO_DRIVER_ERROR (vireo_driver_error_quark())
GQuark vireo_driver_error_quark(void);

/* Errors of the RPC layer itself: VIR_FROM_RPC. */
#define VIREO_RPC_ERROR (vireo_rpc_error_quark())
GQuark vireo_rpc_error_quark(void);

/* The libvirt error domain (VIR_FROM_...), code and message for an error; an
 * error from an unknown GError domain (GLib I/O, ...) becomes
 * VIR_ERR_INTERNAL_ERROR. Messages from xml/ carry only the detail, so they
 * get libvirt's wording for their code in front ("unsupported configuration: ..."). */
char *vireo_error_describe(const GError *error, int *code, int *domain);

#endif
