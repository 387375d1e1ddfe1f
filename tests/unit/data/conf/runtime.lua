-- runtime.lua -- a runtime error on line 5
serial = 1
listen = { "127.0.0.1:53" }
local t = nil
zones = { t.x }
