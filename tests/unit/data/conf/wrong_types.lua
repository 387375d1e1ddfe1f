-- wrong_types.lua -- every top-level key with a value of the wrong type
serial = "1"
listen = "127.0.0.1:53"
zones = 5
workers = 2.5
nsid = 42
identity = true
version = {}
udp_payload = "1232"
tcp_idle_timeout = 1.5
tcp_clients = false
