-- End-to-end test of calcinosis-ls in a real Neovim (>= 0.11), using the shipped config.
--
--   CALCINOSIS_LS=target/debug/calcinosis-ls nvim --headless --clean -l editors/neovim/test/e2e.lua
--
-- Environment:
--   CALCINOSIS_LS        the server binary (default: calcinosis-ls on PATH)
--   CALCINOSIS_LS_REPO   the repository root (default: the repository holding this file)
--   CALCINOSIS_LS_TIMEOUT_MS  the longest any single wait may take (default 20000)
--   CALCINOSIS_LS_SPAWNED_MS  when the caller started nvim (Unix ms), to report start-up time
--
-- Prints one "ok: ..." or "FAIL: ..." line per check and a summary; exits 0 only when every
-- check passed. Every wait is bounded, so it never hangs.

local TIMEOUT = tonumber(vim.env.CALCINOSIS_LS_TIMEOUT_MS) or 20000
local started = vim.uv.hrtime()
-- Wall-clock milliseconds when the caller started nvim, to report Neovim's own start-up.
local spawned_ms = tonumber(vim.env.CALCINOSIS_LS_SPAWNED_MS)

local function now_ms()
  local sec, usec = vim.uv.gettimeofday()
  return sec * 1000 + usec / 1000
end

local function out(msg)
  io.stdout:write(msg, '\n')
  io.stdout:flush()
end

local passed, failed = 0, 0

local function finish()
  out(('e2e: %d passed, %d failed (%.2f s)'):format(passed, failed, (vim.uv.hrtime() - started) / 1e9))
  if spawned_ms then
    out(('info: %.2f s from spawning nvim to the summary'):format((now_ms() - spawned_ms) / 1000))
  end
  -- Stop the server politely (shutdown, then exit). Neovim drops a client once its process
  -- has ended; one still listed a second later is waiting for its stdin to close, which
  -- os.exit below does.
  local clients = vim.lsp.get_clients({ name = 'calcinosis_ls' })
  for _, c in ipairs(clients) do
    c:stop()
  end
  if #clients > 0 then
    local gone = vim.wait(1000, function()
      return #vim.lsp.get_clients({ name = 'calcinosis_ls' }) == 0
    end, 20)
    if not gone then
      out('note: the server process was still running 1 s after shutdown + exit; closing its stdin')
    end
  end
  os.exit(failed == 0 and passed > 0 and 0 or 1)
end

local function ok(name, detail)
  passed = passed + 1
  out('ok: ' .. name .. (detail and (' — ' .. detail) or ''))
end

local function fail(name, detail)
  failed = failed + 1
  out('FAIL: ' .. name .. (detail and (' — ' .. detail) or ''))
end

--- Runs one check; an error inside it fails that check (with the message), not the run.
local function check(name, fn)
  local success, result, detail = xpcall(fn, debug.traceback)
  if not success then
    fail(name, tostring(result))
  elseif result then
    ok(name, detail)
  else
    fail(name, detail)
  end
end

--- Stops the whole run: used when nothing after this point can work.
local function fatal(msg)
  fail(msg)
  finish()
end

-- Paths ---------------------------------------------------------------------------------

local this_file = debug.getinfo(1, 'S').source:gsub('^@', '')
local repo = vim.env.CALCINOSIS_LS_REPO
  or vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.abspath(this_file)))))
local bin = vim.env.CALCINOSIS_LS or 'calcinosis-ls'
if vim.fn.executable(bin) ~= 1 then
  fatal('server binary not executable: ' .. bin .. ' (set CALCINOSIS_LS)')
end
bin = vim.fn.exepath(bin)
out(('info: nvim %s, server %s, repo %s'):format(tostring(vim.version()), bin, repo))
if spawned_ms then
  out(('info: nvim took %.2f s to start the script'):format((now_ms() - spawned_ms) / 1000))
end

