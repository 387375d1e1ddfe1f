-- syntax.lua -- does not compile: line 3 has a stray '='.
return function(ctx)
  local x = = 1
end
