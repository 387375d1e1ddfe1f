/* policy_check.h -- testing Lua policies before they serve: the scenarios `meridiand --check` runs, and
 * the operator's own test files that `meridianctl test-policy` runs. Both work offline, on a snapshot
 * built by loader_build; neither needs a running server.
 *
 * A test file is Lua (evaluated in the config sandbox, conf_sandbox.h) returning a table:
 *   return {
 *     config = "../meridian.conf",            -- required; relative to the test file's folder
 *     record = "api.example.com", type = "A", -- the record every case asks about (a case may override)
 *     cases = {
 *       { name = "ams down",                   -- required, unique in the file
 *         region = "europe",                   -- default: the config's default_region
 *         states = { ["web/ams-1"] = "down" }, -- "up", "down" or "drain"; members not listed are up;
 *                                              -- a bare member name means the record's pool; or a
 *                                              -- table { state = "up", since = 90, forced = true }:
 *                                              -- ctx.members[i].since (seconds in the state, default
 *                                              -- 0) and .forced (an operator set it, default false)
 *         now = 1700000000,                    -- ctx.now; default: the current time
 *         expect = {
 *           addrs = { "198.51.100.10" },       -- A/AAAA (targets = { "x.example.net" } for CNAME)
 *           ordered = true,                    -- compare in order (default: as a set)
 *           ttl = 30, select = "weighted", answers = 2,  -- each compared only when given
 *           recheck = 3600,                    -- Lua records: the recheck the policy asks for
 *           error = false,                     -- true: the policy must fail (last good / fail open)
 *         } },
 *     } }
 * region and now may also be given at the top, as defaults for every case. addrs is required unless
 * error = true.
 * A case fails when its answer differs from what it expects, and also when the policy failed (errored
 * or answered something invalid) unless it says error = true: the answer then comes from the fallback,
 * and matching it by chance is no pass. */
#ifndef MERIDIAN_POLICY_CHECK_H
#define MERIDIAN_POLICY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "meridian/diag.h"
#include "meridian/snapshot.h"

/* Runs every Lua record's policy, in every region (one unnamed region when none are configured), in
 * the scenarios "all up", "dc NAME down" (each datacenter), "member POOL/NAME down" (each member of
 * the record's pool) and "all down". Each scenario whose run errors, returns an empty answer or goes
 * outside its pool is an error in d: "FILE: record NAME TYPE, region R, scenario S: reason" with FILE
 * the policy file. Returns true when every scenario passed (also when there is no Lua record). */
bool policy_check_scenarios(const struct snapshot *s, struct diag *d);

struct policy_test_counts {
	size_t passed, failed;
};

/* Runs the cases of test file path: loads its config (conf_load + loader_build, which compiles the
 * policies) and computes each case's answers with policy_compute, as the server would. Prints
 * "ok - NAME" or "not ok - NAME" with "#   expected ..." / "#   got ..." lines per case to out, and
 * adds to counts. Returns false, with the reasons in d and no case run, when the file cannot be used:
 * it does not evaluate, has the wrong shape, its config does not load, or it names a record, region
 * or member that the config does not have. */
bool policy_test_file(const char *path, FILE *out, struct policy_test_counts *counts, struct diag *d);

#endif
