/* Tests for vmm/arch/x86/cpuid.c: topology leaves, APIC ids, the hypervisor
 * bit and the KVM leaves, on a made-up "supported" table. */
#include "arch/x86/cpuid.h"

#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static struct kvm_cpuid2 *supported_table(bool amd, bool with_kvm_leaves)
{
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + 16 * sizeof(c->entries[0]));
    unsigned int n = 0;

#define ADD(f, i, fl, a, b, cc, d)                                                                 \
    c->entries[n++] = (struct kvm_cpuid_entry2){.function = (f),                                   \
                                                .index = (i),                                      \
                                                .flags = (fl),                                     \
                                                .eax = (a),                                        \
                                                .ebx = (b),                                        \
                                                .ecx = (cc),                                       \
                                                .edx = (d)}
    ADD(0, 0, 0, 0x1f, amd ? 0x68747541 : 0x756e6547, 0, 0);
    ADD(1, 0, 0, 0x800f12, 0x00010800 | 0xff000000, 0x7ed8320b, 0x178bfbff);
    ADD(4, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0x121, 0, 0, 0);
    ADD(4, 3, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0x163, 0, 0, 0);
    ADD(6, 0, 0, 0x4, 0, 0x9, 0);
    ADD(0xb, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 1, 2, 0x100, 7);
    ADD(0xb, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 4, 16, 0x201, 7);
    ADD(0xb, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 2, 7);
    ADD(0x80000008, 0, 0, 0x3030, 0, 0x7007, 0);
    ADD(0x8000001e, 0, 0, 9, 0x109, 0x1, 0);
    if (with_kvm_leaves) {
        ADD(0x40000000, 0, 0, 0x40000001, 0, 0, 0);
        ADD(0x40000001, 0, 0, 0x01007afb, 0, 0, 0);
    }
#undef ADD
    c->nent = n;
    return c;
}

static void test_leaf1(void)
{
    g_autofree struct kvm_cpuid2 *sup = supported_table(false, true);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(sup, 3, 4);
    struct kvm_cpuid_entry2 *e = cpuid_find(c, 1, 0);

    g_assert_nonnull(e);
    g_assert_cmphex(e->ebx >> 24, ==, 3);
    g_assert_cmphex((e->ebx >> 16) & 0xff, ==, 4);
    g_assert_cmphex(e->ebx & 0xffff, ==, 0x0800); /* CLFLUSH size kept */
    g_assert_true(e->ecx & (1u << 31));
    g_assert_true(e->edx & (1u << 28));
    free(c);

    c = cpuid_for_vcpu(sup, 0, 1);
    e = cpuid_find(c, 1, 0);
    g_assert_false(e->edx & (1u << 28));
    g_assert_cmphex((e->ebx >> 16) & 0xff, ==, 1);
    free(c);
}

static void test_extended_topology(void)
{
    g_autofree struct kvm_cpuid2 *sup = supported_table(false, true);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(sup, 5, 6);
    struct kvm_cpuid_entry2 *smt = cpuid_find(c, 0xb, 0);
    struct kvm_cpuid_entry2 *core = cpuid_find(c, 0xb, 1);
    struct kvm_cpuid_entry2 *end = cpuid_find(c, 0xb, 2);

    g_assert_cmpuint(smt->eax, ==, 0);
    g_assert_cmpuint(smt->ebx, ==, 1);
    g_assert_cmphex(smt->ecx, ==, 0x100);
    g_assert_cmpuint(smt->edx, ==, 5);
    g_assert_cmpuint(core->eax, ==, 3); /* 6 CPUs need 3 bits */
    g_assert_cmpuint(core->ebx, ==, 6);
    g_assert_cmphex(core->ecx, ==, 0x201);
    g_assert_cmpuint(core->edx, ==, 5);
    g_assert_cmpuint(end->ebx, ==, 0);
    g_assert_cmphex(end->ecx, ==, 2);
    free(c);
}

