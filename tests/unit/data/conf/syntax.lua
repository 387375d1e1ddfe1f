-- syntax.lua -- a syntax error on line 4
serial = 1
listen = { "127.0.0.1:53" }
zones = { { name = "example.com" file = "example.com.zone" } }
