import * as vscode from 'vscode';

/** Configuration section shared by every setting of this extension. */
export const SECTION = 'calcinosis';

/** Languages the server always handles; `calcinosis.languageIds` adds to these. */
export const DEFAULT_LANGUAGE_IDS: readonly string[] = ['plaintext', 'markdown', 'clinical-note'];

export type DiagnosticSeveritySetting = 'hint' | 'information' | 'warning';

export interface DiagnosticsSettings {
  enable: boolean;
  severity: DiagnosticSeveritySetting;
  summaryThreshold: number;
  misspellings: boolean;
}

/**
 * What the server receives as `initializationOptions`. The same keys (plus
 * `server.path` and `trace.server`) arrive later as
 * `workspace/didChangeConfiguration` `{ settings: { calcinosis: { ... } } }`.
 */
export interface InitializationOptions {
  corpusDir: string | null;
  indexDir: string | null;
  diagnostics: DiagnosticsSettings;
  languageIds: string[];
}

const SEVERITIES: readonly DiagnosticSeveritySetting[] = ['hint', 'information', 'warning'];

function optionalString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** Extra language ids from the settings: strings only, trimmed, no duplicates. */
export function extraLanguageIds(config = vscode.workspace.getConfiguration(SECTION)): string[] {
  const raw = config.get<unknown>('languageIds', []);
  if (!Array.isArray(raw)) {
    return [];
  }
  const ids = raw
    .filter((id): id is string => typeof id === 'string')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  return [...new Set(ids)];
}

/** Every language id the client attaches the server to. */
export function allLanguageIds(config = vscode.workspace.getConfiguration(SECTION)): string[] {
  return [...new Set([...DEFAULT_LANGUAGE_IDS, ...extraLanguageIds(config)])];
}

export function readInitializationOptions(
  config = vscode.workspace.getConfiguration(SECTION),
): InitializationOptions {
  const severity = config.get<string>('diagnostics.severity', 'information');
  const threshold = Number(config.get<unknown>('diagnostics.summaryThreshold', 3));
  return {
    corpusDir: optionalString(config.get<unknown>('corpusDir', null)),
    indexDir: optionalString(config.get<unknown>('indexDir', null)),
    diagnostics: {
      enable: config.get<boolean>('diagnostics.enable', true) !== false,
      severity: (SEVERITIES as readonly string[]).includes(severity)
        ? (severity as DiagnosticSeveritySetting)
        : 'information',
      summaryThreshold: Number.isFinite(threshold)
        ? Math.min(5, Math.max(1, Math.round(threshold)))
        : 3,
      misspellings: config.get<boolean>('diagnostics.misspellings', true) !== false,
    },
    languageIds: extraLanguageIds(config),
  };
}
