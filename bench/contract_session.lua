-- The contract calls of one whole device session, POSTed straight at the
-- backend (no nginx): nonce, auth, exchange (session start: DevInfo, the
-- next nonce, an alert), exchange (the closing message).  Request n of a
-- thread is call n % 4 of session n / 4, on device (thread, session) mod
-- BENCH_DEVICES.  Used by bench/backend_alone.sh.
local devices = tonumber(os.getenv("BENCH_DEVICES") or "1000")
local key = assert(os.getenv("BENCH_KEY"), "BENCH_KEY not set")
local headers = { ["Content-Type"] = "application/json", ["X-Omadm-Key"] = key }
local thread_no, n = 0, 0
local threads = 0

function setup(thread)
    thread:set("thread_no", threads)
    threads = threads + 1
end

function request()
    local call, session = n % 4, math.floor(n / 4)
    n = n + 1
    local dev = string.format("IMEI:bench-%d", (thread_no * 7919 + session) % devices)
    local sid = string.format("t%d-%d", thread_no, session)
    local body
    if call == 0 then
        return wrk.format("POST", "/contract/nonce", headers,
            string.format('{"device_id":"%s","nonce":"n-%s"}', dev, sid))
    elseif call == 1 then
        return wrk.format("POST", "/contract/auth", headers,
            string.format('{"device_id":"%s","username":"u"}', dev))
    elseif call == 2 then
        body = string.format('{"device_id":"%s","session_id":"%s","msg_id":"1",'
            .. '"session_start":true,"next_nonce":"x-%s","max_commands":10,'
            .. '"devinfo":{"./DevInfo/Mod":"bench"},'
            .. '"alerts":[{"code":"1201","items":[]}]}', dev, sid, sid)
    else
        body = string.format('{"device_id":"%s","session_id":"%s","msg_id":"2",'
            .. '"max_commands":10}', dev, sid)
    end
    return wrk.format("POST", "/contract/exchange", headers, body)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %.1f calls/s %.1f sessions/s p50 %.2f ms p99 %.2f ms calls %d errors %d\n",
        summary.requests / (summary.duration / 1e6),
        summary.requests / 4 / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.requests, e.connect + e.read + e.write + e.status + e.timeout))
end
