/* Translatable messages of xml/: every user-visible string goes through _(),
 * and N_() marks strings in tables that are translated where they are used. */
#ifndef VIREO_XML_I18N_H
#define VIREO_XML_I18N_H

#include "config.h"

#include <libintl.h>

#define _(s)  dgettext(PACKAGE, s)
#define N_(s) s

#endif
