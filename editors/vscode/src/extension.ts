import * as vscode from 'vscode';
import {
  DynamicFeature,
  ExecuteCommandRegistrationOptions,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RegistrationData,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  StaticFeature,
} from 'vscode-languageclient/node';

import { ASK_COMMAND, askKnowledgeBase } from './ask';
import { CREST_SUMMARY_NOTIFICATION, CrestStatus } from './crestStatus';
import {
  UnresolvedServer,
  isResolved,
  resolveServerCommand,
} from './serverPath';
import { SECTION, allLanguageIds, readInitializationOptions } from './settings';

/** The client id doubles as the settings prefix: the client reads `calcinosis.trace.server`. */
const CLIENT_ID = SECTION;
const CLIENT_NAME = 'Calcinosis LS';
const RESTART_COMMAND = 'calcinosis.restartServer';
const SHOW_OUTPUT_COMMAND = 'calcinosis.showOutput';
/** Commands this extension registers itself; the server must not register them again. */
const EXTENSION_COMMANDS: ReadonlySet<string> = new Set([
  ASK_COMMAND,
  RESTART_COMMAND,
  SHOW_OUTPUT_COMMAND,
]);
/** Settings that need a new server process (or a new document selector) to take effect. */
const RESTART_SETTINGS = [`${SECTION}.server.path`, `${SECTION}.languageIds`];

function isExecuteCommandFeature(
  feature: StaticFeature | DynamicFeature<unknown>,
): feature is DynamicFeature<ExecuteCommandRegistrationOptions> {
  const registrationType = (feature as Partial<DynamicFeature<unknown>>).registrationType;
  return registrationType?.method === ExecuteCommandRequest.method;
}

/**
 * vscode-languageclient turns every command in the server's
 * `executeCommandProvider.commands` into a VS Code command. If the server lists
 * `calcinosis.ask`, that would collide with the extension's own command of the
 * same name ("command already exists") and the client would fail to start, so
 * the extension's commands are filtered out of the server's list.
 */
class CalcinosisLanguageClient extends LanguageClient {
  public override registerFeature(feature: StaticFeature | DynamicFeature<any>): void {
    if (isExecuteCommandFeature(feature)) {
      const register = feature.register.bind(feature);
      feature.register = (data: RegistrationData<ExecuteCommandRegistrationOptions>): void => {
        const commands = (data.registerOptions.commands ?? []).filter(
          (command) => !EXTENSION_COMMANDS.has(command),
        );
        register({ ...data, registerOptions: { ...data.registerOptions, commands } });
      };
    }
    super.registerFeature(feature);
  }
}

let client: CalcinosisLanguageClient | undefined;
let outputChannel: vscode.OutputChannel;
let traceOutputChannel: vscode.OutputChannel;
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
    'Install it by running `cargo install --path .` from the root of the calcinosis-ls repository, ' +
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
  const resolved = resolveServerCommand(config.get<string>('server.path'), workspaceRoot());
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

  outputChannel.appendLine(`[client] starting ${resolved.command} serve`);
  const c = new CalcinosisLanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, buildClientOptions());
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
    const resolved = resolveServerCommand(
      vscode.workspace.getConfiguration(SECTION).get<string>('server.path'),
      workspaceRoot(),
    );
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
  outputChannel = vscode.window.createOutputChannel('Calcinosis LS');
  traceOutputChannel = vscode.window.createOutputChannel('Calcinosis LS Trace');
  crestStatus = new CrestStatus(ASK_COMMAND);

  context.subscriptions.push(
    outputChannel,
    traceOutputChannel,
    crestStatus,
    vscode.commands.registerCommand(ASK_COMMAND, ask),
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
