import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const DEFAULT_SERVER_COMMAND = 'calcinosis-ls';

export interface ResolvedServer {
  /** Absolute path of the executable to spawn. */
  command: string;
}

export interface UnresolvedServer {
  /** What the user configured (or the default). */
  configured: string;
  /** Places that were searched, for the error message. */
  searched: string[];
  /** Set when the configured path names a file that cannot be executed. */
  notExecutable?: string;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function expandHome(p: string): string {
  if (p === '~') {
    return os.homedir();
  }
  if (p.startsWith('~/') || p.startsWith('~\\')) {
    return path.join(os.homedir(), p.slice(2));
  }
  return p;
}

/** On Windows a bare name may need one of PATHEXT's extensions. */
function candidateNames(name: string): string[] {
  if (process.platform !== 'win32' || path.extname(name) !== '') {
    return [name];
  }
  const exts = (process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((e) => e !== '');
  return [name, ...exts.map((e) => name + e.toLowerCase()), ...exts.map((e) => name + e)];
}

function findIn(dirs: string[], name: string): string | undefined {
  for (const dir of dirs) {
    for (const candidate of candidateNames(name)) {
      const full = path.join(dir, candidate);
      if (isExecutableFile(full)) {
        return full;
      }
    }
  }
  return undefined;
}

/**
 * Turns the `calcinosis.server.path` setting into an executable path.
 *
 * - empty → the default `calcinosis-ls`;
 * - `~` is expanded;
 * - anything containing a path separator is a path: relative ones are
 *   resolved against `workspaceRoot` (if any);
 * - a bare name is searched on PATH, then in cargo's install directory
 *   (`$CARGO_HOME/bin`, `~/.cargo/bin`), since a VS Code started from a
 *   desktop launcher often lacks `~/.cargo/bin` on its PATH.
 */
export function resolveServerCommand(
  configured: string | undefined,
  workspaceRoot: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedServer | UnresolvedServer {
  const setting = (configured ?? '').trim() || DEFAULT_SERVER_COMMAND;
  const expanded = expandHome(setting);

  const looksLikePath =
    path.isAbsolute(expanded) || expanded.includes('/') || expanded.includes('\\');
  if (looksLikePath) {
    const full = path.isAbsolute(expanded)
      ? expanded
      : path.resolve(workspaceRoot ?? process.cwd(), expanded);
    const found = findIn([path.dirname(full)], path.basename(full));
    if (found) {
      return { command: found };
    }
    return fs.existsSync(full)
      ? { configured: setting, searched: [full], notExecutable: full }
      : { configured: setting, searched: [full] };
  }

  const pathDirs = (env.PATH ?? env.Path ?? '')
    .split(path.delimiter)
    .filter((d) => d !== '');
  const cargoDirs = [
    ...(env.CARGO_HOME ? [path.join(env.CARGO_HOME, 'bin')] : []),
    path.join(os.homedir(), '.cargo', 'bin'),
  ];
  const found = findIn(pathDirs, expanded) ?? findIn(cargoDirs, expanded);
  return found
    ? { command: found }
    : { configured: setting, searched: ['PATH', ...cargoDirs] };
}

export function isResolved(r: ResolvedServer | UnresolvedServer): r is ResolvedServer {
  return (r as ResolvedServer).command !== undefined;
}
