-- ARGV: ns, limit. forgets index entries of keys that expired; returns how many were looked at
return sweep(ARGV[1], now_ms(), tonumber(ARGV[2]))
