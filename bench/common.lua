-- Shared by the wrk scripts: builds the device message from
-- bench/package1.xml (its @NAME@ placeholders filled, exactly as run.sh
-- does for the priming requests) and prints the one RESULT line run.sh
-- parses.  Settings come from the environment run.sh exports.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local f = assert(io.open(here .. "package1.xml", "rb"))
local template = f:read("*a")
f:close()

bench = {
    url = assert(os.getenv("BENCH_URL"), "BENCH_URL not set"),
    devices = tonumber(os.getenv("BENCH_DEVICES") or "1"),
    headers = { ["Content-Type"] = "application/vnd.syncml.dm+xml" },
}

function bench.device(n)
    return "IMEI:bench-" .. n
end

function bench.message(session, device, cred)
    return (template:gsub("@(%u+)@", {
        SESSION = session, DEVICE = device, URL = bench.url, CRED = cred or "",
    }))
end

-- requests/s, p50 and p99 latency (ms), completed requests, errors
-- (socket errors, timeouts and HTTP statuses other than 2xx/3xx)
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.requests, e.connect + e.read + e.write + e.status + e.timeout))
end
