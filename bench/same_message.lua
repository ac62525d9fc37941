-- Paths a and b: every request is the same device message (package 1 of
-- session "cached"; for b with BENCH_CRED, a Basic <Cred>).  POSTed to
-- /floor it measures nginx's own floor; POSTed to /omadm after one priming
-- request it is a repeated SessionID/MsgID of an authenticated session,
-- answered from the session cache in shared memory.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "POST"
wrk.headers = bench.headers
wrk.body = bench.message("cached", bench.device(0), os.getenv("BENCH_CRED"))
