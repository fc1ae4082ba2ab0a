-- Time to diagnostics as Neovim (>= 0.11) sees it: edits a note and waits until Neovim has
-- handled the server's publishDiagnostics for the new version (parsed the JSON, converted
-- the diagnostics, stored them with vim.diagnostic.set). Run by `cargo bench --bench
-- lsp_latency`; by hand:
--
--   CALCINOSIS_LS=target/release/calcinosis-ls NOTE=/tmp/note.txt EDITS=50 \
--     nvim --headless --clean -l editors/neovim/test/latency.lua
--
-- Uses the shipped config with both debounces off (Neovim's debounce_text_changes, 150 ms
-- by default, and the server's, 30 ms), so that the figure is the work, not the waiting.
-- Prints "latency: <ms>" per edit and "diagnostics: <n>"; exits 1 on a timeout.

local TIMEOUT = 20000
local this_file = debug.getinfo(1, 'S').source:gsub('^@', '')
local repo = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.abspath(this_file)))))
local bin = vim.fn.exepath(vim.env.CALCINOSIS_LS or 'calcinosis-ls')
local edits = tonumber(vim.env.EDITS) or 50

local function out(msg)
  io.stdout:write(msg, '\n')
  io.stdout:flush()
end

local function die(msg)
  out('FAIL: ' .. msg)
  os.exit(1)
end

-- When Neovim has finished handling each version's diagnostics.
local handled = {} ---@type table<integer, integer>
local count = 0
local publish = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
  publish(err, result, ctx, config)
  if result and result.version then
    handled[result.version] = vim.uv.hrtime()
    count = #result.diagnostics
  end
end

vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
vim.lsp.config('calcinosis_ls', {
  cmd = { bin, 'serve' },
  flags = { debounce_text_changes = 0 },
  init_options = { diagnostics = { debounceMs = 0 } },
})
vim.lsp.enable('calcinosis_ls')

vim.cmd.edit(vim.fn.fnameescape(vim.env.NOTE or die('set NOTE')))
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = 'text'

local function wait_for(version)
  if not vim.wait(TIMEOUT, function() return handled[version] ~= nil end, 1) then
    die(('no diagnostics for version %d within %d ms'):format(version, TIMEOUT))
  end
  return handled[version]
end

local client = nil ---@type vim.lsp.Client?
vim.wait(TIMEOUT, function()
  client = vim.lsp.get_clients({ bufnr = buf, name = 'calcinosis_ls' })[1]
  return client ~= nil and client.initialized == true
end, 5)
if not client then
  die('the client did not attach')
end
-- The version Neovim sent with the last change (didOpen sends 0).
local function version()
  return vim.lsp.util.buf_versions[buf] or 0
end
wait_for(version())
out(('diagnostics: %d'):format(count))

local mid = math.floor(vim.api.nvim_buf_line_count(buf) / 2)
for i = 1, edits do
  local t0 = vim.uv.hrtime()
  if i % 2 == 1 then
    vim.api.nvim_buf_set_text(buf, mid, 0, mid, 0, { 'x' })
  else
    vim.api.nvim_buf_set_text(buf, mid, 0, mid, 1, { '' })
  end
  local done = wait_for(version())
  out(('latency: %.3f'):format((done - t0) / 1e6))
end

client:stop()
vim.wait(1000, function() return #vim.lsp.get_clients({ name = 'calcinosis_ls' }) == 0 end, 10)
os.exit(0)
