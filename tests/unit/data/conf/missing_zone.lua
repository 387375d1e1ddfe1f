-- missing_zone.lua -- a zone file that does not exist, and a folder given as a zone file
serial = 1
listen = { "127.0.0.1:53" }
zones = {
	{
		name = "example.com",
		file = "example.com.zone",
	},
	{
		name = "missing.example",
		file = "missing.zone",
	},
	{ name = "folder.example", file = "." },
}
