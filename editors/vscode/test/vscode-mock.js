// Just enough of the `vscode` module to activate the bundled extension under
// plain Node: settings come from $MOCK_SETTINGS (JSON, flat keys), and every
// UI call is recorded in `events`.
'use strict';
const Module = require('module');

const events = [];
const rec = (...a) => events.push(a);

/** Any API the mock does not model: callable, constructible, no-op. */
function stub(name) {
  const fn = function () {
    return stub(`${name}()`);
  };
  return new Proxy(fn, {
    get(_t, p) {
      if (p === 'then') return undefined;
      if (p === 'dispose') return () => {};
      if (p === Symbol.toPrimitive) return () => name;
      return stub(`${name}.${String(p)}`);
    },
    construct() {
      return stub(`new ${name}`);
    },
  });
}

class Disposable {
  constructor(f) { this.f = f; }
  dispose() { if (this.f) this.f(); this.f = undefined; }
  static from(...ds) { return new Disposable(() => ds.forEach((d) => d && d.dispose && d.dispose())); }
}
class EventEmitter {
  constructor() {
    this.listeners = [];
    this.event = (l, thisArg) => {
      const f = l.bind(thisArg);
      this.listeners.push(f);
      return new Disposable(() => { this.listeners = this.listeners.filter((x) => x !== f); });
    };
  }
  fire(e) { this.listeners.slice().forEach((l) => l(e)); }
  dispose() { this.listeners = []; }
}
class Uri {
  constructor(scheme, p) { this.scheme = scheme; this.path = p; this.fsPath = p; }
  static file(p) { return new Uri('file', p); }
  static parse(s) {
    const m = /^([a-zA-Z][\w+.-]*):\/\/(.*)$/.exec(s);
    return m ? new Uri(m[1], m[2]) : new Uri('file', s);
  }
  toString() { return `${this.scheme}://${this.path}`; }
  with() { return this; }
}
class Position { constructor(line, character) { this.line = line; this.character = character; } }
class Range {
  constructor(a, b, c, d) {
    if (a instanceof Position) { this.start = a; this.end = b; }
    else { this.start = new Position(a, b); this.end = new Position(c, d); }
  }
}
class CancellationTokenSource {
  constructor() { this.token = { isCancellationRequested: false, onCancellationRequested: new EventEmitter().event }; }
  cancel() {}
  dispose() {}
}
class CancellationError extends Error {}
class TabInputText { constructor(uri) { this.uri = uri; } }

const settings = JSON.parse(process.env.MOCK_SETTINGS || '{}');
const commands = new Map();
const configurationChanged = new EventEmitter();
const statusItem = {
  show() { this.visible = true; },
  hide() { this.visible = false; },
  dispose() {},
};
const note = {
  uri: Uri.parse('file:///notes/a.note'),
  languageId: 'clinical-note',
  version: 1,
  getText: () => 'Calcinosis and Raynaud phenomenon.',
  lineCount: 1,
  lineAt: () => ({ text: 'Calcinosis and Raynaud phenomenon.' }),
  fileName: '/notes/a.note',
  isClosed: false,
};

function getConfiguration(section) {
  const prefix = section ? `${section}.` : '';
  return {
    get(key, fallback) {
      const full = prefix + key;
      if (full in settings) return settings[full];
      if (full === 'calcinosis') {
        // The whole section, nested the way VS Code returns it.
        const out = {};
        const defaults = {
          'calcinosis.server.path': 'calcinosis-ls', 'calcinosis.corpusDir': null, 'calcinosis.indexDir': null,
          'calcinosis.diagnostics.enable': true, 'calcinosis.diagnostics.severity': 'information',
          'calcinosis.diagnostics.summaryThreshold': 3, 'calcinosis.diagnostics.misspellings': true,
          'calcinosis.diagnostics.debounceMs': 30, 'calcinosis.diagnostics.maxPerDocument': 1000,
          'calcinosis.languageIds': [], 'calcinosis.trace.server': 'off',
        };
        for (const [k, v] of Object.entries({ ...defaults, ...settings })) {
          const parts = k.split('.').slice(1);
          let o = out;
          for (const p of parts.slice(0, -1)) o = o[p] = o[p] || {};
          o[parts[parts.length - 1]] = v;
        }
        return out;
      }
      return fallback;
    },
    has: () => false,
    inspect: () => undefined,
    update: async () => {},
  };
}

