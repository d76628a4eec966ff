/* oiqa-vmamba: ERP images -> VMamba global features, or per-viewport
 * features of a viewports.h5 (DESIGN §1, §3; docs/vmamba.md): oiqa-backbone
 * with --arch among the vmamba rows (libcommon/stage/backbone_tool.c). */
#include "stage/backbone_tool.h"

int main(int argc, char **argv) { return oiqa_backbone_main(&oiqa_backbone_tool_vmamba, argc, argv); }
