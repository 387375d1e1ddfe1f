-- warm.test.lua -- cases that set how long a member has been in its state and whether an operator
-- forced it (warm.conf, warm.lua); read by tests/unit/test_policy_check.c.
return {
  config = "warm.conf",
  record = "warm.example.com", type = "A",
  cases = {
    { name = "nothing said: every member up for 0 s, none warm, all serve",
      expect = { addrs = { "192.0.2.10", "198.51.100.10", "198.51.100.11" }, recheck = 60 } },
    { name = "iad-1 up for two minutes: only it is warm",
      states = { ["iad-1"] = { state = "up", since = 120 } },
      expect = { addrs = { "198.51.100.10" } } },
    { name = "59 s is not warm yet",
      states = { ["web/iad-1"] = { state = "up", since = 59 } },
      expect = { addrs = { "192.0.2.10", "198.51.100.10", "198.51.100.11" }, recheck = 1 } },
    { name = "forced up beats warm",
      states = { ["iad-1"] = { state = "up", since = 120 }, ["ams-1"] = { state = "up", forced = true } },
      expect = { addrs = { "192.0.2.10" } } },
    { name = "long down is not warm; a bare state string still works",
      states = { ["iad-1"] = { state = "down", since = 300, forced = true }, ["iad-2"] = "drain" },
      expect = { addrs = { "192.0.2.10" } } },
  },
}
