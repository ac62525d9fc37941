-- Paths a and b: every request is the same device message (package 1 of
-- session "cached"; for b with BENCH_CRED, a Basic <Cred>).  POSTed to
-- /floor it measures nginx's own floor; POSTed to /omadm after one priming
-- request it is a repeated SessionID/MsgID of an authenticated session
-- (of a device with a command queued, so that the session goes on),
-- answered from the session cache in shared memory.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "POST"
wrk.headers = bench.headers
wrk.body = bench.message("cached", "IMEI:bench-cache", os.getenv("BENCH_CRED"))
