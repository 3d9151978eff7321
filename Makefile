# imapsift: GNU make.  `make` builds build/imapsift; see README for targets.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SHAREDIR ?= $(PREFIX)/share/imapsift
MANDIR	?= $(PREFIX)/share/man
DESTDIR	?=

CC	?= cc
CFLAGS	?= -O2 -g
STD	= -std=c11 -pthread -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN	= -Wall -Wextra -Wpedantic -Wshadow -Wcast-qual -Wformat=2 \
	  -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	  -Wpointer-arith -Wwrite-strings -Wimplicit-fallthrough -Wvla
# Warnings are errors in CI (which sets CI=true) and whenever WERROR=1.
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN	+= -Werror
endif
# libetpan's pkg-config line asks for a non-PIE link spec we do not want:
# link the libraries by name (see libetpan-notes.md section 0).
LIBS	= -pthread -letpan -lgnutls -lpcre2-8 -lpsl -lidn2 -lsqlite3 -lconfig \
	  -lcurl -ljson-c -lsodium -lcares
DEFS	= -DIMAPSIFT_SHAREDIR='"$(SHAREDIR)"'

BUILD	?= build
SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -fno-omit-frame-pointer

RULES_SRC	= $(sort $(wildcard rules/*.c))
STORE_SRC	= $(sort $(wildcard store/*.c))
CONF_SRC	= $(sort $(wildcard conf/*.c))
AGENT_SRC	= $(sort $(wildcard agent/*.c))
UNIT_SRC	= $(sort $(wildcard tests/unit/test_*.c))

RULES_OBJ	= $(RULES_SRC:%.c=$(BUILD)/%.o)
STORE_OBJ	= $(STORE_SRC:%.c=$(BUILD)/%.o)
CONF_OBJ	= $(CONF_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ		= $(RULES_OBJ) $(STORE_OBJ) $(CONF_OBJ)
AGENT_OBJ	= $(AGENT_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN	= $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BIN		= $(BUILD)/imapsift

# Debian packages for building, testing, benchmarking and the demo.
DEB_BUILD	= gcc make pkg-config libetpan-dev libgnutls28-dev \
		  libpcre2-dev libpsl-dev libidn2-dev libsqlite3-dev \
		  libconfig-dev libcurl4-gnutls-dev libjson-c-dev libsodium-dev \
		  libc-ares-dev
# The sanitizer and libFuzzer runtimes (make check, make fuzz) are
# packaged per clang version: the installed clang's, else the one
# Debian's clang package depends on.
CLANG_MAJOR	= $(shell { clang -dumpversion 2>/dev/null || \
		  apt-cache depends clang 2>/dev/null | \
		  sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$$/\1/p'; } | \
		  head -n 1 | cut -d. -f1)
DEB_TEST	= $(DEB_BUILD) clang libclang-rt-$(CLANG_MAJOR)-dev \
		  dovecot-imapd openssl \
		  python3 curl nodejs signify-openbsd minisign unbound groff-base
DEB_BENCH	= $(DEB_TEST) spamassassin spamd spamc rspamd imapfilter time \
		  util-linux python3
DEB_DEMO	= $(DEB_BUILD) dovecot-imapd openssl python3

.PHONY: FORCE all test check bench eval demo demo-offline install \
	uninstall clean \
	deps deps-build deps-demo deps-test deps-bench unit

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS) $(DEFS) -I. -MMD -MP -c -o $@ $<

# rulesdir.c has SHAREDIR compiled in: rebuild it when PREFIX changes
# (make install PREFIX=/usr after a plain make must not keep the old path).
$(BUILD)/sharedir.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(SHAREDIR)' | cmp -s - $@ || echo '$(SHAREDIR)' > $@
$(BUILD)/agent/rulesdir.o: $(BUILD)/sharedir.stamp

$(BIN): $(AGENT_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# A unit test links the library, and the agent objects it tests: those
# are its prerequisites and in its UNIT_OBJ; UNIT_LINK is what follows
# them (a test that needs no library says so).  One recipe for all.
UNIT_LINK	= $(LIB_OBJ) $(LDFLAGS) $(LIBS)
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) tests/unit/test.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS) -I. -o $@ $< $(UNIT_OBJ) $(UNIT_LINK)

# test_paths: the differential harness it shares with fuzz_paths.
$(BUILD)/tests/test_paths: tests/unit/paths.h

# The modified UTF-7 codec test: the one agent object it tests, alone.
$(BUILD)/tests/test_imap_utf7: $(BUILD)/agent/imap-utf7.o
$(BUILD)/tests/test_imap_utf7: UNIT_OBJ = $(BUILD)/agent/imap-utf7.o
$(BUILD)/tests/test_imap_utf7: UNIT_LINK = $(LDFLAGS)

# The DNS blocklist answer test: the one agent object it tests.
$(BUILD)/tests/test_dnsbl_answer: $(BUILD)/agent/dnsbl-answer.o
$(BUILD)/tests/test_dnsbl_answer: UNIT_OBJ = $(BUILD)/agent/dnsbl-answer.o

# The logging test: log.c alone.
$(BUILD)/tests/test_log: $(BUILD)/agent/log.o
$(BUILD)/tests/test_log: UNIT_OBJ = $(BUILD)/agent/log.o
$(BUILD)/tests/test_log: UNIT_LINK = $(LDFLAGS) -pthread

# The folder choice test: the agent objects folders.c needs.
FOLDERS_OBJ	= $(BUILD)/agent/folders.o $(BUILD)/agent/util.o \
		  $(BUILD)/agent/log.o
$(BUILD)/tests/test_folders: $(FOLDERS_OBJ)
$(BUILD)/tests/test_folders: UNIT_OBJ = $(FOLDERS_OBJ)

unit: $(BIN) $(UNIT_BIN)

test: deps-test
	$(MAKE) unit
	sh tests/run.sh $(BUILD)

check: deps-test
	$(MAKE) BUILD=build-san CC=clang CFLAGS="-O1 -g $(SAN)" \
	    LDFLAGS="$(SAN)" unit
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    sh tests/run.sh build-san

CORPORA	?= ../shared/corpora
eval: $(BIN)
	sh tests/eval/eval.sh $(BIN) $(CORPORA)

bench: deps-bench
	$(MAKE) all
	sh tests/bench/bench.sh $(BIN) $(CORPORA)
	sh tests/bench/learned.sh $(BIN) $(CORPORA)
	sh tests/bench/idle.sh $(BIN)

# The IMAP demo: a throwaway Dovecot on loopback, a demo mailbox, one
# sweep, each folder's contents.  demo-offline: the same verdicts on files.
demo: deps-demo
	$(MAKE) all
	sh tests/demo/imap.sh $(BIN)

demo-offline: deps-build
	$(MAKE) all
	sh tests/demo/offline.sh $(BIN)

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/rules \
	    $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/imapsift
	install -m 644 rules/lists/* $(DESTDIR)$(SHAREDIR)/rules/
	install -m 644 rules/harvest-skip.list $(DESTDIR)$(SHAREDIR)/
	install -m 644 conf/imapsift.conf.example $(DESTDIR)$(SHAREDIR)/
	install -d $(DESTDIR)$(SHAREDIR)/examples
	install -m 644 conf/imapsift-watch.service conf/imapsift@.service \
	    conf/crontab.example $(DESTDIR)$(SHAREDIR)/examples/
	install -m 644 man/imapsift.1 $(DESTDIR)$(MANDIR)/man1/imapsift.1

# What install put there, and the directories it made when they are left
# empty (rmdir fails quietly on one that holds anything else).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/imapsift
	rm -f $(DESTDIR)$(MANDIR)/man1/imapsift.1
	for f in rules/lists/*; do \
		rm -f "$(DESTDIR)$(SHAREDIR)/rules/$${f##*/}"; \
	done
	rm -f $(DESTDIR)$(SHAREDIR)/harvest-skip.list \
	    $(DESTDIR)$(SHAREDIR)/imapsift.conf.example \
	    $(DESTDIR)$(SHAREDIR)/examples/imapsift-watch.service \
	    $(DESTDIR)$(SHAREDIR)/examples/imapsift@.service \
	    $(DESTDIR)$(SHAREDIR)/examples/crontab.example
	-rmdir $(DESTDIR)$(SHAREDIR)/examples $(DESTDIR)$(SHAREDIR)/rules \
	    $(DESTDIR)$(SHAREDIR) 2>/dev/null

# make fuzz, make fuzz-ci: libFuzzer targets (tests/fuzz).
include tests/fuzz/fuzz.mk

clean:
	rm -rf build build-san build-fuzz

# deps: installs what is missing when run as root, else prints the line.
deps: deps-bench
deps-build:
	@sh tests/deps.sh $(DEB_BUILD)
deps-demo:
	@sh tests/deps.sh $(DEB_DEMO)
deps-test:
	@sh tests/deps.sh $(DEB_TEST)
deps-bench:
	@sh tests/deps.sh $(DEB_BENCH)

-include $(RULES_OBJ:.o=.d) $(STORE_OBJ:.o=.d) $(AGENT_OBJ:.o=.d) \
	 $(CONF_OBJ:.o=.d)
