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
LLVM_STRIP ?= llvm-strip
BPFTOOL    ?= bpftool
CC         ?= gcc
PKG_CONFIG ?= pkg-config
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

PKGS       := libbpf libelf zlib libmnl libmicrohttpd libnftables jansson libcurl
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libmicrohttpd is dlopen'ed by --metrics (loader/sinks/httpd.c), not linked:
# its soname comes from the library the headers belong to.
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(filter-out libmicrohttpd,$(PKGS)) 2>/dev/null)
MHD_SONAME := $(shell objdump -p "$$($(PKG_CONFIG) --variable=libdir libmicrohttpd)/libmicrohttpd.so" \
		2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')

# The loader's layers (docs/DESIGN.md): main and the command table on top,
# views composing engines and sinks, the diagnosis, and the vocabulary
# every layer uses at the bottom.
LOADER_DIRS := loader loader/views loader/diagnose loader/sinks loader/engines loader/common

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	    -Wno-missing-field-initializers -Wno-format-truncation -D_GNU_SOURCE
CPPFLAGS += -I$(BUILD) -I$(BUILD)/skel $(LOADER_DIRS:%=-I%) -Ibpf/include $(PKG_CFLAGS) -MMD -MP
CPPFLAGS += $(if $(MHD_SONAME),-DVX_MHD_SONAME='"$(MHD_SONAME)"')
LDLIBS   += $(PKG_LIBS) -lm -lpthread

# SANITIZE=1 builds into $(BUILD)-san (build-san by default), so that a
# sanitized tree never mixes with a plain one. `make check` runs the unit
# suites a second time that way, in the same closing line (san-units).
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
override BUILD := $(BUILD)-san
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Wno-unused-function -I$(BUILD) -Ibpf/include -MMD -MP

BPF_SRCS  := $(wildcard bpf/xdp/*.bpf.c bpf/tc/*.bpf.c bpf/kprobe/*.bpf.c)
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(foreach s,$(BPF_SRCS),$(BUILD)/skel/$(notdir $(s:.bpf.c=.skel.h)))
# The benchmark's baselines (bench/bpf/: empty programs on vxray's hooks)
# and programs that only the BPF tests load (tests/bpf/progs/): never in
# vxray.
BENCH_BPF_SRCS := $(wildcard bench/bpf/*.bpf.c)
BENCH_SKELS    := $(foreach s,$(BENCH_BPF_SRCS),$(BUILD)/skel/$(notdir $(s:.bpf.c=.skel.h)))
TEST_BPF_SRCS  := $(wildcard tests/bpf/progs/*.bpf.c)
TEST_SKELS     := $(foreach s,$(TEST_BPF_SRCS),$(BUILD)/skel/$(notdir $(s:.bpf.c=.skel.h)))

LOADER_SRCS := $(wildcard loader/*.c loader/*/*.c)
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

# The skeletons embed the objects in vxray: keep BTF and line info
# (.BTF.ext), strip the DWARF that libbpf never reads but whose pages its
# ELF walk at open faults in (vx_drops.bpf.o: 1.2 MiB -> 0.5 MiB).
$(BUILD)/%.bpf.o: %.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

# Skeleton names are the object's basename, so they must be unique across
# bpf/*/, bench/bpf/ and tests/bpf/progs/.
define skel_rule
$(BUILD)/skel/$(notdir $(1:.bpf.c=.skel.h)): $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(1))
	$$(call msg,SKEL,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(BPFTOOL) gen skeleton $$< name $(notdir $(1:.bpf.c=)) > $$@
endef
$(foreach s,$(BPF_SRCS) $(BENCH_BPF_SRCS) $(TEST_BPF_SRCS),$(eval $(call skel_rule,$(s))))

$(BUILD)/loader/%.o: loader/%.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# vxray_build_info{version=...}: the commit it was built from.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/loader/sinks/mexport.o $(BUILD)/loader/sinks/capture.o $(BUILD)/loader/views/version.o: CPPFLAGS += -DVXRAY_VERSION='"$(VERSION)"'

$(VXRAY): $(LOADER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(LIB_OBJS) | $(SKELS) $(BENCH_SKELS) $(TEST_SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

# The differential fuzzer: reference decoder vs the datapath programs.
# The skeletons embed the objects: relink when they change.
$(DIFFFUZZ): tests/fuzz/difffuzz.c tests/fuzz/refparse.c loader/common/maputil.c \
	     $(BUILD)/skel/vx_tc.skel.h \
	     $(BUILD)/skel/vx_xdp.skel.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) $(filter %.c,$^) $(LDFLAGS) $(LDLIBS) -o $@

# libFuzzer targets, one per decoder of untrusted input, each with the
# loader sources it needs. `make fuzz` runs the differential fuzzer for
# FUZZ_FRAMES frames and each target for FUZZ_TIME seconds; `make check`
# replays tests/fuzz/corpus/<target>/ (tests/integration/test_fuzzcorpus.sh).
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_FRAMES  ?= 2000000
FUZZ_SEED    ?= $(shell date +%s)
FUZZ_TARGETS := opts inventory dropfmt policy conntrack dpevent retrans nfhook lathist baseline \
		listen
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%)
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
		-Wno-missing-field-initializers -D_GNU_SOURCE \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
# The vocabulary (loader/common/) is at the bottom: every target may use it.
COMMON_SRCS         := loader/common/names.c loader/common/netns.c loader/common/clock.c \
		       loader/common/record.c loader/common/json.c loader/common/log.c loader/common/opts.c
fuzz_opts_SRCS      := loader/common/opts.c
fuzz_inventory_SRCS := loader/common/inventory.c loader/common/peers.c $(COMMON_SRCS)
fuzz_dropfmt_SRCS   := $(COMMON_SRCS)
fuzz_policy_SRCS    := loader/engines/policy_parse.c
fuzz_conntrack_SRCS := loader/engines/ctnl.c
# The record formatters (recfmt.c): a sink, on the vocabulary alone.
RECFMT_SRCS         := loader/sinks/recfmt.c loader/common/hist.c loader/common/btfnames.c \
		       loader/common/inventory.c loader/common/peers.c $(COMMON_SRCS)
fuzz_dpevent_SRCS   := $(RECFMT_SRCS)
fuzz_retrans_SRCS   := $(RECFMT_SRCS)
fuzz_nfhook_SRCS    := $(RECFMT_SRCS)
fuzz_lathist_SRCS   := loader/common/hist.c $(COMMON_SRCS)
fuzz_baseline_SRCS  := loader/diagnose/baseline.c $(COMMON_SRCS)
fuzz_listen_SRCS    := loader/sinks/httpd.c loader/sinks/metrics.c

define fuzz_rule
$(BUILD)/tests/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(fuzz_$(1)_SRCS) | $(SKELS)
	$$(call msg,FUZZ,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(FUZZ_CC) $$(filter-out -MMD -MP,$$(CPPFLAGS)) $$(FUZZ_CFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz
fuzz: $(DIFFFUZZ) $(FUZZ_BINS)
	$(Q)$(DIFFFUZZ) -n $(FUZZ_FRAMES) -s $(FUZZ_SEED) -v
	$(Q)set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/crash; \
		printf '  %-8s %s for %ss\n' FUZZ $$t $(FUZZ_TIME); \
		$(BUILD)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/crash/$$t- $(BUILD)/fuzz/corpus/$$t \
			tests/fuzz/corpus/$$t >$(BUILD)/fuzz/$$t.log 2>&1 \
			|| { tail -n 60 $(BUILD)/fuzz/$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz/$$t.log; \
	done

# Every suite, and the unit suites a second time under ASan/UBSan (built
# into $(BUILD)-san), summed by tests/run into one closing line. The build
# uses every core (NPROC); TEST_JOBS host suites run at once (tests/run -j),
# beside the quick kernel matrix (tests/integration/test_vm.sh).
NPROC     ?= $(shell nproc 2>/dev/null || echo 1)
TEST_JOBS ?= 3
.PHONY: check
ifneq ($(SANITIZE),1)
check:
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all $(FUZZ_BINS)
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) SANITIZE=1 BUILD=$(BUILD) san-units
	$(Q)BUILD=$(BUILD) SAN_BUILD=$(BUILD)-san tests/run -j$(TEST_JOBS)
else
check:
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all $(FUZZ_BINS)
	$(Q)BUILD=$(BUILD) tests/run -j$(TEST_JOBS)
endif

.PHONY: san-units
san-units: $(UNIT_BINS)

# The unit suites under ASan/UBSan alone (make SANITIZE=1 check-san).
.PHONY: check-san
check-san: $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) tests/run unit

# The whole kernel matrix: every guest suite under every backend the 6.1
# guest allows (about an hour under TCG). Run it after changing bpf/kprobe,
# backend selection or attach code (docs/LAB.md).
.PHONY: vmtest
vmtest: all
	$(Q)BUILD=$(BUILD) VM_MATRIX=full tests/run integration/vm

# Every C file of the project in .clang-format's style: `make format`
# rewrites them, `make format-check` (run by make check through
# tests/integration/test_source.sh) fails naming the files that differ.
# scripts/check-includes: the loader's includes point down, no cycle.
CLANG_FORMAT ?= clang-format
FORMAT_SRCS  := $(wildcard loader/*.[ch] loader/*/*.[ch] bpf/*/*.[ch] bench/*.c bench/bpf/*.c \
		  tests/*/*.c tests/bpf/progs/*.c)
.PHONY: format format-check check-includes
format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRCS)
format-check:
	$(Q)bad=$$($(CLANG_FORMAT) --dry-run $(FORMAT_SRCS) 2>&1 | \
		sed -n 's/^\([^:]*\.[ch]\):[0-9]*:[0-9]*: warning: .*/\1/p' | sort -u); \
	if [ -n "$$bad" ]; then \
		echo "not in .clang-format's style (make format rewrites them):" $$bad >&2; exit 1; \
	fi; echo "$(words $(FORMAT_SRCS)) C files in .clang-format's style"
check-includes:
	$(Q)scripts/check-includes

.PHONY: deps
deps:
	$(Q)scripts/deps.sh

# The benchmark harness (bench/): built with everything so the smoke test in
# `make check` keeps it honest; `make bench` runs it and writes
# docs/BENCHMARKS.md. Not part of `make check`: timings are not tests.
VXBENCH := $(BUILD)/bench/vxbench
all: $(VXBENCH)

$(VXBENCH): bench/vxbench.c loader/common/maputil.c | $(SKELS) $(BENCH_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(filter %.c,$^) $(LDFLAGS) $(LDLIBS) -o $@

.PHONY: bench
bench: $(VXRAY) $(VXBENCH)
	$(Q)BUILD=$(BUILD) BENCH_CMD="make bench" bench/run --out docs/BENCHMARKS.md \
		$(if $(BENCH_NOTE),--note "$(BENCH_NOTE)")

.PHONY: demo
demo: all
	$(Q)BUILD=$(BUILD) lab/demo

.PHONY: install
# UNITDIR: where the systemd unit goes (Debian 12's package: /lib/systemd/system).
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: $(VXRAY) $(BUILD)/bpf/tc/vx_lab_csum.bpf.o
	install -D -m 0755 $(VXRAY) $(DESTDIR)$(PREFIX)/sbin/vxray
	install -D -m 0755 lab/vxray-lab $(DESTDIR)$(PREFIX)/share/vxray/vxray-lab
	install -D -m 0644 $(BUILD)/bpf/tc/vx_lab_csum.bpf.o $(DESTDIR)$(PREFIX)/lib/vxray/vx_lab_csum.bpf.o
	install -D -m 0644 docs/vxray.8 $(DESTDIR)$(PREFIX)/share/man/man8/vxray.8
	install -D -m 0644 contrib/vxray.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/vxray
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/share/vxray/deploy
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' docs/deploy/vxray-agent.service \
		>$(DESTDIR)$(UNITDIR)/vxray-agent.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vxray-agent.service
	install -m 0644 docs/deploy/README.md docs/deploy/RUNBOOK.md docs/deploy/daemonset.yaml \
		docs/deploy/prometheus.yml docs/deploy/prometheus-kubernetes.yml \
		docs/deploy/prometheus-rules.yml docs/deploy/alertmanager.yml \
		docs/deploy/grafana-dashboard.json \
		$(DESTDIR)$(PREFIX)/share/vxray/deploy/
	install -d $(DESTDIR)$(PREFIX)/share/vxray/schema
	install -m 0644 docs/schema/README.md docs/schema/*.schema.json \
		$(DESTDIR)$(PREFIX)/share/vxray/schema/

# Every file install wrote, and share/vxray and lib/vxray whole; directories that
# others share (sbin, man8, completions, systemd/system) stay.
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/vxray $(DESTDIR)$(PREFIX)/share/man/man8/vxray.8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/vxray \
		$(DESTDIR)$(UNITDIR)/vxray-agent.service
	rm -rf $(DESTDIR)$(PREFIX)/share/vxray $(DESTDIR)$(PREFIX)/lib/vxray

# A Debian package of the working tree: $(BUILD)/deb/vxray_VERSION_ARCH.deb,
# built with dpkg-buildpackage from contrib/debian and checked by lintian
# (scripts/mkdeb.sh says how the version is made).
.PHONY: deb
deb:
	$(Q)BUILD=$(BUILD) scripts/mkdeb.sh

.PHONY: clean
clean:
	$(if $(strip $(BUILD)),,$(error BUILD is empty: nothing to clean))
	rm -rf $(BUILD) $(BUILD)-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
