/**
 * A small Dockerfile reader (enough for this repository's two files: instructions, continuations,
 * flags, exec-form JSON, ARG substitution in FROM) and the invariants of the images, as pure
 * functions over the text so tests can break a copy.
 */

export interface Instruction {
  keyword: string;
  /** Everything after the keyword and its --flags. */
  args: string;
  flags: Record<string, string>;
  line: number;
}

export interface Stage {
  index: number;
  name: string | undefined;
  /** The base image with global ARG defaults substituted. */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Map<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: { text: string; line: number }[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (buffer === '' && /^\s*(#.*)?$/.test(line)) return;
    if (buffer === '') start = i + 1;
    if (/^\s*#/.test(line)) return;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    logical.push({ text: (buffer + line).trim(), line: start });
    buffer = '';
  });
  if (buffer.trim() !== '') logical.push({ text: buffer.trim(), line: start });

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const { text: statement, line } of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(statement) ?? [];
    const flags: Record<string, string> = {};
    let args = rest;
    for (let flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(args); flag; flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(args)) {
      flags[flag[1] as string] = flag[2] ?? '';
      args = args.slice(flag[0].length);
    }
    const instruction: Instruction = { keyword: keyword.toUpperCase(), args, flags, line };
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      const base = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, arg: string) => globalArgs.get(arg) ?? '');
      stages.push({
        index: stages.length,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        base,
        instructions: [instruction],
      });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name = '', value = ''] = args.split('=');
      globalArgs.set(name.trim(), value.trim());
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

const execForm = (args: string): string[] | undefined => {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
};

/** Sources and destination of a COPY, exec (JSON) form or plain. */
export const copyPaths = (instruction: Instruction): { sources: string[]; destination: string } => {
  const parts = execForm(instruction.args) ?? instruction.args.split(/\s+/).filter(Boolean);
  return { sources: parts.slice(0, -1), destination: parts.at(-1) ?? '' };
};

