/* conf.h -- the fuzz target for the config loader: one input is a config file (Lua evaluated as data
 * in the sandbox, then validated). Loading must not crash, hang or leak; it fails exactly when it
 * reports an error; every message names a file (an absolute path: the config's, or one it names);
 * and loading the same input again gives the same messages.
 *
 * Built with libFuzzer (`make fuzz FUZZ_TARGET=conf`) and into the unit test test_fuzz_corpus, which
 * replays tests/fuzz/corpus-conf/. */
#ifndef MERIDIAN_TESTS_FUZZ_CONF_H
#define MERIDIAN_TESTS_FUZZ_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Makes the folder the inputs are written to (with an example.com.zone for them to name). Returns
 * false, having printed why, when it cannot. */
bool fuzz_conf_setup(void);

/* Loads one input twice. Returns NULL when every property holds, or which did not (a static buffer). */
const char *fuzz_conf_one(const uint8_t *data, size_t size);

#endif
