-- wrk script: POST distinct alerts. Each alert's uuid carries the wrk thread's number and a
-- counter, so that no two requests of a run repeat an alert (a repeat is only acknowledged as a
-- duplicate, which would flatter the rate). FB_ALERT_FILE names a Falco alert to send (its
-- uuid replaced each time); without it, a minimal alert. The request is built once, around the
-- uuid, so that the load generator takes as little as it can of the CPU it shares.
local threads = 0
function setup(thread)
        threads = threads + 1
        thread:set("thread_no", threads)
end

local counter = 0
local template = '{"uuid":"@UUID@","rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"2026-11-22T16:00:00.000000000Z","tags":["T1620"],"output_fields":{"container.id":"0123456789ab","proc.name":"3"}}'
local file = os.getenv("FB_ALERT_FILE")
if file and file ~= "" then
        local f = assert(io.open(file, "r"))
        template = f:read("*a"):gsub('"uuid"%s*:%s*"[^"]*"', '"uuid":"@UUID@"')
        f:close()
end
local at = assert(template:find("@UUID@", 1, true))
local before, after = template:sub(1, at - 1), template:sub(at + 6)
local head

function init(args)
        -- a uuid is 36 characters, so every body has the same length
        head = "POST / HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
                "\r\nAuthorization: Bearer " .. os.getenv("FB_TOKEN") ..
                "\r\nContent-Length: " .. (#before + 36 + #after) .. "\r\n\r\n" .. before
end

function request()
        counter = counter + 1
        return head .. string.format("%08x-0000-4000-8000-%012x", thread_no, counter) .. after
end

function response(status, headers, body)
        if status ~= 200 then print("status " .. status .. " " .. body) end
end
