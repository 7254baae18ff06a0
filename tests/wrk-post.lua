-- wrk script: POST distinct alerts (the uuid carries a per-thread counter). FB_ALERT_FILE names
-- a Falco alert to send (its uuid replaced each time); without it, a minimal alert.
local counter = 0
local tid = tostring(math.random(1, 1e9))
local template = '{"uuid":"@UUID@","rule":"Fileless execution via memfd_create","priority":"Critical","source":"syscall","time":"2026-11-22T16:00:00.000000000Z","tags":["T1620"],"output_fields":{"container.id":"0123456789ab","proc.name":"3"}}'
local file = os.getenv("FB_ALERT_FILE")
if file and file ~= "" then
        local f = assert(io.open(file, "r"))
        template = f:read("*a"):gsub('"uuid"%s*:%s*"[^"]*"', '"uuid":"@UUID@"')
        f:close()
end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("FB_TOKEN")
request = function()
        counter = counter + 1
        local u = string.format("%08x-0000-4000-8000-%012x", tonumber(tid) % 0xffffffff, counter)
        return wrk.format(nil, "/", nil, (template:gsub("@UUID@", u)))
end
response = function(status, headers, body)
        if status ~= 200 then print("status " .. status .. " " .. body) end
end
