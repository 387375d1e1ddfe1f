-- top_error.lua -- fails while its top level runs at load, on line 3.
local t = nil
return t.x
