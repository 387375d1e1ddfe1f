-- canary.test.lua -- cases for canary.lua (canary.example.com in ../meridian.conf, pool canary).
-- Run: build/meridianctl test-policy zones/policies/canary.test.lua
return {
	config = "../meridian.conf",
	record = "canary.example.com", type = "A",
	region = "europe",
	cases = {
		{ name = "all up: the stable members and the canary, one drawn by weight",
		  expect = { addrs = { "192.0.2.30", "198.51.100.30", "192.0.2.39" }, select = "weighted",
		             answers = 1, ttl = 60 } },
		{ name = "the region does not matter", region = "asia",
		  expect = { addrs = { "192.0.2.30", "198.51.100.30", "192.0.2.39" }, select = "weighted" } },
		{ name = "canary down: the stable members only", states = { ["canary/canary-1"] = "down" },
		  expect = { addrs = { "192.0.2.30", "198.51.100.30" }, select = "weighted", answers = 1,
		             ttl = 15 } },
		{ name = "a stable member down: the other one and the canary",
		  states = { ["stable-ams"] = "down" },
		  expect = { addrs = { "198.51.100.30", "192.0.2.39" }, select = "weighted", answers = 1 } },
		{ name = "every stable member down: the canary is not left alone, fail open to stable",
		  states = { ["stable-ams"] = "down", ["stable-iad"] = "down" },
		  expect = { addrs = { "192.0.2.30", "198.51.100.30" }, select = "weighted", answers = 1,
		             ttl = 10 } },
		{ name = "all down: the stable members, short TTL",
		  states = { ["stable-ams"] = "down", ["stable-iad"] = "down", ["canary-1"] = "down" },
		  expect = { addrs = { "192.0.2.30", "198.51.100.30" }, ttl = 10 } },
	},
}