-- Record what the client really sends, by wrapping the RPC transport (not the config).
local sent = {} ---@type {method: string, params: any}[]
local rpc_start = vim.lsp.rpc.start
vim.lsp.rpc.start = function(...)
  local rpc = rpc_start(...)
  local notify = rpc.notify
  rpc.notify = function(method, params)
    sent[#sent + 1] = { method = method, params = params }
    return notify(method, params)
  end
  return rpc
end

-- The shipped config, with only `cmd` pointing at the binary under test.
vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
vim.lsp.config('calcinosis_ls', { cmd = { bin, 'serve' } })
vim.lsp.enable('calcinosis_ls')

-- The note ----------------------------------------------------------------------------

local dir = vim.fn.tempname()
vim.fn.mkdir(dir, 'p')
local note = dir .. '/visit.txt'
vim.fn.writefile({
  'lcSSc',
  "She denies Raynaud's phenomenon but reports sclerodactyly.",
  'Telangectasias on the lips.',
  'Esophageal dysmotility: present.',
  'Family History: mother has RP.',
}, note)

vim.cmd.edit(vim.fn.fnameescape(note))
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = 'text'

local client ---@type vim.lsp.Client?
vim.wait(TIMEOUT, function()
  client = vim.lsp.get_clients({ bufnr = buf, name = 'calcinosis_ls' })[1]
  return client ~= nil and client.initialized == true
end, 20)
if not client or not client.initialized then
  fatal(('client did not attach to the note within %d ms (filetype=%s)'):format(TIMEOUT, vim.bo[buf].filetype))
  return
end
local enc = client.offset_encoding
ok('attached', ('client %d, root_dir=%s, attach took %.2f s'):format(
  client.id,
  tostring(client.root_dir),
  (vim.uv.hrtime() - started) / 1e9
))

-- Helpers -------------------------------------------------------------------------------

--- 0-based line and byte column of the first `needle` in the buffer.
local function find(needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      return i - 1, col - 1
    end
  end
  error('not in the buffer: ' .. needle)
end

--- Position params for the cursor placed on `needle` (+ `offset` bytes).
local function params_at(needle, offset)
  local lnum, col = find(needle)
  vim.api.nvim_win_set_cursor(0, { lnum + 1, col + (offset or 0) })
  return vim.lsp.util.make_position_params(0, enc)
end

--- One request to our client; returns its result or raises with the error.
local function request(method, params)
  local responses, err = vim.lsp.buf_request_sync(buf, method, params, TIMEOUT)
  if not responses then
    error(('%s: no response within %d ms (%s)'):format(method, TIMEOUT, tostring(err)))
  end
  local r = responses[client.id]
  if not r then
    error(method .. ': no response from calcinosis_ls')
  end
  if r.err then
    error(method .. ': ' .. vim.inspect(r.err))
  end
  return r.result
end

local function buffer_text()
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

-- Checks --------------------------------------------------------------------------------

check('negotiation', function()
  local server_enc = client.server_capabilities.positionEncoding
  local open
  for _, m in ipairs(sent) do
    if m.method == 'textDocument/didOpen' and m.params.textDocument.uri == vim.uri_from_bufnr(buf) then
      open = m.params.textDocument
    end
  end
  if not open then
    return false, 'no textDocument/didOpen was sent for the note'
  end
  local detail = ('positionEncoding=%s (server said %s), languageId=%s'):format(enc, tostring(server_enc), open.languageId)
  return open.languageId == 'text' and enc == server_enc, detail
end)

local diags = {} ---@type vim.Diagnostic[]
check('diagnostics', function()
  local function have()
    diags = vim.diagnostic.get(buf, { namespace = vim.lsp.diagnostic.get_namespace(client.id) })
    local codes = {}
    for _, d in ipairs(diags) do
      codes[d.code] = (codes[d.code] or 0) + 1
    end
    return codes['crest-feature'] and codes['crest-summary'] and codes['misspelling']
  end
  vim.wait(TIMEOUT, have, 20)
  if not have() then
    return false, 'expected crest-feature, crest-summary and misspelling diagnostics, got ' .. vim.inspect(diags)
  end
  local raynaud, summary, misspelling
  for _, d in ipairs(diags) do
    if d.code == 'crest-feature' and d.message:find("Raynaud's phenomenon (negated", 1, true) and d.lnum == 1 then
      raynaud = d
    elseif d.code == 'crest-summary' then
      summary = d
    elseif d.code == 'misspelling' then
      misspelling = d
    end
    if d.source ~= 'calcinosis-ls' then
      return false, 'diagnostic with source ' .. tostring(d.source)
    end
  end
  if not raynaud then
    return false, 'no negated Raynaud diagnostic on line 2: ' .. vim.inspect(diags)
  end
  local lsp_tags = vim.tbl_get(raynaud, 'user_data', 'lsp', 'tags') or {}
  if not (raynaud._tags and raynaud._tags.unnecessary) or not vim.tbl_contains(lsp_tags, 1) then
    return false, 'negated Raynaud lacks the Unnecessary tag: ' .. vim.inspect(raynaud)
  end
  if not summary or summary.lnum ~= 0 or summary.col ~= 0 or not summary.message:find('CREST features documented') then
    return false, 'bad CREST summary: ' .. vim.inspect(summary)
  end
  if not misspelling.message:find('Telangiectasias', 1, true) then
    return false, 'bad misspelling message: ' .. misspelling.message
  end
  return true, ('%d diagnostics; "%s"; "%s"; "%s" (_tags.unnecessary)'):format(#diags, summary.message, misspelling.message, raynaud.message)
end)

check('hover on RP', function()
  local result = request('textDocument/hover', params_at('RP', 0))
  local value = result and result.contents and result.contents.value
  if type(value) ~= 'string' then
    return false, 'no markdown hover: ' .. vim.inspect(result)
  end
  local has_name = value:find("Raynaud's phenomenon", 1, true)
  -- Seed citations read "(source 1 of the seed document)"; a reference list gives "[1] …".
  local citation = value:match('%[%d+[^%]]*%]') or value:match('sources? %d+[^)]* of [^)]*')
  if not (has_name and citation and result.contents.kind == 'markdown') then
    return false, 'hover lacks the name or a citation: ' .. value
  end
  return true, ('%s…, cites %s'):format(value:match('[^\n]*\n\n%-%-%-\n\n([^\n]*)') or value:sub(1, 60), citation)
end)

check('definition of lcSSc', function()
  local result = request('textDocument/definition', params_at('lcSSc', 1))
  local loc = vim.islist(result) and result[1] or result
  if not loc or not loc.uri then
    return false, 'no location: ' .. vim.inspect(result)
  end
  if not loc.uri:match('statements%.md$') then
    return false, 'not in statements.md: ' .. loc.uri
  end
  local path = vim.uri_to_fname(loc.uri)
  local lines = vim.fn.readfile(path)
  local line = lines[loc.range.start.line + 1]
  if not line or not line:find('lcSSc', 1, true) then
    return false, ('line %d of %s does not mention lcSSc: %s'):format(loc.range.start.line + 1, path, tostring(line))
  end
  return true, ('%s:%d: %s'):format(path, loc.range.start.line + 1, line:sub(1, 70))
end)

check('completion after "dermato"', function()
  local last = vim.api.nvim_buf_line_count(buf)
  local typed = 'Overlap with dermato'
  vim.api.nvim_buf_set_lines(buf, last, last, false, { typed })
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    position = { line = last, character = vim.str_utfindex(typed, enc, #typed) },
    context = { triggerKind = 1 },
  }
  local result = request('textDocument/completion', params)
  local items = result and (result.items or result) or {}
  if #items == 0 then
    return false, 'no items: ' .. vim.inspect(result)
  end
  table.sort(items, function(a, b)
    return (a.sortText or a.label) < (b.sortText or b.label)
  end)
  local first = items[1]
  local edit = first.textEdit
  local replaces = edit and edit.range.start.character == vim.str_utfindex(typed, enc, #'Overlap with ')
  if first.label ~= 'dermatomyositis' or not replaces or result.isIncomplete ~= true then
    return false, ('first item %s (textEdit %s, isIncomplete %s)'):format(first.label, vim.inspect(edit), tostring(result.isIncomplete))
  end
  -- Undo the typing, as a user would after dismissing the menu.
  vim.api.nvim_buf_set_lines(buf, last, last + 1, false, {})
  return true, ('%d items, first %q replacing the typed word'):format(#items, first.label)
end)

check('code action fixes the misspelling', function()
  local lnum, col = find('Telangectasias')
  local range = {
    start = { line = lnum, character = vim.str_utfindex(vim.api.nvim_buf_get_lines(buf, lnum, lnum + 1, false)[1], enc, col) },
  }
  range['end'] = { line = lnum, character = range.start.character + #'Telangectasias' }
  local context_diags = {}
  for _, d in ipairs(diags) do
    if d.lnum == lnum then
      context_diags[#context_diags + 1] = d.user_data.lsp
    end
  end
  local result = request('textDocument/codeAction', {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    range = range,
    context = { diagnostics = context_diags, only = { 'quickfix' } },
  }) or {}
  local fix
  for _, a in ipairs(result) do
    if a.kind == 'quickfix' and a.edit then
      fix = a
      break
    end
  end
  if not fix then
    return false, 'no quickfix with an edit: ' .. vim.inspect(result)
  end
  vim.lsp.util.apply_workspace_edit(fix.edit, enc)
  local text = buffer_text()
  if not text:find('Telangiectasias on the lips', 1, true) or text:find('Telangectasias', 1, true) then
    return false, 'after applying "' .. fix.title .. '" the buffer reads: ' .. text
  end
  return true, fix.title
end)

-- The README's :CalcinosisAsk, run as a user pastes it: the block is read from
-- editors/neovim/README.md, not copied here.
local notified = {} ---@type string[]
local notify = vim.notify
vim.notify = function(msg, ...)
  notified[#notified + 1] = tostring(msg)
  return notify(msg, ...)
end

local function readme_block(needle)
  local text = table.concat(vim.fn.readfile(repo .. '/editors/neovim/README.md'), '\n')
  for block in text:gmatch('```lua\n(.-)```') do
    if block:find(needle, 1, true) then
      return block
    end
  end
  error('no lua block with ' .. needle .. ' in editors/neovim/README.md')
end

--- Runs :CalcinosisAsk and waits for the quickfix list it fills.
local function ask(question)
  local before = vim.fn.getqflist({ id = 0 }).id
  notified = {}
  vim.cmd('CalcinosisAsk ' .. question)
  local filled = vim.wait(TIMEOUT, function()
    return vim.fn.getqflist({ id = 0 }).id ~= before
  end, 20)
  if not filled then
    error(('no quickfix list within %d ms'):format(TIMEOUT))
  end
  vim.cmd.cclose()
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  return qf.title, qf.items, notified[#notified] or ''
end

check("the README's CalcinosisAsk says when the sources do not cover a question", function()
  local code = readme_block('CalcinosisAsk')
  local chunk, err = load(code, 'editors/neovim/README.md')
  if not chunk then
    return false, 'the README block does not load: ' .. tostring(err)
  end
  chunk()
  local title, items, said = ask('does calcinosis occur in lupus?')
  if not title:find('not covered, nearest statements', 1, true) then
    return false, 'quickfix title: ' .. title
  end
  if not said:find('do not cover', 1, true) then
    return false, 'message: ' .. said
  end
  if #items == 0 then
    return false, 'no nearest statements listed'
  end
  -- Every item opens a file the user has (the cache copy of the corpus), at a real line.
  for _, item in ipairs(items) do
    local file = vim.fn.bufname(item.bufnr)
    if vim.fn.filereadable(file) ~= 1 or item.lnum < 1 then
      return false, ('item %q points at %s:%d'):format(item.text, file, item.lnum)
    end
    local line = vim.fn.readfile(file)[item.lnum] or ''
    local words = item.text:sub(1, 20)
    if not line:find(words, 1, true) then
      return false, ('%s:%d does not hold %q'):format(file, item.lnum, words)
    end
  end
  local title2, items2, said2 = ask('where in the body does calcinosis occur?')
  if title2:find('not covered', 1, true) or said2:find('do not cover', 1, true) or #items2 == 0 then
    return false, ('a covered question: %s / %s'):format(title2, said2)
  end
  return true, ('%d nearest statements for lupus; %d for sites'):format(#items, #items2)
end)

check('diagnostics follow the edit', function()
  -- The fix went to the server as an incremental change: the misspelling must go away.
  local gone = vim.wait(TIMEOUT, function()
    for _, d in ipairs(vim.diagnostic.get(buf, { namespace = vim.lsp.diagnostic.get_namespace(client.id) })) do
      if d.code == 'misspelling' then
        return false
      end
    end
    return true
  end, 20)
  return gone, gone and 'misspelling diagnostic cleared' or 'misspelling diagnostic still there after the fix'
end)

finish()
