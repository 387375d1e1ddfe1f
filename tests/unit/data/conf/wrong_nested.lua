-- wrong_nested.lua -- nested values of the wrong type or out of range
serial = -1
listen = {
	"127.0.0.1:53",
	53,
}
zones = {
	{ name = "a.example", file = "example.com.zone" },
	{ name = "b.example",
	  file = 42 },
	{ name = 7, file = "example.com.zone" },
	"c.example",
	{ file = "example.com.zone" },
	{ name = "d.example" },
	{ name = "bad name.example", file = "example.com.zone" },
	{ name = "x..example", file = "example.com.zone" },
}
workers = 0
nsid = ""
identity = string.rep("x", 256)
udp_payload = 511
tcp_idle_timeout = 3601
tcp_clients = 65537
