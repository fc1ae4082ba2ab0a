import * as vscode from 'vscode';

/** Custom notification the server sends after analysing a document. */
export const CREST_SUMMARY_NOTIFICATION = 'calcinosis/crestSummary';

export type CrestLetter = 'C' | 'R' | 'E' | 'S' | 'T';

export interface CrestSummary {
  uri: string;
  present: CrestLetter[];
  possible: CrestLetter[];
  negated: CrestLetter[];
}

const ORDER: readonly CrestLetter[] = ['C', 'R', 'E', 'S', 'T'];

const NAMES: Record<CrestLetter, string> = {
  C: 'Calcinosis',
  R: "Raynaud's phenomenon",
  E: 'Esophageal dysfunction',
  S: 'Sclerodactyly',
  T: 'Telangiectasia',
};

/** Keeps the CREST letters of the given list, upper-cased, de-duplicated, in C-R-E-S-T order. */
function letters(value: unknown): CrestLetter[] {
  if (!Array.isArray(value)) {
    return [];
  }
  const seen = new Set(
    value.filter((v): v is string => typeof v === 'string').map((v) => v.trim().toUpperCase()),
  );
  return ORDER.filter((l) => seen.has(l));
}

/** Validates the notification's params; undefined when they are unusable. */
export function parseCrestSummary(params: unknown): CrestSummary | undefined {
  if (typeof params !== 'object' || params === null) {
    return undefined;
  }
  const p = params as Record<string, unknown>;
  if (typeof p.uri !== 'string' || p.uri === '') {
    return undefined;
  }
  return {
    uri: p.uri,
    present: letters(p.present),
    possible: letters(p.possible),
    negated: letters(p.negated),
  };
}

/** `file:///C%3A/x` and `file:///c:/x` name the same document: compare normalised URIs. */
export function normaliseUri(uri: string): string {
  try {
    return vscode.Uri.parse(uri, true).toString();
  } catch {
    return uri;
  }
}

export function statusText(s: CrestSummary): string {
  const present = s.present.length > 0 ? `: ${s.present.join(' ')}` : '';
  return `CREST ${s.present.length}/5${present}`;
}

export function statusTooltip(s: CrestSummary): string {
  const describe = (ls: CrestLetter[]): string =>
    ls.length > 0 ? ls.map((l) => `${l} (${NAMES[l]})`).join(', ') : 'none';
  return [
    `CREST summary: ${s.present.length} of 5 features present`,
    `Present: ${describe(s.present)}`,
    `Possible: ${describe(s.possible)}`,
    `Negated: ${describe(s.negated)}`,
    '',
    'Click to ask the knowledge base.',
  ].join('\n');
}

/**
 * Status-bar item showing the CREST summary of the active editor's document.
 * Summaries are remembered per document URI, so switching editors shows the
 * right one without asking the server again.
 */
export class CrestStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly summaries = new Map<string, CrestSummary>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(command: string) {
    this.item = vscode.window.createStatusBarItem(
      'calcinosis.crest',
      vscode.StatusBarAlignment.Right,
      100,
    );
    this.item.name = 'Calcinosis CREST summary';
    this.item.command = command;
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (this.summaries.delete(doc.uri.toString())) {
          this.refresh();
        }
      }),
    );
    this.refresh();
  }

  /** Handler for the `calcinosis/crestSummary` notification. */
  update(params: unknown): void {
    const summary = parseCrestSummary(params);
    if (summary === undefined) {
      return;
    }
    this.summaries.set(normaliseUri(summary.uri), summary);
    this.refresh();
  }

  /** Forget everything (the server stopped or restarted). */
  clear(): void {
    this.summaries.clear();
    this.refresh();
  }

  refresh(): void {
    const doc = vscode.window.activeTextEditor?.document;
    const summary = doc ? this.summaries.get(doc.uri.toString()) : undefined;
    if (summary === undefined) {
      this.item.hide();
      return;
    }
    this.item.text = statusText(summary);
    this.item.tooltip = statusTooltip(summary);
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
    this.summaries.clear();
  }
}
