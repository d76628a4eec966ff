/* The ResNet family's plan; see models/resnet_desc.h. */
#include "models/resnet_desc.h"

#include <stdio.h>
#include <string.h>

const oiqa_resnet_depth oiqa_resnet18_depth = {"resnet18", "ResNet-18", OIQA_RESNET_BASIC, {2, 2, 2, 2}};
const oiqa_resnet_depth oiqa_resnet34_depth = {"resnet34", "ResNet-34", OIQA_RESNET_BASIC, {3, 4, 6, 3}};
const oiqa_resnet_depth oiqa_resnet50_depth = {"resnet50", "ResNet-50", OIQA_RESNET_BOTTLENECK, {3, 4, 6, 3}};
const oiqa_resnet_depth oiqa_resnet101_depth = {"resnet101", "ResNet-101", OIQA_RESNET_BOTTLENECK, {3, 4, 23, 3}};
const oiqa_resnet_depth oiqa_resnet152_depth = {"resnet152", "ResNet-152", OIQA_RESNET_BOTTLENECK, {3, 8, 36, 3}};

const oiqa_resnet_depth *const oiqa_resnet_depths[] = {&oiqa_resnet18_depth,  &oiqa_resnet34_depth,
                                                       &oiqa_resnet50_depth,  &oiqa_resnet101_depth,
                                                       &oiqa_resnet152_depth, NULL};

const oiqa_resnet_depth *oiqa_resnet_depth_find(const char *name)
{
    for (int i = 0; oiqa_resnet_depths[i]; i++)
        if (!strcmp(oiqa_resnet_depths[i]->name, name)) return oiqa_resnet_depths[i];
    return NULL;
}

const oiqa_resnet_depth *oiqa_resnet_depth_match(oiqa_resnet_block_kind kind, const int *blocks)
{
    for (int i = 0; oiqa_resnet_depths[i]; i++) {
        const oiqa_resnet_depth *d = oiqa_resnet_depths[i];
        if (d->kind == kind && !memcmp(d->blocks, blocks, sizeof d->blocks)) return d;
    }
    return NULL;
}

static void add(oiqa_resnet_plan *p, const char *conv, const char *bn, int cin, int cout, int k, int stride,
                int block, int role)
{
    oiqa_resnet_conv_spec *c = &p->conv[p->n_convs++];
    snprintf(c->conv, sizeof c->conv, "%s", conv);
    snprintf(c->bn, sizeof c->bn, "%s", bn);
    c->cin = cin, c->cout = cout, c->k = k, c->stride = stride, c->pad = k / 2;
    c->block = block, c->role = role;
}

void oiqa_resnet_plan_make(const oiqa_resnet_depth *d, int width, oiqa_resnet_plan *p)
{
    memset(p, 0, sizeof *p);
    p->depth = d, p->width = width;
    int bottleneck = d->kind == OIQA_RESNET_BOTTLENECK, expansion = bottleneck ? 4 : 1;
    p->convs_per_block = bottleneck ? 3 : 2;
    add(p, "conv1", "bn1", 3, width, 7, 2, -1, OIQA_RESNET_ROLE_STEM);
    int cin = width;
    for (int s = 0; s < OIQA_RESNET_STAGES; s++) {
        int planes = width << s, out = planes * expansion;
        for (int b = 0; b < d->blocks[s]; b++) {
            int block = p->n_blocks++, stride = b == 0 && s > 0 ? 2 : 1;
            p->stage_of[block] = s;
            char conv[48], bn[48];
            for (int j = 0; j < p->convs_per_block; j++) {
                snprintf(conv, sizeof conv, "layer%d.%d.conv%d", s + 1, b, j + 1);
                snprintf(bn, sizeof bn, "layer%d.%d.bn%d", s + 1, b, j + 1);
                if (bottleneck) { /* 1x1, 3x3 with the stride (v1.5), 1x1 to 4 planes */
                    int k = j == 1 ? 3 : 1;
                    add(p, conv, bn, j == 0 ? cin : planes, j == 2 ? out : planes, k, j == 1 ? stride : 1, block, j);
                } else { /* 3x3 with the stride, 3x3 */
                    add(p, conv, bn, j == 0 ? cin : planes, planes, 3, j == 0 ? stride : 1, block, j);
                }
            }
            if (stride != 1 || cin != out) {
                snprintf(conv, sizeof conv, "layer%d.%d.downsample.0", s + 1, b);
                snprintf(bn, sizeof bn, "layer%d.%d.downsample.1", s + 1, b);
                add(p, conv, bn, cin, out, 1, stride, block, OIQA_RESNET_ROLE_DOWN);
            }
            cin = out;
        }
        p->channels[s] = out;
    }
}

int oiqa_resnet_plan_conv(const oiqa_resnet_plan *p, int block, int role)
{
    for (int i = 0; i < p->n_convs; i++)
        if (p->conv[i].block == block && p->conv[i].role == role) return i;
    return -1;
}
