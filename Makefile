# SPDX-License-Identifier: MIT
# mapwatch: deps -> BPF object -> skeleton -> user objects -> ./mapwatch
#
#   make          build ./mapwatch (installs missing build packages first)
#   make test     install everything the tests need, build, run every test
#   make demo     build, run the bundled demo workload, capture it, print the report
#   make catalogue  every Go release Debian's suites offer: install, regenerate the offsets
#                 catalogue, run every test (tools/update-go-releases.sh; then commit)
#   make install  install to $(PREFIX)/sbin
#   V=1           show full commands

OUTPUT := .output
ARCH := x86
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PREFIX ?= /usr/local
PKGS := libbpf libelf libdw json-c glib-2.0 capstone zlib

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

CFLAGS ?= -g -O2
CFLAGS += -Wall -Wextra -Wno-missing-field-initializers -std=gnu11 -D_GNU_SOURCE \
	  -I$(OUTPUT) -Iuser -Ibpf $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null)
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf

GOBIN_SRCS := $(wildcard user/gobin/*.c)
CORE_SRCS := $(GOBIN_SRCS) user/dwarf_layout.c user/probes.c user/disasm.c user/probeplan.c user/goheap.c \
	     user/symbolize.c user/model.c user/report_json.c user/report_text.c \
	     user/report_graph.c user/target.c $(wildcard user/detect/*.c)
APP_SRCS := $(CORE_SRCS) user/attach.c user/attach_mem.c user/capture.c user/info.c user/report_cmd.c user/main.c
CORE_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(CORE_SRCS))
APP_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(APP_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/*.c))
# Unit tests link a copy of the pure code built with ASan/UBSan: corrupt input must not
# read out of bounds, not merely not crash.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_OBJS := $(patsubst %.c,$(OUTPUT)/san/%.o,$(CORE_SRCS))

.PHONY: all deps test unit integration demo catalogue install clean
.DELETE_ON_ERROR:
.SECONDARY:

# Dependencies are installed first, then a sub-make builds with them in place.
all: deps
	$(Q)$(MAKE) mapwatch

# Quiet when everything is installed; installs what is missing (needs root).
deps:
	$(Q)tools/setup-deps.sh --build

$(OUTPUT)/mapwatch.bpf.o: bpf/mapwatch.bpf.c bpf/mapwatch.h vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/mapwatch.skel.h: $(OUTPUT)/mapwatch.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name mapwatch_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(wildcard user/*.h user/gobin/*.h user/detect/*.h) bpf/mapwatch.h probes/*.def
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/user/attach.o: $(OUTPUT)/mapwatch.skel.h

$(OUTPUT)/tools/dwarf-layout: tools/gen-offsets/dwarf-layout.c $(CORE_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(CORE_OBJS) $(LDLIBS) -o $@

mapwatch: $(APP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/san/user/%.o: user/%.c $(wildcard user/*.h user/gobin/*.h user/detect/*.h) bpf/mapwatch.h probes/*.def
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/check.h $(SAN_OBJS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests/unit $< $(SAN_OBJS) $(LDLIBS) -o $@

# Everything the tests use, toolchains included, comes from tools/setup-deps.sh.
test:
	$(Q)tools/setup-deps.sh
	$(Q)$(MAKE) mapwatch $(UNIT_TESTS)
	$(Q)tests/run.sh

# make soak: the test setup, then 100 attach/detach cycles per toolchain (README: Soak).
.PHONY: soak
soak: all
	$(Q)tools/setup-deps.sh
	$(Q)SOAK_CYCLES=100 MW_TESTS=soak tests/run.sh

demo:
	$(Q)tools/setup-deps.sh --demo
	$(Q)$(MAKE) mapwatch
	$(Q)tools/demo.sh

catalogue:
	$(Q)tools/update-go-releases.sh

install: all
	install -D -m 0755 mapwatch $(DESTDIR)$(PREFIX)/sbin/mapwatch

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) mapwatch
