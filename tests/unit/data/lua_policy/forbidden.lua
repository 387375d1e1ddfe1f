-- forbidden.lua -- each case (named by ctx.region) reaches for something the sandbox leaves out;
-- "allowed" uses what it keeps, and "globals", "string", "math", "table" list what is there.
local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return table.concat(out, ",")
end

local probes = {
  io = function() return io.open("/etc/passwd") end,
  os = function() return os.time() end,
  debug = function() return debug.getinfo(1) end,
  require = function() return require("os") end,
  load = function() return load("return 1") end,
  loadstring = function() return loadstring("return 1") end,
  dofile = function() return dofile("/etc/passwd") end,
  loadfile = function() return loadfile("/etc/passwd") end,
  print = function() print("hello") end,
  collectgarbage = function() return collectgarbage("count") end,
  dump = function() return string.dump(function() end) end,
  dump_method = function() return ("x"):dump() end,
  package = function() return package.loaded end,
  coroutine = function() return coroutine.create(function() end) end,
  _G = function() return _G.os end,
  raw_load = function() return rawget(_ENV, "load")("return 1") end,
  gc = function() return setmetatable({}, { __gc = function() end }) end,
  gc_placeholder = function() return setmetatable({}, { __gc = false }) end,
  globals = function() error(keys(_ENV), 0) end,
  string = function() error(keys(string), 0) end,
  math = function() error(keys(math), 0) end,
  table = function() error(keys(table), 0) end,
}

return function(ctx)
  if ctx.region == "allowed" then
    local ok, err = pcall(error, "caught")
    assert(not ok and err == "caught")
    local t = setmetatable({}, { __index = function(_, k) return k * 2 end })
    local s = string.format("%d-%s", t[21], ("AmS"):lower())
    assert(s == "42-ams", s)
    assert(select("#", table.unpack({ 1, 2, 3 })) == 3)
    assert(math.floor(math.pi) == 3 and tonumber("12") == 12 and type(xpcall) == "function")
    return { members = { ctx.members[1] } }
  end
  return probes[ctx.region]()
end
