# SPDX-License-Identifier: Apache-2.0
# Circuit - plain GNU make.  `make`, `make demo`, `make check`, `make asan`,
# `make bench`, `make install PREFIX=/usr/local DESTDIR= CNI_BIN_DIR=/opt/cni/bin`,
# `make uninstall` (same variables), `make deb`.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  ?= $(PREFIX)/libexec/circuit
DATADIR     ?= $(PREFIX)/share/circuit
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDDIR  ?= $(PREFIX)/lib/systemd/system
# Where CNI runtimes look for plugins: links to the plugins in LIBEXECDIR.
# containerd and ctr: /opt/cni/bin; podman: also /usr/lib/cni (Debian's).
CNI_BIN_DIR ?= /opt/cni/bin
BUILD   ?= build
CC      ?= cc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

# libnftables is dlopen()ed on first use (lib/nft.c): only its headers here.
# libcurl too (lib/etcd*.c), only when a cluster is configured: no binary links it.
PKGS     := libnl-3.0 libnl-route-3.0 libnl-genl-3.0 yajl libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libnftables libcurl)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -ldl
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS   := $(shell pkg-config --libs check)

WARN    := -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
           -Wshadow -Wno-unused-parameter -Wno-format-truncation
ifneq ($(WERROR),0)
WARN    += -Werror
endif
CFLAGS  ?= -O2 -g
# Sanitizer builds (make asan: SANITIZE=address,undefined in build-asan/).
# A build directory remembers its SANITIZE in BUILD/sanitize.mk, so every
# later make of that BUILD (t-install's `make install BUILD=...`, say) builds
# alike, and tests that compile a probe against BUILD/libcircuit.a read it.
-include $(BUILD)/sanitize.mk
ifneq ($(SANITIZE),)
CFLAGS  := -O1 -g -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
$(shell mkdir -p $(BUILD) && echo 'SANITIZE ?= $(SANITIZE)' > $(BUILD)/sanitize.mk)
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DCIR_VERSION='"$(VERSION)"' $(WARN) $(CPPFLAGS) \
              $(CFLAGS) -Ilib $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA    := $(BUILD)/libcircuit.a

PLUGINS := $(notdir $(patsubst %/,%,$(dir $(wildcard plugins/*/main.c))))
PLUGIN_BINS := $(PLUGINS:%=$(BUILD)/bin/circuit-%)

HOOK_SRC := $(wildcard hook/*.c)
HOOK_OBJ := $(HOOK_SRC:%.c=$(BUILD)/%.o)
# circuit runs Circuit's own plugins in-process (cir_cni_builtin_register):
# it links their logic, everything but their main.c.
PLUGIN_LOGIC_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out %/main.c,$(wildcard plugins/*/*.c)))

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)

BINS := $(PLUGIN_BINS) $(if $(HOOK_SRC),$(BUILD)/bin/circuit)

.PHONY: all deps demo check unit memcheck integration vm bench asan install uninstall deb clean
all: $(LIBA) $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# lib/sandbox.c's enforce-mode seccomp programs are generated once here, by
# the same file (CIR_SANDBOX_GEN): an exec then loads a ready BPF program
# instead of spending about a millisecond in libseccomp.
SANDBOX_BPF := $(BUILD)/gen/sandbox_bpf.h
$(BUILD)/sandbox-gen: lib/sandbox.c lib/sandbox_tables.c lib/sandbox.h lib/sandbox_int.h lib/error.c \
		      lib/error.h lib/utf8.c lib/cleanup.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -DCIR_SANDBOX_GEN -o $@ lib/sandbox.c lib/sandbox_tables.c \
		lib/error.c lib/utf8.c $(LDLIBS)

$(SANDBOX_BPF): $(BUILD)/sandbox-gen
	@mkdir -p $(dir $@)
	$< > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/sandbox.o: lib/sandbox.c $(SANDBOX_BPF)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DCIR_SANDBOX_PRECOMPILED -I$(BUILD)/gen -MMD -MP -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Objects are never deleted as intermediates: a later make of the same
