/* libFuzzer target for xml/: any bytes as domain XML. Whatever parses must
 * format, and what it formats must parse again to the same XML. Build from
 * the source tree, with BUILD a configured build directory (for config.h):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -IBUILD -Ixml \
 *       $(pkg-config --cflags --libs libxml-2.0 glib-2.0 libvirt) \
 *       tests/fuzz/domain-xml-fuzz.c xml/[a-z]*.c -o domain-xml-fuzz
 *   ./domain-xml-fuzz tests/unit/xml/good tests/unit/xml/bad
 */
#include "domain_def.h"

#include <glib.h>
#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = g_strndup((const char *)data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(vireo_domain_def) def = vireo_domain_def_parse(xml, 0, &err);

    if (!def) {
        /* Every failure says why, in our error domain. */
        if (!err || err->domain != VIREO_XML_ERROR || !err->message[0])
            abort();
        return 0;
    }
    for (unsigned int flags = 0; flags < 2; flags++) {
        g_autofree char *out = vireo_domain_def_format(def, flags);
        g_autoptr(GError) err2 = NULL;
        g_autoptr(vireo_domain_def) again =
            vireo_domain_def_parse(out, flags ? 0 : VIREO_DOMAIN_DEF_PARSE_LIVE, &err2);
        g_autofree char *out2 = again ? vireo_domain_def_format(again, flags) : NULL;
        g_autoptr(vireo_domain_def) copy = vireo_domain_def_copy(def);
        g_autofree char *out3 = vireo_domain_def_format(copy, flags);

        if (!again || strcmp(out, out2) || strcmp(out, out3))
            abort();
    }
    return 0;
}
