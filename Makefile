# SPDX-License-Identifier: GPL-2.0-only
# vxray build. `make` builds everything; `make check` runs every suite;
# `make deps` installs the Debian packages the build, lab and tests need.

.DELETE_ON_ERROR:
.SUFFIXES:

ifeq ($(V),1)
Q :=
msg := @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      ?= build
CLANG      ?= clang
BPFTOOL    ?= bpftool
CC         ?= gcc
PKG_CONFIG ?= pkg-config
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

PKGS       := libbpf libelf zlib libmnl libmicrohttpd libnftables
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	    -Wno-missing-field-initializers -Wno-format-truncation -D_GNU_SOURCE
CPPFLAGS += -I$(BUILD) -I$(BUILD)/skel -Iloader -Ibpf/include $(PKG_CFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) -lm -lpthread

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
BUILD   := build-san
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Wno-unused-function -I$(BUILD) -Ibpf/include -MMD -MP

BPF_SRCS  := $(wildcard bpf/xdp/*.bpf.c bpf/tc/*.bpf.c bpf/kprobe/*.bpf.c)
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(foreach s,$(BPF_SRCS),$(BUILD)/skel/$(notdir $(s:.bpf.c=.skel.h)))

LOADER_SRCS := $(wildcard loader/*.c)
LOADER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LOADER_SRCS))
LIB_OBJS    := $(filter-out $(BUILD)/loader/main.o,$(LOADER_OBJS))

UNIT_SRCS  := $(wildcard tests/unit/*.c)
UNIT_BINS  := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/*.c)
BPFT_BINS  := $(patsubst %.c,$(BUILD)/%,$(BPFT_SRCS))
TEST_BINS  := $(UNIT_BINS) $(BPFT_BINS)
DIFFFUZZ   := $(BUILD)/tests/fuzz/difffuzz

VXRAY := $(BUILD)/vxray

.PHONY: all
all: $(VXRAY) $(TEST_BINS) $(DIFFFUZZ)

$(BUILD)/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r $(VMLINUX_BTF) || { echo "error: no kernel BTF at $(VMLINUX_BTF); set VMLINUX_BTF=<path to a vmlinux with BTF>" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Skeleton names are the object's basename, so they must be unique across bpf/*/.
define skel_rule
$(BUILD)/skel/$(notdir $(1:.bpf.c=.skel.h)): $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(1))
	$$(call msg,SKEL,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(BPFTOOL) gen skeleton $$< name $(notdir $(1:.bpf.c=)) > $$@
endef
$(foreach s,$(BPF_SRCS),$(eval $(call skel_rule,$(s))))

$(BUILD)/loader/%.o: loader/%.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# vxray_build_info{version=...}: the commit it was built from.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/loader/view_agent.o: CPPFLAGS += -DVXRAY_VERSION='"$(VERSION)"'

$(VXRAY): $(LOADER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(LIB_OBJS) | $(SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

# The differential fuzzer: reference decoder vs the datapath programs.
# The skeletons embed the objects: relink when they change.
$(DIFFFUZZ): tests/fuzz/difffuzz.c tests/fuzz/refparse.c $(BUILD)/skel/vx_tc.skel.h \
	     $(BUILD)/skel/vx_xdp.skel.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) $(filter %.c,$^) $(LDFLAGS) $(LDLIBS) -o $@

.PHONY: check
check: all
	$(Q)BUILD=$(BUILD) tests/run

.PHONY: vmtest
vmtest: all
	$(Q)BUILD=$(BUILD) tests/run test_vm

.PHONY: deps
deps:
	$(Q)scripts/deps.sh

# The benchmark harness (bench/): built with everything so the smoke test in
# `make check` keeps it honest; `make bench` runs it and writes
# docs/BENCHMARKS.md. Not part of `make check`: timings are not tests.
VXBENCH := $(BUILD)/bench/vxbench
all: $(VXBENCH)

$(VXBENCH): bench/vxbench.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LDFLAGS) $(LDLIBS) -o $@

.PHONY: bench
bench: $(VXRAY) $(VXBENCH)
	$(Q)BUILD=$(BUILD) bench/run --out docs/BENCHMARKS.md

.PHONY: demo
demo: all
	$(Q)BUILD=$(BUILD) lab/demo

.PHONY: install
install: $(VXRAY)
	install -D -m 0755 $(VXRAY) $(DESTDIR)$(PREFIX)/sbin/vxray
	install -D -m 0755 lab/vxray-lab $(DESTDIR)$(PREFIX)/share/vxray/vxray-lab

.PHONY: clean
clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
