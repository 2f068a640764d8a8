/*
 * The schema visitor (visit/schema.c) assumes the call grammar and checks
 * none of it itself: with -DMC_CHECKS=ON (tests/run, .ci/sanitize, the
 * fuzz builds) the dispatcher of core/visitor.c refuses every call out of
 * grammar before the visitor sees it.  A correct walk is learnt (the
 * control), and each kind of violation is refused with the dispatcher's
 * message, leaving the visitor's frames as they were: the walk then goes
 * on and ends with the same schema.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/stream.h"
#include "visit/schema.h"

static const mc_stream_info stream_4k = {
    .magic = MC_VM_FILE_MAGIC, .version = MC_VM_FILE_VERSION,
    .page_size = 4096, .names = true};
static const mc_section_info dev = {
    .type = MC_VM_SECTION_FULL, .kind = MC_SECTION_VMSTATE, .section_id = 1,
    .idstr = "dev", .version_id = 3, .vmsd_name = "dev"};
static const mc_section_info ram = {
    .type = MC_VM_SECTION_FULL, .kind = MC_SECTION_RAM, .section_id = 2,
    .idstr = "ram", .version_id = 4};
static const mc_field f_a = {"a", "uint8"}, f_s = {"s", NULL},
                      f_arr = {"arr", NULL}, f_b = {"b", "uint32"};

#define OK(call) assert_true(call)

/* Where a walk may be interrupted by a call out of grammar. */
typedef enum at {
    AT_NONE, AT_STREAM, AT_STRUCT, AT_ARRAY, AT_SUB, AT_AFTER_SUB, AT_RAM,
} at;

/* One call out of grammar at place p; returns the error (the call must
 * fail). */
static mc_error *violate(mc_visitor *v, at p, int which)
{
    mc_error *err = NULL;
    bool ok = true;
    switch (p) {
    case AT_STREAM: /* no section open */
        ok = which == 0   ? mc_visit_int(v, &f_a, MC_WT_U8, 1, &err)
             : which == 1 ? mc_visit_start_struct(v, &f_s, &err)
             : which == 2 ? mc_visit_end_section(v, false, &err)
                          : mc_visit_start_subsection(v, "dev/x", 1, &err);
        break;
    case AT_STRUCT: /* inside a struct of the section */
        ok = which == 0   ? mc_visit_start_section(v, &dev, &err)
             : which == 1 ? mc_visit_end_section(v, false, &err)
             : which == 2 ? mc_visit_end_array(v, &err)
                          : mc_visit_end_subsection(v, &err);
        break;
    case AT_ARRAY: /* inside an array of 2 with one element given */
        ok = which == 0   ? mc_visit_end_array(v, &err)
             : which == 1 ? mc_visit_start_subsection(v, "dev/x", 1, &err)
             : which == 2 ? mc_visit_end_struct(v, &err)
                          : mc_visit_ram_record(
                                v, &(mc_ram_record){.kind = MC_RAM_EOS},
                                &err);
        break;
    case AT_SUB: /* inside a subsection */
        ok = which == 0 ? mc_visit_end_section(v, false, &err)
                        : mc_visit_end_struct(v, &err);
        break;
    case AT_AFTER_SUB: /* in the section body after its subsection */
        ok = which == 0 ? mc_visit_int(v, &f_b, MC_WT_U32, 2, &err)
                        : mc_visit_start_array(v, &f_arr, 1, &err);
        break;
    case AT_RAM: /* inside a RAM section */
        ok = which == 0   ? mc_visit_int(v, &f_a, MC_WT_U8, 1, &err)
             : which == 1 ? mc_visit_start_struct(v, &f_s, &err)
                          : mc_visit_start_subsection(v, "ram/x", 1, &err);
        break;
    default:
        break;
    }
    assert_false(ok);
    assert_non_null(err);
    assert_int_equal(err->cls, MC_ERR_INTERNAL);
    assert_non_null(strstr(err->msg, "visitor call out of grammar: "));
    return err;
}

/* The walk: a RAM section, then section dev { a, s { b }, arr[2] { a, a },
 * subsection dev/sub { b } }; the call out of grammar at p (if any) comes
 * where its comment says. */
