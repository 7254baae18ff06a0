# firebreak — an automated responder for Falco alerts.
#   make            build ./build/firebreak
#   make demo       install what is missing, build, triage the bundled sample alerts
#   make check      build and run every test (ends with "N passed, N failed")
#   make asan       the same tests under AddressSanitizer + UBSan
#   make fuzz       one libFuzzer target per parser, FUZZ_SECONDS each
#   make bench      throughput and memory figures beside a jansson-only baseline
#   make lint       clang-format (check mode), cppcheck, banned functions
#   make install    honours DESTDIR and PREFIX
# V=1 shows the commands.

VERSION     := 0.1.0
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/libexec
UNITDIR     ?= $(PREFIX)/lib/systemd/system
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
SYSCONFDIR  ?= /etc
DESTDIR     ?=
PKG_CONFIG  ?= pkg-config
CC          ?= cc
CLANG       ?= clang
BUILD       ?= build
FUZZ_SECONDS ?= 30

CFLAGS      ?= -O2 -g
LDFLAGS     ?=

PKGS        := jansson yaml-0.1 libcurl libseccomp libsystemd libprotobuf-c sqlite3 libmicrohttpd
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -ljansson -lyaml -lcurl -lseccomp -lsystemd -lprotobuf-c -lsqlite3 -lmicrohttpd)

FB_CFLAGS   := -std=gnu11 -Iinclude -I$(BUILD)/gen -DFB_VERSION='"$(VERSION)"' -DFB_SYSCONFDIR='"$(SYSCONFDIR)"' \
               -DFB_LIBEXECDIR='"$(LIBEXECDIR)/firebreak"' \
               -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wno-unused-parameter -Werror=implicit-function-declaration -Werror=vla \
               -fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2 \
               -fPIE -MMD -MP $(PKG_CFLAGS)
FB_LDFLAGS  := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
LIBS        := $(PKG_LIBS) -lm -pthread

ifeq ($(V),1)
Q :=
E := @true
else
Q := @
E := @printf '  %-6s %s\n'
endif

LIB_SRCS  := $(wildcard src/util/*.c src/alert/*.c src/triage/*.c src/engine/*.c src/policy/*.c src/respond/*.c) \
             $(filter-out src/harden/probe_main.c,$(wildcard src/harden/*.c)) \
             $(wildcard src/daemon/*.c)
LIB_ASM   := src/triage/kb_builtin.S src/harden/base_builtin.S
CLI_SRCS  := $(wildcard src/cli/*.c)
TEST_SRCS := $(wildcard tests/test-*.c)
KB_DATA   := $(wildcard policies/kb/*.yaml policies/kb/rules/*.yaml)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(LIB_ASM:%.S=$(BUILD)/%.o) $(BUILD)/gen/containerd.pb-c.o
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%) $(BUILD)/tests/docker-engine \
             $(BUILD)/tests/memfd-exec $(BUILD)/tests/kfeatures
LIBFB     := $(BUILD)/libfirebreak.a
BIN       := $(BUILD)/firebreak

.PHONY: all check asan fuzz bench lint install uninstall demo clean deps test-deps
.DELETE_ON_ERROR:

all: $(BIN) $(BUILD)/firebreak-probe

$(BUILD)/%.o: %.c
	$(E) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(FB_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# .incbin dependencies are not seen by -MMD: name them
$(BUILD)/src/triage/kb_builtin.o: src/triage/kb_builtin.S $(KB_DATA)
	$(E) AS $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/src/harden/base_builtin.o: src/harden/base_builtin.S policies/seccomp/base.json
	$(E) AS $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# protobuf-c code for the part of containerd's API we use, generated at build time
PROTO := src/engine/proto/containerd.proto
%/gen/containerd.pb-c.c %/gen/containerd.pb-c.h: $(PROTO)
	$(E) PROTOC $<
	@mkdir -p $*/gen
	$(Q)protoc-c --c_out=$*/gen --proto_path=src/engine/proto $<
$(BUILD)/gen/containerd.pb-c.o: $(BUILD)/gen/containerd.pb-c.c
	$(E) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fPIE -I$(BUILD)/gen $(PKG_CFLAGS) -c -o $@ $<
$(BUILD)/src/engine/containerd.o: $(BUILD)/gen/containerd.pb-c.h
.PRECIOUS: %/gen/containerd.pb-c.c %/gen/containerd.pb-c.h

$(LIBFB): $(LIB_OBJS)
	$(E) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIBFB)
	$(E) LD $@
	$(Q)$(CC) $(CFLAGS) $(FB_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c tests/test.h $(LIBFB)
	$(E) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(FB_CFLAGS) -Itests $(CPPFLAGS) $(CFLAGS) $(FB_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBFB) $(LIBS)

# the probe that runs inside containers: static and libc-only, so any image can run it
$(BUILD)/firebreak-probe: src/harden/probe_main.c src/harden/probe.c include/firebreak/probe.h
	$(E) CC $@
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -Iinclude -O2 -Wall -Wextra -static -o $@ src/harden/probe_main.c src/harden/probe.c

# the fileless attack the tests run inside containers: static, so any image can run it, and
# without sanitizers (they do not link statically)
$(BUILD)/tests/memfd-exec: tests/memfd-exec.c
	$(E) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -static -o $@ $<

# what the kernel can do, judged apart from the probes (static, like memfd-exec)
$(BUILD)/tests/kfeatures: tests/kfeatures.c
	$(E) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -static -o $@ $<

$(BUILD)/bench: tests/bench.c $(LIBFB)
	$(E) CC $<
	$(Q)$(CC) $(FB_CFLAGS) $(CPPFLAGS) -O2 -g $(FB_LDFLAGS) -o $@ $< $(LIBFB) $(LIBS)

# Installs missing build packages (build) or build and test packages (test); no-op when present.
deps:
	@./.ci/install-deps build
test-deps:
	@./.ci/install-deps test

check: test-deps $(BIN) $(BUILD)/firebreak-probe $(TEST_BINS)
	@BUILD=$(BUILD) ./tests/run

asan: export ASAN_OPTIONS = quarantine_size_mb=16:detect_leaks=1:abort_on_error=0
asan: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" check

FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_FLAGS := -std=gnu11 -Iinclude -DFB_VERSION='"$(VERSION)"' -g -O1 \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)

