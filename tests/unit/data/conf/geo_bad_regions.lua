-- geo_bad_regions.lua -- geoip, regions and default_region that do not check out
serial = 1
listen = { "127.0.0.1:53" }
geoip = { "geo/demo-city.mmdb", "geo/missing.mmdb", "geo" }
regions = {
	europe = { continents = { "EU", "Europe" } },
	emea = { continents = { "AF", "EU" }, countries = { "de" } },
	us = { subdivisions = { "US-CA", "US_OR", "US-CAL1" }, countries = { "US" } },
	office = { nets = { "203.0.113.1/24", "2001:db8:42::/48", "bogus", "10.0.0.0/33" } },
	lab = { nets = { "2001:db8:42:0::/48", "10.1.0.0/016" } },
	["bad name"] = { countries = { "NL" } },
	empty = { continents = {} },
	located = { countries = { "JP" }, lat = 91, lon = 0 },
	half = { countries = { "KR" }, lon = 127 },
	typo = { countries = { "CN" }, contries = { "TW" } },
	twice = { countries = { "CA", "CA" }, continents = "NA" },
	notatable = "EU",
}
default_region = "eruope"
