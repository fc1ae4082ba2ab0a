-- calcinosis-ls for Neovim >= 0.11 (vim.lsp.config / vim.lsp.enable).
--
-- Put the folder holding this `lsp/` directory on your 'runtimepath' (or copy this file to
-- ~/.config/nvim/lsp/calcinosis_ls.lua) and call:
--
--   vim.lsp.enable('calcinosis_ls')
--
-- Override any field with vim.lsp.config('calcinosis_ls', { ... }) before or after enabling.

-- The server's defaults, spelled out so they are easy to change.
local options = {
  -- corpusDir = '/path/to/extra/corpus', -- a corpus directory extending the built-in one
  -- indexDir = '/path/to/index',         -- an on-disk index instead of an in-memory one
  diagnostics = {
    enable = true,
    severity = 'information', -- 'hint' | 'information' | 'warning'
    summaryThreshold = 3, -- CREST features (1-5) that trigger the summary diagnostic
    misspellings = true,
  },
  -- Language ids analysed besides plaintext, text, markdown and clinical-note. Neovim sends
  -- the buffer's 'filetype' as the language id.
  languageIds = {},
}

---@type vim.lsp.Config
return {
  cmd = { 'calcinosis-ls', 'serve' },
  filetypes = { 'text', 'markdown' },
  -- The root only names the workspace; without one the server runs in single-file mode.
  root_markers = { '.git' },
  workspace_required = false,
  init_options = options,
  -- Settings here are sent with workspace/didChangeConfiguration right after start-up and
  -- override init_options; the server applies them again whenever they are re-sent. Empty
  -- by default (vim.empty_dict() so that it is sent as {} and not []): a copy of the
  -- defaults here would silently undo any init_options you change.
  settings = { calcinosis = vim.empty_dict() },
}
