-- top_loop.lua -- never finishes its top level: the budget ends it at load.
while true do end
