# initshim — build, test, install.  See README.md.
#
#   make            static build/initshim and build/initshimctl
#   make aarch64    the same, cross-built for arm64, in build/aarch64/ (with the
#                   injection test and the fake systemd the arm64 e2e bed runs)
#   make check      unit + fuzz + package + integration + end-to-end tests (root)
#   make unit | fuzz | fuzz-regress | integration | soak | e2e | demo | bench | install
#   make deb        build/deb/initshim_VERSION_ARCH.deb (docs/packaging.md)

CC       ?= gcc
AR       ?= ar
PREFIX   ?= /usr
DESTDIR  ?=
SBINDIR  ?= /sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR  ?= /lib/systemd/system
# Where initramfs-tools and dracut look for hooks and modules.
ITOOLSDIR ?= /usr/share/initramfs-tools
DRACUTDIR ?= /usr/lib/dracut
B        := build

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
CFLAGS   ?= -Os -g
# Small, sectioned code: the guard's resident set is mostly these pages.
ALL_CFLAGS := $(CFLAGS) -std=gnu11 $(WARN) -D_GNU_SOURCE -Ishim -fno-strict-aliasing \
              -ffunction-sections -fdata-sections
LINK     := -Wl,--gc-sections
# PID 1 must not depend on /usr or the host's glibc: everything is static.
STATIC   := -static
LIBS     :=

# The shipped binaries link musl (static glibc alone is 680 kB; see
# docs/performance.md): gcc with musl's specs file, for this target. LIBC=glibc
# builds them with the compiler's own C library instead (and so does a machine
# without musl). Unit tests always link glibc dynamically (cmocka), from
# objects of their own in $(B)/glibc/.
LIBC     ?= musl
TRIPLET  := $(shell $(CC) -dumpmachine)
MUSL_SPECS := /usr/lib/$(patsubst %-gnu,%-musl,$(TRIPLET))/musl-gcc.specs
ifeq ($(LIBC)$(wildcard $(MUSL_SPECS)),musl$(MUSL_SPECS))
# musl's specs hide the compiler's include path: the kernel's headers
# (linux/, asm/, asm-generic/) are offered from $(B)/khdr.
KHDR_SRC := $(firstword $(wildcard /usr/$(TRIPLET)/include/asm) $(wildcard /usr/include/$(TRIPLET)/asm))
LIBC_FLAGS := -specs $(MUSL_SPECS) -isystem $(B)/khdr -include shim/common/libc-compat.h
LIBC_DEPS  := $(B)/khdr/asm
else
LIBC_FLAGS :=
LIBC_DEPS  :=
endif
# The parser's seccomp program, generated at build time by libseccomp on the
# build machine for the target architecture (tools/sandbox-filter-gen.c).
HOSTCC   ?= gcc
FILTER_ARCH := $(firstword $(subst -, ,$(TRIPLET)))

