/* oiqa-backbone: any registered backbone (--arch NAME) on a viewports.h5 or
 * on whole ERP images (docs/backbone.md); the tool is
 * libcommon/stage/backbone_tool.c. */
#include "stage/backbone_tool.h"

int main(int argc, char **argv) { return oiqa_backbone_main(&oiqa_backbone_tool_any, argc, argv); }
