-- geo_bad_records.lua -- records that do not check out
serial = 1
listen = { "127.0.0.1:53" }
records = {
	{ name = "www.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
	  order = { europe = { "ams", "ams" }, mars = { "ams" }, asia = {} } },
	{ name = "www.example.com", type = "a", pool = "web", ttl = 30, policy = "failover",
	  order = { asia = { "iad", "lax" } } },
	{ name = "WWW.example.com.", type = "CNAME", pool = "cdn", ttl = 30, policy = "all" },
	{ name = "v6.example.com", type = "AAAA", pool = "web", ttl = 30, policy = "nearest" },
	{ name = "c.example.com", type = "CNAME", pool = "web", ttl = 30, policy = "weighted" },
	{ name = "t.example.com", type = "A", pool = "cdn", ttl = 30, policy = "weighted" },
	{ name = "x.example.com", type = "MX", pool = "wbe", ttl = -1, policy = "random" },
	{ name = "y.example.com", type = "A", pool = "web", policy = "nearest", answers = 0,
	  order = { europe = { "ams" } } },
	{ name = "z example.com", type = "A", pool = "web", ttl = 2147483648 },
	{ name = "c2.example.com", type = "CNAME", pool = "cdn", ttl = 1, policy = "all", answers = 2, weight = 3 },
	42,
}
regions = { europe = { continents = { "EU" } }, asia = { continents = { "AS" } } }
default_region = "europe"
datacenters = { ams = {}, iad = {} }
pools = {
	web = { members = { { name = "a", addr = "192.0.2.1", dc = "ams" } } },
	cdn = { members = { { name = "c", target = "edge.example.net", dc = "iad" } } },
}
