# meridian -- build, test, run and benchmark. See README.md.
#
#   make          build build/meridiand and the unit tests
#   make run      install what is missing, build, serve zones/ on 127.0.0.1:5353
#   make test     install what is missing, build, run every test ("N passed, N failed")
#   make asan     the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench    dnsperf against meridian and the peers installed here (scripts/bench.sh)
#   make fuzz     libFuzzer on the query path, zone or config loader, TCP (FUZZ_TARGET=answer|zone|conf|tcp)
#   make install  programs, systemd unit, README and examples under PREFIX (/usr/local), DESTDIR too

BUILD   ?= build
CC      ?= cc
PKGS    := ldns lua5.4 liburcu-qsbr libmaxminddb libcurl libsodium libmicrohttpd libcap libsystemd nettle
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Iinclude
CFLAGS  += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lpthread -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC   := $(sort $(wildcard src/*/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
PROGS     := $(BUILD)/meridiand $(BUILD)/meridianctl
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS     := $(BUILD)/tests/freeport

.PHONY: all deps run test unit asan bench fuzz format clean install
.SECONDARY:
all: $(PROGS) $(UNIT_BIN) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libmeridian.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/meridiand: $(BUILD)/obj/src/meridiand.o $(BUILD)/libmeridian.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/meridianctl: $(BUILD)/obj/src/meridianctl.o $(BUILD)/libmeridian.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(BUILD)/obj/tests/unit/support.o $(BUILD)/libmeridian.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# the fuzz target's corpus replays with the normal build
$(BUILD)/tests/test_fuzz_corpus: $(BUILD)/obj/tests/unit/test_fuzz_corpus.o $(BUILD)/obj/tests/fuzz/answer.o \
		$(BUILD)/obj/tests/fuzz/zone.o $(BUILD)/obj/tests/fuzz/conf.o $(BUILD)/obj/tests/fuzz/tcp.o \
		$(BUILD)/obj/tests/unit/support.o \
		$(BUILD)/libmeridian.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/freeport: tests/tools/freeport.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-tests.sh $(BUILD)

unit: all
	@scripts/run-tests.sh $(BUILD) unit

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 OPT=-O1 all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		scripts/run-tests.sh build/asan

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh $(BUILD)

# libFuzzer for FUZZ_SECONDS from the committed corpus: FUZZ_TARGET=answer (the query path,
# tests/fuzz/answer.h), zone (the zone loader, tests/fuzz/zone.h), conf (the config loader,
# tests/fuzz/conf.h) or tcp (DNS over TCP, tests/fuzz/tcp.h). New inputs go to
# build/fuzz/TARGET/corpus; a failing one is written to build/fuzz/TARGET/ and belongs in the committed
# corpus with its fix.
FUZZ_SECONDS ?= 300
FUZZ_TARGET  ?= answer
FUZZ_DIR     := build/fuzz/$(FUZZ_TARGET)
FUZZ_SRC     := $(LIB_SRC) tests/fuzz/answer.c tests/fuzz/zone.c tests/fuzz/conf.c tests/fuzz/tcp.c \
		tests/fuzz/fuzzer.c
FUZZ_CORPUS_answer := tests/fuzz/corpus
FUZZ_CORPUS_zone   := tests/fuzz/corpus-zone
FUZZ_CORPUS_conf   := tests/fuzz/corpus-conf
FUZZ_CORPUS_tcp    := tests/fuzz/corpus-tcp
FUZZ_FLAGS_answer  := -max_len=1500
FUZZ_FLAGS_zone    := -max_len=4096 -DFUZZ_ZONE
FUZZ_FLAGS_conf    := -max_len=4096 -DFUZZ_CONF
FUZZ_FLAGS_tcp     := -max_len=4096 -DFUZZ_TCP
fuzz: deps
	@scripts/deps.sh fuzz
	@test -n "$(FUZZ_CORPUS_$(FUZZ_TARGET))" || { echo "FUZZ_TARGET is answer, zone, conf or tcp" >&2; exit 2; }
	@mkdir -p $(FUZZ_DIR)/corpus
	@echo "  CC      $(FUZZ_DIR)/fuzz"
	@clang -O1 -g -std=c11 -D_GNU_SOURCE -Iinclude $(shell pkg-config --cflags $(PKGS)) \
		$(filter -D%,$(FUZZ_FLAGS_$(FUZZ_TARGET))) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $(FUZZ_DIR)/fuzz $(FUZZ_SRC) $(LDLIBS)
	@UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_DIR)/fuzz -max_total_time=$(FUZZ_SECONDS) \
		$(filter -max%,$(FUZZ_FLAGS_$(FUZZ_TARGET))) -artifact_prefix=$(FUZZ_DIR)/ \
		$(FUZZ_DIR)/corpus $(FUZZ_CORPUS_$(FUZZ_TARGET))

# make install [PREFIX=/usr/local] [DESTDIR=]: the two programs, the systemd unit (its paths set to
# PREFIX), the README and the example deployment (without the state make run leaves in zones/run).
# Configs in /etc are the operator's: none is written.
PREFIX  ?= /usr/local
install: $(PROGS)
	install -D -m 0755 $(BUILD)/meridiand $(DESTDIR)$(PREFIX)/sbin/meridiand
	install -D -m 0755 $(BUILD)/meridianctl $(DESTDIR)$(PREFIX)/bin/meridianctl
	mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/sbin/meridiand|$(PREFIX)/sbin/meridiand|g' scripts/systemd/meridiand.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/meridiand.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/meridiand.service
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/meridian/README.md
	mkdir -p $(DESTDIR)$(PREFIX)/share/doc/meridian/examples
	tar -C zones --exclude=./run -cf - . | tar -C $(DESTDIR)$(PREFIX)/share/doc/meridian/examples -xf -

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/src/meridiand.d $(BUILD)/obj/src/meridianctl.d \
	$(UNIT_SRC:%.c=$(BUILD)/obj/%.d) $(BUILD)/obj/tests/unit/support.d \
	$(BUILD)/obj/tests/fuzz/answer.d $(BUILD)/obj/tests/fuzz/zone.d $(BUILD)/obj/tests/fuzz/conf.d \
	$(BUILD)/obj/tests/fuzz/tcp.d
