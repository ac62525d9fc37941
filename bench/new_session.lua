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
    thread:set("nthreads", tonumber(os.getenv("BENCH_WRK_THREADS") or "1"))
end

-- The threads interleave over the devices (thread t takes t-1, t-1+T,
-- ...), so that two of them do not log in the same device at the same
-- moment: the module refuses a second login of a device while its first
-- is under way.
local n = 0
function request()
    n = n + 1
    local session = tag .. "-" .. tid .. "-" .. n
    local device = bench.device(((n - 1) * nthreads + tid - 1) % bench.devices)
    return wrk.format("POST", nil, bench.headers,
                      bench.message(session, device, cred))
end
