/* oiqa-resnet: viewports.h5 [+ pseudoref.h5] -> ResNet-50 multi-scale
 * features (DESIGN §1, §3; docs/resnet.md): oiqa-backbone with the
 * extractor fixed to resnet50 (libcommon/stage/backbone_tool.c). */
#include "stage/backbone_tool.h"

int main(int argc, char **argv) { return oiqa_backbone_main(&oiqa_backbone_tool_resnet, argc, argv); }