# One directory per role (docs/design.md, "Where does my change go").
# Dependencies go one way, lower to higher; no file includes a higher layer:
#   common <- config <- {ptrace, health, versions} <- control <- guard <- init/ (PID 1)
# (ctl/, the client, uses common and control only.) PID 1 reaches the guard
# only through guard/spawn.h.
SHIM_DIRS := common config ptrace ptrace/arch health versions control guard
SHIM_SRC  := $(foreach d,$(SHIM_DIRS),$(wildcard shim/$(d)/*.c))
INIT_SRC  := $(wildcard init/*.c)
SHIM_OBJ  := $(SHIM_SRC:%.c=$(B)/obj/%.o)
INIT_OBJ  := $(INIT_SRC:%.c=$(B)/obj/%.o)
CTL_OBJ   := $(patsubst %.c,$(B)/obj/%.o,$(wildcard shim/ctl/*.c))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
ITEST_SRC := $(wildcard tests/integration/*.c)
ITEST_BIN := $(ITEST_SRC:tests/integration/%.c=$(B)/tests/%)
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

all: $(B)/initshim $(B)/initshimctl

$(B)/obj/%.o: %.c $(wildcard shim/*/*.h shim/*/*/*.h init/*.h) $(LIBC_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIBC_FLAGS) -Iinit -I$(B)/gen -c -o $@ $<

$(B)/obj/shim/control/parser.o $(B)/glibc/obj/shim/control/parser.o: $(B)/gen/sandbox-filter.h

$(B)/gen/sandbox-filter-gen: tools/sandbox-filter-gen.c shim/control/sandbox-rules.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(filter-out -static,$(ALL_CFLAGS)) -o $@ $< -lseccomp

$(B)/gen/sandbox-filter.h: $(B)/gen/sandbox-filter-gen
	$< $(FILTER_ARCH) $@

$(B)/khdr/asm:
	@mkdir -p $(B)/khdr
	ln -sfn $(KHDR_SRC) $(B)/khdr/asm
	ln -sfn $(firstword $(wildcard /usr/$(TRIPLET)/include/linux) /usr/include/linux) $(B)/khdr/linux
	ln -sfn $(firstword $(wildcard /usr/$(TRIPLET)/include/asm-generic) /usr/include/asm-generic) $(B)/khdr/asm-generic

# Unit tests and integration helpers: the same sources, built for the
# compiler's own C library (cmocka is a glibc library).
$(B)/glibc/obj/%.o: %.c $(wildcard shim/*/*.h shim/*/*/*.h init/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iinit -I$(B)/gen -c -o $@ $<

$(B)/glibc/libshim.a: $(SHIM_SRC:%.c=$(B)/glibc/obj/%.o)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/glibc/libinit.a: $(filter-out $(B)/glibc/obj/init/main.o,$(INIT_SRC:%.c=$(B)/glibc/obj/%.o))
	rm -f $@ && $(AR) rcs $@ $^

# The build told apart from another build of the same version (status,
# `initshim --version`, docs/packaging.md "Upgrading a running initshim").
BUILD_ID := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(B)/build-id: FORCE
	@mkdir -p $(dir $@)
	@echo '$(BUILD_ID)' | cmp -s - $@ || echo '$(BUILD_ID)' > $@
FORCE:
$(B)/obj/shim/common/version.o: $(B)/build-id
$(B)/obj/shim/common/version.o: ALL_CFLAGS += -DINITSHIM_BUILD_ID='"$(BUILD_ID)"'

$(B)/libshim.a: $(SHIM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/initshim: $(INIT_OBJ) $(B)/libshim.a
	$(CC) $(ALL_CFLAGS) $(LIBC_FLAGS) $(STATIC) $(LINK) -o $@ $(INIT_OBJ) $(B)/libshim.a $(LIBS)

$(B)/initshimctl: $(CTL_OBJ) $(B)/libshim.a
	$(CC) $(ALL_CFLAGS) $(LIBC_FLAGS) $(STATIC) $(LINK) -o $@ $(CTL_OBJ) $(B)/libshim.a $(LIBS)

# Unit tests link the same sources the product uses (dynamically, with cmocka,
# on glibc). init/ objects are offered as an archive too, so a test can reach
# PID 1 logic. libseccomp: test_sandbox_filter compares the program with its own.
$(B)/tests/test_%: tests/unit/test_%.c $(B)/glibc/libinit.a $(B)/glibc/libshim.a $(B)/gen/sandbox-filter.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iinit -I$(B)/gen -o $@ $< $(B)/glibc/libinit.a $(B)/glibc/libshim.a -lseccomp -lcmocka

# Integration helpers (the fake systemd, probes): static, on the compiler's C library.
$(B)/tests/%: tests/integration/%.c $(B)/glibc/libshim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(B)/gen $(STATIC) -o $@ $< $(B)/glibc/libshim.a -lseccomp

$(B)/tests/soak-flood: tests/soak/flood.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STATIC) -o $@ $<

# The anchors (floor-init: static glibc, as tini-static and catatonit are) and
# the load generators stay on the compiler's C library.
$(B)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STATIC) -o $@ $<

# Stand-ins for a bundle's systemd and systemd-executor (test_bundle.c):
# dynamic, one of them with the RUNPATH of a bundle's binaries.
SAYS_BIN := $(B)/tests/says-version $(B)/tests/says-version-origin
$(B)/tests/says-version: tests/unit/says-version.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<
$(B)/tests/says-version-origin: tests/unit/says-version.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN/.' -o $@ $<

unit: $(UNIT_BIN) $(ITEST_BIN) $(SAYS_BIN)
	@tests/unit/run.sh $(UNIT_BIN)

# libFuzzer harnesses of the parsers of untrusted bytes (docs/testing.md,
# "Fuzzing"). The product's parser sources are compiled again with clang and
# the sanitizers; libshim.a (gcc, no instrumentation) is not used.
#   make fuzz                 each target FUZZ_SECONDS, after its corpus once
#   make fuzz-regress         the corpus once (= make fuzz FUZZ_SECONDS=0)
#   make fuzz FUZZ_TARGETS="dbus elf"
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_CHECK_SECONDS ?= 15
FUZZ_SAN      := address,undefined
FUZZ_CFLAGS   := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(filter-out -Wno-format-truncation,$(WARN)) \
                 -D_GNU_SOURCE -Ishim -fno-sanitize-recover=all
FUZZ_LIB_SRC  := shim/common/util.c shim/common/elf.c shim/config/config.c shim/control/protocol.c \
                 shim/health/dbusping.c shim/versions/preflight.c shim/versions/compat.c \
                 shim/versions/bundle.c
FUZZ_LIB_OBJ  := $(FUZZ_LIB_SRC:%.c=$(B)/fuzz/obj/%.o)
FUZZ_TARGETS  ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN      := $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)

