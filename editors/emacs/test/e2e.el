;;; e2e.el --- End-to-end test of calcinosis-ls in Emacs + Eglot  -*- lexical-binding: t; -*-

;; Runs the server in a real Emacs through Eglot, with the shipped calcinosis-ls.el:
;;
;;   CALCINOSIS_LS=target/debug/calcinosis-ls emacs --batch -Q -l editors/emacs/test/e2e.el
;;
;; Environment:
;;   CALCINOSIS_LS             the server binary (default: calcinosis-ls on exec-path)
;;   CALCINOSIS_LS_REPO        the repository root (default: the repository holding this file)
;;   CALCINOSIS_LS_TIMEOUT_MS  the longest any single wait may take (default 20000)
;;
;; Eglot comes from Emacs itself (29+) or from package.el's system directories, which hold
;; Debian's elpa-eglot (Emacs 28.2 + Eglot 1.9 on Debian 12).  HOME, the XDG directories and
;; `user-emacs-directory' point into a temporary directory, removed at the end, so that
;; neither Emacs nor the server reads or writes the user's files.  The note is never saved.
;;
;; Prints one "ok: ..." or "FAIL: ..." line per check and a summary line
;; "e2e: N passed, M failed"; exits 0 only when every check passed.  Every wait is bounded.

(require 'cl-lib)
(require 'subr-x)

(defvar e2e-timeout
  (/ (float (string-to-number (or (getenv "CALCINOSIS_LS_TIMEOUT_MS") "20000"))) 1000)
  "Seconds any single wait may take.")
(when (<= e2e-timeout 0) (setq e2e-timeout 20.0))

(defvar e2e-started (float-time))
(defvar e2e-passed 0)
(defvar e2e-failed 0)
(defvar e2e-home nil "The temporary HOME, removed by `e2e-finish'.")
(defvar e2e-buffer nil "The note's buffer.")
(defvar e2e-server nil "The Eglot server object.")

