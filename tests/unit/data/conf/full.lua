-- full.lua -- every key set
serial = 2024010100
listen = { "127.0.0.1:53", "[::1]:53", "0.0.0.0:5353", "[2001:db8::1]:8053" }
zones = {
	{ name = "example.com.", file = "example.com.zone" },
	{ name = "Example.NET", file = "example.com.zone" },
	{ name = "0/25.2.0.192.in-addr.arpa", file = "example.com.zone" },
}
workers = 3
nsid = "meridian-1\0x"
identity = "ns1.example.com"
version = ""
udp_payload = 4096
tcp_idle_timeout = 3600
tcp_clients = 65536
