-- geo_more.lua -- the other shapes: IPv6, CNAME targets, keys in brackets, computed regions, ecs off
serial = 7
listen = { "127.0.0.1:5353" }
ecs = false
records = { -- written before what it names: keys are read in phases, not in file order
	{ name = "dual.example.com", type = "AAAA", pool = "dual", ttl = 0, policy = "all" },
	{ name = "Dual.Example.COM.", type = "A", pool = "dual", ttl = 2147483647, policy = "failover",
	  order = { south = { "sin" }, north = { "ams", "sin" } } },
	{ name = "cdn.example.com", type = "cname", pool = "cdn", ttl = 300, policy = "weighted", answers = 1 },
}
regions = {
	--[[ south = { continents = { "SA" } }, in a comment: not where south is written ]]
	-- south = { }, {{ also a comment
	north = { countries = { "NO", "SE" }, lat = 60, lon = 15.5 },
	["eu-west"] = { countries = { "FR" }, subdivisions = { "GB-ENG", "FR-75" } },
	south = { continents = { "AF" }, nets = { "192.0.2.0/25", "2001:db8::/32", "198.51.100.7" } },
}
regions.b_late = { countries = { "BR" } }
regions.a_late = { countries = { "AR" } }
default_region = "south"
datacenters = { sin = {}, ams = { lat = 52.37, lon = 4.9 } }
pools = {
	dual = { members = {
		{ name = "v6", addr = "2001:db8::53", dc = "ams", weight = 65535 },
		{ name = "v4", addr = "192.0.2.53", dc = "sin" },
	} },
	cdn = { members = { { name = "c1", target = "Edge.CDN.example.NET.", dc = "sin" } } },
}