(defun e2e-out (fmt &rest args)
  "Print FMT with ARGS and a newline to standard output."
  (princ (concat (apply #'format fmt args) "\n")))

(defun e2e-elapsed ()
  (- (float-time) e2e-started))

(defun e2e-finish ()
  "Print the summary, stop a server still running, clean up and exit."
  (e2e-out "e2e: %d passed, %d failed (%.2f s)" e2e-passed e2e-failed (e2e-elapsed))
  (when (and e2e-server (jsonrpc-running-p e2e-server))
    (ignore-errors (jsonrpc-shutdown e2e-server)))
  (when (buffer-live-p e2e-buffer)
    (with-current-buffer e2e-buffer (set-buffer-modified-p nil)))
  (when (and e2e-home (file-directory-p e2e-home))
    (ignore-errors (delete-directory e2e-home t)))
  (kill-emacs (if (and (zerop e2e-failed) (> e2e-passed 0)) 0 1)))

(defun e2e-ok (name &optional detail)
  (cl-incf e2e-passed)
  (e2e-out "ok: %s%s" name (if detail (concat " — " detail) "")))

(defun e2e-fail (name &optional detail)
  (cl-incf e2e-failed)
  (e2e-out "FAIL: %s%s" name (if detail (concat " — " detail) "")))

(defun e2e-fatal (name &optional detail)
  "Fail NAME and stop the run: nothing after this point can work."
  (e2e-fail name detail)
  (e2e-finish))

(defmacro e2e-check (name &rest body)
  "Run BODY as check NAME.
BODY returns (PASSED . DETAIL); an error fails the check."
  (declare (indent 1))
  `(condition-case err
       (let ((result (progn ,@body)))
         (if (car result)
             (e2e-ok ,name (cdr result))
           (e2e-fail ,name (cdr result))))
     (error (e2e-fail ,name (format "error: %S" err)))))

(defun e2e-run-idle-timers (idle-for ran)
  "Run the idle timers due after IDLE-FOR idle seconds and not in RAN.
Returns RAN with the timers run added.  Batch Emacs has no command
loop, so it is never idle and never runs idle timers itself; Eglot
sends didChange and Flymake rechecks on idle timers, which an
interactive Emacs runs once the user stops typing."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (and (not (memq timer ran))
               (<= (float-time (timer--time timer)) idle-for))
      (push timer ran)
      (timer-event-handler timer)))
  ran)

(defun e2e-wait (pred &optional timeout)
  "Pump the event loop until PRED is non-nil or TIMEOUT seconds pass.
Returns PRED's value.  The wait counts as the user being idle: idle
timers run once their delay has passed."
  (let* ((start (float-time))
         (deadline (+ start (or timeout e2e-timeout)))
         ran result)
    (while (and (not (setq result (funcall pred)))
                (< (float-time) deadline))
      (accept-process-output nil 0.02)
      (setq ran (e2e-run-idle-timers (- (float-time) start) ran)))
    result))

;;; Paths and isolation ------------------------------------------------------------------

(defvar e2e-repo
  (file-name-as-directory
   (or (getenv "CALCINOSIS_LS_REPO")
       (expand-file-name "../../.." (file-name-directory (or load-file-name buffer-file-name))))))

(defvar e2e-bin
  (let ((bin (or (getenv "CALCINOSIS_LS") "calcinosis-ls")))
    (if (file-name-absolute-p bin) bin
      (or (and (file-name-directory bin) (expand-file-name bin))
          (executable-find bin)
          bin))))

(setq e2e-home (make-temp-file "calcinosis-ls-emacs-e2e-" t))
(setenv "HOME" e2e-home)
(dolist (var '("XDG_CONFIG_HOME" "XDG_DATA_HOME" "XDG_STATE_HOME" "XDG_CACHE_HOME"))
  (let ((dir (expand-file-name (downcase var) e2e-home)))
    (make-directory dir t)
    (setenv var dir)))
(setq user-emacs-directory (file-name-as-directory (expand-file-name ".emacs.d" e2e-home)))

(e2e-out "info: Emacs %s, server %s, repo %s" emacs-version e2e-bin e2e-repo)
(unless (file-executable-p e2e-bin)
  (e2e-fatal "server binary" (format "not executable: %s (set CALCINOSIS_LS)" e2e-bin)))

;;; Eglot and the shipped config -----------------------------------------------------------

;; The shipped file first: its `with-eval-after-load' must take effect when Eglot loads.
(load (expand-file-name "editors/emacs/calcinosis-ls.el" e2e-repo) nil t)

;; Activate system packages (Debian's elpa-eglot) as a normal session would; the
;; per-user package directory is inside the temporary HOME, so it is empty.
(require 'package)
(setq package-user-dir (expand-file-name "elpa" user-emacs-directory))
(package-initialize)
(unless (locate-library "eglot")
  ;; Not activated (e.g. a package directory list without Debian's): add it directly.
  (dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*" t))
    (when (file-directory-p dir) (add-to-list 'load-path dir))))
(unless (require 'eglot nil t)
  (e2e-fatal "load Eglot" "no eglot library (Emacs 29+, or Debian's elpa-eglot on Emacs 28)"))
(e2e-out "info: Eglot from %s" (locate-library "eglot"))

;; The shipped entry, with only the program pointed at the binary under test.
(let* ((entry (cl-find-if (lambda (e)
                            (and (consp (car e)) (memq 'text-mode (car e))
                                 (equal (cadr e) "calcinosis-ls")))
                          eglot-server-programs)))
  (if (not entry)
      (e2e-fatal "shipped config" "calcinosis-ls.el added no (text-mode ...) entry running calcinosis-ls")
    (e2e-ok "shipped config" (format "%S" entry))
    (push (cons (car entry) (cons e2e-bin (cddr entry))) eglot-server-programs)))

;; Record the language id Eglot puts on the wire (not the note text).
(defvar e2e-opened-language-ids nil)
(advice-add 'jsonrpc-notify :before
            (lambda (_conn method params)
              (when (eq method :textDocument/didOpen)
                (push (plist-get (plist-get params :textDocument) :languageId)
                      e2e-opened-language-ids))))

;;; The note -------------------------------------------------------------------------------

(defconst e2e-note
  "Denies Raynaud's. Sclerodactyly and telangiectasias noted. Telangectasias on face.\n")

(let ((file (expand-file-name "visit.txt"
                              (make-temp-file (expand-file-name "note-" e2e-home) t))))
  (setq e2e-buffer (find-file file))
  (insert e2e-note)
  ;; Shown in the selected window, as in a session: Flymake starts its checks and Eglot
  ;; shows hover only for displayed buffers.
  (switch-to-buffer e2e-buffer))

(defun e2e-pos (needle &optional offset)
  "The buffer position of the first NEEDLE (+ OFFSET characters)."
  (with-current-buffer e2e-buffer
    (save-excursion
      (goto-char (point-min))
      (unless (search-forward needle nil t)
        (error "Not in the buffer: %s" needle))
      (+ (match-beginning 0) (or offset 0)))))

(defun e2e-diags ()
  "Flymake's diagnostics in the note."
  (with-current-buffer e2e-buffer (flymake-diagnostics)))

(defun e2e-diag-at (needle regexp)
  "The Flymake diagnostic whose text matches REGEXP and whose region covers NEEDLE."
  (let ((pos (e2e-pos needle)))
    (cl-find-if (lambda (d)
                  (and (string-match-p regexp (flymake-diagnostic-text d))
                       (<= (flymake-diagnostic-beg d) pos)
                       (< pos (flymake-diagnostic-end d))))
                (e2e-diags))))

;;; Checks ---------------------------------------------------------------------------------

(with-current-buffer e2e-buffer
  (e2e-check "text-mode note"
    (cons (eq major-mode 'text-mode) (format "%s in %s" major-mode (buffer-name))))
  ;; M-x eglot, as the README says.
  (condition-case err
      (call-interactively #'eglot)
    (error (e2e-fatal "M-x eglot" (format "error: %S" err))))
  (setq e2e-server
        (e2e-wait (lambda ()
                    (with-current-buffer e2e-buffer
                      (and eglot--managed-mode (eglot-current-server))))))
  (unless e2e-server
    (e2e-fatal "connected" (format "Eglot did not manage the note within %.0f s" e2e-timeout)))
  (e2e-ok "connected" (format "%s, %.2f s after start"
                              (jsonrpc-name e2e-server) (e2e-elapsed))))

(e2e-check "languageId text"
  (cons (equal e2e-opened-language-ids '("text"))
        (format "didOpen languageIds: %S" e2e-opened-language-ids)))

(e2e-check "Flymake diagnostics"
  (let ((raynaud (e2e-wait (lambda () (e2e-diag-at "Raynaud's" "negated")))))
    (if (not raynaud)
        (cons nil (format "no diagnostic saying \"negated\" over Raynaud's; Flymake has %S"
                          (mapcar #'flymake-diagnostic-text (e2e-diags))))
      (let ((misspelling (e2e-diag-at "Telangectasias" "Telangiectasias")))
        (cons (and misspelling
                   (string-prefix-p "calcinosis-ls" (flymake-diagnostic-text raynaud)))
              (format "%d diagnostics; %S; %S" (length (e2e-diags))
                      (flymake-diagnostic-text raynaud)
                      (and misspelling (flymake-diagnostic-text misspelling))))))))

(defvar e2e-citation-re "\\[[0-9]+[^]\n]*\\]\\|sources? [0-9]+[^)\n]* of [^)\n]+"
  "A citation in the server's hover text: \"(source 1 of the seed document)\" for the
seed's bare numbers, or [3] and [3, p. 12] where a reference list is given.")

(e2e-check "hover on Sclerodactyly"
  (with-current-buffer e2e-buffer
    (goto-char (e2e-pos "Sclerodactyly" 2))
    (let* ((result (jsonrpc-request e2e-server :textDocument/hover
                                    (eglot--TextDocumentPositionParams)
                                    :timeout e2e-timeout))
           (contents (plist-get result :contents))
           (value (plist-get contents :value)))
      (cons (and (equal (plist-get contents :kind) "markdown")
                 (stringp value)
                 (string-match-p "sclerodactyly" (downcase value))
                 (string-match-p e2e-citation-re value))
            (if (stringp value)
                (format "kind %s, cites %s" (plist-get contents :kind)
                        (and (string-match e2e-citation-re value) (match-string 0 value)))
              (format "no markdown hover: %S" result))))))

(e2e-check "hover through ElDoc"
  ;; What the user sees: Eglot's ElDoc function renders the hover.
  (with-current-buffer e2e-buffer
    (goto-char (e2e-pos "Sclerodactyly" 2))
    (let* (shown
           (cb (lambda (doc &rest _) (setq shown (or doc "")) t)))
      (eglot-hover-eldoc-function cb)
      (e2e-wait (lambda () shown))
      (cons (and (stringp shown) (string-match-p "sclerodactyly" (downcase shown)))
            (if (stringp shown)
                (format "%d characters, first line %S" (length shown)
                        (car (split-string shown "\n")))
              "ElDoc callback not called")))))

(e2e-check "completion after \"rayn\""
  (with-current-buffer e2e-buffer
    (goto-char (point-max))
    (let ((start (point)))
      (insert "rayn")
      (let* ((capf (run-hook-wrapped 'completion-at-point-functions
                                     (lambda (f) (and (functionp f) (funcall f)))))
             (beg (nth 0 capf))
             (table (nth 2 capf))
             (typed (and capf (buffer-substring-no-properties beg (point))))
             ;; What `completion-at-point' offers, with the default completion styles.
             (found (and capf (completion-all-completions typed table nil (length typed))))
             (candidates (and (consp found)
                              (cl-loop for c on found while (consp c)
                                       collect (substring-no-properties (car c))))))
        (delete-region start (point-max))
        (cons (member "Raynaud's phenomenon" candidates)
              (format "typed %S; %d candidates: %S" typed (length candidates)
                      (seq-take candidates 5)))))))

(e2e-check "code action for the misspelling"
  (let* ((beg (e2e-pos "Telangectasias"))
         (end (+ beg (length "Telangectasias")))
         (actions (with-current-buffer e2e-buffer
                    (eglot-code-actions beg end "quickfix")))
         (fix (cl-find-if (lambda (a)
                            (and (plist-get a :edit)
                                 (string-match-p "Telangiectasias" (plist-get a :title))))
                          actions)))
    (cons fix (if fix (plist-get fix :title)
                (format "no quickfix naming Telangiectasias: %S" actions)))))

(e2e-check "diagnostics follow an edit"
  ;; Typing at the start shifts every diagnostic and adds one for the new finding.
  (with-current-buffer e2e-buffer
    (goto-char (point-min))
    (insert "Calcinosis at both elbows. ")
    (let ((calcinosis (e2e-wait (lambda () (e2e-diag-at "Calcinosis" "crest-feature.*calcinosis")))))
      (cons (and calcinosis (e2e-diag-at "Raynaud's" "negated"))
            (if calcinosis
                (format "new %S; the Raynaud one moved with its text: %s"
                        (flymake-diagnostic-text calcinosis)
                        (if (e2e-diag-at "Raynaud's" "negated") "yes" "no"))
              (format "no diagnostic over the inserted Calcinosis; Flymake has %S"
                      (mapcar #'flymake-diagnostic-text (e2e-diags))))))))

(e2e-check "eglot-shutdown"
  ;; Eglot kills the process right after `exit'; give the server time to exit by itself
  ;; first, so that the exit status is its own.
  (let* ((proc (jsonrpc--process e2e-server))
         (wait (lambda (&rest _)
                 (e2e-wait (lambda () (not (process-live-p proc))) 5))))
    (advice-add 'jsonrpc-shutdown :before wait)
    (unwind-protect
        (let ((t0 (float-time))
              (err (condition-case e
                       (progn (eglot-shutdown e2e-server) nil)
                     (error e))))
          (e2e-wait (lambda () (not (process-live-p proc))) 5)
          (cons (and (null err)
                     (eq (process-status proc) 'exit)
                     (eql (process-exit-status proc) 0))
                (format "%s; process %s with status %s, %.2f s"
                        (if err (format "error %S" err) "no error")
                        (process-status proc) (process-exit-status proc)
                        (- (float-time) t0))))
      (advice-remove 'jsonrpc-shutdown wait))))

(e2e-finish)

;;; e2e.el ends here
