/* Helpers shared by the units of xml/: strict number parsing, escaping for
 * the formatter, and node serialization for elements kept verbatim. */
#include "xml_util.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool vireo_parse_u64(const char *str, int base, uint64_t *out, bool *overflow)
{
    const char *p = str;
    char *end = NULL;
    unsigned long long v;

    if (overflow)
        *overflow = false;
    if (!str)
        return false;
    while (g_ascii_isspace(*p))
        p++;
    /* strtoull() accepts a sign and wraps negative numbers: refuse both. */
    if (!g_ascii_isdigit(*p))
        return false;
    errno = 0;
    v = strtoull(p, &end, base);
    if (errno == ERANGE) {
        if (overflow)
            *overflow = true;
        return false;
    }
    if (errno || end == p)
        return false;
    while (g_ascii_isspace(*end))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

bool vireo_parse_uint(const char *str, int base, unsigned int max, unsigned int *out)
{
    uint64_t v;

    if (!vireo_parse_u64(str, base, &v, NULL) || v > max)
        return false;
    *out = (unsigned int)v;
    return true;
}

void vireo_buf_escape(GString *buf, const char *str)
{
    for (const char *p = str; *p; p++) {
        switch (*p) {
        case '&':
            g_string_append(buf, "&amp;");
            break;
        case '<':
            g_string_append(buf, "&lt;");
            break;
        case '>':
            g_string_append(buf, "&gt;");
            break;
        case '\'':
            g_string_append(buf, "&apos;");
            break;
        case '"':
            g_string_append(buf, "&quot;");
            break;
        default:
            g_string_append_c(buf, *p);
        }
    }
}

void vireo_buf_add(GString *buf, int level, const char *fmt, ...)
{
    va_list ap;

    for (int i = 0; i < level; i++)
        g_string_append(buf, "  ");
    va_start(ap, fmt);
    g_string_append_vprintf(buf, fmt, ap);
    va_end(ap);
}

void vireo_buf_text_element(GString *buf, int level, const char *name, const char *text)
{
    if (!text)
        return;
    vireo_buf_add(buf, level, "<%s>", name);
    vireo_buf_escape(buf, text);
    g_string_append_printf(buf, "</%s>\n", name);
}

char *vireo_xml_prop(xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    char *ret;

    if (!v)
        return NULL;
    ret = g_strdup((const char *)v);
    xmlFree(v);
    return ret;
}

char *vireo_xml_text(xmlNode *node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *ret = g_strdup(v ? (const char *)v : "");

    xmlFree(v);
    return ret;
}

xmlNode *vireo_xml_next_element(xmlNode *node)
{
    while (node && node->type != XML_ELEMENT_NODE)
        node = node->next;
    return node;
}

char *vireo_xml_node_dump(xmlNode *node)
{
    xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *copy = xmlDocCopyNode(node, doc, 1);
    xmlBuffer *xbuf = xmlBufferCreate();
    char *ret = NULL;

    if (copy && xbuf) {
        xmlDocSetRootElement(doc, copy);
        xmlReconciliateNs(doc, copy);
        if (xmlNodeDump(xbuf, doc, copy, 0, 0) >= 0)
            ret = g_strdup((const char *)xmlBufferContent(xbuf));
    }
    if (xbuf)
        xmlBufferFree(xbuf);
    xmlFreeDoc(doc);
    if (!ret)
        g_error("out of memory serializing <%s>", VIREO_NODE_NAME(node));
    return ret;
}

void vireo_buf_add_verbatim(GString *buf, int level, const char *xml)
{
    g_autofree char *wrapped = NULL;
    xmlDoc *doc;
    xmlNode *root;

    if (!xml || !*xml)
        return;
    /* Each element carries its own namespace declarations, so the sequence
     * parses inside any wrapper; split it to put each on its own line. */
    wrapped = g_strdup_printf("<vireo-verbatim>%s</vireo-verbatim>", xml);
    doc = xmlReadMemory(wrapped, (int)strlen(wrapped), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        /* Not ours (a caller filled the field by hand): emit it as it is. */
        vireo_buf_add(buf, level, "%s\n", xml);
    } else {
        vireo_for_each_child(child, root)
        {
            g_autofree char *one = vireo_xml_node_dump(child);

            vireo_buf_add(buf, level, "%s\n", one);
        }
    }
    if (doc)
        xmlFreeDoc(doc);
}
