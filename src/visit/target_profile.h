/*
 * What a stream saved by the target QEMU shows about it, for
 * `migconv compat|retarget --to-stream TARGET`: its sections (idstr, instance,
 * version), the ring size of each virtio queue (virtio/vq[N]/vring.num of
 * queues never set up: the size that QEMU allocates) and the layouts of
 * its vmdesc as descriptor tables.  Fill it by reading the target stream
 * into mc_target_profile_visitor().
 *
 * A stream only holds what its QEMU saved: a section the target knows but
 * did not need to save (QEMU 7.2 and later never save 'audio', which they
 * still load) is absent, so absence is a weaker fact than an instance or
 * version that differs.
 */
#ifndef MC_VISIT_TARGET_PROFILE_H
#define MC_VISIT_TARGET_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/visitor.h"
#include "desc/tables.h"

typedef struct mc_target_profile mc_target_profile;

/* vmdesc_limit: as mc_tables_add_vmdesc (0: MC_DEFAULT_VMDESC_LIMIT). */
mc_target_profile *mc_target_profile_new(size_t vmdesc_limit);
void mc_target_profile_free(mc_target_profile *p);

/* A visitor that fills p (p is not owned; free the visitor first). */
mc_visitor *mc_target_profile_visitor(mc_target_profile *p);

/* Whether the target stream has a section named idstr at all. */
bool mc_target_profile_has_idstr(const mc_target_profile *p,
                                 const char *idstr);
/* The version of its section idstr with that instance (false: none). */
bool mc_target_profile_section(const mc_target_profile *p, const char *idstr,
                               uint32_t instance, uint32_t *version);
/* The instance id of its k-th section named idstr (0: the first), in
 * stream order (false: it has fewer). */
bool mc_target_profile_instance(const mc_target_profile *p,
                                const char *idstr, uint32_t k,
                                uint32_t *instance);
/* The vring.num of queue index of section idstr (instance 0 ... the first
 * section of that name with a virtio field), when its vring.desc is 0. */
bool mc_target_profile_ring(const mc_target_profile *p, const char *idstr,
                            uint32_t index, uint32_t *num);
/* The layouts its vmdesc describes (NULL when it had none). */
const mc_tables *mc_target_profile_tables(const mc_target_profile *p);
/* Its machine type ("" when it had no configuration section). */
const char *mc_target_profile_machine(const mc_target_profile *p);

#endif
