-- geo_bad_pools.lua -- datacenters and pools that do not check out
serial = 1
listen = { "127.0.0.1:53" }
datacenters = {
	ams = { lat = 52.37 },
	iad = { lat = 38.95, lon = -181 },
	fra = { city = "Frankfurt" },
	sin = "Singapore",
}
pools = {
	web = { members = {
		{ name = "ams-1", addr = "192.0.2.300", dc = "ams" },
		{ name = "ams-1", addr = "192.0.2.11", dc = "ams", weight = 0 },
		{ name = "x", addr = "192.0.2.12", target = "a.example", dc = "ams" },
		{ name = "y", dc = "amz" },
		{ name = "z", target = "bad..example", dc = "iad", weight = 65536 },
		{ addr = "192.0.2.13", dc = "ams" },
		{ name = "h", addr = "192.0.2.14", dc = "ams", check = { type = "tcp" } },
		"member",
		{ name = "n o", addr = "192.0.2.15" },
	} },
	empty = { members = {} },
	none = {},
	health = { members = { { name = "a", addr = "192.0.2.1", dc = "ams" } }, standby = true },
	["b@d"] = { members = { { name = "ok", addr = "::1", dc = "ams" } } },
}