static void test_leaf4_and_6(void)
{
    g_autofree struct kvm_cpuid2 *sup = supported_table(false, true);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(sup, 0, 4);

    struct kvm_cpuid_entry2 *l1 = cpuid_find(c, 4, 0);
    struct kvm_cpuid_entry2 *l3 = cpuid_find(c, 4, 3);
    g_assert_cmpuint(l1->eax >> 26, ==, 3);
    g_assert_cmpuint((l1->eax >> 14) & 0xfff, ==, 0);
    g_assert_cmpuint(l3->eax >> 26, ==, 3);
    g_assert_cmpuint((l3->eax >> 14) & 0xfff, ==, 3);
    g_assert_cmphex(l3->eax & 0x3fff, ==, 0x163);
    g_assert_false(cpuid_find(c, 6, 0)->ecx & (1u << 3));
    free(c);
}

static void test_kvm_leaves(void)
{
    for (int have = 0; have < 2; have++) {
        g_autofree struct kvm_cpuid2 *sup = supported_table(false, have);
        struct kvm_cpuid2 *c = cpuid_for_vcpu(sup, 0, 1);
        struct kvm_cpuid_entry2 *sig = cpuid_find(c, 0x40000000, 0);
        struct kvm_cpuid_entry2 *feat = cpuid_find(c, 0x40000001, 0);
        char name[13] = {0};

        g_assert_nonnull(sig);
        g_assert_nonnull(feat);
        memcpy(name, &sig->ebx, 4);
        memcpy(name + 4, &sig->ecx, 4);
        memcpy(name + 8, &sig->edx, 4);
        g_assert_cmpstr(name, ==, "KVMKVMKVM");
        g_assert_cmphex(sig->eax, >=, 0x40000001);
        /* kvmclock (CLOCKSOURCE2) is offered either way. */
        g_assert_true(feat->eax & (1u << 3));
        if (have)
            g_assert_cmphex(feat->eax, ==, 0x01007afb);
        free(c);
    }
}

static void test_amd_topology(void)
{
    g_autofree struct kvm_cpuid2 *sup = supported_table(true, true);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(sup, 2, 3);

    struct kvm_cpuid_entry2 *e = cpuid_find(c, 0x80000008, 0);
    g_assert_cmpuint(e->ecx & 0xff, ==, 2);
    g_assert_cmpuint((e->ecx >> 12) & 0xf, ==, 2);
    e = cpuid_find(c, 0x8000001e, 0);
    g_assert_cmpuint(e->eax, ==, 2);
    g_assert_cmpuint(e->ebx & 0xff, ==, 2);
    free(c);

    /* On Intel 0x80000008 ECX is left alone. */
    g_autofree struct kvm_cpuid2 *intel = supported_table(false, true);
    c = cpuid_for_vcpu(intel, 2, 3);
    g_assert_cmphex(cpuid_find(c, 0x80000008, 0)->ecx, ==, 0x7007);
    free(c);
}

static void test_input_untouched(void)
{
    g_autofree struct kvm_cpuid2 *sup = supported_table(false, false);
    g_autofree struct kvm_cpuid2 *copy =
        g_memdup2(sup, sizeof(*sup) + sup->nent * sizeof(sup->entries[0]));
    struct kvm_cpuid2 *c = cpuid_for_vcpu(sup, 1, 2);

    g_assert_cmpmem(sup, sizeof(*sup) + sup->nent * sizeof(sup->entries[0]), copy,
                    sizeof(*copy) + copy->nent * sizeof(copy->entries[0]));
    g_assert_cmpuint(c->nent, ==, sup->nent + 2);
    free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpuid/leaf1", test_leaf1);
    g_test_add_func("/cpuid/extended-topology", test_extended_topology);
    g_test_add_func("/cpuid/leaf4-and-6", test_leaf4_and_6);
    g_test_add_func("/cpuid/kvm-leaves", test_kvm_leaves);
    g_test_add_func("/cpuid/amd-topology", test_amd_topology);
    g_test_add_func("/cpuid/input-untouched", test_input_untouched);
    return g_test_run();
}
