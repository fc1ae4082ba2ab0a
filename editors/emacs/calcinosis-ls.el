;;; calcinosis-ls.el --- calcinosis-ls for Eglot  -*- lexical-binding: t; -*-

;; Eglot ships with Emacs 29+ (M-x package-install RET eglot on older Emacs).
;; Needs `calcinosis-ls' on `exec-path'. Then M-x eglot in a text or Markdown buffer,
;; or start it automatically with the hooks below.

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((text-mode markdown-mode) . ("calcinosis-ls" "serve"))))

;; Optional: start the server for every text and Markdown buffer.
;; (add-hook 'text-mode-hook #'eglot-ensure)
;; (add-hook 'markdown-mode-hook #'eglot-ensure)

;; Optional: settings, sent as workspace/didChangeConfiguration (:json-false is false).
;; (setq-default eglot-workspace-configuration
;;               '(:calcinosis (:diagnostics (:severity "hint" :misspellings t))))

(provide 'calcinosis-ls)
;;; calcinosis-ls.el ends here
