-- geo_full.lua -- the configuration example of issue 3 (tests stage it beside a geo/demo-city.mmdb)
serial = 1
listen = { "127.0.0.1:5353" }
geoip = { "geo/demo-city.mmdb" }          -- one or more MaxMind-format databases, first match wins
regions = {
  europe   = { continents = { "EU", "AF" } },
  americas = { continents = { "NA", "SA" } },
  asia     = { continents = { "AS", "OC" } },
  us_west  = { subdivisions = { "US-CA", "US-OR", "US-WA" } },
  office   = { nets = { "203.0.113.0/24", "2001:db8:42::/48" } },
}
default_region = "americas"
datacenters = { ams = { lat = 52.37, lon = 4.90 }, iad = { lat = 38.95, lon = -77.45 },
                sin = { lat = 1.35, lon = 103.99 } }
pools = {
  web = { members = {
    { name = "ams-1", addr = "192.0.2.10",    dc = "ams" },
    { name = "iad-1", addr = "198.51.100.10", dc = "iad", weight = 2 },
    { name = "sin-1", addr = "203.0.113.10",  dc = "sin" },
  } },
}
records = {
  { name = "www.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",
    order = { europe = { "ams", "iad" }, americas = { "iad", "ams" }, asia = { "sin", "ams" } } },
  { name = "cdn.example.com", type = "A", pool = "web", ttl = 30, policy = "nearest", answers = 2 },
  { name = "img.example.com", type = "A", pool = "web", ttl = 60, policy = "weighted" },
}
