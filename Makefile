# initshim — build, test, install.  See README.md.
#
#   make            static build/initshim and build/initshimctl
#   make aarch64    the same, cross-built for arm64, in build/aarch64/ (with the
#                   injection test and the fake systemd the arm64 e2e bed runs)
#   make check      unit + integration + end-to-end tests (root)
#   make unit | integration | e2e | demo | bench | install
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
LIBS     := -lseccomp

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

$(B)/obj/%.o: %.c $(wildcard shim/*/*.h shim/*/*/*.h init/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iinit -c -o $@ $<

# The metrics' build_info: init/pid1.h's INITSHIM_VERSION, the version's one source.
$(B)/obj/shim/control/metrics.o: ALL_CFLAGS += -DINITSHIM_VERSION='$(shell sed -n 's/^\#define INITSHIM_VERSION //p' init/pid1.h)'

$(B)/libshim.a: $(SHIM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/initshim: $(INIT_OBJ) $(B)/libshim.a
	$(CC) $(ALL_CFLAGS) $(STATIC) $(LINK) -o $@ $(INIT_OBJ) $(B)/libshim.a $(LIBS)

$(B)/initshimctl: $(CTL_OBJ) $(B)/libshim.a
	$(CC) $(ALL_CFLAGS) $(STATIC) $(LINK) -o $@ $(CTL_OBJ) $(B)/libshim.a $(LIBS)

# Unit tests link the same objects the product uses (dynamically, with cmocka).
# init/ objects are offered as an archive too, so a test can reach PID 1 logic.
$(B)/libinit.a: $(filter-out $(B)/obj/init/main.o,$(INIT_OBJ))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/tests/test_%: tests/unit/test_%.c $(B)/libinit.a $(B)/libshim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iinit -o $@ $< $(B)/libinit.a $(B)/libshim.a $(LIBS) -lcmocka

$(B)/tests/%: tests/integration/%.c $(B)/libshim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STATIC) -o $@ $< $(B)/libshim.a $(LIBS)

$(B)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STATIC) -o $@ $<

unit: $(UNIT_BIN) $(ITEST_BIN)
	@tests/unit/run.sh $(UNIT_BIN)

integration: all $(ITEST_BIN)
	@tests/integration/run.sh

# make e2e E2E="boot-252 control" runs a subset.
e2e: all $(B)/tests/fake-systemd aarch64
	@tests/e2e/run.sh $(E2E)

demo: all
	@tests/e2e/demo.sh

# make bench BENCH="boot switch" runs a subset; sizes: see each script's header.
bench: all $(ITEST_BIN) $(BENCH_BIN)
	@tests/bench/run.sh $(BENCH)

deps:
	@tests/deps.sh

# The README's test command. deps first: `make check` works on a fresh machine.
check:
	@tests/deps.sh
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory deb-check
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory aarch64
	@$(MAKE) --no-print-directory e2e

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
# the package builds and lintian finds no error and no warning.
deb-check:
	@mkdir -p $(B)
	@DEB_BUILD_OPTIONS=nocheck $(MAKE) --no-print-directory deb >$(B)/deb.log 2>&1 || \
		{ tail -n 30 $(B)/deb.log; echo "deb-check: make deb failed (log: $(B)/deb.log)"; exit 1; }
	@lintian --fail-on error,warning --display-info $(DEB_DIR)/*.changes && echo "deb-check: package built, lintian clean"

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

.PHONY: deps aarch64 cross-aarch64 all unit integration e2e demo bench check install deb deb-check clean
.DELETE_ON_ERROR:
