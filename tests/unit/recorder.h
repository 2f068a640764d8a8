/*
 * A recording visitor for tests: every call becomes one line of text, so a
 * test can compare a whole call sequence with assert_string_equal().
 *
 * Line formats (NULL names, types and blocks print as "-"; names escape
 * bytes outside printable ASCII and backslash as \xNN):
 *
 *   start_stream magic=5145564d version=3 page_size=4096 src=configuration names=1
 *   end_stream
 *   start_section type=4 kind=vmstate id=3 idstr=timer instance=0 version=2 [vmsd=NAME]
 *   end_section footer=1
 *   int name=x type=uint32 wt=uint32 raw=0x10
 *   bytes name=b type=buffer len=3 hex=010203
 *   packed name=a wt=uint8 count=3 hex=010203
 *   start_struct name=s type=struct          end_struct
 *   start_array name=a count=2               end_array
 *   start_subsection name=x/y version=1      end_subsection
 *   ram kind=mem_size total=0x4000 blocks=pc.ram:0x2000[:ps=0x200000][:addr=0x0],...
 *   ram kind=zero offset=0x1000 block=pc.ram fill=0
 *   ram kind=page offset=0x2000 block=- len=4096
 *   ram kind=xbzrle offset=0x3000 block=- encoding=1 len=12
 *   ram kind=compress offset=0x3000 block=pc.ram len=100
 *   ram kind=eos                 (" offset=0x..." only when non-zero)
 *   ram kind=multifd_flush       (likewise)
 *   command cmd=2 len=4 hex=00000001
 *   start_packaged len=N                     end_packaged
 *   eof
 *   vmdesc len=N
 *
 * mc_visitor_complete() is not recorded.  Free with mc_visitor_free().
 */
#ifndef MC_TEST_RECORDER_H
#define MC_TEST_RECORDER_H

#include "core/visitor.h"

mc_visitor *tu_recorder_new(void);
/* Everything recorded so far, one line per call, each ending in '\n'. */
const char *tu_recorder_text(mc_visitor *v);

#endif
