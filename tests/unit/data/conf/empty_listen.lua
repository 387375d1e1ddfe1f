-- empty_listen.lua -- listen must name at least one address; serial is missing
listen = {}
