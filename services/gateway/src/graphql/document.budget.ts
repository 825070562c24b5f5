import { Kind, type ASTNode, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from './graphql-js.js';
import { AppError, ErrorCode } from '@remotegpu/core';

/**
 * The first check every GraphQL document passes, over HTTP and graphql-ws alike, before graphql-js validates
 * it (DESIGN §4). It needs no schema and runs in time linear in the document: each fragment is measured once,
 * then counted as many times as it is spread. Everything after it (graphql-js's validation rules, the
 * schema-aware cost estimate, execution) walks the document with fragments expanded, so a document that gets
 * past this check is small once expanded, and those walks are too. Without it, a 2 KB document whose
 * fragments each spread the next one twice expands to 2^30 fields, and expanding it froze the whole process.
 */
export interface DocumentBudget {
  /** Deepest field path, introspection fields not counted. */
  maxDepth: number;
  /** Fields once every fragment is expanded: a lower bound of the schema-aware cost, so the same limit applies. */
  maxCost: number;
  /** Fragment spreads written in the document; real operations use a few dozen at most. */
  maxFragmentSpreads: number;
}

/** Far above what generated client documents use, far below what makes the linear walk itself matter. */
export const MAX_FRAGMENT_SPREADS = 500;

export interface BudgetRefusal {
  error: AppError;
  /** Where the refused part starts, for the error's `locations`. */
  node?: ASTNode;
}

/** The measure of one operation or fragment: its deepest field path and its field count, both expanded. */
interface Extent {
  depth: number;
  /** Saturates at the budget's maxCost + 1: anything above the limit is refused, however far above. */
  fields: number;
}

/** `depth` undefined: too deep to measure at all (see budgetRefusal). */
function tooDeep(depth: number | undefined, max: number): AppError {
  const zh = depth === undefined ? '查询嵌套过深，' : `查询嵌套深度 ${depth} `;
  const en = depth === undefined ? 'The query is nested far too deep' : `The query is nested ${depth} levels deep`;
  return new AppError(
    ErrorCode.BadRequest,
    { zh: `${zh}超过上限 ${max}，请减少嵌套层级`, en: `${en}; the limit is ${max}. Request fewer nested fields.` },
    { reason: 'depth_limit' },
  );
}

function tooLarge(max: number): AppError {
  return new AppError(
    ErrorCode.BadRequest,
    {
      zh: `查询展开片段后超过 ${max} 个字段（成本上限 ${max}），请减少字段或片段的使用次数`,
      en: `The query expands to more than ${max} fields once its fragments are expanded; the cost limit is ${max}. Request fewer fields or spread fragments fewer times.`,
    },
    { reason: 'cost_limit' },
  );
}

function tooManySpreads(count: number, max: number): AppError {
  return new AppError(
    ErrorCode.BadRequest,
    {
      zh: `文档包含 ${count} 个片段展开（...），上限为 ${max}`,
      en: `The document contains ${count} fragment spreads (...); the limit is ${max}.`,
    },
    { reason: 'fragment_limit' },
  );
}

function fragmentCycle(name: string): AppError {
  // graphql-js's NoFragmentCycles says the same; this check must stop at a cycle before validation runs.
  const message = `Cannot spread fragment "${name}" within itself.`;
  return new AppError(ErrorCode.BadRequest, { zh: message, en: message }, { reason: 'fragment_cycle' });
}

/** Thrown inside the walk to stop it at once; never leaves this module. */
class Refused extends Error {
  constructor(readonly refusal: BudgetRefusal) {
    super(refusal.error.message);
  }
}

/** Counts `...Name` spreads anywhere in the document, with an explicit stack (no recursion, no expansion). */
function countSpreads(document: DocumentNode): number {
  let count = 0;
  const pending: SelectionSetNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) pending.push(definition.selectionSet);
  }
  for (let set = pending.pop(); set; set = pending.pop()) {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) count += 1;
      else if (selection.selectionSet) pending.push(selection.selectionSet);
    }
  }
  return count;
}

class Measurer {
  private readonly fragments = new Map<string, FragmentDefinitionNode[]>();
  /** 'visiting' while a fragment is being measured: meeting it again means a cycle. */
  private readonly measured = new Map<string, Extent | 'visiting'>();
  private readonly cap: number;

