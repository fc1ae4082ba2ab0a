import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';

import { ASK_UI_COMMAND, askKnowledgeBase } from './ask';
import { CREST_SUMMARY_NOTIFICATION, CrestStatus } from './crestStatus';
import {
  MismatchedServer,
  UnresolvedServer,
  chooseServer,
  isMismatched,
  isResolved,
} from './serverPath';
import { SECTION, allLanguageIds, readInitializationOptions } from './settings';

/** The client id doubles as the settings prefix: the client reads `calcinosis.trace.server`. */
const CLIENT_ID = SECTION;
const CLIENT_NAME = 'Calcinosis LS';
const RESTART_COMMAND = 'calcinosis.restartServer';
const SHOW_OUTPUT_COMMAND = 'calcinosis.showOutput';
/** Settings that need a new server process (or a new document selector) to take effect. */
const RESTART_SETTINGS = [`${SECTION}.server.path`, `${SECTION}.languageIds`];

// The server's own commands (`calcinosis.ask`, `calcinosis.showStatements`) are registered by
// vscode-languageclient from its `executeCommandProvider`; the extension's commands have names
// of their own (`calcinosis.askKnowledgeBase`, ...), so the two never collide.

let client: LanguageClient | undefined;
let extensionPath: string | undefined;
let outputChannel: vscode.LogOutputChannel;
let traceOutputChannel: vscode.LogOutputChannel;
let crestStatus: CrestStatus;
/** Starts and stops run one after another, never interleaved. */
let lifecycle: Promise<void> = Promise.resolve();

