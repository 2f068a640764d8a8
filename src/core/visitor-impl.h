/*
 * The implementer side of the visitor contract (see core/visitor.h for the
 * grammar and ownership rules).
 *
 * A visitor is a struct whose first member is "mc_visitor base", pointing at
 * a const mc_visitor_ops table written with designated initializers.  For
 * each slot, "must set" means the dispatcher calls it unconditionally;
 * "optional" names the fallback used when the slot is NULL.
 *
 * The call grammar (core/visitor.h) is checked once, in the dispatcher,
 * when the program is built with -DMC_CHECKS=ON (tests, sanitizers,
 * fuzzing): a call out of grammar fails there with an MC_ERR_INTERNAL
 * error and never reaches the visitor.  Visitors therefore do not check
 * the grammar themselves; they may assume it (a start_X before its end_X,
 * values only inside a section body, RAM records only inside a RAM
 * section, no value after a subsection, exactly count array elements).
 */
#ifndef MC_CORE_VISITOR_IMPL_H
#define MC_CORE_VISITOR_IMPL_H

#include "core/visitor.h"

typedef struct mc_visitor_ops {
    /* must set */
    bool (*start_stream)(mc_visitor *v, const mc_stream_info *info,
                         mc_error **errp);
    /* optional: no-op */
    bool (*end_stream)(mc_visitor *v, mc_error **errp);
    /* must set */
    bool (*start_section)(mc_visitor *v, const mc_section_info *info,
                          mc_error **errp);
    /* must set */
    bool (*end_section)(mc_visitor *v, bool footer, mc_error **errp);
    /* must set */
    bool (*visit_int)(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                      uint64_t raw, mc_error **errp);
    /* must set */
    bool (*visit_bytes)(mc_visitor *v, const mc_field *f, const uint8_t *data,
                        size_t len, mc_error **errp);
    /* optional: start_array(count) + count visit_int + end_array */
    bool (*visit_packed)(mc_visitor *v, const mc_field *f, mc_wire_type wt,
                         uint32_t count, const uint8_t *data, mc_error **errp);
    /* must set (start and end) */
    bool (*start_struct)(mc_visitor *v, const mc_field *f, mc_error **errp);
    bool (*end_struct)(mc_visitor *v, mc_error **errp);
    /* must set (start and end) */
    bool (*start_array)(mc_visitor *v, const mc_field *f, uint32_t count,
                        mc_error **errp);
    bool (*end_array)(mc_visitor *v, mc_error **errp);
    /* must set (start and end) */
    bool (*start_subsection)(mc_visitor *v, const char *name,
                             uint32_t version_id, mc_error **errp);
    bool (*end_subsection)(mc_visitor *v, mc_error **errp);
    /* must set */
    bool (*ram_record)(mc_visitor *v, const mc_ram_record *rec,
                       mc_error **errp);
    /* must set */
    bool (*command)(mc_visitor *v, uint16_t cmd, const uint8_t *data,
                    uint16_t len, mc_error **errp);
    /* must set (start and end) */
    bool (*start_packaged)(mc_visitor *v, uint32_t len, mc_error **errp);
    bool (*end_packaged)(mc_visitor *v, mc_error **errp);
    /* must set */
    bool (*eof)(mc_visitor *v, mc_error **errp);
    /* must set */
    bool (*vmdesc)(mc_visitor *v, const uint8_t *json, size_t len,
                   mc_error **errp);
    /* optional: no-op */
    bool (*complete)(mc_visitor *v, mc_error **errp);
    /* must set: frees the visitor */
    void (*free)(mc_visitor *v);
} mc_visitor_ops;

#ifdef MC_CHECKS
/* The dispatcher's grammar checks (core/visitor.c): the open frames of a
 * walk, kept in the visitor itself (a visitor may live on the stack and
 * never see mc_visitor_free).  Zero before start_stream.  Frames deeper
 * than MC_CHECKS_DEPTH are counted but not checked. */
#define MC_CHECKS_DEPTH 160
typedef struct mc_checks_frame {
    unsigned char kind;
    bool subs;      /* a subsection was seen */
    uint32_t left;  /* array: elements still expected */
} mc_checks_frame;
typedef struct mc_checks {
    bool started, ended;
    unsigned n, over;
    mc_checks_frame fr[MC_CHECKS_DEPTH];
} mc_checks;
#endif

struct mc_visitor {
    const mc_visitor_ops *ops;
#ifdef MC_CHECKS
    mc_checks checks;
#endif
};

/*
 * Default ops: every slot set, each accepting its call and doing nothing
 * (free() frees the visitor with free(3)).  A visitor that cares about few
 * calls starts from a copy in its own instance and sets those slots:
 *
 *     me->ops = mc_null_ops;
 *     me->ops.vmdesc = my_vmdesc;
 *     me->base.ops = &me->ops;
 */
extern const mc_visitor_ops mc_null_ops;

#endif
