-- minimal.lua -- the smallest valid config (the zone file is relative to this folder)
serial = 1
listen = { "127.0.0.1:5353", "[::1]:5353" }
zones  = { { name = "example.com", file = "example.com.zone" } }