$(B)/fuzz/obj/%.o: %.c $(wildcard shim/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(B)/fuzz/libshim-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(B)/fuzz/libshim-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< $(B)/fuzz/libshim-fuzz.a

fuzz: $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-regress:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=0

integration: all $(ITEST_BIN)
	@tests/integration/run.sh

# Faults and load for SOAK_SECONDS (default 120) in one PID namespace;
# SOAK_SEED= replays a run's sequence of events (docs/testing.md, "Soak").
soak: all $(ITEST_BIN) $(B)/tests/soak-flood
	@tests/soak/run.sh

# make e2e E2E="crash-segv-252 control" runs a subset.
# Two TCG guests at once: one per core (docs/testing.md, "What each part costs").
E2E_JOBS ?= 2
e2e: all $(B)/tests/fake-systemd aarch64
	@E2E_JOBS=$(E2E_JOBS) tests/e2e/run.sh $(E2E)

demo: all
	@tests/e2e/demo.sh

# make bench BENCH="boot switch" runs a subset; sizes: see each script's header.
bench: all $(ITEST_BIN) $(BENCH_BIN)
	@tests/bench/run.sh $(BENCH)

deps:
	@tests/deps.sh

# The README's test command. deps first: `make check` works on a fresh machine.
# tests/check.sh builds the e2e images beside the suites that do not need them.
check:
	@FUZZ_CHECK_SECONDS=$(FUZZ_CHECK_SECONDS) tests/check.sh

install: all
	install -D -m 0755 $(B)/initshim $(DESTDIR)$(SBINDIR)/initshim
	install -D -m 0755 $(B)/initshimctl $(DESTDIR)$(SBINDIR)/initshimctl
	install -D -m 0644 docs/man/initshim.8 $(DESTDIR)$(MANDIR)/man8/initshim.8
	install -D -m 0644 docs/man/initshimctl.8 $(DESTDIR)$(MANDIR)/man8/initshimctl.8
	install -D -m 0644 docs/man/initshim.conf.5 $(DESTDIR)$(MANDIR)/man5/initshim.conf.5
	install -D -m 0644 shim/guard/initshim-guard.service $(DESTDIR)$(UNITDIR)/initshim-guard.service
	install -D -m 0755 initramfs/initramfs-tools/hooks/initshim $(DESTDIR)$(ITOOLSDIR)/hooks/initshim
	install -D -m 0755 initramfs/dracut/90initshim/module-setup.sh \
		$(DESTDIR)$(DRACUTDIR)/modules.d/90initshim/module-setup.sh
	@# The commented default; an existing configuration is kept.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/initshim.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/initshim.conf"; else \
		echo "install -D -m 0644 shim/config/initshim.conf $(DESTDIR)$(SYSCONFDIR)/initshim.conf"; \
		install -D -m 0644 shim/config/initshim.conf $(DESTDIR)$(SYSCONFDIR)/initshim.conf; fi

# The Debian package (debian/, docs/packaging.md), built in a copy of the
# tree so that dpkg-buildpackage writes nothing outside DEB_DIR:
# build/deb/initshim_VERSION_ARCH.deb and initshim-dbgsym_VERSION_ARCH.deb.
# DEB_ARCH=arm64 cross-builds (needs crossbuild-essential-arm64 and
# libseccomp-dev:arm64); DEB_BUILD_OPTIONS=nocheck skips the unit tests.
# The copy's build starts without this make's variables (MAKEFLAGS): its
# own `make clean` must not see a B= given here.
DEB_DIR ?= $(B)/deb
DEB_ARCH ?=
comma := ,
DEB_CROSS := $(if $(DEB_ARCH),-a$(DEB_ARCH) -Pcross$(comma)nocheck)
DEB_CROSS_ENV := $(if $(DEB_ARCH),DEB_BUILD_OPTIONS="nocheck $(DEB_BUILD_OPTIONS)" \
	CC=$$(dpkg-architecture -a$(DEB_ARCH) -qDEB_HOST_GNU_TYPE 2>/dev/null)-gcc)
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar -c --exclude=./build --exclude=./.git --exclude=./results -f - . | tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(DEB_CROSS_ENV) dpkg-buildpackage -b -uc -us $(DEB_CROSS)
	@ls -1 $(DEB_DIR)/*.deb

# `make check`'s package step, after the unit tests (not run again):
# the package builds and lintian finds no error and no warning; its
# maintainer scripts neither stop nor restart the guard on upgrade
# (tests/package/maintscripts.sh); on amd64, the arm64 package is
# cross-built into $(B)/deb-arm64 and checked by lintian too.
DEB_CHECK_CROSS ?= $(if $(filter amd64,$(shell dpkg-architecture -qDEB_BUILD_ARCH 2>/dev/null)),arm64)
deb-check:
	@mkdir -p $(B)
	@DEB_BUILD_OPTIONS=nocheck $(MAKE) --no-print-directory deb >$(B)/deb.log 2>&1 || \
		{ tail -n 30 $(B)/deb.log; echo "deb-check: make deb failed (log: $(B)/deb.log)"; exit 1; }
	@lintian --fail-on error,warning --display-info $(DEB_DIR)/*.changes && echo "deb-check: package built, lintian clean"
	@tests/package/maintscripts.sh $(DEB_DIR)/initshim_*.deb >$(B)/deb-maintscripts.log 2>&1 || \
		{ cat $(B)/deb-maintscripts.log; exit 1; }
	@tail -n 1 $(B)/deb-maintscripts.log
ifneq ($(DEB_CHECK_CROSS),)
	@$(MAKE) --no-print-directory deb DEB_ARCH=$(DEB_CHECK_CROSS) DEB_DIR=$(B)/deb-$(DEB_CHECK_CROSS) \
		>$(B)/deb-$(DEB_CHECK_CROSS).log 2>&1 || { tail -n 30 $(B)/deb-$(DEB_CHECK_CROSS).log; \
		echo "deb-check: make deb DEB_ARCH=$(DEB_CHECK_CROSS) failed (log: $(B)/deb-$(DEB_CHECK_CROSS).log)"; exit 1; }
	@lintian --fail-on error,warning --display-info $(B)/deb-$(DEB_CHECK_CROSS)/*.changes && \
		echo "deb-check: $(DEB_CHECK_CROSS) package cross-built, lintian clean"
endif

clean:
	rm -rf $(B)

# Static arm64 binaries, cross-built with the same rules into build/aarch64/:
# the arm64 e2e bed (tests/e2e/scenarios/arm64-*) boots them. libseccomp for
# arm64 comes from Debian's multiarch package libseccomp-dev:arm64 (tests/deps.sh).
AARCH64_CC ?= aarch64-linux-gnu-gcc
AARCH64_AR ?= aarch64-linux-gnu-ar
AARCH64_BIN := initshim initshimctl tests/test_inject tests/fake-systemd
aarch64:
	@$(MAKE) --no-print-directory B=$(B)/aarch64 CC=$(AARCH64_CC) AR=$(AARCH64_AR) \
		$(AARCH64_BIN:%=$(B)/aarch64/%)

# The former compile-only check, kept as a name.
cross-aarch64: aarch64

.PHONY: deps aarch64 cross-aarch64 all unit fuzz fuzz-regress integration soak e2e demo bench check install deb deb-check clean
.DELETE_ON_ERROR:
