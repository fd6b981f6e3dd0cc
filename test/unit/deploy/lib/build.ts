import { join, relative } from 'node:path';
import ts from 'typescript';

export interface BuildConfig {
  /** Problems with the configuration itself (unreadable, emits nothing, compiles tests, ...). */
  violations: string[];
  /** Where tsc writes the JavaScript for a source file, relative to the root (`dist/src/x.js`). */
  outputOf(source: string): string | undefined;
}

/**
 * Reads a tsconfig the way `tsc -p` does (extends resolved) and checks that it emits JavaScript for
 * src/ alone, into dist/ with the src/ prefix kept, so the images' `node dist/src/<entry>.js` holds.
 */
export function readBuildConfig(root: string, file = 'tsconfig.build.json'): BuildConfig {
  const violations: string[] = [];
  const diagnostics: string[] = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, file),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        diagnostics.push(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) return { violations: [`${file}: ${diagnostics.join('; ') || 'unreadable'}`], outputOf: () => undefined };
  for (const error of parsed.errors) {
    // "No inputs were found" only means src/ is empty, which is a matter for the code, not the build.
    if (error.code === 18003) continue;
    violations.push(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  }
  const { options } = parsed;
  if (options.noEmit) violations.push(`${file}: noEmit is set, the build would produce nothing`);
  if (options.emitDeclarationOnly) violations.push(`${file}: emitDeclarationOnly is set`);
  if (relative(root, options.outDir ?? '') !== 'dist') violations.push(`${file}: outDir must be dist`);
  if (relative(root, options.rootDir ?? '') !== '') {
    violations.push(`${file}: rootDir must be the repository root, so that src/x.ts becomes dist/src/x.js`);
  }
  if (!options.rewriteRelativeImportExtensions) {
    violations.push(`${file}: rewriteRelativeImportExtensions is off; emitted imports would still say .ts`);
  }
  for (const name of parsed.fileNames) {
    const path = relative(root, name);
    if (!path.startsWith('src/')) violations.push(`${file}: compiles ${path}, which is not under src/`);
  }
  const outputOf = (source: string): string | undefined => {
    // The file need not exist yet (the entry points are written in parallel); tsc maps names alone.
    const file = join(root, source);
    const withFile = { ...parsed, fileNames: [...new Set([...parsed.fileNames, file])] };
    const js = ts.getOutputFileNames(withFile, file, false).find((f) => f.endsWith('.js'));
    return js === undefined ? undefined : relative(root, js);
  };
  return { violations, outputOf };
}
