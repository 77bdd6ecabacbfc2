-- A POST whose body the server echoes back. Usage: wrk -s post.lua URL -- 65536
-- The body is built once per thread in init(); wrk.format adds its Content-Length.
init = function(args)
  local size = tonumber(args[1]) or 65536
  req = wrk.format("POST", wrk.path, { ["Content-Type"] = "application/octet-stream" },
    string.rep("x", size))
end

request = function()
  return req
end
