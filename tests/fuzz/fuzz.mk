# tests/fuzz/fuzz.mk: libFuzzer targets, included by the Makefile.
#
#   make fuzz [FUZZTIME=60]	build every target in build-fuzz/fuzz and run
#				each FUZZTIME seconds; fails on any crash
#   make fuzz-ci		the same, 10 seconds each (.ci/run)
#
# The library objects are the Makefile's own (LIB_OBJ, the agent objects
# fuzz_imap needs), rebuilt under BUILD=build-fuzz with clang and
# -fsanitize=fuzzer-no-link,address,undefined; tests/fuzz/run.sh runs the
# binaries on a corpus copied from tests/fuzz/seeds/TARGET.

FUZZTIME	?= 60
FUZZBUILD	?= build-fuzz
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
		  -fno-omit-frame-pointer
FUZZ_LISTS	= domains phones phrases regex allow
FUZZ_TARGETS	= classify bounce paths conf imap feedsig dnsbl \
		  $(FUZZ_LISTS:%=list_%)
FUZZ_BIN	= $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_AGENT_OBJ	= $(BUILD)/agent/imap-fetch.o $(BUILD)/agent/imap-mbox.o \
		  $(BUILD)/agent/imap-guard.o $(BUILD)/agent/imap-sess.o \
		  $(BUILD)/agent/imap-utf7.o $(BUILD)/agent/util.o \
		  $(BUILD)/agent/log.o
FUZZ_CC		= $(CC) $(STD) $(WARN) $(CFLAGS) -I. \
		  -DFUZZ_TOP='"$(CURDIR)"' -fsanitize=fuzzer

.PHONY: fuzz fuzz-ci fuzz-bins

$(BUILD)/fuzz/fuzz_list_%: tests/fuzz/fuzz_list.c tests/fuzz/fuzz.h \
    $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -DFUZZ_SUFFIX='".$*"' -o $@ $< $(LIB_OBJ) $(LDFLAGS) \
	    $(LIBS)

# A target that links agent objects beside the library has them as
# prerequisites of its own and in FUZZ_OBJ; the pattern rule builds all.
FUZZ_SIG_OBJ	= $(BUILD)/agent/feedsig.o $(BUILD)/agent/util.o \
		  $(BUILD)/agent/log.o
FUZZ_DNSBL_OBJ	= $(BUILD)/agent/dnsbl-answer.o
$(BUILD)/fuzz/fuzz_imap: $(FUZZ_AGENT_OBJ)
$(BUILD)/fuzz/fuzz_imap: FUZZ_OBJ = $(FUZZ_AGENT_OBJ)
$(BUILD)/fuzz/fuzz_feedsig: $(FUZZ_SIG_OBJ)
$(BUILD)/fuzz/fuzz_feedsig: FUZZ_OBJ = $(FUZZ_SIG_OBJ)
$(BUILD)/fuzz/fuzz_dnsbl: $(FUZZ_DNSBL_OBJ)
$(BUILD)/fuzz/fuzz_dnsbl: FUZZ_OBJ = $(FUZZ_DNSBL_OBJ)

$(BUILD)/fuzz/fuzz_paths: tests/unit/paths.h

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $< $(FUZZ_OBJ) $(LIB_OBJ) $(LDFLAGS) $(LIBS)

fuzz-bins: $(FUZZ_BIN)

fuzz: deps-test
	$(MAKE) BUILD=$(FUZZBUILD) CC=clang \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    LDFLAGS="$(FUZZ_SAN)" fuzz-bins
	sh tests/fuzz/run.sh $(FUZZBUILD) $(FUZZTIME) $(FUZZ_TARGETS)

fuzz-ci:
	$(MAKE) fuzz FUZZTIME=10

