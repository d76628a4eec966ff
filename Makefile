# oiqa: build, test, demo, bench, install.
#   make                 build liboiqa and every tool into build/
#   make test            unit, parity and end-to-end tests; last line "N passed, N failed"
#   make test SANITIZE=1 the same suite built with -fsanitize=address,undefined (in build-asan/)
#   make demo            every stage on a dataset synthesised from the shipped panoramas
#   make reproduce DATASET=cviq ROOT=/data/CVIQ   in-dataset + ablation experiments
#   make indataset | ablation | cross ...          one experiment (pipelines/experiments.mk)
#   make bench           benchmarks against OpenCV (ratios)
#   make pseudoref-table the measured table of docs/pseudoref.md (about 15 min on 2 cores; not in CI)
#   make install PREFIX=/usr/local
#   make CUDA=0          build without the CUDA backend (it is built when nvcc is
#                        found, /usr/local/cuda/bin/nvcc or on PATH; the binaries
#                        fall back to the CPU on machines without a GPU)
# Missing Debian packages are installed by scripts/install-deps.sh first.

VERSION := 0.1.0
PREFIX ?= /usr/local
SANITIZE ?= 0
# The CUDA backend (nn/cuda/, geo/cuda/): on when nvcc is found, for sm_80
# (A100) and sm_90 (H100/H200) plus sm_90 PTX for newer GPUs. The sanitizer
# build leaves it out unless CUDA=1 is given: ASan's shadow memory and the
# CUDA driver's address-space reservations do not mix (the driver needs
# ASAN_OPTIONS=protect_shadow_gap=0), and that build runs without a GPU.
NVCC ?= $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
ifeq ($(NVCC),)
  CUDA ?= 0
endif
ifeq ($(SANITIZE),1)
  CUDA ?= 0
endif
CUDA ?= 1
CUDA_ARCHS ?= 80 90
ifeq ($(SANITIZE),1)
  BUILD ?= build-asan
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g
  OPT ?= -O1
else
  # A CPU-only build next to a CUDA one gets its own folder.
  ifneq ($(CUDA)$(if $(NVCC),nvcc,),0nvcc)
    BUILD ?= build
  else
    BUILD ?= build-nocuda
  endif
  SANFLAGS :=
  OPT ?= -O2
endif

DEPS_OK := $(shell scripts/install-deps.sh --check >/dev/null 2>&1 && echo yes)
EXPERIMENTS := reproduce indataset ablation cross
PUBLIC_GOALS := all test demo demo-resnet_ft $(EXPERIMENTS) bench pseudoref-table install clean tools lib unit-tests

ifneq ($(DEPS_OK),yes)
# Dependencies missing: install them, then run the same goal again.
$(PUBLIC_GOALS):
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory $@
.PHONY: $(PUBLIC_GOALS)
else

PKGS := hdf5 yaml-0.1 zlib stb openblas libopenjp2
CC ?= gcc
CFLAGS ?= $(OPT) -g
# Option tables (base/cli.h) are written positionally and leave the trailing
# fields (a section's table, list lengths) to zero: that is not a mistake.
CFLAGS += -std=c11 -Wall -Wextra -Wno-missing-field-initializers -fopenmp -D_GNU_SOURCE \
  -DOIQA_VERSION='"$(VERSION)"' $(SANFLAGS)
CPPFLAGS += -Ilibcommon $(shell pkg-config --cflags $(PKGS))
LDFLAGS += -fopenmp $(SANFLAGS)
LDLIBS += $(shell pkg-config --libs $(PKGS)) -lm

