-- SPDX-License-Identifier: BSD-3-Clause
--
-- aname-lua2.lua: a PowerDNS lua2 backend (lua2-api=2) that serves
-- BIND-style zone files containing ALIAS records and answers the ALIAS
-- owners' A/AAAA from libaname's cache, through LuaJIT FFI.
--
-- Debian's pdns 4.7.3 embeds LuaJIT 2.1 (Lua 5.1 API): `ffi` is there.
-- pdns runs this file once per backend instance, i.e. once per Lua state:
-- one per distributor thread, one for TCP, and more for short-lived
-- UeberBackends (zone-cache refresh, API, pdnsutil).
--
-- Query path rule: dns_lookup() never waits.  It reads libaname's cache with
-- ANAME_LOOKUP_FETCH|ANAME_LOOKUP_STALE; a miss answers SERVFAIL *now*
-- (never NODATA, which resolvers would cache) and the library refreshes in
-- its own thread.  Every ALIAS target is registered at load, so misses only
-- happen before the first answer ever arrived or after max-stale expired.
--
-- Configuration is a Lua table in the global ANAME, set by a small file that
-- pdns loads as lua2-filename and that then runs this one (see README.md):
--
--   ANAME = {
--     library  = "/usr/local/lib/libaname.so.0",
--     helper   = "/usr/local/lib/libaname/libaname-pdns.so",  -- false: no sharing
--     forwarders = { "127.0.0.1@53" },
--     stubs    = { ["example.net."] = { "192.0.2.53" } },
--     timeout_ms = 1500,
--     zones    = { ["alias.test."] = "/etc/powerdns/alias.test.zone" },
--   }
--   dofile("/usr/local/share/libaname/powerdns/aname-lua2.lua")

local ffi = require("ffi")

local conf = ANAME
if type(conf) ~= "table" then
	error("aname-lua2: set the global table ANAME before running this file")
end

-- ----------------------------------------------------------------- logging

local function log(level, msg)
	if pdnslog ~= nil and pdns ~= nil and pdns.loglevels ~= nil then
		pdnslog("[aname-lua2] " .. msg, pdns.loglevels[level])
	else
		io.stderr:write("[aname-lua2] " .. msg .. "\n")
	end
end

-- ------------------------------------------------------------- zone parser

-- Types whose rdata holds domain names, and which fields (1-based) they are:
-- relative names there must become absolute, as the zone file means them.
local NAME_FIELDS = {
	NS = { 1 }, CNAME = { 1 }, PTR = { 1 }, DNAME = { 1 }, ALIAS = { 1 },
	MX = { 2 }, SRV = { 4 }, SOA = { 1, 2 }, AFSDB = { 2 }, RP = { 1, 2 },
}

local CLASSES = { IN = true, CH = true, HS = true, CS = true }

local function ttl_value(tok)
	if tok:match("^%d+$") then
		return tonumber(tok)
	end
	-- BIND units: 1w2d3h4m5s
	local mult = { w = 604800, d = 86400, h = 3600, m = 60, s = 1 }
	local total, rest = 0, tok:lower()
	if not rest:match("^[%dwdhms]+$") or not rest:match("^%d") then
		return nil
	end
	for n, u in rest:gmatch("(%d+)([wdhms])") do
		total = total + tonumber(n) * mult[u]
	end
	if rest:gsub("%d+[wdhms]", "") ~= "" then
		return nil
	end
	return total
end

local function absolute(name, origin)
	if name == "@" then
		return origin
	end
	if name:sub(-1) == "." then
		return name
	end
	if origin == "." then
		return name .. "."
	end
	return name .. "." .. origin
end