function enqueue(operation: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(operation).catch((err: unknown) => {
    outputChannel.appendLine(`[client] ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  });
  return lifecycle;
}

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
}

async function showServerMissing(unresolved: UnresolvedServer): Promise<void> {
  const install =
    'Install it by running `cargo install --locked --path .` from the root of the calcinosis-ls repository, ' +
    'or set "calcinosis.server.path" to the full path of the calcinosis-ls executable.';
  let problem: string;
  if (unresolved.notExecutable !== undefined) {
    problem = `"${unresolved.notExecutable}" is not an executable file (check its permissions).`;
  } else if (/[\\/]/.test(unresolved.configured)) {
    problem = `the language server executable was not found at ${unresolved.searched.join(', ')}.`;
  } else {
    problem =
      `the language server executable "${unresolved.configured}" was not found on PATH` +
      ` or in ${unresolved.searched.slice(1).join(', ')}.`;
  }
  const message = `Calcinosis LS: ${problem} ${install}`;
  outputChannel.appendLine(`[client] ${message}`);
  const openSettings = 'Open Settings';
  const retry = 'Retry';
  const choice = await vscode.window.showErrorMessage(message, openSettings, retry);
  if (choice === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.path`);
  } else if (choice === retry) {
    void restartClient();
  }
}

async function showServerMismatch(mismatch: MismatchedServer): Promise<void> {
  const message =
    `Calcinosis LS: the language server bundled with this extension is built for ${mismatch.builtFor}, ` +
    `but this VS Code runs on ${mismatch.running}. Install the calcinosis-ls .vsix built for ${mismatch.running} ` +
    '(`bash editors/vscode/build.sh --target ' + mismatch.running + '`), or build the server with ' +
    '`cargo install --locked --path .` and set "calcinosis.server.path" to it.';
  outputChannel.appendLine(`[client] ${message} (bundled binary: ${mismatch.bundled})`);
  const openSettings = 'Open Settings';
  const choice = await vscode.window.showErrorMessage(message, openSettings);
  if (choice === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.path`);
  }
}

function buildClientOptions(): LanguageClientOptions {
  const documentSelector = allLanguageIds().flatMap((language) => [
    { scheme: 'file', language },
    { scheme: 'untitled', language },
  ]);
  return {
    documentSelector,
    outputChannel,
    traceOutputChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    diagnosticCollectionName: 'calcinosis',
    // A function, so that a restart sends the settings as they are then.
    initializationOptions: () => readInitializationOptions(),
    // The server gets workspace/didChangeConfiguration
    // `{ settings: { calcinosis: { ... } } }` whenever a calcinosis.* setting changes.
    synchronize: { configurationSection: SECTION },
  };
}

async function startClient(): Promise<void> {
  if (client !== undefined) {
    return;
  }
  const config = vscode.workspace.getConfiguration(SECTION);
  const resolved = chooseServer(config.get<string>('server.path'), workspaceRoot(), extensionPath);
  if (isMismatched(resolved)) {
    void showServerMismatch(resolved);
    return;
  }
  if (!isResolved(resolved)) {
    void showServerMissing(resolved);
    return;
  }

  // No `transport` field: the server speaks LSP over stdin/stdout, which is the
  // default, and `transport: TransportKind.stdio` would make vscode-languageclient
  // append `--stdio` to the arguments.
  const serverOptions: ServerOptions = {
    command: resolved.command,
    args: ['serve'],
    options: { cwd: workspaceRoot() },
  };

  outputChannel.appendLine(
    `[client] starting ${resolved.command} serve${resolved.bundled === true ? ' (bundled with the extension)' : ''}`,
  );
  const c = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, buildClientOptions());
  c.onNotification(CREST_SUMMARY_NOTIFICATION, (params: unknown) => crestStatus.update(params));
  c.onDidChangeState((event) => {
    if (event.newState === State.Stopped) {
      crestStatus.clear();
    }
  });
  client = c;
  try {
    await c.start();
  } catch (err) {
    if (client === c) {
      client = undefined;
    }
    await c.dispose().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || code === 'EACCES') {
      await showServerMissing({
        configured: resolved.command,
        searched: [resolved.command],
        notExecutable: code === 'EACCES' ? resolved.command : undefined,
      });
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    const showOutput = 'Show Output';
    const choice = await vscode.window.showErrorMessage(
      `Calcinosis LS: the language server failed to start: ${message}`,
      showOutput,
    );
    if (choice === showOutput) {
      outputChannel.show(true);
    }
  }
}

async function stopClient(): Promise<void> {
  const c = client;
  client = undefined;
  crestStatus.clear();
  if (c !== undefined) {
    await c.dispose().catch((err: unknown) => {
      outputChannel.appendLine(`[client] stopping the server failed: ${String(err)}`);
    });
  }
}

function restartClient(): Promise<void> {
  return enqueue(async () => {
    await stopClient();
    await startClient();
  });
}

async function ask(): Promise<void> {
  // A client that is still starting queues the request until initialisation is done.
  const c = client;
  if (c === undefined || c.state === State.Stopped) {
    const resolved = chooseServer(
      vscode.workspace.getConfiguration(SECTION).get<string>('server.path'),
      workspaceRoot(),
      extensionPath,
    );
    if (isMismatched(resolved)) {
      await showServerMismatch(resolved);
      return;
    }
    if (!isResolved(resolved)) {
      await showServerMissing(resolved);
      return;
    }
    const restart = 'Restart Server';
    const choice = await vscode.window.showErrorMessage(
      'Calcinosis LS: the language server is not running. See the "Calcinosis LS" output for details.',
      restart,
    );
    if (choice === restart) {
      await restartClient();
    }
    return;
  }
  await askKnowledgeBase(c, readInitializationOptions().corpusDir);
}

export function activate(context: vscode.ExtensionContext): void {
  outputChannel = vscode.window.createOutputChannel('Calcinosis LS', { log: true });
  traceOutputChannel = vscode.window.createOutputChannel('Calcinosis LS Trace', { log: true });
  extensionPath = context.extensionPath;
  crestStatus = new CrestStatus(ASK_UI_COMMAND);

  context.subscriptions.push(
    outputChannel,
    traceOutputChannel,
    crestStatus,
    vscode.commands.registerCommand(ASK_UI_COMMAND, ask),
    vscode.commands.registerCommand(RESTART_COMMAND, restartClient),
    vscode.commands.registerCommand(SHOW_OUTPUT_COMMAND, () => outputChannel.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_SETTINGS.some((setting) => event.affectsConfiguration(setting))) {
        outputChannel.appendLine('[client] server settings changed, restarting');
        void restartClient();
      }
    }),
  );

  void enqueue(startClient);
}

export function deactivate(): Promise<void> {
  return enqueue(stopClient);
}
