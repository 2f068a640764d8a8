#include "core/stream.h"

const char *mc_section_type_name(unsigned type)
{
    switch (type) {
    case MC_VM_EOF: return "eof";
    case MC_VM_SECTION_START: return "start";
    case MC_VM_SECTION_PART: return "part";
    case MC_VM_SECTION_END: return "end";
    case MC_VM_SECTION_FULL: return "full";
    case MC_VM_SUBSECTION: return "subsection";
    case MC_VM_VMDESCRIPTION: return "vmdesc";
    case MC_VM_CONFIGURATION: return "configuration";
    case MC_VM_COMMAND: return "command";
    case MC_VM_SECTION_FOOTER: return "footer";
    default: return "unknown";
    }
}

const char *mc_command_name(unsigned cmd)
{
    static const char *const names[MC_MIG_CMD_MAX] = {
        [MC_MIG_CMD_INVALID] = "INVALID",
        [MC_MIG_CMD_OPEN_RETURN_PATH] = "OPEN_RETURN_PATH",
        [MC_MIG_CMD_PING] = "PING",
        [MC_MIG_CMD_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
        [MC_MIG_CMD_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
        [MC_MIG_CMD_POSTCOPY_RUN] = "POSTCOPY_RUN",
        [MC_MIG_CMD_POSTCOPY_RAM_DISCARD] = "POSTCOPY_RAM_DISCARD",
        [MC_MIG_CMD_PACKAGED] = "PACKAGED",
        [MC_MIG_CMD_ENABLE_COLO] = "ENABLE_COLO",
        [MC_MIG_CMD_POSTCOPY_RESUME] = "POSTCOPY_RESUME",
        [MC_MIG_CMD_RECV_BITMAP] = "RECV_BITMAP",
        [MC_MIG_CMD_SWITCHOVER_START] = "SWITCHOVER_START",
    };
    return cmd < MC_MIG_CMD_MAX ? names[cmd] : "UNKNOWN";
}