LIB_SRC := $(sort $(wildcard libcommon/*/*.c) $(wildcard libcommon/methods/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
ifeq ($(CUDA),1)
  CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
  CU_SRC := $(sort $(wildcard libcommon/*/cuda/*.cu))
  CUDA_C_SRC := $(sort $(wildcard libcommon/*/cuda/*.c))
  LIB_OBJ += $(CU_SRC:%.cu=$(BUILD)/obj/%.o) $(CUDA_C_SRC:%.c=$(BUILD)/obj/%.o)
  # The CUDA runtime is linked statically; cuBLAS and cuDNN are opened at run
  # time when a GPU is used (nn/cuda/cuda_libs.h), found through the run path.
  CPPFLAGS += -DOIQA_HAVE_CUDA -I$(CUDA_HOME)/include -DOIQA_CUDA_LIBDIR='"$(CUDA_HOME)/lib64"'
  LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart_static -ldl -lrt -lpthread -lstdc++
  NVCCFLAGS ?= -O2 -g -std=c++17
  NVCCFLAGS += $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
    -gencode arch=compute_$(lastword $(CUDA_ARCHS)),code=compute_$(lastword $(CUDA_ARCHS)) \
    -Xcompiler -Wall,-Wextra -Ilibcommon -DOIQA_HAVE_CUDA
endif
LIB := $(BUILD)/liboiqa.a
TOOL_SRC := $(sort $(wildcard tools/oiqa-*.c))
TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/bin/%)
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TESTS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

all: tools
tools: $(TOOLS)
lib: $(LIB)
unit-tests: $(TESTS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -MF $(@:.o=.d) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# The suite: unit tests, parity tests (fixtures in ../shared, skipped with a
# reason when absent) and end-to-end runs of the tools.
SHARED ?= $(abspath ../shared)
test: $(TOOLS) $(TESTS)
	@OIQA_BIN=$(abspath $(BUILD)/bin) OIQA_TESTS=$(abspath $(BUILD)/tests) \
	  OIQA_SHARED=$(SHARED) OIQA_SANITIZE=$(SANITIZE) tests/run.sh

# The README's main command: the whole pipeline on a dataset synthesised from
# the shipped panoramas (pipelines/experiments.mk, target demo; resumable),
# with its wall time. One job per core, trainings one thread each: the six
# small trainings run side by side (faster in total than one at a time).
DEMO_JOBS ?= $(shell nproc)
demo: $(TOOLS)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j$(DEMO_JOBS) -f pipelines/experiments.mk demo BIN=$(abspath $(BUILD)/bin) \
	  TRAIN_THREADS=1 RESULTS_TABLE_QUIET=1 && \
	pipelines/demo_summary.sh $$start

# A ResNet-18 fine-tuned three ways on the demo dataset (docs/finetune.md).
demo-resnet_ft: $(TOOLS)
	@BIN=$(abspath $(BUILD)/bin) pipelines/finetune_demo.sh

# Experiments on the databases users bring (configs/datasets/, README "Running a database").
$(EXPERIMENTS): $(TOOLS)
	@$(MAKE) --no-print-directory -f pipelines/experiments.mk $@ BIN=$(abspath $(BUILD)/bin)

bench: $(TOOLS) $(BENCHES)
	@scripts/install-deps.sh --bench
	@BIN=$(abspath $(BUILD)/bin) BENCHBIN=$(abspath $(BUILD)/bench) bench/run.sh

# docs/pseudoref.md's table: every family x level on the 8 shipped panoramas
# through the stage's ERP path (bench/pseudoref_table.c), into
# results/pseudoref_table.md; needs ffmpeg for h264 and hevc.
pseudoref-table: $(BUILD)/bench/pseudoref_table
	@mkdir -p results
	$(BUILD)/bench/pseudoref_table data/panoramas/*_tonemapped.png >results/pseudoref_table.md.partial
	@mv results/pseudoref_table.md.partial results/pseudoref_table.md && cat results/pseudoref_table.md

install: $(TOOLS) $(LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/share/oiqa/configs
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	for d in libcommon/*/ libcommon/methods/*/; do r=$${d#libcommon/}; install -d $(DESTDIR)$(PREFIX)/include/oiqa/$$r; \
	  install -m 644 $$d*.h $(DESTDIR)$(PREFIX)/include/oiqa/$$r; done
	cp -r configs/. $(DESTDIR)$(PREFIX)/share/oiqa/configs/

clean:
	rm -rf build build-asan build-nocuda

.PHONY: $(PUBLIC_GOALS)
.SECONDARY:
-include $(LIB_OBJ:.o=.d) $(TOOL_SRC:%.c=$(BUILD)/obj/%.d) $(TEST_SRC:%.c=$(BUILD)/obj/%.d) $(BENCH_SRC:%.c=$(BUILD)/obj/%.d)
endif
