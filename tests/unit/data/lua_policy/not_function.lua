-- not_function.lua -- returns a number instead of a function(ctx).
return 42
