/* tcp.h -- the fuzz target for DNS over TCP (src/server/tcp.c, RFC 7766): one input is the byte
 * stream a client sends on one connection. A real worker's TCP code (its accept, read, framing and
 * write handling, in its own libev loop) serves it over a UNIX stream socket pair, the client
 * writing it in pieces whose sizes the input picks and reading the replies at once or only when
 * the server is stuck (a slow reader). Checked: the loop never blocks; the replies are exactly, in
 * order, the answers query_answer gives to the complete messages the framing holds (a message it
 * drops gets none), up to a zero-length frame, where the server closes; after the client's end of
 * stream the server closes too, and nothing is left over on either side.
 *
 * Input layout: octet 0 is the plan: bit 0 set makes the client a slow reader, bits 1-7 seed the
 * sizes of its writes (1 to 64 octets, or 1 to 4096 when bit 7 is set); the rest is the stream.
 *
 * Built with libFuzzer (`make fuzz FUZZ_TARGET=tcp`) and into the unit test test_fuzz_corpus, which
 * replays tests/fuzz/corpus-tcp/. */
#ifndef MERIDIAN_TESTS_FUZZ_TCP_H
#define MERIDIAN_TESTS_FUZZ_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Loads the deployment at conf_path (tests/fuzz/fuzz.conf, with cookies off: their answers depend on
 * the clock), publishes it, and sets up the worker. False, having printed why, when it fails. */
bool fuzz_tcp_setup(const char *conf_path);

/* Serves one input as above. Returns NULL when every check held, or what failed (a static buffer). */
const char *fuzz_tcp_one(const uint8_t *data, size_t size);

#endif
