-- unknown.lua -- misspelt and unknown keys
serial = 1
listen = { "127.0.0.1:53" }

serail = 2
helper = function() return 1 end
zones = {
	{ name = "example.com", file = "example.com.zone",
	  fiel = "other.zone" },
}
udp_paylod = 1232
