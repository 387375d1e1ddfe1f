-- computed.lua -- values computed by the chunk
serial = 2 * 3
local base = 5300
listen = {}
for i = 1, 3 do
	listen[#listen + 1] = string.format("127.0.0.%d:%d", i, base + i)
end

local names = { "a.example", "b.example", "c.example" }
zones = {}
for i, n in ipairs(names) do
	zones[i] = { name = n, file = "example.com.zone" }
end
table.insert(zones, { name = ("D.EXAMPLE"):lower(), file = "example.com.zone" })
workers = math.max(1, 4 // 2)
identity = table.concat({ "ns", "1" })
udp_payload = 1232
udp_payload = udp_payload + 8
