# SPDX-License-Identifier: MIT
# mapwatch: deps -> BPF object -> skeleton -> user objects -> ./mapwatch
#
#   make          build ./mapwatch (installs missing build packages first)
#   make test     install everything the tests need, build, run every test
#   make fuzz     run each libFuzzer harness (tests/fuzz/) for FUZZ_SECONDS (default 180)
#   make demo     build, run the bundled demo workload, capture it, print the report
#   make catalogue  every Go release Debian's suites offer: install, regenerate the offsets
#                 catalogue, run every test (tools/update-go-releases.sh; then commit)
#   make install  install to $(PREFIX)/sbin, and the systemd unit (not enabled) to $(UNITDIR)
#   make bench    build, then run the benchmarks of tools/bench/ (README: Benchmarks)
#   V=1           show full commands; CFLAGS=... replaces -g -O2, the project's flags stay

OUTPUT := .output
ARCH := x86
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PREFIX ?= /usr/local
UNITDIR ?= $(PREFIX)/lib/systemd/system
PKGS := libbpf libelf libdw json-c glib-2.0 capstone zlib libmicrohttpd libsystemd

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

# CFLAGS is the user's (optimisation, debug info; `make CFLAGS=-O0` works); the project's
# own flags are apart so that a CFLAGS on the command line cannot drop them.
CFLAGS ?= -g -O2
MW_CFLAGS := -Wall -Wextra -Wno-missing-field-initializers -std=gnu11 -D_GNU_SOURCE \
	     -I$(OUTPUT) -Iuser -Ibpf $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
MW_LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf

