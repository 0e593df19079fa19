# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# rcatrace build. `make` builds .output/rcatrace; see README.md for the rest.

OUTPUT    ?= .output
# One spelling for every object: a relative and an absolute OUTPUT naming the
# same folder would otherwise write dependency files the other never reads.
override OUTPUT := $(abspath $(OUTPUT))
CLANG     ?= clang
CC        ?= gcc
BPFTOOL   ?= bpftool
LLVM_STRIP ?= llvm-strip
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/mips.*/mips/')
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

PREFIX    ?= /usr/local
DESTDIR   ?=
# Where `make install` puts things. systemd reads units from /usr/local/lib/systemd/system
# as well as /usr/lib/systemd/system, so the unit follows PREFIX like the rest.
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
DOCDIR         ?= $(PREFIX)/share/doc/rcatrace

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	      -Ivmlinux -Iinclude -Wall -Wno-unused-function
CFLAGS     ?= -g -O2
CFLAGS     += -std=gnu11 -Wall -Wextra -Wshadow -Wno-missing-field-initializers \
	      -D_GNU_SOURCE -DRCATRACE_VERSION='"$(VERSION)"' -Iinclude $(USER_INCLUDES) -I$(OUTPUT) -MMD -MP
# libmicrohttpd serves --metrics-listen (Debian: libmicrohttpd-dev).
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
# SQLite keeps the store (Debian: libsqlite3-dev).
SQLITE_CFLAGS := $(shell pkg-config --cflags sqlite3 2>/dev/null)
SQLITE_LIBS   := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
LIBS       := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lm $(MHD_LIBS) $(SQLITE_LIBS) -lpthread

# user/ is laid out as the data flows: collect (kernel maps, ring buffer, cgroup
# names) -> model (units, detectors) -> store (the state on disk) -> output
# (terminal, JSON, metrics); cli drives them; util is shared. Headers are found
# by name from any folder.
USER_DIRS     := cli collect model store output util
USER_INCLUDES := $(patsubst %,-Iuser/%,$(USER_DIRS))

# Modules that do not touch libbpf: unit-tested with cmocka.
PURE_MODULES := output/escape output/json_writer collect/mountinfo collect/unit_name model/kernel_sample \
		output/events \
		collect/unit_resolver collect/record cli/options util/clock model/crash_storm \
		model/figures store/db store/findings model/respawn_detector output/report \
		model/unit_table model/memory_growth model/fork_storm collect/cgroup_controllers \
		cli/cli_error output/metrics output/timeline output/history output/html_report collect/kernel_memory model/churn_growth model/churn_links util/atomic_file util/signals cli/system_parse util/notify util/small_file
# Modules that drive the kernel or the terminal.
SYS_MODULES  := collect/loader collect/sampler output/view output/exporter cli/system cli/cmd_run cli/cmd_dump cli/store_reader cli/cmd_timeline cli/cmd_history cli/cmd_report cli/main \
		output/metrics_server

PURE_OBJS := $(patsubst %,$(OUTPUT)/user/%.o,$(PURE_MODULES))
SYS_OBJS  := $(patsubst %,$(OUTPUT)/user/%.o,$(SYS_MODULES))
BPF_OBJ   := $(OUTPUT)/rcatrace.bpf.o
SKEL      := $(OUTPUT)/rcatrace.skel.h

UNIT_TESTS := $(patsubst tests/unit/test_%.c,$(OUTPUT)/tests/test_%,$(wildcard tests/unit/test_*.c))

.PHONY: all clean test unit-test integration-test run bench vmlinux install uninstall format deb

all: $(OUTPUT)/rcatrace

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests:
	@mkdir -p $@

