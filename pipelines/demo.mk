# The full demo pipeline (`make demo-full`): every stage of oiqa on a dataset
# synthesised from the shipped CC0 panoramas, with deterministic random-
# initialised backbones (pretrained weights cannot be shipped; every output
# records random:SEED). Each file is a target with its true prerequisites, so
# an interrupted run starts again from the last finished file and a changed
# setting or tool recomputes only what depends on it:
#   make -f pipelines/demo.mk BIN=build/bin [D=features/demo-full] [EPOCHS=60] [-j2]
# (or `make demo-full`).
#
# Demo-sized settings: viewports of 112 px
# (MTFI uses 224), VMamba on ERPs resized to 256x512 (MTFI: 512x1024),
# 8 references x 4 distortions x 5 levels, one content-disjoint split.

BIN ?= build/bin
D ?= features/demo-full
RUNS ?= runs/demo-full
RES ?= results/demo-full
EPOCHS ?= 60
VP_SIZE ?= 112
ERP_H ?= 256
ERP_W ?= 512
SEED ?= 0
PANOS := $(sort $(notdir $(wildcard data/panoramas/*.png)))
VARIANTS := full no_restored no_degraded no_global single_scale no_aux
CONFIG_full := configs/experiments/mtfi_example.yaml
CONFIG_no_restored := configs/experiments/mtfi_no_restored.yaml
CONFIG_no_degraded := configs/experiments/mtfi_no_degraded.yaml
CONFIG_no_global := configs/experiments/mtfi_no_global.yaml
CONFIG_single_scale := configs/experiments/mtfi_single_scale.yaml
CONFIG_no_aux := configs/experiments/mtfi_no_aux.yaml
# The global file goes to every variant but the one without global features.
global_for = $(if $(filter no_global,$(1)),,$(D)/vmamba.h5)

.PHONY: all table
.DELETE_ON_ERROR:
all: table

# 1. The dataset: every reference x family x level, labels with a pseudo-MOS.
$(D)/data/labels.csv: $(addprefix data/panoramas/,$(PANOS)) $(BIN)/oiqa-synth
	$(BIN)/oiqa-synth -q --root data/panoramas $(PANOS) -o $(D)/data --seed $(SEED) --force

$(D)/names.txt: $(D)/data/labels.csv
	tail -n +2 $< | cut -d, -f1 > $@

# 2. One content-disjoint split by reference: 6 train (1 of them val), 2 test.
$(D)/splits.csv: $(D)/data/labels.csv $(BIN)/oiqa-split
	$(BIN)/oiqa-split -q $< --train 0.75 --val 0.125 --test 0.25 --repeats 1 --seed $(SEED) -o $@ --force

# 3. Features.
$(D)/viewports.h5: $(D)/names.txt $(BIN)/oiqa-viewports
	$(BIN)/oiqa-viewports -q --root $(D)/data @$< --size $(VP_SIZE) -o $@ --force

$(D)/pseudoref.h5: $(D)/viewports.h5 $(BIN)/oiqa-pseudoref
	$(BIN)/oiqa-pseudoref -q $< --seed $(SEED) -o $@ --force

$(D)/resnet50.h5: $(D)/viewports.h5 $(D)/pseudoref.h5 $(BIN)/oiqa-resnet
	$(BIN)/oiqa-resnet -q $< --pseudoref $(D)/pseudoref.h5 --weights random:$(SEED) -o $@ --force

$(D)/vmamba.h5: $(D)/names.txt $(BIN)/oiqa-vmamba
	$(BIN)/oiqa-vmamba -q --root $(D)/data @$< --weights random:$(SEED) --height $(ERP_H) --width $(ERP_W) -o $@ --force

FEATURES := $(D)/resnet50.h5 $(D)/vmamba.h5 $(D)/data/labels.csv $(D)/splits.csv

# 4. The full model and each ablation: train, score, evaluate on the test references.
define variant
$(RUNS)/$(1)/model.h5: $(FEATURES) $(CONFIG_$(1)) $(BIN)/oiqa-train
	$(BIN)/oiqa-train -q --config $(CONFIG_$(1)) -o $(RUNS)/$(1) --force \
	  --set features.local=$(D)/resnet50.h5 $(if $(call global_for,$(1)),--set features.global=$(D)/vmamba.h5) \
	  --set labels=$(D)/data/labels.csv --set splits=$(D)/splits.csv --set epochs=$(EPOCHS) --set seed=$(SEED)

$(RUNS)/$(1)/predictions.csv: $(RUNS)/$(1)/model.h5 $(BIN)/oiqa-score
	$(BIN)/oiqa-score -q --model $$< --features $(D)/resnet50.h5 $(if $(call global_for,$(1)),--global $(D)/vmamba.h5) -o $$@ --force

$(RES)/$(1)/metrics.json: $(RUNS)/$(1)/predictions.csv $(BIN)/oiqa-eval
	$(BIN)/oiqa-eval -q $$< --labels $(D)/data/labels.csv --splits $(D)/splits.csv --part test -o $(RES)/$(1) --force
endef
$(foreach v,$(VARIANTS),$(eval $(call variant,$(v))))

table: $(foreach v,$(VARIANTS),$(RES)/$(v)/metrics.json)
	@pipelines/demo_table.sh $(RES) $(VARIANTS) > $(RES)/table.md
	@cat $(RES)/table.md
