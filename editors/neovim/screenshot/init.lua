-- Neovim set-up for the README screenshot (see screenshot.sh): the shipped config, the
-- server from CALCINOSIS_LS, diagnostics as virtual text, and a hover opened on "RP".
vim.opt.runtimepath:prepend(vim.env.CALCINOSIS_LS_REPO .. '/editors/neovim')
vim.o.termguicolors = true
vim.o.number = true
vim.o.signcolumn = 'yes'
vim.o.laststatus = 2
vim.o.wrap = false
vim.o.shortmess = vim.o.shortmess .. 'I'
vim.diagnostic.config({ virtual_text = { prefix = '●' }, severity_sort = true })
vim.lsp.config('calcinosis_ls', { cmd = { vim.env.CALCINOSIS_LS or 'calcinosis-ls', 'serve' } })
vim.lsp.enable('calcinosis_ls')

local done = false
vim.api.nvim_create_autocmd('DiagnosticChanged', {
  callback = function(ev)
    if done or #vim.diagnostic.get(ev.buf) == 0 then
      return
    end
    done = true
    vim.defer_fn(function()
      local lines = vim.api.nvim_buf_get_lines(ev.buf, 0, -1, false)
      for i, line in ipairs(lines) do
        local col = line:find('RP', 1, true)
        if col then
          vim.api.nvim_win_set_cursor(0, { i, col - 1 })
        end
      end
      vim.lsp.buf.hover({ border = 'rounded', max_width = 80, max_height = 22 })
      vim.defer_fn(function()
        vim.fn.writefile({ 'ready' }, vim.env.SCREENSHOT_READY)
      end, 400)
    end, 200)
  end,
})