static void walk(mc_visitor *v, at p, int which)
{
    mc_error *err = NULL;
    OK(mc_visit_start_stream(v, &stream_4k, &err));
    if (p == AT_STREAM) {
        mc_error_free(violate(v, p, which));
    }
    OK(mc_visit_start_section(v, &ram, &err));
    if (p == AT_RAM) {
        mc_error_free(violate(v, p, which));
    }
    OK(mc_visit_ram_record(v, &(mc_ram_record){.kind = MC_RAM_EOS}, &err));
    OK(mc_visit_end_section(v, false, &err));
    OK(mc_visit_start_section(v, &dev, &err));
    OK(mc_visit_int(v, &f_a, MC_WT_U8, 7, &err));
    OK(mc_visit_start_struct(v, &f_s, &err));
    if (p == AT_STRUCT) {
        mc_error_free(violate(v, p, which));
    }
    OK(mc_visit_int(v, &f_b, MC_WT_U32, 1, &err));
    OK(mc_visit_end_struct(v, &err));
    OK(mc_visit_start_array(v, &f_arr, 2, &err));
    OK(mc_visit_int(v, &f_a, MC_WT_U8, 1, &err));
    if (p == AT_ARRAY) {
        mc_error_free(violate(v, p, which));
    }
    OK(mc_visit_int(v, &f_a, MC_WT_U8, 2, &err));
    OK(mc_visit_end_array(v, &err));
    OK(mc_visit_start_subsection(v, "dev/sub", 1, &err));
    if (p == AT_SUB) {
        mc_error_free(violate(v, p, which));
    }
    OK(mc_visit_int(v, &f_b, MC_WT_U32, 3, &err));
    OK(mc_visit_end_subsection(v, &err));
    if (p == AT_AFTER_SUB) {
        mc_error_free(violate(v, p, which));
    }
    OK(mc_visit_end_section(v, false, &err));
    OK(mc_visit_end_stream(v, &err));
    assert_null(err);
}

/* What the walk teaches: two types (dev v3 and dev/sub v1), dev's body a,
 * s { b }, arr of a uniform uint8, and one subsection. */
static void check_schema(const mc_schema *s)
{
    assert_int_equal(s->n_types, 2);
    assert_int_equal(s->n_assign, 2);
    const mc_stype *t = s->types[s->assign[0]];
    assert_string_equal(t->key, "dev");
    assert_int_equal(t->version, 3);
    assert_false(t->is_sub);
    const mc_snode *b = t->body;
    assert_int_equal(b->kind, MC_SN_STRUCT);
    assert_int_equal(b->n_kids, 3);
    assert_string_equal(b->kids[0]->name, "a");
    assert_int_equal(b->kids[1]->kind, MC_SN_STRUCT);
    assert_int_equal(b->kids[1]->n_kids, 1);
    assert_int_equal(b->kids[2]->kind, MC_SN_ARRAY);
    assert_true(b->kids[2]->uniform);
    assert_int_equal(b->kids[2]->lo, 2);
    assert_int_equal(b->n_subs, 1);
    assert_string_equal(b->subs[0].name, "dev/sub");
    const mc_stype *sub = s->types[s->assign[1]];
    assert_string_equal(sub->key, "dev/sub");
    assert_true(sub->is_sub);
    assert_int_equal(sub->body->n_kids, 1);
}

static void test_correct_walk(void **state)
{
    mc_schema *s = mc_schema_new();
    mc_visitor *v = mc_schema_visitor_new(s);
    walk(v, AT_NONE, 0);
    mc_visitor_free(v);
    check_schema(s);
    mc_schema_free(s);
}

/* Every violation is the dispatcher's refusal ("visitor call out of
 * grammar", never a message of the schema visitor), and the walk goes on
 * to the same schema: the refused call changed nothing. */
static void test_violations_refused(void **state)
{
#ifndef MC_CHECKS
    skip();
#endif
    static const struct {
        at p;
        int n;
    } places[] = {{AT_STREAM, 4}, {AT_STRUCT, 4}, {AT_ARRAY, 4},
                  {AT_SUB, 2},    {AT_AFTER_SUB, 2}, {AT_RAM, 3}};
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
        for (int which = 0; which < places[i].n; which++) {
            mc_schema *s = mc_schema_new();
            mc_visitor *v = mc_schema_visitor_new(s);
            walk(v, places[i].p, which);
            mc_visitor_free(v);
            check_schema(s);
            mc_schema_free(s);
        }
    }
    /* The message names the call and the open frame. */
    mc_schema *s = mc_schema_new();
    mc_visitor *v = mc_schema_visitor_new(s);
    mc_error *err = NULL;
    OK(mc_visit_start_stream(v, &stream_4k, &err));
    OK(mc_visit_start_section(v, &dev, &err));
    OK(mc_visit_start_array(v, &f_arr, 1, &err));
    assert_false(mc_visit_start_subsection(v, "dev/x", 1, &err));
    assert_non_null(strstr(err->msg, "out of grammar: start_subsection "
                                     "inside a"));
    mc_error_free(err);
    mc_visitor_free(v);   /* frames of a walk cut short are freed */
    mc_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_walk),
        cmocka_unit_test(test_violations_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