build-fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(LIB_ASM) $(KB_DATA) policies/seccomp/base.json \
              build-fuzz/gen/containerd.pb-c.c
	$(E) FUZZ $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -Ibuild-fuzz/gen -o $@ $< $(LIB_SRCS) $(LIB_ASM) \
		build-fuzz/gen/containerd.pb-c.c $(LIBS)

fuzz: test-deps $(FUZZ_TARGETS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/run $(FUZZ_TARGETS)

$(BUILD)/rss: tests/rss.c
	$(E) CC $<
	$(Q)$(CC) -O2 -o $@ $<

bench: deps $(BIN) $(BUILD)/bench $(BUILD)/rss
	@BUILD=$(BUILD) ./tests/bench-run

lint:
	@./.ci/lint

demo: deps
	@$(MAKE) --no-print-directory all
	@./tests/demo $(BIN)

install: $(BIN) $(BUILD)/firebreak-probe
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/firebreak
	install -D -m 0644 docs/firebreak.8 $(DESTDIR)$(MANDIR)/man8/firebreak.8
	install -d $(DESTDIR)$(DATADIR)/firebreak/kb/rules
	install -m 0644 policies/kb/*.yaml $(DESTDIR)$(DATADIR)/firebreak/kb/
	install -m 0644 policies/kb/rules/*.yaml $(DESTDIR)$(DATADIR)/firebreak/kb/rules/
	install -m 0644 policies/policy.yaml $(DESTDIR)$(DATADIR)/firebreak/policy.yaml
	install -d $(DESTDIR)$(DATADIR)/firebreak/seccomp
	install -m 0644 policies/seccomp/*.json $(DESTDIR)$(DATADIR)/firebreak/seccomp/
	install -D -m 0755 $(BUILD)/firebreak-probe $(DESTDIR)$(LIBEXECDIR)/firebreak/firebreak-probe
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 units/firebreak.service units/firebreak.socket units/firebreak-audit.service \
		$(DESTDIR)$(UNITDIR)/
	install -m 0644 units/firebreak.yaml $(DESTDIR)$(DATADIR)/firebreak/firebreak.yaml
	install -D -m 0644 units/firebreak.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/firebreak

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/firebreak $(DESTDIR)$(MANDIR)/man8/firebreak.8
	rm -rf $(DESTDIR)$(DATADIR)/firebreak $(DESTDIR)$(LIBEXECDIR)/firebreak
	rm -f $(DESTDIR)$(UNITDIR)/firebreak.service $(DESTDIR)$(UNITDIR)/firebreak.socket \
		$(DESTDIR)$(UNITDIR)/firebreak-audit.service $(DESTDIR)$(SYSCONFDIR)/logrotate.d/firebreak

clean:
	rm -rf build build-asan build-fuzz demo-reports

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
