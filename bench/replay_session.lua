-- Path r: the contract calls of path s's sessions (omadm-sim devices, one
-- whole MD5 session each: a 407 challenge, then the login), POSTed
-- straight at omadm-backend, without nginx and the module: the backend-
-- alone rate for the same calls.  run.sh gives wrk one connection per
-- thread, so each thread's requests and answers alternate and a thread can
-- play its sessions one call after the other, each answer feeding the next
-- call (the nonce the device holds goes into the login's exchange, whose
-- compare-and-swap accepts only that one).  Each thread has its own devices
-- (BENCH_DEVICES of them, IMEI:bench-<n>, n = thread - 1 modulo threads),
-- so no two calls for one device are ever in flight at once.
--
-- SESSION below is what the module sends for such a session (captured from
-- the backend's side of path s): nonce, auth, exchange against a contract
-- version 1 backend, nonce and exchange against version 2 (the nonce's
-- answer carries the credential record, and the exchange its version).
-- When the module's calls change, change it to match: run.sh checks that
-- both paths make the number of calls its table says.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local key = assert(os.getenv("BENCH_CONTRACT_KEY"), "BENCH_CONTRACT_KEY not set")
local headers = { ["Content-Type"] = "application/json", ["X-Omadm-Key"] = key }

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(bytes)    -- base64 of a byte string (whole 3-byte groups + "==" tail)
    local out, i = {}, 1
    while i <= #bytes do
        local a, b, c = bytes:byte(i, i + 2)
        local n = a * 65536 + (b or 0) * 256 + (c or 0)
        for k = 3, 0, -1 do
            local v = math.floor(n / 64 ^ k) % 64 + 1
            out[#out + 1] = b64chars:sub(v, v)
        end
        i = i + 3
    end
    local pad = (3 - #bytes % 3) % 3
    return table.concat(out):sub(1, -pad - 1) .. ("="):rep(pad)
end

local function fresh_nonce()    -- 16 random bytes, as the module draws them
    local t = {}
    for i = 1, 16 do t[i] = string.char(math.random(0, 255)) end
    return b64(table.concat(t))
end

local function devinfo(s)    -- package 1's DevInfo, as omadm-sim sends it
    return '{"./DevInfo/DevId":"' .. s.device .. '","./DevInfo/DmV":"1.2",'
        .. '"./DevInfo/Lang":"en-US","./DevInfo/Man":"omadm-sim","./DevInfo/Mod":"SIM-1"}'
end

-- One session: the calls in order, each a contract op, its JSON body for
-- session state s, and what its 200 answer tells the next calls.
SESSION = {
    { op = "nonce",    -- package 1 without Cred: the 407's challenge
      body = function(s)
          return '{"device_id":"' .. s.device .. '","nonce":"' .. fresh_nonce() .. '"}'
      end,
      answer = function(s, body)
          s.nonce = body:match('"nonce"%s*:%s*"([^"]*)"') or s.nonce
          -- contract version 2: the credential record comes with the nonce
          -- and the module asks no auth; version 1: it asks auth
          s.version = body:match('"credential_version"%s*:%s*"([^"]*)"')
      end },
    { op = "auth",     -- package 1 with the MD5 Cred: the device's secrets
      skip = function(s) return s.version ~= nil end,
      body = function(s)
          return '{"device_id":"' .. s.device .. '","username":"' .. s.user .. '"}'
      end },
    { op = "exchange", -- ... and the login: DevInfo, the nonce rotated
      body = function(s)
          return '{"alerts":[],"device_id":"' .. s.device .. '","devinfo":' .. devinfo(s)
              .. ',"max_commands":50,"msg_id":"2","next_nonce":"' .. fresh_nonce()
              .. '","results":[],"session_id":"' .. s.session
              .. '","session_start":true,"statuses":[],"used_nonce":"' .. s.nonce .. '"'
              .. (s.version and (',"credential_version":"' .. s.version .. '"') or "") .. '}'
      end,
      answer = function(s, body)
          s.commands = body:match('"commands"%s*:%s*%[%s*%]') and 0 or 1
      end },
}

local threads = {}
function setup(thread)
    threads[#threads + 1] = thread
    thread:set("tid", #threads)
end

-- sessions and failed are globals: done() reads them with thread:get
local state, step, mine, turn = {}, 1, {}, 0
sessions, failed = 0, 0

local function next_session()
    turn = turn + 1
    state = { device = bench.device(mine[(turn - 1) % #mine + 1]), user = "bench",
              session = "r-" .. tid .. "-" .. turn, nonce = "" }
    step = 1
end

function init()
    math.randomseed(tid * 7919 + os.time())
    local n = tonumber(os.getenv("BENCH_THREADS_TOTAL") or "1")
    for d = tid - 1, bench.devices - 1, n do mine[#mine + 1] = d end
    assert(#mine > 0, "fewer devices than wrk threads")
    next_session()
end

function request()
    while SESSION[step].skip and SESSION[step].skip(state) do step = step + 1 end
    local call = SESSION[step]
    return wrk.format("POST", "/contract/" .. call.op, headers, call.body(state))
end

function response(status, _, body)
    if status ~= 200 then    -- wrk counts it as an error; start a new session
        failed = failed + 1
        next_session()
        return
    end
    local answer = SESSION[step].answer
    if answer then answer(state, body) end
    step = step + 1
    if step > #SESSION then
        sessions = sessions + 1
        -- nothing is queued for these devices: a command handed out means
        -- the session would have gone on, which path s's sessions do not
        if state.commands ~= 0 then failed = failed + 1 end
        next_session()
    end
end

-- common.lua's RESULT line, then the whole sessions and failed calls
local result = done
function done(summary, latency, requests)
    result(summary, latency, requests)
    local s, f = 0, 0
    for _, t in ipairs(threads) do
        s = s + t:get("sessions")
        f = f + t:get("failed")
    end
    io.write(string.format("SESSIONS %d %.1f %d\n", s, s / (summary.duration / 1e6), f))
end
