# meridian -- build, test, run and benchmark. See README.md.
#
#   make          build build/meridiand and the unit tests
#   make run      install what is missing, build, serve zones/ on 127.0.0.1:5353
#   make test     install what is missing, build, run every test ("N passed, N failed")
#   make asan     the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench    dnsperf against meridian and the peers installed here (scripts/bench.sh)

BUILD   ?= build
CC      ?= cc
PKGS    := ldns lua5.4 liburcu-qsbr libmaxminddb libcurl
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

.PHONY: all deps run test unit asan bench format clean
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

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/src/meridiand.d $(UNIT_SRC:%.c=$(BUILD)/obj/%.d)