# BUILD must not rebuild a plugin's main.o (with other flags, say).
.SECONDARY:
.SECONDEXPANSION:
$(BUILD)/bin/circuit-%: $$(addprefix $(BUILD)/,$$(subst .c,.o,$$(wildcard plugins/$$*/*.c))) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA) $(LDLIBS)

$(BUILD)/bin/circuit: $(HOOK_OBJ) $(PLUGIN_LOGIC_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(HOOK_OBJ) $(PLUGIN_LOGIC_OBJ) $(LIBA) $(LDLIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

# The CLI's output layer is unit-tested too (tests/unit/test_output.c).
UNIT_HOOK_OBJ := $(BUILD)/hook/output.o $(BUILD)/hook/cli.o

$(BUILD)/bin/unit-tests: $(UNIT_OBJ) $(UNIT_HOOK_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(UNIT_HOOK_OBJ) $(LIBA) $(LDLIBS) $(CHECK_LIBS)

# Install what is missing from Debian's packages (needs root): `make deps`
# everything the suite uses, `make deps DEPS=demo` what the demo needs.
DEPS ?= all
deps:
	tests/deps.sh $(DEPS)

# The README's first command: what the demo needs (build tools, libraries,
# iproute2, busybox), build, and the main job in a throwaway network namespace.
demo:
	tests/deps.sh demo
	$(MAKE) all
	tests/demo.sh $(BUILD)

# The README's second command: the rest (runtimes, qemu and a kernel for the
# VM tier, packaging tools), then the whole suite (unit, integration inside
# namespaces the tests make, the real-kernel VM tier).
check:
	tests/deps.sh all
	$(MAKE) all $(BUILD)/bin/unit-tests
	tests/run-all.sh $(BUILD)

unit: all $(BUILD)/bin/unit-tests
	CIR_SRCDIR=$(CURDIR) $(BUILD)/bin/unit-tests

# The unit suite under valgrind (no fork, so leaks are attributed; valgrind
# runs code ~20x slower, so Check's timeouts are 10x).
memcheck: all $(BUILD)/bin/unit-tests
	CIR_SRCDIR=$(CURDIR) CK_FORK=no CK_TIMEOUT_MULTIPLIER=10 valgrind -q --leak-check=full --show-possibly-lost=no \
		--errors-for-leak-kinds=definite --error-exitcode=9 $(BUILD)/bin/unit-tests

integration: all
	tests/integration/run.sh $(BUILD)

vm: all
	tests/vm/run.sh $(BUILD)

bench: all
	tests/bench/run.sh $(BUILD)

# The unit and integration tiers under ASan+UBSan, leak checks on (the
# sanitizer build runs without its seccomp filter unless CIRCUIT_SECCOMP
# says otherwise: LeakSanitizer's check at exit needs ptrace).  A leak, an
# overflow or undefined behaviour makes the process exit non-zero and its
# test fail.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
asan:
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined all build-asan/bin/unit-tests
	$(ASAN_ENV) CIR_SRCDIR=$(CURDIR) build-asan/bin/unit-tests
	$(ASAN_ENV) tests/integration/run.sh build-asan

# What install places besides the binaries; uninstall removes exactly these.
MAN8       := $(wildcard man/*.8)
SHARE_CONF := $(wildcard conf/*.conflist) conf/circuit-hooks.json \
              $(wildcard conf/runc-*.json)
UNITS      := conf/circuit-restore.service conf/circuit-gc.service conf/circuit-gc.timer \
              conf/circuit-agent.service
INSTALLED  := $(BINDIR)/circuit $(PLUGINS:%=$(LIBEXECDIR)/circuit-%) \
              $(PLUGINS:%=$(CNI_BIN_DIR)/circuit-%) \
              $(addprefix $(DATADIR)/,$(notdir $(SHARE_CONF))) \
              $(addprefix $(MANDIR)/man8/,$(notdir $(MAN8))) \
              $(BASHCOMPDIR)/circuit $(addprefix $(SYSTEMDDIR)/,$(notdir $(UNITS)))
# Files naming the circuit binary get the installed path.
SUBST_BIN  := sed 's|/usr/local/bin/circuit|$(BINDIR)/circuit|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(CNI_BIN_DIR) \
		$(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(SYSTEMDDIR)
	install -m 0755 $(BUILD)/bin/circuit $(DESTDIR)$(BINDIR)/circuit
	$(foreach p,$(PLUGINS),install -m 0755 $(BUILD)/bin/circuit-$(p) $(DESTDIR)$(LIBEXECDIR)/;)
	$(foreach p,$(PLUGINS),ln -sfn $(LIBEXECDIR)/circuit-$(p) $(DESTDIR)$(CNI_BIN_DIR)/circuit-$(p);)
	$(foreach f,$(SHARE_CONF),$(SUBST_BIN) $(f) > $(DESTDIR)$(DATADIR)/$(notdir $(f)) && \
		chmod 0644 $(DESTDIR)$(DATADIR)/$(notdir $(f));)
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 completion/circuit $(DESTDIR)$(BASHCOMPDIR)/circuit
	$(foreach f,$(UNITS),$(SUBST_BIN) $(f) > $(DESTDIR)$(SYSTEMDDIR)/$(notdir $(f)) && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$(notdir $(f));)

# Removes what install placed (same variables), and Circuit's own two
# directories when that leaves them empty.  A plugin link that no longer
# points into LIBEXECDIR is someone else's and stays.
uninstall:
	@for f in $(PLUGINS:%=$(DESTDIR)$(CNI_BIN_DIR)/circuit-%); do \
		if [ -L "$$f" ] && [ "$$(readlink "$$f")" = "$(LIBEXECDIR)/$${f##*/}" ]; then \
			echo "rm $$f"; rm -f "$$f"; \
		fi; \
	done
	@for f in $(addprefix $(DESTDIR),$(filter-out $(CNI_BIN_DIR)/%,$(INSTALLED))); do \
		if [ -e "$$f" ] || [ -L "$$f" ]; then echo "rm $$f"; rm -f "$$f"; fi; \
	done
	@for d in $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR); do \
		if [ -d "$$d" ] && rmdir "$$d" 2>/dev/null; then echo "rmdir $$d"; fi; \
	done

# A Debian package from this tree, built in a copy of it under $(BUILD)/deb/
# (dpkg-buildpackage writes its results next to the source directory):
# $(BUILD)/deb/circuit_*.deb.  Needs debhelper (tests/deps.sh installs it).
DEB_DIR := $(BUILD)/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/circuit
	{ git ls-files -z --cached --others --exclude-standard 2>/dev/null || \
	  find . -path ./.git -prune -o -path './build*' -prune -o -type f -print0; } | \
		tar --null -T - -cf - | tar -C $(DEB_DIR)/circuit -xf -
	cd $(DEB_DIR)/circuit && dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build build-asan

# ---- fuzzing: libFuzzer harnesses of tests/fuzz (clang, ASan+UBSan) ----
# `make fuzz` builds them into $(BUILD)-fuzz/ and runs each for FUZZ_TIME
# seconds (tests/fuzz/run.sh: regressions first, then the seed corpus);
# `make fuzz-build` only builds.  Everything is compiled with
# -fsanitize=fuzzer-no-link,address,undefined; only the harnesses link
# libFuzzer.  The harnesses also link the plugins' config parsers and
# hook/cli.c (cli_parse_uint).
FUZZ_TIME  ?= 60
FUZZ_BUILD ?= $(patsubst %-fuzz,%,$(BUILD))-fuzz
FUZZ_CC    ?= clang
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC   := $(wildcard tests/fuzz/*.c)
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJ   := $(PLUGIN_LOGIC_OBJ) $(BUILD)/hook/cli.o

.PHONY: fuzz fuzz-build fuzz-bins clean-fuzz
fuzz:
	FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh $(FUZZ_BUILD)

fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
		CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		-Wno-unknown-warning-option -Wno-format-nonliteral -Wno-missing-field-initializers" \
		fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iplugins -Ihook -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBA) $(LDLIBS)

clean-fuzz:
	rm -rf $(FUZZ_BUILD)

-include $(LIB_OBJ:.o=.d) $(HOOK_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) \
	$(patsubst %.c,$(BUILD)/%.d,$(wildcard plugins/*/*.c))
