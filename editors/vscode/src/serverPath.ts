import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const DEFAULT_SERVER_COMMAND = 'calcinosis-ls';

/** Where a platform-specific .vsix keeps the server, relative to the extension's folder. */
export const BUNDLED_SERVER_DIR = 'server';
/** The file beside the bundled binary naming the VS Code target it was built for. */
export const BUNDLED_TARGET_FILE = 'target';

export interface ResolvedServer {
  /** Absolute path of the executable to spawn. */
  command: string;
  /** True when this is the binary shipped inside the extension. */
  bundled?: boolean;
}

/** A bundled server that cannot run here: built for another platform. */
export interface MismatchedServer {
  /** Path of the bundled binary. */
  bundled: string;
  /** The VS Code target it was built for, e.g. `linux-x64`. */
  builtFor: string;
  /** The VS Code target of this machine, e.g. `darwin-arm64`. */
  running: string;
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

export function isResolved(
  r: ResolvedServer | UnresolvedServer | MismatchedServer,
): r is ResolvedServer {
  return (r as ResolvedServer).command !== undefined;
}

export function isMismatched(
  r: ResolvedServer | UnresolvedServer | MismatchedServer,
): r is MismatchedServer {
  return (r as MismatchedServer).builtFor !== undefined;
}

/**
 * The VS Code target platform of this process (`linux-x64`, `alpine-arm64`, `darwin-arm64`,
 * `win32-x64`, ...), the names `vsce package --target` takes. Linux without glibc is Alpine's
 * musl: a binary linked against glibc does not run there.
 */
export function currentTarget(
  platform: string = process.platform,
  arch: string = process.arch,
  glibc: boolean = hasGlibc(),
): string {
  const os = platform === 'linux' && !glibc ? 'alpine' : platform;
  return `${os}-${arch}`;
}

function hasGlibc(): boolean {
  if (process.platform !== 'linux') {
    return true;
  }
  try {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
      ?.header;
    return header?.glibcVersionRuntime !== undefined;
  } catch {
    // No report available: assume the common case rather than refuse to start.
    return true;
  }
}

/**
 * The server shipped in `<extension>/server/`, if this .vsix carries one. Its `target` file
 * names the platform it was built for; on another platform it is reported, not spawned
 * (spawning it would fail with an obscure ENOEXEC or a missing-loader error).
 */
export function bundledServer(
  extensionPath: string | undefined,
  running: string = currentTarget(),
): ResolvedServer | MismatchedServer | undefined {
  if (extensionPath === undefined) {
    return undefined;
  }
  const dir = path.join(extensionPath, BUNDLED_SERVER_DIR);
  const exe = path.join(dir, DEFAULT_SERVER_COMMAND + (running.startsWith('win32-') ? '.exe' : ''));
  let builtFor: string;
  try {
    builtFor = fs.readFileSync(path.join(dir, BUNDLED_TARGET_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
  const binary = [exe, path.join(dir, DEFAULT_SERVER_COMMAND), path.join(dir, `${DEFAULT_SERVER_COMMAND}.exe`)].find(
    (f) => fs.existsSync(f),
  );
  if (binary === undefined) {
    return undefined;
  }
  if (builtFor !== running) {
    return { bundled: binary, builtFor, running };
  }
  if (!isExecutableFile(binary)) {
    // vsce stores no file modes in some setups: restore the executable bit once.
    try {
      fs.chmodSync(binary, 0o755);
    } catch {
      return undefined;
    }
  }
  return isExecutableFile(binary) ? { command: binary, bundled: true } : undefined;
}

/**
 * The server to start: `calcinosis.server.path` when it is set, otherwise the server bundled
 * in the extension, otherwise `calcinosis-ls` looked up on PATH (and in cargo's bin folder).
 */
export function chooseServer(
  configured: string | undefined,
  workspaceRoot: string | undefined,
  extensionPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedServer | UnresolvedServer | MismatchedServer {
  if ((configured ?? '').trim() !== '') {
    return resolveServerCommand(configured, workspaceRoot, env);
  }
  return bundledServer(extensionPath) ?? resolveServerCommand(undefined, workspaceRoot, env);
}
