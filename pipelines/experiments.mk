# oiqa's experiments as make targets (DESIGN §1): every feature file,
# labels / splits file, model, prediction and result is a target with its true
# prerequisites (inputs, configs, tool binaries and the settings it was made
# with), so `make -j2` recomputes only what is stale and an interrupted
# experiment resumes at the first unfinished file.
#
#   make reproduce DATASET=cviq ROOT=/data/CVIQ        in-dataset + ablation (the top-level Makefile
#                                                     passes these through; or make -f pipelines/experiments.mk)
#   make indataset DATASET=oiqa ROOT=/data/OIQA [REPEATS=10]
#   make ablation  DATASET=oiqa ROOT=/data/OIQA
#   make cross TRAIN_SET=cviq TEST_SET=oiqa ROOT_cviq=/data/CVIQ ROOT_oiqa=/data/OIQA
#   make demo                                          the ablation experiment on the synthesised demo dataset
#
# A dataset is configs/datasets/<name>.yaml (flat keys, read through
# pipelines/dataset_vars.sh). Its files go to features/<name>/, models to
# runs/<experiment>/<variant>/<repeat>/, results to results/<experiment>/:
# table.md, metrics.json and, per variant, oiqa-eval's metrics.json, table.md
# and scatter.svg / scatter.png.
#
# Settings (make variables; a changed one recomputes what depends on it):
#   RESNET_WEIGHTS  torchvision ResNet-50 checkpoint (.pth/.safetensors/.h5), or random:SEED
#   VMAMBA_WEIGHTS  official VMamba-T checkpoint, or random:SEED; VMAMBA_ARCH its variant
#   VP_SIZE, ERP_HEIGHT, ERP_WIDTH   viewport size and the VMamba input (MTFI: 224; 512 x 1024)
#   REPEATS, EPOCHS (else the config's), SEED, CONFIG (the training config; else the dataset's train_config,
#                   else configs/experiments/mtfi_example.yaml)
#   PREFIX          image folder under ROOT (overrides the dataset config)
#   TRAIN_THREADS   threads per training; with make -jN use 1 (N trainings side by side)
# Without checkpoints the backbones are deterministic random weights
# (random:SEED): every feature file and model records it, and the numbers say
# nothing about the method's real accuracy.

BIN ?= build/bin
FEAT ?= features
RUNS ?= runs
RESULTS ?= results
SEED ?= 0
RESNET_WEIGHTS ?= random:$(SEED)
VMAMBA_WEIGHTS ?= random:$(SEED)
VMAMBA_ARCH ?= vmamba_t_s1l8
Q ?= -q
# Threads of each training (-j; empty: all cores). Trainings are small: with
# make -jN, TRAIN_THREADS=1 runs N of them side by side at a better total speed.
TRAIN_THREADS ?=
DATASETS_DIR ?= configs/datasets

# The full model and its ablations (docs/mtfi.md): each ablation is the
# training config with one switch turned off (what the examples
# configs/experiments/mtfi_no_*.yaml spell out over the reference config).
ABLATIONS := no_restored no_degraded no_global single_scale no_aux
SWITCH_full :=
SWITCH_no_restored := --set model.use_restored=false
SWITCH_no_degraded := --set model.use_degraded=false
SWITCH_no_global := --set model.use_global=false --set features.global=null
SWITCH_single_scale := --set model.scales=[layer4]
SWITCH_no_aux := --set model.aux_heads=false
uses_global = $(if $(filter no_global,$(1)),,yes)
# The training config of a dataset's models: CONFIG, else its train_config, else the reference one.
train_config = $(or $(CONFIG),$(DS_$(1)_train_config),configs/experiments/mtfi_example.yaml)

.DELETE_ON_ERROR:
.PHONY: reproduce indataset ablation cross demo

# ---- datasets -----------------------------------------------------------------

