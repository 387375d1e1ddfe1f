/* fuzzer.c -- libFuzzer's entry points for answer.c (`make fuzz`). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "answer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *conf = getenv("MERIDIAN_FUZZ_CONF");
	if (!fuzz_answer_setup(conf ? conf : "tests/fuzz/fuzz.conf"))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bad = fuzz_answer_one(data, size);
	if (bad) {
		fprintf(stderr, "fuzz_answer: %s\n", bad);
		abort();
	}
	return 0;
}
