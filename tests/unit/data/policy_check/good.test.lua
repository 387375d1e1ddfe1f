-- good.test.lua -- a test file whose every case passes (bad.conf's good.example.com and
-- dc.example.com); read by tests/unit/test_policy_check.c.
local all = { "192.0.2.10", "198.51.100.10", "198.51.100.11" }
return {
  config = "bad.conf",
  record = "good.example.com", type = "A",
  region = "europe",
  cases = {
    { name = "europe: ams", expect = { addrs = { "192.0.2.10" }, select = "first", answers = 1, ttl = 30 } },
    { name = "americas: iad, in config order", region = "americas",
      expect = { addrs = { "198.51.100.10", "198.51.100.11" }, ordered = true } },
    { name = "ams down: iad (compared as a set)", states = { ["web/ams-1"] = "down" },
      expect = { addrs = { "198.51.100.11", "198.51.100.10" }, ttl = 7 } },
    { name = "a bare member name is in the record's pool; drain leaves meridian.up",
      region = "americas", states = { ["iad-1"] = "drain" },
      expect = { addrs = { "198.51.100.11" }, ttl = 7 } },
    { name = "all down: every member, ttl 5",
      states = { ["web/ams-1"] = "down", ["web/iad-1"] = "down", ["web/iad-2"] = "down" },
      expect = { addrs = all, ttl = 5 } },
    { name = "a policy that fails is expected to", record = "dc.example.com",
      states = { ["web/iad-1"] = "down", ["web/iad-2"] = "down" },
      expect = { error = true } },
    { name = "a failed policy serves the members up (no last good answer offline)",
      record = "dc.example.com", states = { ["web/iad-1"] = "down", ["web/iad-2"] = "down" },
      expect = { error = true, addrs = { "192.0.2.10" } } },
  },
}
