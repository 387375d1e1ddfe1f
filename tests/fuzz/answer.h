/* answer.h -- the fuzz target for the query path: one input is a query packet and the client it came
 * from. It is answered every way the server answers (the general path alone, with the prepared table,
 * read ahead as a UDP batch is, and by the table directly); all must give the same bytes and
 * counters, and the reply must be a well-formed DNS message that answers the query.
 *
 * Input layout: octet 0 picks the transport (bit 0: TCP), the client (bits 1-2: none, an IPv4
 * address from the next 4 octets, an IPv6 address from the next 16, the IPv4-mapped form of the next
 * 4) and the query count the per-query choices are seeded with (bits 3-7); the rest is the packet.
 *
 * Built two ways: with clang -fsanitize=fuzzer and tests/fuzz/fuzzer.c (`make fuzz`), and into
 * the unit test test_fuzz_corpus, which replays tests/fuzz/corpus/ with the normal build. */
#ifndef MERIDIAN_TESTS_FUZZ_ANSWER_H
#define MERIDIAN_TESTS_FUZZ_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Loads the deployment at conf_path (tests/fuzz/fuzz.conf) and prepares its answers. Returns false,
 * having printed why, when it does not load. */
bool fuzz_answer_setup(const char *conf_path);

struct snapshot;
/* The deployment at conf_path as a snapshot with its prepared answers (not published), or NULL,
 * its diagnostics printed: what this target and the TCP one (tcp.h) answer from. */
struct snapshot *fuzz_load_deployment(const char *conf_path);

/* Answers one input as above. Returns NULL when every check held, or what failed (a static buffer). */
const char *fuzz_answer_one(const uint8_t *data, size_t size);

#endif