  constructor(document: DocumentNode, budget: DocumentBudget) {
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
      const list = this.fragments.get(definition.name.value) ?? [];
      list.push(definition);
      this.fragments.set(definition.name.value, list);
    }
    this.cap = budget.maxCost + 1;
  }

  private add(a: number, b: number): number {
    return Math.min(this.cap, a + b);
  }

  /**
   * A fragment's extent, computed on first use only. Two fragments with one name are invalid (validation
   * says so later); until then the larger one counts, whichever a later walk would pick.
   */
  fragment(name: string): Extent {
    const known = this.measured.get(name);
    if (known === 'visiting') throw new Refused({ error: fragmentCycle(name), node: this.fragments.get(name)?.[0] });
    if (known) return known;
    this.measured.set(name, 'visiting');
    let extent: Extent = { depth: 0, fields: 0 }; // an unknown fragment: validation reports it
    for (const definition of this.fragments.get(name) ?? []) {
      const own = this.introspective(definition.typeCondition.name.value, this.selectionSet(definition.selectionSet));
      extent = { depth: Math.max(extent.depth, own.depth), fields: Math.max(extent.fields, own.fields) };
    }
    this.measured.set(name, extent);
    return extent;
  }

  /**
   * A fragment on an introspection type (`fragment TypeRef on __Type`, as GraphiQL's and graphql-js's standard
   * introspection query define) is introspection too: no depth, fields still counted. Measured on its own, the
   * standard query's TypeRef is 13 levels deep and would refuse every schema-loading tool.
   */
  private introspective(typeName: string | undefined, extent: Extent): Extent {
    return typeName?.startsWith('__') ? { depth: 0, fields: extent.fields } : extent;
  }

  /** `{ a { b } }` is 2 deep and 2 fields; a fragment spread adds the fragment's fields, and its depth in place. */
  selectionSet(set: SelectionSetNode): Extent {
    let depth = 0;
    let fields = 0;
    for (const selection of set.selections) {
      let inner: Extent;
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet ? this.selectionSet(selection.selectionSet) : { depth: 0, fields: 0 };
        // Introspection (`__schema`, `__type`) does not count towards depth, as in graphql-depth-limit: the
        // standard introspection query is deeper than any real operation. Its fields still count.
        inner = { depth: selection.name.value.startsWith('__') ? 0 : 1 + below.depth, fields: this.add(1, below.fields) };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = this.introspective(selection.typeCondition?.name.value, this.selectionSet(selection.selectionSet));
      } else {
        inner = this.fragment(selection.name.value);
      }
      depth = Math.max(depth, inner.depth);
      fields = this.add(fields, inner.fields);
    }
    return { depth, fields };
  }
}

/**
 * The refusal of a document over budget, or undefined when it fits. Every operation and every fragment is
 * checked, used or not: graphql-js validates all of them, not only the operation that will run.
 */
export function budgetRefusal(document: DocumentNode, budget: DocumentBudget): BudgetRefusal | undefined {
  const spreads = countSpreads(document);
  if (spreads > budget.maxFragmentSpreads) return { error: tooManySpreads(spreads, budget.maxFragmentSpreads) };
  const measurer = new Measurer(document, budget);
  try {
    // Operations first, so a too-deep query reports its own depth rather than one of its fragments'.
    const definitions = [...document.definitions].sort((a, b) => Number(b.kind === Kind.OPERATION_DEFINITION) - Number(a.kind === Kind.OPERATION_DEFINITION));
    for (const definition of definitions) {
      let extent: Extent;
      if (definition.kind === Kind.OPERATION_DEFINITION) extent = measurer.selectionSet(definition.selectionSet);
      else if (definition.kind === Kind.FRAGMENT_DEFINITION) extent = measurer.fragment(definition.name.value);
      else continue;
      if (extent.depth > budget.maxDepth) return { error: tooDeep(extent.depth, budget.maxDepth), node: definition };
      if (extent.fields > budget.maxCost) return { error: tooLarge(budget.maxCost), node: definition };
    }
  } catch (err) {
    if (err instanceof Refused) return err.refusal;
    // Nesting deep enough to exhaust the stack is far past any depth limit.
    if (err instanceof RangeError) return { error: tooDeep(undefined, budget.maxDepth) };
    throw err;
  }
  return undefined;
}
