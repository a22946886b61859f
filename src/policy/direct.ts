// A direct evaluator for the common shape of policy conditions: field reads from the request, literals, comparisons,
// `!`, `&&` and `||` (`params.amount > 1000 && request.target.environment != "production"`). cel-js resolves the
// operator overloads of `dyn` values on every call, which made up most of a decision's cost. This path computes the
// same value with plain JavaScript, and only where the result is certain to be cel-js's own: for every value outside
// what it handles (a missing key, null, a timestamp, a list, mixed-type equality, a non-bool operand) it answers
// UNHANDLED and the caller evaluates the condition with cel-js, which then produces the value or the error it always did.
// It never throws and never decides on its own; test/unit/policy-direct.test.ts compares it with cel-js over a corpus.

/** The answer for a value the direct path does not decide: evaluate the condition with cel-js instead. */
export const UNHANDLED: unique symbol = Symbol('unhandled');

type Context = Record<string, unknown>;
type Step = (ctx: Context) => unknown;

interface AstNode {
  op: string;
  args: unknown;
}

/**
 * A direct evaluator for a parsed condition (cel-js `parse(...).ast`), or undefined when the expression uses anything
 * outside the handled subset. `variables` are the context variables declared as `dyn` (read straight from the context).
 * The evaluator returns a boolean, or UNHANDLED.
 */
export function compileDirect(
  ast: unknown,
  variables: ReadonlySet<string>,
): ((ctx: Context) => boolean | typeof UNHANDLED) | undefined {
  const top = step(ast, variables);
  if (!top) return undefined;
  return (ctx) => {
    const value = top(ctx);
    return typeof value === 'boolean' ? value : UNHANDLED;
  };
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).op === 'string';
}

/** A primitive cel-js maps to string, int, double or bool. */
function isScalar(value: unknown): value is string | number | bigint | boolean {
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean';
}

/** An object cel-js reads fields of as a map: exactly the constructors its field access accepts as one. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const ctor = (value as { constructor?: unknown }).constructor;
  return ctor === Object || ctor === undefined;
}

/** A value the direct path passes on: a scalar, or a plain object to read a field of next. */
function passable(value: unknown): boolean {
  return isScalar(value) || isPlainObject(value);
}

function literal(node: AstNode): { value: string | number | bigint | boolean } | undefined {
  if (node.op === 'value') return isScalar(node.args) ? { value: node.args } : undefined;
  if (node.op === '-_' && isNode(node.args) && node.args.op === 'value') {
    const v = node.args.args;
    if (typeof v === 'bigint') return { value: -v };
    if (typeof v === 'number') return { value: -v };
  }
  return undefined;
}

function step(ast: unknown, variables: ReadonlySet<string>): Step | undefined {
  if (!isNode(ast)) return undefined;
  const constant = literal(ast);
  if (constant) {
    const { value } = constant;
    return () => value;
  }
  switch (ast.op) {
    case 'id': {
      const name = ast.args;
      if (typeof name !== 'string' || !variables.has(name)) return undefined;
      return (ctx) => {
        const value = ctx[name];
        return passable(value) ? value : UNHANDLED;
      };
    }
    case '.': {
      const path = fieldPath(ast, variables);
      if (!path) return undefined;
      const [name, ...fields] = path;
      // One step for the whole `variable.field.field` chain: each link must be a plain object owning the field.
      return (ctx) => {
        let value = ctx[name];
        for (const field of fields) {
          if (!isPlainObject(value) || !Object.hasOwn(value, field)) return UNHANDLED;
          value = value[field];
        }
        return passable(value) ? value : UNHANDLED;
      };
    }
    case '!_': {
      const operand = step(ast.args, variables);
      if (!operand) return undefined;
      return (ctx) => {
        const value = operand(ctx);
        return typeof value === 'boolean' ? !value : UNHANDLED;
      };
    }
    case '&&':
    case '||': {
      const [l, r] = binary(ast, variables) ?? [];
      if (!l || !r) return undefined;
      // cel-js: a bool left operand decides `false && …` / `true || …`; otherwise the right operand is the result.
      const decisive = ast.op === '||';
      return (ctx) => {
        const left = l(ctx);
        if (typeof left !== 'boolean') return UNHANDLED;
        if (left === decisive) return left;
        const right = r(ctx);
        return typeof right === 'boolean' ? right : UNHANDLED;
      };
    }
    case '==':
    case '!=': {
      const [l, r] = binary(ast, variables) ?? [];
      if (!l || !r) return undefined;
      const negate = ast.op === '!=';
      // Same-type equality only: cel-js compares string, bool, int and double values of one type with `===`.
      return (ctx) => {
        const left = l(ctx);
        const right = r(ctx);
        if (left === UNHANDLED || right === UNHANDLED || !isScalar(left) || typeof left !== typeof right)
          return UNHANDLED;
        return negate ? left !== right : left === right;
      };
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const [l, r] = binary(ast, variables) ?? [];
      if (!l || !r) return undefined;
      const compare = ORDER[ast.op];
      // cel-js orders string/string, bool/bool and any mix of int and double with JavaScript's own operators.
      return (ctx) => {
        const left = l(ctx);
        const right = r(ctx);
        if (!orderable(left, right)) return UNHANDLED;
        return compare(left, right as Ordered);
      };
    }
    default:
      return undefined;
  }
}

/** `[variable, field, …]` of a field chain on a declared variable, or undefined for any other shape. */
function fieldPath(ast: AstNode, variables: ReadonlySet<string>): [string, ...string[]] | undefined {
  const fields: string[] = [];
  let node: unknown = ast;
  while (isNode(node) && node.op === '.') {
    const [target, field] = Array.isArray(node.args) ? (node.args as unknown[]) : [];
    if (typeof field !== 'string') return undefined;
    fields.unshift(field);
    node = target;
  }
  if (!isNode(node) || node.op !== 'id' || typeof node.args !== 'string' || !variables.has(node.args)) return undefined;
  return [node.args, ...fields];
}

function binary(ast: AstNode, variables: ReadonlySet<string>): [Step | undefined, Step | undefined] | undefined {
  if (!Array.isArray(ast.args) || ast.args.length !== 2) return undefined;
  return [step(ast.args[0], variables), step(ast.args[1], variables)];
}

type Ordered = string | number | bigint | boolean;

const ORDER: Record<'<' | '<=' | '>' | '>=', (a: Ordered, b: Ordered) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function orderable(left: unknown, right: unknown): left is Ordered {
  const l = typeof left;
  const r = typeof right;
  if (l === 'number' || l === 'bigint') return r === 'number' || r === 'bigint';
  return (l === 'string' || l === 'boolean') && l === r;
}
