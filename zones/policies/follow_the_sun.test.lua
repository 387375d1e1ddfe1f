-- follow_the_sun.test.lua -- cases for follow_the_sun.lua (sun.example.com in ../meridian.conf).
-- Run: build/meridianctl test-policy zones/policies/follow_the_sun.test.lua
-- Times: 1699920000 is 2023-11-14 00:00:00 UTC.
local midnight = 1699920000
local hour = 3600
return {
	config = "../meridian.conf",
	record = "sun.example.com", type = "A",
	region = "americas",
	cases = {
		{ name = "01:00 UTC: sin, until 08:00", now = midnight + 1 * hour,
		  expect = { addrs = { "203.0.113.20" }, ttl = 60, recheck = 7 * hour } },
		{ name = "07:59:59 UTC: still sin, one second to go", now = midnight + 8 * hour - 1,
		  expect = { addrs = { "203.0.113.20" }, recheck = 1 } },
		{ name = "08:00 UTC: ams, until 16:00", now = midnight + 8 * hour,
		  expect = { addrs = { "192.0.2.20", "192.0.2.21" }, recheck = 8 * hour } },
		{ name = "22:13:20 UTC: iad, until midnight", now = 1700000000,
		  expect = { addrs = { "198.51.100.20", "198.51.100.21" }, recheck = 6400 } },
		{ name = "the client's region does not matter", region = "asia", now = midnight + 10 * hour,
		  expect = { addrs = { "192.0.2.20", "192.0.2.21" }, recheck = 6 * hour } },
		{ name = "one ams member down at 10:00: the other one", now = midnight + 10 * hour,
		  states = { ["api/ams-1"] = "down" }, expect = { addrs = { "192.0.2.21" }, ttl = 15 } },
		{ name = "sin down at 01:00, europe: the nearest datacenter up, ams", region = "europe",
		  now = midnight + 1 * hour, states = { ["api/sin-1"] = "down" },
		  expect = { addrs = { "192.0.2.20", "192.0.2.21" }, ttl = 15, recheck = 7 * hour } },
		{ name = "sin down at 01:00, americas: iad", now = midnight + 1 * hour,
		  states = { ["api/sin-1"] = "down" }, expect = { addrs = { "198.51.100.20", "198.51.100.21" } } },
		{ name = "all down: every member, short TTL, still rechecking at the switch",
		  now = midnight + 20 * hour,
		  states = { ["api/ams-1"] = "down", ["api/ams-2"] = "down", ["api/iad-1"] = "down",
		             ["api/iad-2"] = "down", ["api/sin-1"] = "down" },
		  expect = { addrs = { "192.0.2.20", "192.0.2.21", "198.51.100.20", "198.51.100.21",
		                       "203.0.113.20" }, ttl = 10, recheck = 4 * hour } },
	},
}
