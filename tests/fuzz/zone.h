/* zone.h -- the fuzz target for the zone loader: one input is a master file for the zone "fuzz.test."
 * It is loaded sequentially and cut into small chunks parsed by two threads; both must give the same
 * zone (or both none) and the same messages, and neither may crash, hang or leak. A zone that loads
 * is then sent as an AXFR (transfer.h), which must end and hold every record once and the SOA
 * twice, in well-formed messages. Inputs naming
 * $INCLUDE are skipped: they would read files outside the input (/dev/zero never ends).
 *
 * Built with libFuzzer (`make fuzz FUZZ_TARGET=zone`) and into the unit test test_fuzz_corpus, which
 * replays tests/fuzz/corpus-zone/. */
#ifndef MERIDIAN_TESTS_FUZZ_ZONE_H
#define MERIDIAN_TESTS_FUZZ_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Picks the file the inputs are written to. Returns false, having printed why, when it cannot. */
bool fuzz_zone_setup(void);

/* Loads one input both ways. Returns NULL when they agree, or what differs (a static buffer). */
const char *fuzz_zone_one(const uint8_t *data, size_t size);

#endif
