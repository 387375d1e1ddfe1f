/* fuzzer.c -- libFuzzer's entry points (`make fuzz`): the query path (answer.h) by default, the zone
 * loader (zone.h) when built with -DFUZZ_ZONE, the config loader (conf.h) with -DFUZZ_CONF, DNS over
 * TCP (tcp.h) with -DFUZZ_TCP. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "answer.h"
#include "conf.h"
#include "tcp.h"
#include "zone.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
#if defined(FUZZ_ZONE)
	bool ready = fuzz_zone_setup();
#elif defined(FUZZ_CONF)
	bool ready = fuzz_conf_setup();
#elif defined(FUZZ_TCP)
	const char *conf = getenv("MERIDIAN_FUZZ_CONF");
	bool ready = fuzz_tcp_setup(conf ? conf : "tests/fuzz/fuzz.conf");
#else
	const char *conf = getenv("MERIDIAN_FUZZ_CONF");
	bool ready = fuzz_answer_setup(conf ? conf : "tests/fuzz/fuzz.conf");
#endif
	if (!ready)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if defined(FUZZ_ZONE)
	const char *bad = fuzz_zone_one(data, size);
#elif defined(FUZZ_CONF)
	const char *bad = fuzz_conf_one(data, size);
#elif defined(FUZZ_TCP)
	const char *bad = fuzz_tcp_one(data, size);
#else
	const char *bad = fuzz_answer_one(data, size);
#endif
	if (bad) {
		fprintf(stderr, "fuzz: %s\n", bad);
		abort();
	}
	return 0;
}
