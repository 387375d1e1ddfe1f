-- dup_zone.lua -- the same zone twice (case and trailing dot do not matter)
serial = 1
listen = { "127.0.0.1:53" }
zones = {
	{ name = "example.com", file = "example.com.zone" },
	{ name = "other.example", file = "example.com.zone" },
	{ name = "EXAMPLE.com.", file = "example.com.zone" },
}