ifneq ($(filter cross,$(MAKECMDGOALS)),)
ifeq ($(and $(TRAIN_SET),$(TEST_SET)),)
$(error cross needs TRAIN_SET=NAME and TEST_SET=NAME (and ROOT_<name>=DIR for each))
endif
endif
ifneq ($(filter reproduce indataset ablation,$(MAKECMDGOALS)),)
ifeq ($(DATASET),)
$(error $(filter reproduce indataset ablation,$(MAKECMDGOALS)) needs DATASET=NAME (one of: $(basename $(notdir $(wildcard $(DATASETS_DIR)/*.yaml)))) and ROOT=DIR)
endif
endif
DATASETS := $(sort $(DATASET) $(TRAIN_SET) $(TEST_SET) $(if $(filter demo,$(MAKECMDGOALS)),demo))
ifneq ($(DATASET),)
ifneq ($(ROOT),)
ROOT_$(DATASET) := $(ROOT)
endif
endif

$(FEAT)/.config/%.mk: $(DATASETS_DIR)/%.yaml pipelines/dataset_vars.sh
	@mkdir -p $(@D)
	@pipelines/dataset_vars.sh $< > $@.tmp && mv $@.tmp $@
-include $(DATASETS:%=$(FEAT)/.config/%.mk)

# ds_get(ds, key, default): the dataset config's value, or the default.
ds_get = $(if $(DS_$(1)_$(2)),$(DS_$(1)_$(2)),$(3))
is_synth = $(filter true,$(DS_$(1)_synth))
# The folder the labels' image names are relative to.
image_root = $(if $(call is_synth,$(1)),$(FEAT)/$(1)/data,$(ROOT_$(1)))
vp_size = $(or $(VP_SIZE),$(call ds_get,$(1),viewport_size,224))
erp_h = $(or $(ERP_HEIGHT),$(call ds_get,$(1),erp_height,512))
erp_w = $(or $(ERP_WIDTH),$(call ds_get,$(1),erp_width,1024))
repeats = $(or $(REPEATS),$(call ds_get,$(1),repeats,10))
epochs = $(or $(EPOCHS),$(DS_$(1)_epochs))
prefix = $(if $(PREFIX),$(PREFIX),$(DS_$(1)_prefix))
# Models trained on DMOS (lower is better) predict DMOS: oiqa-eval is told so.
scores_lb = $(if $(filter true,$(DS_$(1)_lower_better)),--scores-lower-better)
# A weights argument's file, when it is one (a prerequisite).
weights_file = $(filter-out random:%,$(1))

# stamp(file, text, loaded): a settings file holding text. When its content
# differs from text (or it is missing) it is remade, and so is everything made
# with the old settings; otherwise it is up to date. Compared while make reads
# this file and written only by the rule, so `make -n` and `make -q` report
# exactly what is stale and change nothing. Skipped until the dataset's config
# is loaded (loaded empty: see the include above).
.PHONY: FORCE
FORCE:
define stamp_rule
$(1): $(if $(shell printf '%s\n' '$(2)' | cmp -s - $(1) 2>/dev/null && echo same),,FORCE)
	@mkdir -p $$(@D) && printf '%s\n' '$(2)' > $$@
endef
stamp = $(if $(3),$(eval $(call stamp_rule,$(1),$(2))))

define dataset_rules
# $(1): the dataset name.
$(if $(DS_$(1)_adapter),$(if $(ROOT_$(1)),,$(error dataset $(1) needs the folder of its files: ROOT=DIR (or ROOT_$(1)=DIR); see README "Running a database")))
$(1)_VIEWPORTS_ARGS := --size $(call vp_size,$(1)) $(if $(DS_$(1)_viewport_fov),--fov $(DS_$(1)_viewport_fov)) $(if $(DS_$(1)_viewport_layout),--layout $(DS_$(1)_viewport_layout)) $(if $(filter true,$(DS_$(1)_sheets)),--sheet $(FEAT)/$(1)/sheets)
$(1)_SYNTH_ARGS := --seed $(SEED) $(if $(DS_$(1)_synth_levels),--levels $(DS_$(1)_synth_levels)) $(if $(DS_$(1)_synth_size),--size $(DS_$(1)_synth_size)) $(if $(DS_$(1)_viewport_fov),--fov $(DS_$(1)_viewport_fov)) $(if $(DS_$(1)_viewport_layout),--layout $(DS_$(1)_viewport_layout))
$(1)_PSEUDOREF_ARGS := --seed $(SEED)
$(1)_RESNET_ARGS := --weights $(RESNET_WEIGHTS)
$(1)_VMAMBA_ARGS := --arch $(VMAMBA_ARCH) --weights $(VMAMBA_WEIGHTS) --height $(call erp_h,$(1)) --width $(call erp_w,$(1))
$(1)_SPLIT_ARGS := --train $(call ds_get,$(1),train,0.8) --val $(call ds_get,$(1),val,0.1) --test $(call ds_get,$(1),test,0.2) --repeats $(call repeats,$(1)) --seed $(SEED)
$(1)_SPLIT_ALL_ARGS := --train 1 --val $(call ds_get,$(1),val,0.1) --test 0 --repeats 1 --seed $(SEED)

$$(call stamp,$(FEAT)/$(1)/args/viewports,$$($(1)_VIEWPORTS_ARGS),$(DS_$(1)_title))
$$(call stamp,$(FEAT)/$(1)/args/pseudoref,$$($(1)_PSEUDOREF_ARGS),$(DS_$(1)_title))
$$(call stamp,$(FEAT)/$(1)/args/resnet,$$($(1)_RESNET_ARGS),$(DS_$(1)_title))
$$(call stamp,$(FEAT)/$(1)/args/vmamba,$$($(1)_VMAMBA_ARGS),$(DS_$(1)_title))
$$(call stamp,$(FEAT)/$(1)/args/split,$$($(1)_SPLIT_ARGS),$(DS_$(1)_title))
$$(call stamp,$(FEAT)/$(1)/args/labels,$(ROOT_$(1)) $(call prefix,$(1)) $(DS_$(1)_score) $(DS_$(1)_score_files) $$($(1)_SYNTH_ARGS),$(DS_$(1)_title))

ifneq ($(call is_synth,$(1)),)
# A synthesised dataset: oiqa-synth writes the images and labels.csv.
$(1)_PANOS := $$(sort $$(notdir $$(wildcard $(DS_$(1)_panoramas)/*.png)))
$(FEAT)/$(1)/data/labels.csv: $$(addprefix $(DS_$(1)_panoramas)/,$$($(1)_PANOS)) $(BIN)/oiqa-synth $(FEAT)/$(1)/args/labels
	$(BIN)/oiqa-synth $(Q) --root $(DS_$(1)_panoramas) $$($(1)_PANOS) -o $(FEAT)/$(1)/data $$($(1)_SYNTH_ARGS) --force
$(FEAT)/$(1)/labels.csv: $(FEAT)/$(1)/data/labels.csv
	cp $$< $$@
else
$(FEAT)/$(1)/labels.csv: $(addprefix $(ROOT_$(1))/,$(DS_$(1)_score_files)) $(BIN)/oiqa-labels $(FEAT)/$(1)/args/labels
	$(BIN)/oiqa-labels $(Q) --dataset $(DS_$(1)_adapter) $(addprefix $(ROOT_$(1))/,$(DS_$(1)_score_files)) \
	  $(if $(DS_$(1)_score),--score $(DS_$(1)_score)) $(if $(call prefix,$(1)),--prefix $(call prefix,$(1))) -o $$@ --force
endif

$(FEAT)/$(1)/names.txt: $(FEAT)/$(1)/labels.csv
	tail -n +2 $$< | cut -d, -f1 > $$@

$(FEAT)/$(1)/splits.csv: $(FEAT)/$(1)/labels.csv $(BIN)/oiqa-split $(FEAT)/$(1)/args/split
	$(BIN)/oiqa-split $(Q) $$< $$($(1)_SPLIT_ARGS) -o $$@ --force

# Every reference in training (a few for validation): the model of a cross-dataset run.
$(FEAT)/$(1)/splits_all.csv: $(FEAT)/$(1)/labels.csv $(BIN)/oiqa-split $(FEAT)/$(1)/args/split
	$(BIN)/oiqa-split $(Q) $$< $$($(1)_SPLIT_ALL_ARGS) -o $$@ --force

$(FEAT)/$(1)/viewports.h5: $(FEAT)/$(1)/names.txt $(BIN)/oiqa-viewports $(FEAT)/$(1)/args/viewports
	$(BIN)/oiqa-viewports $(Q) --root $(call image_root,$(1)) @$$< $$($(1)_VIEWPORTS_ARGS) -o $$@ --force

$(FEAT)/$(1)/pseudoref.h5: $(FEAT)/$(1)/viewports.h5 $(BIN)/oiqa-pseudoref $(FEAT)/$(1)/args/pseudoref
	$(BIN)/oiqa-pseudoref $(Q) $$< $$($(1)_PSEUDOREF_ARGS) -o $$@ --force

$(FEAT)/$(1)/resnet50.h5: $(FEAT)/$(1)/viewports.h5 $(FEAT)/$(1)/pseudoref.h5 $(BIN)/oiqa-resnet \
                          $(FEAT)/$(1)/args/resnet $(call weights_file,$(RESNET_WEIGHTS))
	$(BIN)/oiqa-resnet $(Q) $$< --pseudoref $(FEAT)/$(1)/pseudoref.h5 $$($(1)_RESNET_ARGS) -o $$@ --force

$(FEAT)/$(1)/vmamba.h5: $(FEAT)/$(1)/names.txt $(BIN)/oiqa-vmamba $(FEAT)/$(1)/args/vmamba \
                        $(call weights_file,$(VMAMBA_WEIGHTS))
	$(BIN)/oiqa-vmamba $(Q) --root $(call image_root,$(1)) @$$< $$($(1)_VMAMBA_ARGS) -o $$@ --force
endef
$(foreach d,$(DATASETS),$(eval $(call dataset_rules,$(d))))

features_of = $(addprefix $(FEAT)/$(1)/,resnet50.h5 $(if $(2),vmamba.h5) labels.csv)

# ---- runs ---------------------------------------------------------------------

# run_rules(runs_dir, variant, train_ds, test_ds, splits, repeat): train on
# train_ds's `repeat` column of `splits`, score every image of test_ds.
define run_rules
$(RUNS)/$(1)/$(2)/$(6)/model.h5: $(call features_of,$(3),$(call uses_global,$(2))) $(5) $(call train_config,$(3)) \
                                 $(BIN)/oiqa-train $(RUNS)/$(1)/$(2)/$(6)/args
	$(BIN)/oiqa-train $(Q) --config $(call train_config,$(3)) -o $(RUNS)/$(1)/$(2)/$(6) --force \
	  --set features.local=$(FEAT)/$(3)/resnet50.h5 \
	  $(if $(call uses_global,$(2)),--set features.global=$(FEAT)/$(3)/vmamba.h5) \
	  --set labels=$(FEAT)/$(3)/labels.csv --set splits=$(5) --set repeat=$(6) \
	  $(if $(call epochs,$(3)),--set epochs=$(call epochs,$(3))) --set seed=$(SEED) $(SWITCH_$(2)) $(if $(TRAIN_THREADS),-j $(TRAIN_THREADS))
$(call stamp,$(RUNS)/$(1)/$(2)/$(6)/args,$(call train_config,$(3)) $(call epochs,$(3)) $(SEED) $(SWITCH_$(2)),$(DS_$(3)_title))

$(RUNS)/$(1)/$(2)/$(6)/predictions.csv: $(RUNS)/$(1)/$(2)/$(6)/model.h5 \
                                        $(call features_of,$(4),$(call uses_global,$(2))) $(BIN)/oiqa-score
	$(BIN)/oiqa-score $(Q) --model $$< --features $(FEAT)/$(4)/resnet50.h5 \
	  $(if $(call uses_global,$(2)),--global $(FEAT)/$(4)/vmamba.h5) -o $$@ --force
endef

repeat_cols = $(addprefix s,$(shell seq 0 $$(($(1) - 1))))

# in_dataset(exp, ds, variants, kind): every variant on every repeat of ds's
# splits, evaluated on the test references of each repeat (median and mean
# over repeats). Models live in runs/<ds>/<variant>/<repeat>/, so experiments
# on one dataset share them (the full model of `indataset` is that of
# `ablation`).
define in_dataset
$(foreach v,$(3),$(if $(RUN_RULES_$(2)_$(v)),,$(eval RUN_RULES_$(2)_$(v) := 1)\
  $(foreach r,$(call repeat_cols,$(call repeats,$(2))),\
    $(eval $(call run_rules,$(2),$(v),$(2),$(2),$(FEAT)/$(2)/splits.csv,$(r))))))
$(if $(RUN_RULES_$(2)_typemean),,$(eval RUN_RULES_$(2)_typemean := 1)$(eval $(call baseline_rules,$(2))))
$(foreach v,$(3) typemean,$(eval $(call eval_rules,$(1),$(v),$(2),\
  $(foreach r,$(call repeat_cols,$(call repeats,$(2))),$(RUNS)/$(2)/$(v)/$(r)/predictions.csv),\
  --splits $(FEAT)/$(2)/splits.csv --part test $(call scores_lb,$(2)),$(FEAT)/$(2)/splits.csv)))
$(RESULTS)/$(1)/table.md: $(foreach v,$(3) typemean,$(RESULTS)/$(1)/$(v)/metrics.json) pipelines/results_table.sh
	pipelines/results_table.sh $(RESULTS)/$(1) "$(4) on $(call ds_get,$(2),title,$(2))" "$(call weights_note)" $(3) typemean
endef

# eval_rules(exp, variant, test_ds, predictions, eval args, extra prerequisites)
define eval_rules
$(RESULTS)/$(1)/$(2)/metrics.json: $(4) $(FEAT)/$(3)/labels.csv $(6) $(BIN)/oiqa-eval
	$(BIN)/oiqa-eval -q $(4) --labels $(FEAT)/$(3)/labels.csv $(5) -o $(RESULTS)/$(1)/$(2) --force
endef

# The per-distortion-type mean predictor (a baseline any model must beat):
# each test image gets the mean label of the training images of its type.
define baseline_rules
$(foreach r,$(call repeat_cols,$(call repeats,$(1))),
$(RUNS)/$(1)/typemean/$(r)/predictions.csv: $(FEAT)/$(1)/labels.csv $(FEAT)/$(1)/splits.csv pipelines/typemean.sh
	@mkdir -p $$(@D)
	pipelines/typemean.sh $(FEAT)/$(1)/labels.csv $(FEAT)/$(1)/splits.csv $(r) > $$@.tmp && mv $$@.tmp $$@
)
endef

weights_note = ResNet-50 weights: $(RESNET_WEIGHTS); VMamba ($(VMAMBA_ARCH)) weights: $(VMAMBA_WEIGHTS)$(if $(filter random:%,$(RESNET_WEIGHTS) $(VMAMBA_WEIGHTS)), (random:SEED = deterministic random initialisation, not pretrained))

# ---- the experiments ----------------------------------------------------------

ifneq ($(DATASET),)
$(eval $(call in_dataset,indataset_$(DATASET),$(DATASET),full,In-dataset))
$(eval $(call in_dataset,ablation_$(DATASET),$(DATASET),full $(ABLATIONS),Ablation))
indataset: $(RESULTS)/indataset_$(DATASET)/table.md
ablation: $(RESULTS)/ablation_$(DATASET)/table.md
reproduce: indataset ablation
endif

ifneq ($(and $(TRAIN_SET),$(TEST_SET)),)
CROSS := cross_$(TRAIN_SET)_to_$(TEST_SET)
$(eval $(call run_rules,$(CROSS),full,$(TRAIN_SET),$(TEST_SET),$(FEAT)/$(TRAIN_SET)/splits_all.csv,s0))
$(eval $(call eval_rules,$(CROSS),full,$(TEST_SET),$(RUNS)/$(CROSS)/full/s0/predictions.csv,$(call scores_lb,$(TRAIN_SET)),))
$(RESULTS)/$(CROSS)/table.md: $(RESULTS)/$(CROSS)/full/metrics.json pipelines/results_table.sh
	pipelines/results_table.sh $(RESULTS)/$(CROSS) "Cross-dataset: trained on $(call ds_get,$(TRAIN_SET),title,$(TRAIN_SET)), tested on every image of $(call ds_get,$(TEST_SET),title,$(TEST_SET))" "$(call weights_note)" full
cross: $(RESULTS)/$(CROSS)/table.md
endif

ifneq ($(filter demo,$(MAKECMDGOALS)),)
$(eval $(call in_dataset,demo,demo,full $(ABLATIONS),The full model and its ablations))
endif
demo: $(RESULTS)/demo/table.md
