-- computed_bad.lua -- a zone built in a loop whose file is missing
serial = 1
listen = { "127.0.0.1:53" }
zones = {}
for i = 1, 2 do
	zones[i] = { name = "z" .. i .. ".example", file = "z" .. i .. ".zone" }
end