const ui = { input: 'What treats calcinosis?' };
const noEvent = () => new EventEmitter().event;

const api = {
  Disposable, EventEmitter, Uri, Range, Position, CancellationTokenSource, CancellationError, TabInputText,
  StatusBarAlignment: { Left: 1, Right: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  TextEditorRevealType: { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 },
  version: '1.100.0',
  env: { clipboard: { writeText: async () => {} }, uiKind: 1, language: 'en', appName: 'vscode-mock' },
  commands: {
    registerCommand(id, handler) {
      if (commands.has(id)) throw new Error(`command '${id}' already exists`);
      commands.set(id, handler);
      return new Disposable(() => commands.delete(id));
    },
    executeCommand: async (id, ...args) => { rec('executeCommand', id, ...args); },
  },
  window: {
    createOutputChannel: (name) => ({
      logLevel: 2, onDidChangeLogLevel: noEvent(),
      trace() {}, debug() {}, info: (s) => rec('output', name, s), warn: (s) => rec('output', name, s), error: (s) => rec('output', name, s),
      name, append() {}, appendLine: (s) => rec('output', name, s), show() {}, dispose() {}, clear() {}, replace() {},
    }),
    createStatusBarItem: (id, alignment, priority) => { rec('createStatusBarItem', id, alignment, priority); return statusItem; },
    get activeTextEditor() { return { document: note, selection: { isEmpty: true } }; },
    onDidChangeActiveTextEditor: noEvent(),
    onDidChangeVisibleTextEditors: noEvent(),
    // The note is open in a tab: vscode-languageclient 10+ syncs documents visible in tabs.
    tabGroups: { all: [{ tabs: [{ input: new TabInputText(note.uri) }] }], onDidChangeTabs: noEvent() },
    visibleTextEditors: [{ document: note }],
    showInputBox: async (o) => { rec('showInputBox', o.title); return ui.input; },
    showQuickPick: async (items, o) => {
      rec('showQuickPick', o.title, items.map((i) => ({ label: i.label, description: i.description, detail: i.detail })));
      return items[0];
    },
    showInformationMessage: async (...a) => { rec('info', ...a); },
    showWarningMessage: async (...a) => { rec('warning', ...a); },
    showErrorMessage: async (...a) => { rec('error', ...a); },
    withProgress: async (_o, task) => task({ report() {} }, new CancellationTokenSource().token),
    showTextDocument: async (doc, o) => {
      rec('showTextDocument', doc.uri.fsPath, o.selection.start.line);
      return { revealRange() {} };
    },
  },
  workspace: {
    getConfiguration,
    onDidChangeConfiguration: configurationChanged.event,
    workspaceFolders: undefined,
    textDocuments: [note],
    notebookDocuments: [],
    openTextDocument: async (uri) => ({ ...note, uri, lineCount: 4, lineAt: (i) => ({ text: `line ${i + 1}` }) }),
    onDidOpenTextDocument: noEvent(),
    onDidCloseTextDocument: noEvent(),
    onDidChangeTextDocument: noEvent(),
    onDidSaveTextDocument: noEvent(),
    onWillSaveTextDocument: noEvent(),
    onDidChangeWorkspaceFolders: noEvent(),
    onDidOpenNotebookDocument: noEvent(),
    createFileSystemWatcher: () => stub('watcher'),
  },
  languages: {
    createDiagnosticCollection: () => ({ set() {}, delete() {}, clear() {}, dispose() {} }),
    match: (selector, doc) =>
      (Array.isArray(selector) ? selector : [selector]).some((s) => (s.language ?? s) === doc.languageId) ? 10 : 0,
  },
};

const vscode = new Proxy(api, {
  get(target, p) {
    return p in target ? target[p] : stub(`vscode.${String(p)}`);
  },
});

const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};

module.exports = { events, commands, statusItem, configurationChanged, ui };
