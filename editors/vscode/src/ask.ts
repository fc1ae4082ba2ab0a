import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

/** One passage returned by the server's `calcinosis.ask` command. */
export interface Answer {
  id: string;
  section: string;
  text: string;
  citations: number[];
  /** 1-based line of the passage in its corpus file. */
  line: number;
  score: number;
  file?: string;
  /** False when the sources do not cover the question: the row is only the nearest statement. */
  answered: boolean;
  /** The composed answer to the whole question (the same on every row). */
  answer?: string;
}

/** The server's command (`workspace/executeCommand`) that answers a question. */
export const ASK_COMMAND = 'calcinosis.ask';
/**
 * The extension's command that asks the user for a question and lists the answers. Its name
 * differs from the server's `calcinosis.ask`, which vscode-languageclient registers itself.
 */
export const ASK_UI_COMMAND = 'calcinosis.askKnowledgeBase';
export const ASK_LIMIT = 10;
const LABEL_MAX = 90;

/** Anything able to send an LSP request (the language client). */
export interface RequestSender {
  sendRequest<R>(method: string, param: unknown, token?: vscode.CancellationToken): Promise<R>;
}

function toAnswer(value: unknown): Answer | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  if (typeof v.text !== 'string') {
    return undefined;
  }
  const num = (x: unknown, fallback: number): number =>
    typeof x === 'number' && Number.isFinite(x) ? x : fallback;
  return {
    id: typeof v.id === 'string' ? v.id : String(v.id ?? ''),
    section: typeof v.section === 'string' ? v.section : '',
    text: v.text,
    citations: Array.isArray(v.citations)
      ? v.citations.filter((c): c is number => typeof c === 'number' && Number.isFinite(c))
      : [],
    line: num(v.line, 1),
    score: num(v.score, 0),
    file: typeof v.file === 'string' && v.file !== '' ? v.file : undefined,
    // A server that predates the field answered every question it returned rows for.
    answered: typeof v.answered === 'boolean' ? v.answered : true,
    answer: typeof v.answer === 'string' && v.answer !== '' ? v.answer : undefined,
  };
}

/** Validates the server's reply; anything that is not a list of answers gives []. */
export function parseAnswers(result: unknown): Answer[] {
  if (!Array.isArray(result)) {
    return [];
  }
  return result.map(toAnswer).filter((a): a is Answer => a !== undefined);
}

export function truncate(text: string, max = LABEL_MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

export function formatScore(score: number): string {
  return Math.abs(score) >= 1 || score === 0 ? score.toFixed(1) : score.toFixed(2);
}

export function answerDetail(a: Answer): string {
  const citations = a.citations.length > 0 ? `citations: ${a.citations.join(', ')}` : 'no citations';
  return `${citations} · score ${formatScore(a.score)}`;
}

interface AnswerItem extends vscode.QuickPickItem {
  answer: Answer;
}

/**
 * Finds the file an answer points at. Absolute paths and URIs are used as they
 * are; a relative path is tried against `calcinosis.corpusDir` and then each
 * workspace folder.
 */
export function resolveAnswerFile(file: string, corpusDir: string | null): vscode.Uri | undefined {
  if (/^[a-zA-Z][\w+.-]+:\/\//.test(file)) {
    try {
      return vscode.Uri.parse(file, true);
    } catch {
      return undefined;
    }
  }
  if (path.isAbsolute(file)) {
    return vscode.Uri.file(file);
  }
  const folders = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
  const bases: string[] = [];
  if (corpusDir) {
    if (path.isAbsolute(corpusDir)) {
      bases.push(corpusDir);
    } else {
      bases.push(...folders.map((f) => path.join(f, corpusDir)));
    }
  }
  bases.push(...folders);
  for (const base of bases) {
    const candidate = path.join(base, file);
    if (fs.existsSync(candidate)) {
      return vscode.Uri.file(candidate);
    }
  }
  return undefined;
}

async function openAnswer(answer: Answer, corpusDir: string | null): Promise<void> {
  if (answer.file === undefined) {
    const copy = 'Copy text';
    const choice = await vscode.window.showInformationMessage(truncate(answer.text, 500), copy);
    if (choice === copy) {
      await vscode.env.clipboard.writeText(answer.text);
    }
    return;
  }
  const uri = resolveAnswerFile(answer.file, corpusDir);
  if (uri === undefined) {
    void vscode.window.showWarningMessage(
      `Calcinosis LS: cannot find the corpus file "${answer.file}". Set "calcinosis.corpusDir" so relative paths can be resolved.`,
    );
    return;
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const line = Math.min(Math.max(Math.floor(answer.line) - 1, 0), Math.max(doc.lineCount - 1, 0));
  const range = new vscode.Range(line, 0, line, doc.lineAt(line).text.length);
  const editor = await vscode.window.showTextDocument(doc, {
    selection: new vscode.Range(range.start, range.start),
    preview: true,
  });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** Text selected in the active editor, when it makes a plausible question. */
function selectedText(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.selection.isEmpty) {
    return undefined;
  }
  const text = editor.document.getText(editor.selection).replace(/\s+/g, ' ').trim();
  return text !== '' && text.length <= 200 ? text : undefined;
}

/**
 * The `calcinosis.askKnowledgeBase` command: asks for a question, sends it to the server
 * as `workspace/executeCommand`, and lists the answers in a QuickPick.
 */
export async function askKnowledgeBase(client: RequestSender, corpusDir: string | null): Promise<void> {
  const question = await vscode.window.showInputBox({
    title: 'Calcinosis: Ask the knowledge base',
    prompt: 'Ask a question about calcinosis',
    placeHolder: 'e.g. Which treatments are used for dystrophic calcinosis?',
    value: selectedText(),
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '' ? 'Type a question.' : undefined),
  });
  if (question === undefined || question.trim() === '') {
    return;
  }
  const q = question.trim();

  let result: unknown;
  try {
    result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Calcinosis: searching the knowledge base…',
        cancellable: true,
      },
      (_progress, token) =>
        client.sendRequest<unknown>(
          'workspace/executeCommand',
          { command: ASK_COMMAND, arguments: [q, ASK_LIMIT] },
          token,
        ),
    );
  } catch (err) {
    if (err instanceof vscode.CancellationError || (err as { code?: number })?.code === -32800) {
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Calcinosis LS: the question failed: ${message}`);
    return;
  }

  const answers = parseAnswers(result);
  if (answers.length === 0) {
    void vscode.window.showInformationMessage(`Calcinosis LS: no answers found for "${truncate(q, 80)}".`);
    return;
  }

  // Abstention is shown as such: the rows are then only the nearest statements, and the
  // title says that the sources do not cover the question.
  const answered = answers[0].answered;
  const composed = answers[0].answer;
  const items: AnswerItem[] = answers.map((answer) => ({
    label: truncate(answer.text),
    description: answer.section,
    detail: answered ? answerDetail(answer) : `nearest statement, not an answer · ${answerDetail(answer)}`,
    answer,
  }));
  const title = answered
    ? `${answers.length} answer${answers.length === 1 ? '' : 's'} for "${truncate(q, 60)}"`
    : `The sources do not cover "${truncate(q, 60)}": the nearest statements, which do not answer it`;
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: composed !== undefined ? truncate(composed, 200) : 'Select an answer to open its source',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (picked !== undefined) {
    await openAnswer(picked.answer, corpusDir);
  }
}
