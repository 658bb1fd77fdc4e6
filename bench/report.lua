-- wrk's figures as one JSON line for bench/run.py: the exact percentiles, the errors by kind,
-- and the answers that were not the one expected (BENCH_EXPECT_STATUS, BENCH_EXPECT_HEADER).
-- With BENCH_UNIQUE_PARAMETER=fbclid, each request adds that parameter to the URL with a value of
-- its own, as the clicks on a shared link do.
-- Usage: BENCH_EXPECT_STATUS=304 wrk --script bench/report.lua ... URL

local expected_status = tonumber(os.getenv("BENCH_EXPECT_STATUS") or "")
-- "Name: value", compared without regard to case, such as "X-Cache: hit".
local expected_header = os.getenv("BENCH_EXPECT_HEADER") or ""
local header_name, header_value = expected_header:match("^%s*([^:]+):%s*(.-)%s*$")

local unique_parameter = os.getenv("BENCH_UNIQUE_PARAMETER") or ""

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

-- Each thread counts in its own Lua state; done() adds them up.
unexpected = 0

local function has_expected_header(headers)
    for name, value in pairs(headers) do
        if name:lower() == header_name:lower() and value:lower() == header_value:lower() then
            return true
        end
    end
    return false
end

-- Defined only when an answer is to be checked: wrk then parses every answer's headers.
if expected_status or header_name then
    function response(status, headers, body)
        if (expected_status and status ~= expected_status)
            or (header_name and not has_expected_header(headers)) then
            unexpected = unexpected + 1
        end
    end
end

if unique_parameter ~= "" then
    local clicks = 0
    function request()
        clicks = clicks + 1
        local separator = wrk.path:find("?", 1, true) and "&" or "?"
        return wrk.format(nil, wrk.path .. separator .. unique_parameter .. "=" .. clicks)
    end
end

function done(summary, latency, requests)
    local total_unexpected = 0
    for _, thread in ipairs(threads) do
        total_unexpected = total_unexpected + thread:get("unexpected")
    end
    local errors = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
            .. '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}, '
            .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, '
            .. '"status": %d, "unexpected": %d}}\n',
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(95), latency:percentile(99),
        latency.mean, latency.max,
        errors.connect, errors.read, errors.write, errors.timeout, errors.status,
        total_unexpected
    ))
end