-- Split one logical line into tokens; quoted strings stay one token with
-- their quotes, since pdns wants TXT content in presentation format.
local function tokenize(line, where)
	local toks, i, n = {}, 1, #line
	while i <= n do
		local c = line:sub(i, i)
		if c:match("%s") then
			i = i + 1
		elseif c == '"' then
			local j = i + 1
			while j <= n do
				local d = line:sub(j, j)
				if d == "\\" then
					j = j + 2
				elseif d == '"' then
					break
				else
					j = j + 1
				end
			end
			if j > n then
				error(where .. ": unterminated quoted string")
			end
			toks[#toks + 1] = line:sub(i, j)
			i = j + 1
		else
			local j = i
			while j <= n and not line:sub(j, j):match("%s") do
				j = j + 1
			end
			toks[#toks + 1] = line:sub(i, j - 1)
			i = j
		end
	end
	return toks
end

-- Remove a comment, ignoring ';' inside quotes; count parentheses.
local function strip_line(line)
	local out, inq, depth = {}, false, 0
	local i, n = 1, #line
	while i <= n do
		local c = line:sub(i, i)
		if inq then
			if c == "\\" then
				out[#out + 1] = line:sub(i, i + 1)
				i = i + 1
			elseif c == '"' then
				inq = false
				out[#out + 1] = c
			else
				out[#out + 1] = c
			end
		elseif c == '"' then
			inq = true
			out[#out + 1] = c
		elseif c == ";" then
			break
		elseif c == "(" then
			depth = depth + 1
			out[#out + 1] = " "
		elseif c == ")" then
			depth = depth - 1
			out[#out + 1] = " "
		else
			out[#out + 1] = c
		end
		i = i + 1
	end
	return table.concat(out), depth
end

-- Parse a zone file.  Returns a list of {name=, ttl=, type=, content=}
-- with absolute, lower-case owner names, or raises an error naming the file
-- and line.
local function parse_zone(path, zone)
	local fh, err = io.open(path, "r")
	if not fh then
		error("cannot read zone file " .. path .. ": " .. tostring(err))
	end
	local origin, default_ttl, last_owner, last_ttl = zone, nil, nil, nil
	local records, pending, depth, start_no = {}, nil, 0, 0
	local lineno = 0
	for raw in fh:lines() do
		lineno = lineno + 1
		local text, d = strip_line(raw)
		if pending then
			pending = pending .. " " .. text
		else
			pending, start_no = text, lineno
		end
		depth = depth + d
		if depth < 0 then
			fh:close()
			error(path .. ":" .. lineno .. ": unbalanced ')'")
		end
		if depth == 0 then
			local line = pending
			pending = nil
			local where = path .. ":" .. start_no
			local toks = tokenize(line, where)
			if #toks > 0 then
				local blank_owner = line:match("^%s") ~= nil
				local first = toks[1]
				if first:sub(1, 1) == "$" then
					local dir = first:upper()
					if dir == "$ORIGIN" and toks[2] then
						origin = absolute(toks[2], origin):lower()
					elseif dir == "$TTL" and toks[2] and ttl_value(toks[2]) then
						default_ttl = ttl_value(toks[2])
					else
						fh:close()
						error(where .. ": unsupported or malformed directive " .. first)
					end
				else
					local i, owner = 1, nil
					if blank_owner then
						owner = last_owner
						if not owner then
							fh:close()
							error(where .. ": record without an owner name")
						end
					else
						owner = absolute(first, origin):lower()
						i = 2
					end
					local ttl, rtype = nil, nil
					while i <= #toks do
						local t = toks[i]
						if ttl == nil and ttl_value(t) then
							ttl = ttl_value(t)
						elseif CLASSES[t:upper()] then
							if t:upper() ~= "IN" then
								fh:close()
								error(where .. ": only class IN is served")
							end
						else
							rtype = t:upper()
							i = i + 1
							break
						end
						i = i + 1
					end
					if not rtype or not rtype:match("^[A-Z][A-Z0-9%-]*$") then
						fh:close()
						error(where .. ": no record type")
					end
					local rdata = {}
					for k = i, #toks do
						rdata[#rdata + 1] = toks[k]
					end
					if #rdata == 0 then
						fh:close()
						error(where .. ": " .. rtype .. " record without data")
					end
					for _, f in ipairs(NAME_FIELDS[rtype] or {}) do
						if not rdata[f] then
							fh:close()
							error(where .. ": " .. rtype .. " record is missing field " .. f)
						end
						rdata[f] = absolute(rdata[f], origin)
					end
					if owner ~= zone and owner:sub(-(#zone + 1)) ~= "." .. zone then
						fh:close()
						error(where .. ": owner " .. owner .. " is outside zone " .. zone)
					end
					ttl = ttl or default_ttl or last_ttl
					if not ttl then
						fh:close()
						error(where .. ": no TTL and no $TTL")
					end
					last_owner, last_ttl = owner, ttl
					records[#records + 1] = {
						name = owner, ttl = ttl, type = rtype,
						content = table.concat(rdata, " "), line = where,
					}
				end
			end
		end
	end
	fh:close()
	if pending and pending:match("%S") then
		error(path .. ":" .. start_no .. ": unbalanced '('")
	end
	return records
end

-- ----------------------------------------------------------------- libaname

ffi.cdef [[
typedef struct aname_ctx aname_ctx_t;
typedef struct aname_config aname_config_t;
typedef struct aname_result aname_result_t;
const char *aname_strerror(int status);
const char *aname_version(unsigned *hex);
aname_config_t *aname_config_new(void);
void aname_config_free(aname_config_t *cfg);
int aname_config_add_forwarder(aname_config_t *cfg, const char *addr);
int aname_config_add_stub(aname_config_t *cfg, const char *zone, const char *addr);
int aname_config_add_local_zone(aname_config_t *cfg, const char *zone, const char *type);
int aname_config_set_timeout_ms(aname_config_t *cfg, unsigned ms);
int aname_config_set_thread(aname_config_t *cfg, int enable);
int aname_config_set_stale(aname_config_t *cfg, uint32_t stale_ttl, uint32_t max_stale_s, unsigned client_timeout_ms);
int aname_ctx_new(aname_ctx_t **out, const aname_config_t *cfg);
void aname_ctx_free(aname_ctx_t *ctx);
int aname_cache_lookup(aname_ctx_t *ctx, const char *target, uint16_t rrtype, unsigned flags, aname_result_t **out);
int aname_target_register(aname_ctx_t *ctx, const char *target, uint16_t rrtype);
int aname_target_unregister(aname_ctx_t *ctx, const char *target, uint16_t rrtype);
void aname_result_unref(aname_result_t *res);
int aname_result_status(const aname_result_t *res, uint16_t rrtype);
size_t aname_result_count(const aname_result_t *res, uint16_t rrtype);
int aname_result_addr(const aname_result_t *res, uint16_t rrtype, size_t i, void *buf, size_t buflen);
uint32_t aname_synth_ttl(const aname_result_t *res, uint16_t rrtype, uint32_t alias_ttl);
int aname_stats_get(aname_ctx_t *ctx, int stat, uint64_t *value);

int aname_pdns_ctx_acquire(const char *key, const aname_config_t *cfg, aname_ctx_t **out);
void aname_pdns_ctx_release(aname_ctx_t *ctx);
int aname_pdns_metrics_listen(aname_ctx_t *ctx, const char *ip, unsigned port);

const char *inet_ntop(int af, const void *src, char *dst, uint32_t size);
int poll(void *fds, unsigned long nfds, int timeout);
]]

local RR_A, RR_AAAA, RR_BOTH = 1, 28, 255
local LOOKUP = 3 -- ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE
local AF_INET, AF_INET6 = 2, 10

local lib = ffi.load(conf.library or "libaname.so.0")
local helper = nil
if conf.helper ~= false then
	-- Loaded after libaname, so its DT_NEEDED libaname.so.0 is this one.
	-- The default is the installed path (make install writes $(LIBDIR)).
	helper = ffi.load(conf.helper or "/usr/local/lib/libaname/libaname-pdns.so")
end

local function check(rc, what)
	if rc ~= 0 then
		error("aname-lua2: " .. what .. ": " .. ffi.string(lib.aname_strerror(rc)))
	end
end

-- Build the configuration; every option is checked by the library and a bad
-- one stops the backend with the library's message.
local function make_config()
	local cfg = lib.aname_config_new()
	if cfg == nil then
		error("aname-lua2: out of memory")
	end
	cfg = ffi.gc(cfg, lib.aname_config_free)
	-- The key names the configuration, so two lua2 instances with different
	-- settings never share a context.
	local key = {}
	check(lib.aname_config_set_thread(cfg, 1), "thread mode")
	for _, f in ipairs(conf.forwarders or {}) do
		check(lib.aname_config_add_forwarder(cfg, f), "forwarder " .. f)
		key[#key + 1] = "f=" .. f
	end
	local stub_zones = {}
	for z in pairs(conf.stubs or {}) do
		stub_zones[#stub_zones + 1] = z
	end
	table.sort(stub_zones)
	for _, z in ipairs(stub_zones) do
		local addrs = conf.stubs[z]
		if type(addrs) == "string" then
			addrs = { addrs }
		end
		for _, a in ipairs(addrs) do
			check(lib.aname_config_add_stub(cfg, z, a), "stub " .. z .. "=" .. a)
			key[#key + 1] = "s=" .. z .. "=" .. a
		end
	end
	if conf.timeout_ms then
		check(lib.aname_config_set_timeout_ms(cfg, conf.timeout_ms), "timeout_ms")
		key[#key + 1] = "t=" .. conf.timeout_ms
	end
	if conf.stale then
		local s = conf.stale
		check(lib.aname_config_set_stale(cfg, s.ttl or 30, s.max_age or 86400,
			s.client_timeout_ms or 400), "stale")
		key[#key + 1] = "st=" .. (s.ttl or 30) .. "/" .. (s.max_age or 86400)
	end
	return cfg, table.concat(key, ";")
end

-- The context and the targets this state registered.  One finalizer
-- releases both, in that order: cdata finalizers run in no fixed order when
-- pdns closes a Lua state, and unregistering needs a live context.
local ctx, created
local registered = {}
do
	local cfg, key = make_config()
	local out = ffi.new("aname_ctx_t *[1]")
	local release
	if helper then
		-- One context per process and configuration, shared by every Lua
		-- state: one cache, one resolver thread, and a new state (pdns makes
		-- them at run time too) starts warm.
		local rc = helper.aname_pdns_ctx_acquire(key, cfg, out)
		if rc < 0 then
			check(rc, "shared context")
		end
		created = rc == 1
		release = helper.aname_pdns_ctx_release
	else
		check(lib.aname_ctx_new(out, cfg), "context")
		created = true
		release = lib.aname_ctx_free
	end
	ctx = out[0]
	-- /metrics and /health of the process's context (as aname-resolverd's),
	-- on "IP@PORT"; the helper listens once for all states.
	if conf.metrics then
		local ip, port = tostring(conf.metrics):match("^%[?([^%]@]+)%]?@(%d+)$")
		if not ip or not helper then
			error("aname-lua2: metrics = \"" .. tostring(conf.metrics) ..
				"\": want \"IP@PORT\", and the helper (not helper = false)")
		end
		check(helper.aname_pdns_metrics_listen(ctx, ip, tonumber(port)),
			"metrics " .. conf.metrics .. " (address in use?)")
	end
	_ANAME_GUARD = ffi.gc(ffi.new("char[1]"), function()
		for target in pairs(registered) do
			lib.aname_target_unregister(ctx, target, RR_BOTH)
		end
		release(ctx)
	end)
end

-- ------------------------------------------------------------ zone tables

-- zones[id] = { name=, dn=, serial=, owners = { [owner] = node } }
-- node = { static = {records}, by_type = { [TYPE] = {records} },
--          alias = { target=, ttl= } or nil, dn = DNSName }
local zones, zone_by_name = {}, {}

local function load_zone(id, name, path)
	local recs = parse_zone(path, name)
	local z = { id = id, name = name, dn = newDN(name), owners = {}, serial = nil }
	for _, r in ipairs(recs) do
		local node = z.owners[r.name]
		if not node then
			node = { static = {}, by_type = {}, dn = newDN(r.name) }
			z.owners[r.name] = node
		end
		if r.type == "ALIAS" then
			if node.alias then
				error(r.line .. ": second ALIAS at " .. r.name)
			end
			node.alias = { target = r.content:lower(), ttl = r.ttl }
			-- Handed to pdns (which skips ALIAS with expand-alias=no) so
			-- that an owner with nothing else never looks like NXDOMAIN.
			node.alias_rr = {
				name = node.dn, type = "ALIAS", ttl = r.ttl,
				content = r.content, domain_id = id, auth = true,
			}
		else
			if r.type == "SOA" then
				if r.name ~= name or z.serial then
					error(r.line .. ": SOA must appear once, at the apex")
				end
				-- pdns itself reads the timers as plain numbers only and
				-- would SERVFAIL every query of the zone: hand it seconds.
				local f = {}
				for w in r.content:gmatch("%S+") do
					f[#f + 1] = w
				end
				if #f ~= 7 or not f[3]:match("^%d+$") then
					error(r.line .. ": malformed SOA (want: mname rname serial refresh retry expire minimum)")
				end
				for k = 4, 7 do
					local v = ttl_value(f[k])
					if not v or v > 2147483647 then
						error(r.line .. ": SOA timer '" .. f[k] .. "' is neither seconds nor a BIND duration (1w2d3h4m5s)")
					end
					f[k] = tostring(v)
				end
				r.content = table.concat(f, " ")
				z.serial = tonumber(f[3])
			end
			local rr = {
				name = node.dn, type = r.type, ttl = r.ttl,
				content = r.content, domain_id = id, auth = true,
			}
			node.static[#node.static + 1] = rr
			local bt = node.by_type[r.type]
			if not bt then
				bt = {}
				node.by_type[r.type] = bt
			end
			bt[#bt + 1] = rr
		end
	end
	if not z.serial then
		error(path .. ": zone " .. name .. " has no SOA at its apex")
	end
	for owner, node in pairs(z.owners) do
		if node.alias and (node.by_type.A or node.by_type.AAAA or node.by_type.CNAME) then
			error(path .. ": " .. owner .. " has ALIAS next to A, AAAA or CNAME")
		end
	end
	return z
end

do
	local names = {}
	for zname in pairs(conf.zones or {}) do
		names[#names + 1] = zname
	end
	if #names == 0 then
		error("aname-lua2: ANAME.zones is empty")
	end
	table.sort(names)
	for id, zname in ipairs(names) do
		local canon = absolute(zname, "."):lower()
		local z = load_zone(id, canon, conf.zones[zname])
		zones[id] = z
		zone_by_name[canon] = z
		for _, node in pairs(z.owners) do
			if node.alias and not registered[node.alias.target] then
				check(lib.aname_target_register(ctx, node.alias.target, RR_BOTH),
					"register " .. node.alias.target)
				registered[node.alias.target] = true
			end
		end
	end
end

-- Warm start: the state that created the context waits a bounded time
-- (warm_wait_ms, 1000 by default) for the registered targets, so the first
-- client queries are not misses.  This runs when pdns creates the backend,
-- never in the query path; states sharing a warm context skip it.
if created then
	local rounds = math.floor((conf.warm_wait_ms or 1000) / 10)
	local res = ffi.new("aname_result_t *[1]")
	local pending = {}
	for target in pairs(registered) do
		pending[#pending + 1] = target
	end
	while #pending > 0 and rounds > 0 do
		local left = {}
		for _, target in ipairs(pending) do
			-- Flag 2 = ANAME_LOOKUP_STALE: look, do not fetch again.
			if lib.aname_cache_lookup(ctx, target, RR_A, 2, res) == 0 then
				lib.aname_result_unref(res[0])
			else
				left[#left + 1] = target
			end
		end
		pending = left
		rounds = rounds - 1
		if #pending > 0 then
			ffi.C.poll(nil, 0, 10)
		end
	end
end

-- ------------------------------------------------------------- synthesis

local addrbuf = ffi.new("uint8_t[16]")
local textbuf = ffi.new("char[64]")
local resbox = ffi.new("aname_result_t *[1]")

-- Append the synthesized records of one type to out.  Returns false on a
-- miss (nothing usable, fresh or stale): then nothing is appended.  A target
-- that answered NXDOMAIN/NODATA is usable, with no addresses.
local function synth(out, node, rrtype, tname)
	local a = node.alias
	local rc = lib.aname_cache_lookup(ctx, a.target, rrtype, LOOKUP, resbox)
	if rc ~= 0 then
		return false
	end
	local res = resbox[0]
	local usable = lib.aname_result_status(res, rrtype) == 0
	if usable then
		local n = tonumber(lib.aname_result_count(res, rrtype))
		if n > 0 then
			local ttl = lib.aname_synth_ttl(res, rrtype, a.ttl)
			local af, len = AF_INET, 4
			if rrtype == RR_AAAA then
				af, len = AF_INET6, 16
			end
			for i = 0, n - 1 do
				if lib.aname_result_addr(res, rrtype, i, addrbuf, len) == len then
					ffi.C.inet_ntop(af, addrbuf, textbuf, 64)
					out[#out + 1] = {
						name = node.dn, type = tname, ttl = ttl,
						content = ffi.string(textbuf), domain_id = node.zone_id, auth = true,
					}
				end
			end
		end
	end
	lib.aname_result_unref(res)
	return usable
end

for _, z in ipairs(zones) do
	for _, node in pairs(z.owners) do
		node.zone_id = z.id
	end
end

local EMPTY = {}

-- The zone a name belongs to when pdns gives no domain id: the longest
-- enclosing zone.
local function zone_for(qname)
	local best, blen = nil, -1
	for _, z in ipairs(zones) do
		local zn = z.name
		if (qname == zn or qname:sub(-(#zn + 1)) == "." .. zn or zn == ".") and #zn > blen then
			best, blen = z, #zn
		end
	end
	return best
end

-- --------------------------------------------------------- pdns interface

-- A miss must not look like NODATA: resolvers would cache that empty
-- answer for the SOA minimum.  Raising an error makes pdns answer SERVFAIL
-- (pdns logs the message) and caches nothing.  Only for client queries
-- (pdns passes their source address in ctx): pdns's own lookups (the SOA
-- fetch of every query, AXFR) keep working during a miss.  pdns asks the
-- backend for ANY whatever the client asked, so while the target misses
-- (before its first answer, or past max-stale) every type at that owner is
-- SERVFAIL.
local function miss(qname)
	error("ALIAS target of " .. qname .. " not resolved yet (or past max-stale): SERVFAIL", 0)
end

function dns_lookup(qtype, qname, domain_id, qctx)
	local name = qname:toString():lower()
	local z = zones[domain_id]
	if not z or (name ~= z.name and name:sub(-(#z.name + 1)) ~= "." .. z.name) then
		z = zone_for(name)
	end
	if not z then
		return EMPTY
	end
	local node = z.owners[name]
	if not node then
		return EMPTY
	end
	local t = qtype:getName()
	if not node.alias then
		if t == "ANY" then
			return node.static
		end
		return node.by_type[t] or EMPTY
	end
	local client = qctx ~= nil and next(qctx) ~= nil
	if t == "ANY" then
		local out = {}
		for i, rr in ipairs(node.static) do
			out[i] = rr
		end
		local n = #out
		local a4 = synth(out, node, RR_A, "A")
		local a6 = synth(out, node, RR_AAAA, "AAAA")
		if client and not (a4 and a6) then
			miss(name)
		end
		if #out == n then
			out[n + 1] = node.alias_rr
		end
		return out
	elseif t == "A" or t == "AAAA" then
		local out = {}
		if not synth(out, node, t == "A" and RR_A or RR_AAAA, t) and client then
			miss(name)
		end
		return out
	end
	return node.by_type[t] or EMPTY
end

function dns_list(target, domain_id)
	local z = zones[domain_id] or zone_by_name[target:toString():lower()]
	if not z then
		return false
	end
	local out = {}
	for _, node in pairs(z.owners) do
		for _, rr in ipairs(node.static) do
			out[#out + 1] = rr
		end
		if node.alias then
			synth(out, node, RR_A, "A")
			synth(out, node, RR_AAAA, "AAAA")
		end
	end
	return out
end

local function domaininfo(z)
	return { id = z.id, kind = "NATIVE", serial = z.serial }
end

function dns_get_all_domains()
	-- pdns needs DNSName keys here (a string key makes it throw).
	local out = {}
	for _, z in ipairs(zones) do
		out[z.dn] = domaininfo(z)
	end
	return out
end

function dns_get_domaininfo(domain)
	local z = zone_by_name[domain:toString():lower()]
	if not z then
		return false
	end
	return domaininfo(z)
end

log("info", string.format("serving %d zone(s), %d ALIAS target(s), libaname %s, %s context",
	#zones, (function() local n = 0 for _ in pairs(registered) do n = n + 1 end return n end)(),
	ffi.string(lib.aname_version(nil)), helper and "shared" or "per-state"))
