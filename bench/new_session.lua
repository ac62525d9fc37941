-- Paths c and d: every request is package 1 of a new session (a SessionID
-- never used before), the device rotating over BENCH_DEVICES registered
-- devices.  Without BENCH_CRED each one is a session start without
-- credentials: 407 and one backend call (nonce).  With BENCH_CRED (a Basic
-- <Cred>) each one is a whole authenticated session with nothing queued:
-- 212 after two backend calls (auth, exchange), and the session ends.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local tag = os.getenv("BENCH_TAG") or "s"    -- keeps c's and d's sessions apart
local cred = os.getenv("BENCH_CRED")

local threads = 0
function setup(thread)    -- main state: number the threads
    threads = threads + 1
    thread:set("tid", threads)
end

local n = 0
function request()
    n = n + 1
    local session = tag .. "-" .. tid .. "-" .. n
    local device = bench.device(n % bench.devices)
    return wrk.format("POST", nil, bench.headers,
                      bench.message(session, device, cred))
end
