# initshim — build, test, install.  See README.md.
#
#   make            static build/initshim and build/initshimctl
#   make check      unit + integration + end-to-end tests (root)
#   make unit | integration | soak | e2e | demo | bench | install

CC       ?= gcc
AR       ?= ar
PREFIX   ?= /usr
DESTDIR  ?=
SBINDIR  ?= /sbin
MANDIR   ?= $(PREFIX)/share/man
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
SHIM_DIRS := common config ptrace ptrace/arch health versions control guard
SHIM_SRC  := $(foreach d,$(SHIM_DIRS),$(wildcard shim/$(d)/*.c))
INIT_SRC  := $(wildcard init/*.c)
SHIM_OBJ  := $(SHIM_SRC:%.c=$(B)/obj/%.o)
INIT_OBJ  := $(INIT_SRC:%.c=$(B)/obj/%.o)
CTL_OBJ   := $(B)/obj/shim/ctl/initshimctl.o
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

$(B)/tests/soak-flood: tests/soak/flood.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STATIC) -o $@ $<

$(B)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STATIC) -o $@ $<

unit: $(UNIT_BIN) $(ITEST_BIN)
	@tests/unit/run.sh $(UNIT_BIN)

integration: all $(ITEST_BIN)
	@tests/integration/run.sh

# Faults and load for SOAK_SECONDS (default 120) in one PID namespace;
# SOAK_SEED= replays a run's sequence of events (docs/testing.md, "Soak").
soak: all $(ITEST_BIN) $(B)/tests/soak-flood
	@tests/soak/run.sh

# make e2e E2E="boot-252 control" runs a subset.
e2e: all $(B)/tests/fake-systemd
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
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory soak
	@$(MAKE) --no-print-directory cross-aarch64
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

clean:
	rm -rf $(B)

# The ptrace code must build for aarch64 too: compiled (not run) on every check.
CROSS_SRC := $(filter shim/ptrace/%,$(SHIM_SRC))
cross-aarch64:
	@mkdir -p $(B)/aarch64
	@for f in $(CROSS_SRC); do \
	  aarch64-linux-gnu-gcc $(ALL_CFLAGS) -c $$f -o $(B)/aarch64/$$(basename $$f .c).o || exit 1; done
	@echo "aarch64 cross-compile: ok ($(words $(CROSS_SRC)) files)"

.PHONY: deps cross-aarch64 all unit integration soak e2e demo bench check install clean
.DELETE_ON_ERROR:
