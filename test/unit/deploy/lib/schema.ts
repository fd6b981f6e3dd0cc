import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import ts from 'typescript';
import { type Manifest, repoRoot, where } from './manifests.ts';

interface Kind {
  model: new (data: never) => { validate(): void };
  /** Where kubernetes-models declares the object's TypeScript interface, for the unknown-field check. */
  typeModule: string;
  typeName: string;
}

/** The kinds kube/ may use. Anything else is reported, so a new kind gets a schema here first. */
export const kinds: Record<string, Kind> = {
  'v1/Namespace': { model: Namespace, typeModule: 'kubernetes-models/v1/Namespace', typeName: 'INamespace' },
  'v1/ConfigMap': { model: ConfigMap, typeModule: 'kubernetes-models/v1/ConfigMap', typeName: 'IConfigMap' },
  'v1/Secret': { model: Secret, typeModule: 'kubernetes-models/v1/Secret', typeName: 'ISecret' },
  'v1/Service': { model: Service, typeModule: 'kubernetes-models/v1/Service', typeName: 'IService' },
  'apps/v1/Deployment': {
    model: Deployment,
    typeModule: 'kubernetes-models/apps/v1/Deployment',
    typeName: 'IDeployment',
  },
  'apps/v1/StatefulSet': {
    model: StatefulSet,
    typeModule: 'kubernetes-models/apps/v1/StatefulSet',
    typeName: 'IStatefulSet',
  },
  'batch/v1/Job': { model: Job, typeModule: 'kubernetes-models/batch/v1/Job', typeName: 'IJob' },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    typeModule: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    typeName: 'IPodDisruptionBudget',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    typeModule: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    typeName: 'IHorizontalPodAutoscaler',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    model: NetworkPolicy,
    typeModule: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    typeName: 'INetworkPolicy',
  },
  'networking.k8s.io/v1/Ingress': {
    model: Ingress,
    typeModule: 'kubernetes-models/networking.k8s.io/v1/Ingress',
    typeName: 'IIngress',
  },
};

const kindKey = (m: Manifest): string => `${m.object.apiVersion}/${m.object.kind}`;

/**
 * Validates each object against the Kubernetes OpenAPI schema compiled into kubernetes-models
 * (types, enums, required fields) and, separately, rejects fields the schema does not define: those
 * schemas allow unknown properties, whereas `kubectl apply` (strict field validation) refuses them, and
 * a misspelt optional field (`readinesProbe`) would otherwise pass every check by simply being ignored.
 */
export function schemaViolations(manifests: readonly Manifest[]): string[] {
  const violations: string[] = [];
  const known: Manifest[] = [];
  for (const manifest of manifests) {
    const kind = kinds[kindKey(manifest)];
    if (!kind) {
      violations.push(`${where(manifest)}: ${kindKey(manifest)} has no schema in test/unit/deploy/lib/schema.ts`);
      continue;
    }
    known.push(manifest);
    try {
      new kind.model(structuredClone(manifest.object) as never).validate();
    } catch (error) {
      violations.push(`${where(manifest)}: ${(error as Error).message}`);
    }
    if (!manifest.object.metadata?.name) violations.push(`${where(manifest)}: metadata.name is missing`);
  }
  const checkFields = fieldChecker();
  for (const manifest of known) {
    for (const path of checkFields(kindKey(manifest), manifest.object)) {
      violations.push(`${where(manifest)}: unknown field ${path}`);
    }
  }
  return violations;
}

let cached: ((kind: string, value: unknown) => string[]) | undefined;

/**
 * Builds, once, a TypeScript program that imports the kinds' interfaces, and walks objects along
 * their types. The interfaces are generated from the same OpenAPI document as the validators, so
 * "a property the interface lacks" is "a field the API server does not know".
 */
function fieldChecker(): (kind: string, value: unknown) => string[] {
  if (cached) return cached;
  const virtualFile = join(repoRoot, 'test/unit/deploy/lib/__kubernetes_types__.ts');
  const entries = Object.entries(kinds);
  const source = entries
    .map(([, k], i) => `import type { ${k.typeName} as T${i} } from '${k.typeModule}';\nexport type K${i} = T${i};`)
    .join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    fileName === virtualFile
      ? ts.createSourceFile(fileName, source, languageVersion)
      : getSourceFile(fileName, languageVersion, ...rest);
  host.fileExists = (fileName) => fileName === virtualFile || fileExists(fileName);
  const program = ts.createProgram([virtualFile], options, host);
  const checker = program.getTypeChecker();
  const sourceFile = program.getSourceFile(virtualFile);
  if (!sourceFile) throw new Error('could not load the kubernetes-models type declarations');
  const unresolved = program
    .getSemanticDiagnostics(sourceFile)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (unresolved.length > 0) throw new Error(`kubernetes-models types did not resolve: ${unresolved.join('; ')}`);

  const types = new Map<string, ts.Type>();
  for (const statement of sourceFile.statements) {
    if (!ts.isTypeAliasDeclaration(statement)) continue;
    const index = Number(statement.name.text.slice(1));
    const entry = entries[index];
    if (entry) types.set(entry[0], checker.getTypeAtLocation(statement.name));
  }

  const walk = (value: unknown, declared: ts.Type, path: string, out: string[]): void => {
    if (value === null || typeof value !== 'object') return;
    const type = checker.getNonNullableType(declared);
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (Array.isArray(value)) {
      const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
      if (element) {
        for (const [i, item] of value.entries()) walk(item, element, `${path}[${i}]`, out);
      }
      return;
    }
    // Unions such as IntOrString hold at most one object shape; primitives are the validator's job.
    const shapes = (type.isUnion() ? type.types : [type]).filter((t) => t.flags & ts.TypeFlags.Object);
    const shape = shapes.length === 1 ? shapes[0] : undefined;
    if (!shape) return;
    const anyKey = checker.getIndexTypeOfType(shape, ts.IndexKind.String);
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      const property = checker.getPropertyOfType(shape, key);
      if (property) walk(child, checker.getTypeOfSymbol(property), childPath, out);
      else if (anyKey) walk(child, anyKey, childPath, out);
      else out.push(childPath);
    }
  };

  cached = (kind, value) => {
    const type = types.get(kind);
    if (!type) return [];
    const out: string[] = [];
    walk(value, type, '', out);
    return out;
  };
  return cached;
}
