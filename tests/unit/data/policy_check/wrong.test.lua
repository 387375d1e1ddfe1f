-- wrong.test.lua -- a test file with one passing case and one wrong expectation of each kind;
-- read by tests/unit/test_policy_check.c.
return {
  config = "bad.conf",
  record = "good.example.com", type = "A",
  region = "americas",
  cases = {
    { name = "right", expect = { addrs = { "198.51.100.10", "198.51.100.11" } } },
    { name = "wrong addrs", region = "europe", expect = { addrs = { "198.51.100.10" } } },
    { name = "wrong order", expect = { addrs = { "198.51.100.11", "198.51.100.10" }, ordered = true } },
    { name = "wrong ttl", expect = { addrs = { "198.51.100.10", "198.51.100.11" }, ttl = 60 } },
    { name = "wrong select", expect = { addrs = { "198.51.100.10", "198.51.100.11" }, select = "all" } },
    { name = "wrong answers", expect = { addrs = { "198.51.100.10", "198.51.100.11" }, answers = 2 } },
    { name = "the policy fails", record = "dc.example.com",
      states = { ["web/iad-1"] = "down", ["web/iad-2"] = "down" },
      expect = { addrs = { "192.0.2.10" } } },
    { name = "the policy does not fail", record = "dc.example.com", expect = { error = true } },
  },
}