const normalise = (path: string) =>
  path
    .replace(/^\.\//, '')
    .replace(/^\/app\//, '')
    .replace(/\/$/, '');

export interface ImageExpectation {
  /** The compiled entry point the image runs, relative to WORKDIR, e.g. dist/src/command-service.js. */
  entry: string;
  port: number;
  /** The day end-of-life dates are compared with; today by default. */
  today?: Date;
}

/**
 * The image is multi-stage; the final stage is a slim/alpine image of a Node LTS line still supported
 * (`NODE_LTS_END_OF_LIFE`) that runs `node <entry>`
 * as a numeric non-root user and holds only what runs: production node_modules from a stage that
 * installed with `npm ci --omit=dev`, compiled output under dist/ from a stage that ran tsc, and
 * package.json (it carries "type": "module"). Dependencies come before code, so that a code change
 * rebuilds the small layer only. No secrets in ARG or ENV.
 */
/** End of life of the Node LTS lines (nodejs.org release schedule); an image on none of them is refused. */
export const NODE_LTS_END_OF_LIFE: Readonly<Record<number, string>> = {
  20: '2026-04-30',
  22: '2027-04-30',
  24: '2028-04-30',
};

/** The Node major of an official image reference such as `node:24-slim` or `node:24.3.0-alpine@sha256:...`. */
export function nodeMajorOf(base: string): number | undefined {
  const match = /^node:(\d+)(\.[\d.]+)?-(slim|alpine)[\w.-]*(@sha256:[0-9a-f]{64})?$/.exec(base);
  return match ? Number(match[1]) : undefined;
}

export function dockerfileViolations(text: string, expected: ImageExpectation): string[] {
  const violations: string[] = [];
  const { stages } = parseDockerfile(text);
  if (stages.length < 2) violations.push(`must be multi-stage, has ${stages.length} stage(s)`);
  const final = stages.at(-1);
  if (!final) return violations;
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name as string, s]));
  const stageRuns = (stage: Stage | undefined, pattern: RegExp) =>
    !!stage?.instructions.some((i) => i.keyword === 'RUN' && pattern.test(i.args));

  const major = nodeMajorOf(final.base);
  const endOfLife = major === undefined ? undefined : NODE_LTS_END_OF_LIFE[major];
  if (!endOfLife) {
    violations.push(
      `final stage base ${final.base || '(unresolved)'} is not node:<LTS>-slim or -alpine, LTS one of ${Object.keys(NODE_LTS_END_OF_LIFE).join(', ')}`,
    );
  } else if (new Date(endOfLife) <= (expected.today ?? new Date())) {
    violations.push(`final stage base ${final.base}: Node ${major} reached its end of life on ${endOfLife}`);
  }

  const users = final.instructions.filter((i) => i.keyword === 'USER');
  const user = users.at(-1)?.args.trim();
  const uid = /^(\d+)(:\d+)?$/.exec(user ?? '');
  if (!user) violations.push('final stage has no USER: it would run as root');
  else if (!uid) violations.push(`final USER ${user} is not numeric: Kubernetes cannot verify runAsNonRoot on a name`);
  else if (Number(uid[1]) === 0) violations.push('final USER is root');

  let sawDependencies = false;
  let sawCode = false;
  for (const instruction of final.instructions) {
    const at = `line ${instruction.line}`;
    if (instruction.keyword === 'ADD') violations.push(`${at}: ADD in the final stage (use COPY of a known path)`);
    if (instruction.keyword === 'RUN' && /\bnpm\s+(ci|install|i)\b/.test(instruction.args)) {
      violations.push(`${at}: installs packages in the final stage (copy them from a dependencies stage)`);
    }
    if (instruction.keyword !== 'COPY') continue;
    const from = instruction.flags.from;
    const source = from === undefined ? undefined : (byName.get(from) ?? stages[Number(from)]);
    if (from !== undefined && (!source || source.index >= final.index)) {
      violations.push(`${at}: COPY --from=${from} names no earlier stage`);
      continue;
    }
    for (const path of copyPaths(instruction).sources.map(normalise)) {
      if (!source) {
        if (path === 'package.json') continue;
        violations.push(`${at}: copies ${path || '.'} from the build context into the final stage`);
      } else if (path === 'node_modules') {
        if (!stageRuns(source, /\bnpm\s+ci\b.*--omit=dev/)) {
          violations.push(`${at}: node_modules must come from a stage that ran npm ci --omit=dev`);
        }
        if (sawCode) violations.push(`${at}: dependencies after code: every code change would rebuild them`);
        sawDependencies = true;
      } else if (path === 'dist' || path.startsWith('dist/')) {
        if (!stageRuns(source, /\btsc\b/)) violations.push(`${at}: ${path} must come from the stage that runs tsc`);
        sawCode = true;
      } else {
        violations.push(`${at}: copies ${path} into the final stage, which is neither dependencies nor compiled code`);
      }
    }
  }
  if (!sawDependencies) violations.push('final stage copies no production node_modules');
  if (!sawCode) violations.push('final stage copies no compiled code from dist/');

  const command = final.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  const argv = command && execForm(command.args);
  if (final.instructions.some((i) => i.keyword === 'ENTRYPOINT')) {
    violations.push('final stage sets ENTRYPOINT; the command must be plain node');
  }
  if (!argv) violations.push('CMD must be in exec form (JSON), so node is PID 1 and receives SIGTERM');
  else if (argv[0] !== 'node' || argv.at(-1) !== expected.entry) {
    violations.push(`CMD ${JSON.stringify(argv)} does not run node ${expected.entry}`);
  }
  const exposed = final.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  if (!exposed.includes(String(expected.port))) violations.push(`does not EXPOSE ${expected.port}`);

  for (const stage of stages) {
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'RUN' && /\bnpm\s+(install|i)\b/.test(instruction.args)) {
        violations.push(`line ${instruction.line}: npm install; use npm ci, which installs the lockfile exactly`);
      }
      if (instruction.keyword !== 'ENV' && instruction.keyword !== 'ARG') continue;
      if (/PASSWORD|TOKEN|SECRET|DATABASE_URL|MONGO_URL|KEY\b/i.test(instruction.args)) {
        violations.push(`line ${instruction.line}: ${instruction.keyword} looks like a secret baked into the image`);
      }
    }
  }
  return violations;
}

/** Paths the build context receives from the Dockerfile's COPY instructions without --from. */
export function contextSources(text: string): string[] {
  return parseDockerfile(text)
    .stages.flatMap((s) => s.instructions)
    .filter((i) => i.keyword === 'COPY' && i.flags.from === undefined)
    .flatMap((i) => copyPaths(i).sources.map(normalise));
}

interface IgnorePattern {
  negated: boolean;
  regex: RegExp;
}

const toRegex = (pattern: string): RegExp => {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        source += '(?:.*/)?';
      } else source += '.*';
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
};

export const parseDockerignore = (text: string): IgnorePattern[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const pattern = (negated ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { negated, regex: toRegex(pattern) };
    });

/** Docker's rule: the last pattern matching the path or one of its parent directories decides. */
export function ignored(patterns: readonly IgnorePattern[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let result = false;
  for (const { negated, regex } of patterns) {
    if (prefixes.some((p) => regex.test(p))) result = !negated;
  }
  return result;
}

/** What the build needs reaches the context; what must never be in an image does not. */
export function dockerignoreViolations(
  text: string,
  needed: readonly string[],
  forbidden: readonly string[],
): string[] {
  const patterns = parseDockerignore(text);
  return [
    ...needed.filter((p) => ignored(patterns, p) === true).map((p) => `${p} is needed by the build but ignored`),
    ...forbidden.filter((p) => !ignored(patterns, p)).map((p) => `${p} would be sent to the build context`),
  ];
}
