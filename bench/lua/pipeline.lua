-- Pipelining for wrk: each "request" wrk sends is DEPTH requests written at once (default 16),
-- and wrk counts each of the DEPTH responses. Usage: wrk -s pipeline.lua URL -- 16
init = function(args)
  local depth = tonumber(args[1]) or 16
  local batch = {}
  for i = 1, depth do
    batch[i] = wrk.format(nil, wrk.path)
  end
  req = table.concat(batch)
end

request = function()
  return req
end
