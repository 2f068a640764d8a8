/* Built-in descriptor tables per QEMU version and target, and their
 * choice by machine type (desc/builtin.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "desc/builtin.h"

static void test_machine_names(void **state)
{
    (void)state;
    assert_string_equal(mc_machine_target("pc-q35-5.2"), "x86");
    assert_string_equal(mc_machine_target("pc-i440fx-11.1"), "x86");
    assert_string_equal(mc_machine_target("microvm"), "x86");
    assert_string_equal(mc_machine_target(NULL), "x86");
    assert_string_equal(mc_machine_target("virt-10.0"), "aarch64");
    assert_string_equal(mc_machine_target("virt"), "riscv64");
    assert_string_equal(mc_machine_target("pseries-7.2"), "ppc64");
    assert_string_equal(mc_machine_target("s390-ccw-virtio-11.1"), "s390x");
    assert_null(mc_machine_target("raspi3b"));
    assert_int_equal(mc_machine_version("pc-q35-5.2"), 502);
    assert_int_equal(mc_machine_version("pc-i440fx-10.0"), 1000);
    assert_int_equal(mc_machine_version("microvm"), 0);
    assert_int_equal(mc_machine_version("pc-q35-x.2"), 0);
    assert_int_equal(mc_version_number("11.1"), 1101);
    assert_int_equal(mc_version_number("11"), 0);
    assert_true(mc_builtin_version_known("10.0"));
    assert_false(mc_builtin_version_known("10"));
}

/* Every version has tables for every target, and they differ. */
static void test_every_version_and_target(void **state)
{
    (void)state;
    const char *const *vs;
    size_t nv = mc_builtin_versions(&vs);
    assert_int_equal(nv, 4);
    static const char *const targets[] = {"x86", "aarch64", "ppc64", "s390x",
                                          "riscv64"};
    for (size_t i = 0; i < nv; i++) {
        for (size_t k = 0; k < 5; k++) {
            const mc_tables *t = NULL;
            mc_error *err = NULL;
            assert_true(mc_builtin_tables_for(vs[i], targets[k], &t, &err));
            assert_non_null(t);
            assert_true(mc_tables_count(t) > 5);
            assert_true(mc_tables_knows(t, "cpu") ||
                        mc_tables_knows(t, "cpu_common"));
        }
    }
    const mc_tables *t = (const mc_tables *)1;
    mc_error *err = NULL;
    assert_true(mc_builtin_tables_for("6.0", "x86", &t, &err));
    assert_null(t);
    /* x86 and s390x tables are not the same set */
    const mc_tables *x86, *s390;
    assert_true(mc_builtin_tables_for("11.1", "x86", &x86, &err));
    assert_true(mc_builtin_tables_for("11.1", "s390x", &s390, &err));
    assert_true(mc_tables_knows(x86, "ICH9LPC"));
    assert_false(mc_tables_knows(s390, "ICH9LPC"));
}

static const mc_tables *tables(const char *v, const char *target)
{
    const mc_tables *t = NULL;
    mc_error *err = NULL;
    assert_true(mc_builtin_tables_for(v, target, &t, &err));
    return t;
}

/* The order follows the machine type's version; forcing leaves one. */
static void test_candidate_order(void **state)
{
    (void)state;
    const mc_tables *c[MC_BUILTIN_MAX_CANDIDATES];
    size_t n;
    mc_error *err = NULL;
    assert_true(mc_builtin_candidates("pc-q35-7.2", NULL, c, &n, &err));
    assert_int_equal(n, 4);
    assert_ptr_equal(c[0], tables("7.2", "x86"));
    assert_ptr_equal(c[1], tables("10.0", "x86"));
    assert_ptr_equal(c[2], tables("11.1", "x86"));
    assert_ptr_equal(c[3], tables("5.2", "x86"));
    assert_true(mc_builtin_candidates("pc-q35-11.1", NULL, c, &n, &err));
    assert_ptr_equal(c[0], tables("11.1", "x86"));
    assert_ptr_equal(c[1], tables("10.0", "x86"));
    assert_true(mc_builtin_candidates(NULL, NULL, c, &n, &err));
    assert_ptr_equal(c[0], tables("7.2", "x86"));
    assert_ptr_equal(c[1], tables("11.1", "x86"));
    assert_true(mc_builtin_candidates("virt", NULL, c, &n, &err));
    assert_ptr_equal(c[0], tables("7.2", "riscv64"));
    assert_true(mc_builtin_candidates("s390-ccw-virtio-5.2", "10.0", c, &n, &err));
    assert_int_equal(n, 1);
    assert_ptr_equal(c[0], tables("10.0", "s390x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machine_names),
        cmocka_unit_test(test_every_version_and_target),
        cmocka_unit_test(test_candidate_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
