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
  debounceMs: number;
  maxPerDocument: number;
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

/**
 * The server's bounds for its whole-number settings (src/server/config.rs; the same as
 * package.json's `minimum`/`maximum`), and its defaults.
 */
const BOUNDS = {
  summaryThreshold: { min: 1, max: 5, fallback: 3 },
  debounceMs: { min: 0, max: 5000, fallback: 30 },
  maxPerDocument: { min: 1, max: 100_000, fallback: 1000 },
} as const;

/** A whole number within the server's bounds: a hand-edited settings.json can hold anything. */
function boundedInteger(value: unknown, bounds: { min: number; max: number; fallback: number }): number {
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(bounds.max, Math.max(bounds.min, Math.round(n))) : bounds.fallback;
}

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
  return {
    corpusDir: optionalString(config.get<unknown>('corpusDir', null)),
    indexDir: optionalString(config.get<unknown>('indexDir', null)),
    diagnostics: {
      enable: config.get<boolean>('diagnostics.enable', true) !== false,
      severity: (SEVERITIES as readonly string[]).includes(severity)
        ? (severity as DiagnosticSeveritySetting)
        : 'information',
      summaryThreshold: boundedInteger(
        config.get<unknown>('diagnostics.summaryThreshold', BOUNDS.summaryThreshold.fallback),
        BOUNDS.summaryThreshold,
      ),
      misspellings: config.get<boolean>('diagnostics.misspellings', true) !== false,
      debounceMs: boundedInteger(
        config.get<unknown>('diagnostics.debounceMs', BOUNDS.debounceMs.fallback),
        BOUNDS.debounceMs,
      ),
      maxPerDocument: boundedInteger(
        config.get<unknown>('diagnostics.maxPerDocument', BOUNDS.maxPerDocument.fallback),
        BOUNDS.maxPerDocument,
      ),
    },
    languageIds: extraLanguageIds(config),
  };
}
