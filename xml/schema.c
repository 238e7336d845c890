/* Reading XML documents safely (no network, no DTDs, libxml2's own limits on
 * depth and size) and validating them against libvirt's RNG schemas. */
#include "domain_def.h"
#include "domain_internal.h"
#include "i18n.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <string.h>

/* libxml2 2.12 made the error callbacks take a const xmlError. */
#if LIBXML_VERSION >= 21200
typedef const xmlError vireo_xml_error_t;
#else
typedef xmlError vireo_xml_error_t;
#endif

xmlDoc *vireo_xml_read(const char *xml, const char *what, GError **error)
{
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    size_t len = strlen(xml);
    xmlDoc *doc = NULL;

    if (!ctxt)
        g_error("out of memory creating an XML parser");
    if (len > G_MAXINT) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("the %s XML is too large (%zu bytes)"), what, len);
        goto out;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = g_strdup(err && err->message ? err->message : "");

        g_strstrip(msg);
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("malformed %s XML at line %d: %s"),
                    what, err ? err->line : 0, msg);
        goto out;
    }
    /* Domain XML never needs a DTD, and entities are a way to blow up memory. */
    if (doc->intSubset || doc->extSubset) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("the %s XML has a <!DOCTYPE>; DTDs are not accepted"), what);
        goto fail;
    }
    if (!xmlDocGetRootElement(doc)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("the %s XML has no element"),
                    what);
        goto fail;
    }
    goto out;
fail:
    xmlFreeDoc(doc);
    doc = NULL;
out:
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static void collect_error(void *data, vireo_xml_error_t *err)
{
    GString *msgs = data;
    g_autofree char *msg = g_strdup(err->message ? err->message : "");

    g_strstrip(msg);
    if (msgs->len)
        g_string_append(msgs, "; ");
    if (err->line > 0)
        g_string_append_printf(msgs, "line %d: %s", err->line, msg);
    else
        g_string_append(msgs, msg);
}

int vireo_schema_validate(xmlDoc *doc, const char *rng, GError **error)
{
    const char *dir = g_getenv("VIREO_LIBVIRT_SCHEMA_DIR");
    g_autofree char *path = g_build_filename(dir ? dir : VIREO_LIBVIRT_SCHEMA_DIR, rng, NULL);
    g_autoptr(GString) msgs = g_string_new(NULL);
    xmlRelaxNGParserCtxt *pctxt = NULL;
    xmlRelaxNG *schema = NULL;
    xmlRelaxNGValidCtxt *vctxt = NULL;
    int ret = -1;

    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return 0; /* libvirt's schemas are not installed: nothing to check against */
    pctxt = xmlRelaxNGNewParserCtxt(path);
    if (pctxt) {
        xmlRelaxNGSetParserStructuredErrors(pctxt, collect_error, msgs);
        schema = xmlRelaxNGParse(pctxt);
    }
    if (!schema) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_INVALID_SCHEMA,
                    _("cannot read the schema %s: %s"), path, msgs->str);
        goto out;
    }
    vctxt = xmlRelaxNGNewValidCtxt(schema);
    if (!vctxt)
        g_error("out of memory creating a RelaxNG validation context");
    xmlRelaxNGSetValidStructuredErrors(vctxt, collect_error, msgs);
    if (xmlRelaxNGValidateDoc(vctxt, doc) != 0) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_INVALID_SCHEMA,
                    _("the XML does not validate against %s: %s"), path, msgs->str);
        goto out;
    }
    ret = 0;
out:
    if (vctxt)
        xmlRelaxNGFreeValidCtxt(vctxt);
    if (schema)
        xmlRelaxNGFree(schema);
    if (pctxt)
        xmlRelaxNGFreeParserCtxt(pctxt);
    return ret;
}