GOBIN_SRCS := $(wildcard user/gobin/*.c)
CORE_SRCS := $(GOBIN_SRCS) user/dwarf_layout.c user/probes.c user/disasm.c user/probeplan.c user/goheap.c \
	     user/symbolize.c user/budget.c user/model.c user/report_json.c user/report_read.c user/report_text.c \
	     user/report_graph.c user/target.c $(wildcard user/detect/*.c)
APP_SRCS := $(CORE_SRCS) user/attach.c user/attach_mem.c user/session.c user/capture.c user/daemon.c user/info.c user/report_cmd.c user/main.c
# The daemon's building blocks (README: The daemon), apart from the daemon
# itself (user/daemon.c, which needs BPF): linked into ./mapwatch and into the unit tests.
DAEMON_SRCS := user/discover.c user/watch.c user/metrics.c user/httpd.c user/sdnotify.c user/daemon_opts.c
APP_SRCS += $(DAEMON_SRCS)
CORE_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(CORE_SRCS))
APP_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(APP_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/*.c))
# Unit tests link a copy of the pure code built with ASan/UBSan: corrupt input must not
# read out of bounds, not merely not crash.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_OBJS := $(patsubst %.c,$(OUTPUT)/san/%.o,$(CORE_SRCS) $(DAEMON_SRCS))
SAN_APP_OBJS := $(patsubst %.c,$(OUTPUT)/san/%.o,$(APP_SRCS))

# libFuzzer harnesses (tests/fuzz/README.md): the pure code built with clang's fuzzer
# instrumentation, ASan and UBSan (signed overflow included); every finding is fatal.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 180
FUZZ_SAN := -fsanitize=address,undefined,signed-integer-overflow -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
FUZZ_HARNESSES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZERS := $(patsubst %,$(OUTPUT)/fuzz/%,$(FUZZ_HARNESSES))
FUZZ_OBJS := $(patsubst %.c,$(OUTPUT)/fuzz/obj/%.o,$(CORE_SRCS))

.PHONY: all deps test unit integration demo catalogue install clean fuzz fuzzers
.DELETE_ON_ERROR:
.SECONDARY:

# Dependencies are installed first, then a sub-make builds with them in place.
all: deps
	$(Q)$(MAKE) mapwatch

# Quiet when everything is installed; installs what is missing (needs root).
deps:
	$(Q)tools/setup-deps.sh --build

# One BPF object per bpf/*.bpf.c, each with its skeleton (struct NAME_bpf): mapwatch's probes,
# and discover's exec/exit tracepoints (process discovery for the daemon).
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(wildcard user/*.h user/gobin/*.h user/detect/*.h) bpf/mapwatch.h probes/*.def
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(MW_CFLAGS) -c $< -o $@

$(OUTPUT)/user/attach.o $(OUTPUT)/san/user/attach.o: $(OUTPUT)/mapwatch.skel.h
$(OUTPUT)/user/discover.o $(OUTPUT)/san/user/discover.o: $(OUTPUT)/discover.skel.h bpf/discover_event.h

$(OUTPUT)/tools/dwarf-layout: tools/gen-offsets/dwarf-layout.c $(CORE_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(MW_CFLAGS) $< $(CORE_OBJS) $(MW_LDLIBS) $(LDLIBS) -o $@

mapwatch: $(APP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(MW_LDLIBS) $(LDLIBS) -o $@

# The command line under ASan/UBSan, for the tests that feed it hostile files.
$(OUTPUT)/san/mapwatch: $(SAN_APP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ $(MW_LDLIBS) $(LDLIBS) -o $@

$(OUTPUT)/san/user/%.o: user/%.c $(wildcard user/*.h user/gobin/*.h user/detect/*.h) bpf/mapwatch.h probes/*.def
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(MW_CFLAGS) $(SAN) -c $< -o $@

$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/check.h $(SAN_OBJS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(MW_CFLAGS) $(SAN) -Itests/unit $< $(SAN_OBJS) $(MW_LDLIBS) $(LDLIBS) -o $@

$(OUTPUT)/fuzz/obj/user/%.o: user/%.c $(wildcard user/*.h user/gobin/*.h user/detect/*.h) bpf/mapwatch.h probes/*.def
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) -g -O1 $(MW_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(call msg,FUZZER,$@)
	$(Q)$(FUZZ_CC) -g -O1 $(MW_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -Itests/fuzz $< \
		$(FUZZ_OBJS) $(MW_LDLIBS) $(LDLIBS) -o $@

# Writes the seed corpora from the Go fixtures (tests/fuzz/seeds.sh).
$(OUTPUT)/tools/mkseeds: tests/fuzz/mkseeds.c $(CORE_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(MW_CFLAGS) $< $(CORE_OBJS) $(MW_LDLIBS) $(LDLIBS) -o $@

fuzzers: $(FUZZERS) $(OUTPUT)/tools/mkseeds

# Each harness for FUZZ_SECONDS, one at a time, niced; prints executions and crashes.
fuzz:
	$(Q)tools/setup-deps.sh --fuzz
	$(Q)$(MAKE) fuzzers
	$(Q)tests/build-fixtures.sh
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_HARNESSES)

# Everything the tests use, toolchains included, comes from tools/setup-deps.sh.
test:
	$(Q)tools/setup-deps.sh
	$(Q)$(MAKE) mapwatch $(UNIT_TESTS) $(OUTPUT)/san/mapwatch fuzzers
	$(Q)tests/run.sh

# make soak: the test setup, then 100 attach/detach cycles per toolchain (README: Soak).
# make bench: tools/bench/run.sh (each script installs what it needs; README: Benchmarks).
# mwbench links mapwatch's own objects, and a do-nothing BPF handler to compare with.
BENCH_TOOLS := mapwatch $(OUTPUT)/bench/mwbench
.PHONY: bench bench-tools
bench: all
	$(Q)tools/bench/run.sh

bench-tools: $(BENCH_TOOLS)

$(OUTPUT)/bench/empty.bpf.o: tools/bench/empty.bpf.c vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/bench/empty.skel.h: $(OUTPUT)/bench/empty.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name empty_bpf > $@

$(OUTPUT)/bench/mwbench: tools/bench/mwbench.c $(OUTPUT)/bench/empty.skel.h $(CORE_OBJS) \
		$(OUTPUT)/user/attach.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(MW_CFLAGS) -I$(OUTPUT)/bench $< $(CORE_OBJS) $(OUTPUT)/user/attach.o \
		-lpthread $(MW_LDLIBS) $(LDLIBS) -o $@

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

# The unit names the binary where it is installed.
install: all
	install -D -m 0755 mapwatch $(DESTDIR)$(PREFIX)/sbin/mapwatch
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/mapwatch|$(PREFIX)/sbin/mapwatch|' tools/mapwatch.service \
		> $(DESTDIR)$(UNITDIR)/mapwatch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mapwatch.service

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) mapwatch
