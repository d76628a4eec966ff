/* Option rows every stage tool shares (stage/stage_tools.c,
 * stage/backbone_tool.c). Each table defines OFF for its own struct, which
 * has the fields `force` and `resume` (and `device` for STAGE_DEVICE). */
#ifndef OIQA_STAGE_STAGE_ROWS_H
#define OIQA_STAGE_STAGE_ROWS_H

#include "base/cli.h"
#include "nn/device.h"

/* --force and --resume. */
#define STAGE_FORCE_RESUME                                                                                            \
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output or .partial", 0, 0, NULL,  \
     OIQA_OPTF_CLI_ONLY},                                                                                            \
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue an interrupted run's FILE.partial", 0, 0,     \
     NULL, OIQA_OPTF_CLI_ONLY}
/* --device, in the stages that compute on a GPU (nn/device.h). Not part of
 * the recorded recipe: the results do not depend on it. */
#define STAGE_DEVICE                                                                                                  \
    {"device", 0, OIQA_OPT_ENUM, OFF(device), "auto", "NAME",                                                         \
     "cpu, cuda (the GPU; the CPU with one line on stderr when none works) or auto (the GPU when one works)", 0, 0, \
     oiqa_device_names, OIQA_OPTF_CLI_ONLY}

#endif
