/* An interrupt line as a device sees it: a handle it raises and lowers,
 * without knowing whether an IOAPIC pin or an MSI sits behind it. */
#ifndef VIREO_VMM_IRQ_H
#define VIREO_VMM_IRQ_H

#include <stdbool.h>

struct irq_line {
    void (*set_level)(void *opaque, unsigned int pin, bool level);
    void *opaque;
    unsigned int pin;
};

static inline void irq_line_set(const struct irq_line *line, bool level)
{
    if (line && line->set_level)
        line->set_level(line->opaque, line->pin, level);
}

#endif