# Each kernel module is compiled on its own, then linked into one object.
BPF_MODULES := lifecycle memory signals
BPF_PARTS   := $(patsubst %,$(OUTPUT)/bpf/%.bpf.o,$(BPF_MODULES))

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c include/rcatrace.h vmlinux/vmlinux.h $(wildcard bpf/*.bpf.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_OBJ): $(BPF_PARTS) | $(OUTPUT)
	$(BPFTOOL) gen object $@ $^

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name rcatrace_bpf > $@

# Only the loader includes the skeleton; everything else must build without it.
$(OUTPUT)/user/collect/loader.o: $(SKEL)
$(OUTPUT)/user/output/metrics_server.o: CFLAGS += $(MHD_CFLAGS)
$(OUTPUT)/user/store/db.o $(OUTPUT)/asan/store/db.o: CFLAGS += $(SQLITE_CFLAGS)

$(OUTPUT)/user/%.o: user/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# CPPFLAGS and LDFLAGS too: a package build passes its hardening flags in them.
$(OUTPUT)/rcatrace: $(PURE_OBJS) $(SYS_OBJS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# Regenerate the checked-in vmlinux.h from this machine's kernel BTF.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

# ---- tests ---------------------------------------------------------------
TEST_CFLAGS := $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer
TEST_LIBS   := -lcmocka -lz -lm $(SQLITE_LIBS)

# The pure modules are built once with the sanitizers, then linked into each test.
ASAN_OBJS := $(patsubst %,$(OUTPUT)/asan/%.o,$(PURE_MODULES))

$(OUTPUT)/asan/%.o: user/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

# Reached only through the pattern rule below, they would count as intermediate
# files: make would delete them after each build and rebuild them the next time.
.SECONDARY: $(ASAN_OBJS)

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(ASAN_OBJS) | $(OUTPUT)/tests
	$(CC) $(TEST_CFLAGS) $< $(ASAN_OBJS) $(TEST_LIBS) -o $@

unit-test: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

HELPER_BINS := $(patsubst tests/integration/helpers/%.c,$(OUTPUT)/helpers/%,$(wildcard tests/integration/helpers/*.c))

$(OUTPUT)/helpers/db_writer: tests/integration/helpers/db_writer.c user/store/db.c user/model/figures.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -D_GNU_SOURCE -Iinclude $(USER_INCLUDES) $(SQLITE_CFLAGS) $^ -lm $(SQLITE_LIBS) -o $@

$(OUTPUT)/helpers/%: tests/integration/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -D_GNU_SOURCE $< -lpthread -o $@

integration-test: $(OUTPUT)/rcatrace $(HELPER_BINS)
	tests/integration/run_all.sh $(OUTPUT)/rcatrace $(OUTPUT)/helpers

# Build everything in parallel first, then run the tests one after the other.
NPROC := $(shell nproc 2>/dev/null || echo 2)
test:
	$(MAKE) -j$(NPROC) all $(UNIT_TESTS) $(HELPER_BINS)
	$(MAKE) unit-test
	$(MAKE) integration-test

run: $(OUTPUT)/rcatrace
	$(OUTPUT)/rcatrace run $(RUN_ARGS)

# ---- benchmark (root): workloads, tracers, budgets; see scripts/bench.sh --------
BENCH_DIR  := $(OUTPUT)/bench
BENCH_BINS := $(patsubst bench/%.c,$(BENCH_DIR)/%,$(filter-out bench/bare.c bench/%.bpf.c,$(wildcard bench/*.c))) \
	      $(BENCH_DIR)/bare

$(BENCH_DIR)/true: bench/true.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static $< -o $@

$(BENCH_DIR)/bare.bpf.o: bench/bare.bpf.c vmlinux/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_DIR)/bare.skel.h: $(BENCH_DIR)/bare.bpf.o
	$(BPFTOOL) gen skeleton $< name bare_bpf > $@

$(BENCH_DIR)/bare: bench/bare.c $(BENCH_DIR)/bare.skel.h
	$(CC) -O2 -Wall -Wextra -D_GNU_SOURCE -I$(BENCH_DIR) $< \
		$(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -o $@

$(BENCH_DIR)/%: bench/%.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -D_GNU_SOURCE $< -lpthread -o $@

.PHONY: bench-bins
bench-bins: $(BENCH_BINS)

# BENCH_QUICK=1: a smoke run of a minute, results under $(BENCH_DIR)/quick.
bench: $(OUTPUT)/rcatrace $(BENCH_BINS)
	scripts/bench.sh $(OUTPUT)/rcatrace $(BENCH_DIR)

# ---- install (DESTDIR for staging, PREFIX default /usr/local) ----------------
# The unit's ExecStart names the installed binary, so it is written at install time.
install: $(OUTPUT)/rcatrace
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(OUTPUT)/rcatrace $(DESTDIR)$(SBINDIR)/rcatrace
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/rcatrace.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/rcatrace.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/rcatrace.service
	install -m 0644 man/rcatrace.8 $(DESTDIR)$(MANDIR)/man8/rcatrace.8
	install -m 0644 completion/rcatrace.bash $(DESTDIR)$(BASHCOMPDIR)/rcatrace
	install -m 0644 contrib/rcatrace-alerts.yml $(DESTDIR)$(DOCDIR)/rcatrace-alerts.yml

# Removes what install put; the state in /var/lib/rcatrace is the user's and stays.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rcatrace $(DESTDIR)$(SYSTEMDUNITDIR)/rcatrace.service \
		$(DESTDIR)$(MANDIR)/man8/rcatrace.8 $(DESTDIR)$(BASHCOMPDIR)/rcatrace \
		$(DESTDIR)$(DOCDIR)/rcatrace-alerts.yml
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# ---- Debian package: $(OUTPUT)/deb/rcatrace_<version>_<arch>.deb (debian/, dpkg-buildpackage
# on a copy of the tree, then lintian); see scripts/build-deb.sh ----------------------
deb:
	scripts/build-deb.sh $(OUTPUT)/deb

format:
	clang-format -i bpf/*.c bpf/*.h user/*/*.c user/*/*.h include/*.h tests/unit/*.c

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/user/*/*.d $(OUTPUT)/asan/*/*.d $(OUTPUT)/tests/*.d)
