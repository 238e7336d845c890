/* Helpers shared by the units of xml/: strict numbers, XML escaping, reading
 * attributes and serializing nodes. Internal to xml/ and its tests. */
#ifndef VIREO_XML_XML_UTIL_H
#define VIREO_XML_XML_UTIL_H

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

/* Digits only (base 10, or base 0: 0x.. hex, 0.. octal), surrounding blanks
 * allowed; false on garbage, a sign, or overflow (*overflow set then). */
bool vireo_parse_u64(const char *str, int base, uint64_t *out, bool *overflow);
bool vireo_parse_uint(const char *str, int base, unsigned int max, unsigned int *out);

/* Appends str with &, <, >, ' and " escaped: safe in text and in attributes. */
void vireo_buf_escape(GString *buf, const char *str);
/* Appends level * 2 spaces, then the printf-formatted text. */
void vireo_buf_add(GString *buf, int level, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* <name>escaped text</name> on its own line, when text is not NULL. */
void vireo_buf_text_element(GString *buf, int level, const char *name, const char *text);

/* An attribute's value (g_free it), or NULL when absent. */
char *vireo_xml_prop(xmlNode *node, const char *name);
/* An element's text content (g_free it); never NULL. */
char *vireo_xml_text(xmlNode *node);
/* The element's name, for messages. */
#define VIREO_NODE_NAME(node) ((const char *)(node)->name)
/* The element serialized as written, with every namespace it uses declared
 * on it (so it can be reinserted elsewhere). */
char *vireo_xml_node_dump(xmlNode *node);
/* Appends xml (one or more elements, as vireo_xml_node_dump() made them),
 * each on its own line at level. */
void vireo_buf_add_verbatim(GString *buf, int level, const char *xml);
/* The next element sibling starting at node (itself included), or NULL. */
xmlNode *vireo_xml_next_element(xmlNode *node);

#define vireo_for_each_child(child, parent)                                                        \
    for (xmlNode *child = vireo_xml_next_element((parent)->children); child;                       \
         child = vireo_xml_next_element(child->next))

#endif
