import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

/**
 * Renders a Helm chart's templates the way `helm template` does, for the subset of Go templates
 * and Sprig functions Capstan's chart uses; there is no helm binary on the test machines. Actions:
 * output, `if`/`else if`/`else`, `with`, `range` (with variables), `define`, `template`, variable
 * declarations, trim markers and comments. A function or construct outside the subset throws, so
 * a template using something new fails its test instead of rendering wrongly.
 */

type Value = unknown;
type Scope = { dot: Value; vars: Map<string, Value>[] };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | { kind: 'if'; branches: { pipe: Pipe; body: Node[] }[]; otherwise: Node[] }
  | { kind: 'with'; pipe: Pipe; body: Node[]; otherwise: Node[] }
  | { kind: 'range'; pipe: Pipe; body: Node[]; otherwise: Node[] }
  | { kind: 'template'; name: string; pipe: Pipe | null };

interface Pipe {
  decl: string[];
  commands: Term[][];
}

type Term =
  | { kind: 'field'; base: 'dot' | { variable: string } | { pipe: Pipe }; path: string[] }
  | { kind: 'literal'; value: Value }
  | { kind: 'function'; name: string };

export class HelmTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelmTemplateError';
  }
}

export interface RenderedChart {
  /** Every rendered object, in template order. */
  objects: Record<string, unknown>[];
  /** The rendered text of each template file, NOTES.txt included. */
  files: Record<string, string>;
}

/** `helm template <release> <chart> --namespace <namespace> --set ...` with values as an object. */
export function renderChart(chartDir: string, options: { release?: string; namespace?: string; values?: Record<string, unknown> } = {}): RenderedChart {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const values = mergeValues(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>, options.values ?? {});
  const root = {
    Values: values,
    Release: { Name: options.release ?? 'capstan', Namespace: options.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion, Description: chart.description },
  };
  const templatesDir = join(chartDir, 'templates');
  const names = readdirSync(templatesDir).sort();
  const defines = new Map<string, Node[]>();
  const bodies = new Map<string, Node[]>();
  for (const name of names) {
    if (!/\.(yaml|yml|tpl)$/.test(name) && name !== 'NOTES.txt') continue;
    bodies.set(name, parseTemplate(readFileSync(join(templatesDir, name), 'utf8'), defines, name));
  }
  const renderer = new Renderer(defines);
  const files: Record<string, string> = {};
  const objects: Record<string, unknown>[] = [];
  for (const [name, body] of bodies) {
    if (name.startsWith('_')) continue;
    const text = renderer.run(body, { dot: root, vars: [new Map([['$', root]])] });
    files[name] = text;
    // NOTES.txt is the text helm prints after an install, not objects.
    if (name === 'NOTES.txt') continue;
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0) throw new HelmTemplateError(`${name}: the rendered YAML does not parse: ${document.errors[0]!.message}\n${text}`);
      const object = document.toJS() as unknown;
      if (object !== null && object !== undefined) objects.push(object as Record<string, unknown>);
    }
  }
  return { objects, files };
}

/** Helm's coalescing of user values over the chart's: maps merge, anything else replaces, null deletes. */
function mergeValues(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) delete merged[key];
    else if (isMap(value) && isMap(merged[key])) merged[key] = mergeValues(merged[key], value);
    else merged[key] = value;
  }
  return merged;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ------------------------------------------------------------------------------------ parsing

interface Token {
  kind: 'text' | 'action';
  text: string;
}

function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  let trimNext = false;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    let text = source.slice(at, open === -1 ? source.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      if (text) tokens.push({ kind: 'text', text });
      break;
    }
    let inner = open + 2;
    if (/^-\s/.test(source.slice(inner, inner + 2))) {
      text = text.replace(/\s+$/, '');
      inner += 1;
    }
    if (text) tokens.push({ kind: 'text', text });
    const close = findClose(source, inner, file);
    let body = source.slice(inner, close);
    trimNext = /\s-$/.test(body);
    if (trimNext) body = body.slice(0, -1);
    body = body.trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) tokens.push({ kind: 'action', text: body });
    at = close + 2;
  }
  return tokens;
}

function findClose(source: string, from: number, file: string): number {
  if (source.slice(from).trimStart().startsWith('/*')) {
    const end = source.indexOf('*/', from);
    const close = end === -1 ? -1 : source.indexOf('}}', end);
    if (close === -1) throw new HelmTemplateError(`${file}: unclosed comment`);
    return close;
  }
  let quote: string | null = null;
  for (let i = from; i < source.length; i++) {
    const c = source[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}' && source[i + 1] === '}') return i;
  }
  throw new HelmTemplateError(`${file}: unclosed action`);
}

function parseTemplate(source: string, defines: Map<string, Node[]>, file: string): Node[] {
  const tokens = tokenize(source, file);
  let position = 0;

  const block = (terminators: RegExp): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (position < tokens.length) {
      const token = tokens[position++]!;
      if (token.kind === 'text') {
        nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const action = token.text;
      if (terminators.test(action)) return { nodes, end: action };
      const keyword = /^(if|with|range|define|template|block)\b\s*/.exec(action);
      if (!keyword) {
        if (/^(end|else)\b/.test(action)) throw new HelmTemplateError(`${file}: unexpected {{ ${action} }}`);
        nodes.push({ kind: 'action', pipe: parsePipe(action) });
        continue;
      }
      const rest = action.slice(keyword[0].length);
      switch (keyword[1]) {
        case 'if': {
          const branches = [{ pipe: parsePipe(rest), body: [] as Node[] }];
          let otherwise: Node[] = [];
          for (;;) {
            const part = block(/^(else|end)\b/);
            branches[branches.length - 1]!.body = part.nodes;
            if (part.end === 'end') break;
            const elseIf = /^else\s+if\s+(.*)$/s.exec(part.end);
            if (elseIf) {
              branches.push({ pipe: parsePipe(elseIf[1]!), body: [] });
              continue;
            }
            if (part.end !== 'else') throw new HelmTemplateError(`${file}: unsupported {{ ${part.end} }}`);
            otherwise = expectEnd(block(/^(end|else)\b/), file);
            break;
          }
          nodes.push({ kind: 'if', branches, otherwise });
          break;
        }
        case 'with':
        case 'range': {
          const part = block(/^(else|end)\b/);
          if (part.end !== 'end' && part.end !== 'else') throw new HelmTemplateError(`${file}: unsupported {{ ${part.end} }}`);
          const otherwise = part.end === 'else' ? expectEnd(block(/^(end|else)\b/), file) : [];
          nodes.push({ kind: keyword[1], pipe: parsePipe(rest), body: part.nodes, otherwise });
          break;
        }
        case 'define': {
          const name = parseStringLiteral(rest.trim(), file);
          defines.set(name, expectEnd(block(/^(end|else)\b/), file));
          break;
        }
        case 'template': {
          const match = /^("(?:[^"\\]|\\.)*")\s*(.*)$/s.exec(rest);
          if (!match) throw new HelmTemplateError(`${file}: bad {{ template ${rest} }}`);
          nodes.push({ kind: 'template', name: parseStringLiteral(match[1]!, file), pipe: match[2] ? parsePipe(match[2]) : null });
          break;
        }
        default:
          throw new HelmTemplateError(`${file}: {{ ${keyword[1]} }} is not supported by this renderer`);
      }
    }
    return { nodes, end: '' };
  };

  const top = block(/(?!)/);
  return top.nodes;
}

function expectEnd(part: { nodes: Node[]; end: string }, file: string): Node[] {
  if (part.end !== 'end') throw new HelmTemplateError(`${file}: expected {{ end }}, found ${part.end ? `{{ ${part.end} }}` : 'the end of the file'}`);
  return part.nodes;
}

function parseStringLiteral(text: string, file: string): string {
  if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) throw new HelmTemplateError(`${file}: expected a string, found ${text}`);
  return JSON.parse(text) as string;
}

/** A pipeline: optional `$a := ` or `$a, $b := `, then commands separated by `|`. */
function parsePipe(text: string): Pipe {
  const lexemes = lex(text);
  let position = 0;
  const decl: string[] = [];
  const declaration = lexemes.findIndex((l) => l === ':=' || l === '=');
  if (declaration !== -1) {
    for (const l of lexemes.slice(0, declaration)) if (l !== ',') decl.push(l);
    position = declaration + 1;
  }
  const parseCommands = (stopAtParen: boolean): Term[][] => {
    const commands: Term[][] = [[]];
    while (position < lexemes.length) {
      const l = lexemes[position++]!;
      if (l === ')') {
        if (!stopAtParen) throw new HelmTemplateError(`unbalanced ) in {{ ${text} }}`);
        return commands;
      }
      if (l === '|') {
        commands.push([]);
        continue;
      }
      let term: Term;
      if (l === '(') {
        const inner = parseCommands(true);
        term = { kind: 'field', base: { pipe: { decl: [], commands: inner } }, path: [] };
      } else term = parseTerm(l, text);
      commands[commands.length - 1]!.push(term);
    }
    if (stopAtParen) throw new HelmTemplateError(`unclosed ( in {{ ${text} }}`);
    return commands;
  };
  return { decl, commands: parseCommands(false) };
}

function parseTerm(l: string, text: string): Term {
  if (l.startsWith('"')) return { kind: 'literal', value: JSON.parse(l) as string };
  if (l.startsWith('`')) return { kind: 'literal', value: l.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(l)) return { kind: 'literal', value: Number(l) };
  if (l === 'true' || l === 'false') return { kind: 'literal', value: l === 'true' };
  if (l === 'nil') return { kind: 'literal', value: null };
  if (l === '.') return { kind: 'field', base: 'dot', path: [] };
  if (l.startsWith('.')) return { kind: 'field', base: 'dot', path: l.slice(1).split('.') };
  if (l.startsWith('$')) {
    const [variable, ...path] = l.split('.');
    return { kind: 'field', base: { variable: variable! }, path };
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(l)) return { kind: 'function', name: l };
  throw new HelmTemplateError(`cannot read "${l}" in {{ ${text} }}`);
}

function lex(text: string): string[] {
  const lexemes: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      lexemes.push(text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = text.indexOf('`', i + 1);
      lexemes.push(text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (text.startsWith(':=', i)) {
      lexemes.push(':=');
      i += 2;
      continue;
    }
    if ('()|,='.includes(c)) {
      lexemes.push(c);
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s()|,"`]/.test(text[j]!) && !text.startsWith(':=', j)) j++;
    lexemes.push(text.slice(i, j));
    i = j;
  }
  return lexemes;
}

// ------------------------------------------------------------------------------------ evaluation

class Renderer {
  constructor(private readonly defines: Map<string, Node[]>) {}

  run(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const node of nodes) out += this.node(node, scope);
    return out;
  }

  private node(node: Node, scope: Scope): string {
    switch (node.kind) {
      case 'text':
        return node.text;
      case 'action': {
        const value = this.pipe(node.pipe, scope);
        return node.pipe.decl.length > 0 ? '' : printValue(value);
      }
      case 'if': {
        const inner = child(scope, scope.dot);
        for (const branch of node.branches) if (truthy(this.pipe(branch.pipe, inner))) return this.run(branch.body, inner);
        return this.run(node.otherwise, inner);
      }
      case 'with': {
        const inner = child(scope, scope.dot);
        const value = this.pipe(node.pipe, inner);
        return truthy(value) ? this.run(node.body, { ...inner, dot: value }) : this.run(node.otherwise, inner);
      }
      case 'range': {
        const inner = child(scope, scope.dot);
        const collection = this.evaluate(node.pipe.commands, inner);
        const entries: [Value, Value][] = Array.isArray(collection)
          ? collection.map((v, i) => [i, v])
          : isMap(collection)
            ? Object.keys(collection)
                .sort()
                .map((k) => [k, collection[k]])
            : [];
        if (entries.length === 0) return this.run(node.otherwise, inner);
        let out = '';
        for (const [key, value] of entries) {
          const iteration = child(inner, value);
          const [first, second] = node.pipe.decl;
          if (second) {
            iteration.vars[0]!.set(first!, key);
            iteration.vars[0]!.set(second, value);
          } else if (first) iteration.vars[0]!.set(first, value);
          out += this.run(node.body, iteration);
        }
        return out;
      }
      case 'template':
        return this.include(node.name, node.pipe ? this.pipe(node.pipe, scope) : null);
    }
  }

  include(name: string, dot: Value): string {
    const body = this.defines.get(name);
    if (!body) throw new HelmTemplateError(`no template "${name}"`);
    try {
      // As in Go's text/template, `$` in an invoked template is the data it was given.
      return this.run(body, { dot, vars: [new Map([['$', dot]])] });
    } catch (error) {
      if (error instanceof HelmTemplateError && !error.message.includes(' (in template ')) error.message += ` (in template "${name}")`;
      throw error;
    }
  }

  private pipe(pipe: Pipe, scope: Scope): Value {
    const value = this.evaluate(pipe.commands, scope);
    if (pipe.decl.length === 1) {
      const name = pipe.decl[0]!;
      // `$x = v` assigns the nearest declaration; `$x := v` declares in the current scope.
      const holder = scope.vars.find((vars) => vars.has(name)) ?? scope.vars[0]!;
      holder.set(name, value);
    }
    return value;
  }

  private evaluate(commands: Term[][], scope: Scope): Value {
    let piped: { value: Value } | null = null;
    for (const command of commands) {
      const [head, ...rest] = command;
      if (!head) throw new HelmTemplateError('empty command');
      if (head.kind === 'function') {
        const args = rest.map((term) => this.term(term, scope));
        if (piped) args.push(piped.value);
        piped = { value: this.call(head.name, args, scope) };
      } else {
        if (rest.length > 0 || piped) throw new HelmTemplateError('a value cannot take arguments');
        piped = { value: this.term(head, scope) };
      }
    }
    return piped?.value;
  }

  private term(term: Term, scope: Scope): Value {
    if (term.kind === 'literal') return term.value;
    if (term.kind === 'function') return this.call(term.name, [], scope);
    let value: Value;
    if (term.base === 'dot') value = scope.dot;
    else if ('variable' in term.base) {
      const name = term.base.variable;
      const holder = scope.vars.find((vars) => vars.has(name));
      if (!holder) throw new HelmTemplateError(`undefined variable ${name}`);
      value = holder.get(name);
    } else value = this.evaluate(term.base.pipe.commands, scope);
    for (const key of term.path) {
      if (value === null || value === undefined) throw new HelmTemplateError(`nil pointer evaluating .${term.path.join('.')}`);
      if (!isMap(value)) throw new HelmTemplateError(`can't evaluate field ${key} in ${typeof value}`);
      value = value[key];
    }
    return value;
  }

  private call(name: string, args: Value[], scope: Scope): Value {
    const text = (v: Value) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : printValue(v));
    switch (name) {
      case 'include':
        return this.include(String(args[0]), args[1]);
      case 'nindent':
        return `\n${indent(Number(args[0]), text(args[1]))}`;
      case 'indent':
        return indent(Number(args[0]), text(args[1]));
      case 'toYaml':
        return args[0] === null || args[0] === undefined ? 'null' : stringify(args[0]).replace(/\n$/, '');
      case 'quote':
        return args.map((v) => JSON.stringify(text(v))).join(' ');
      case 'default':
        return truthy(args[1]) ? args[1] : args[0];
      case 'required':
        if (args[1] === null || args[1] === undefined || args[1] === '') throw new HelmTemplateError(`execution error: ${String(args[0])}`);
        return args[1];
      case 'fail':
        throw new HelmTemplateError(`execution error: ${String(args[0])}`);
      case 'printf':
        return printf(String(args[0]), args.slice(1));
      case 'trunc':
        return text(args[1]).slice(0, Number(args[0]));
      case 'trimSuffix':
        return text(args[1]).endsWith(String(args[0])) ? text(args[1]).slice(0, -String(args[0]).length || undefined) : text(args[1]);
      case 'replace':
        return text(args[2]).split(String(args[0])).join(String(args[1]));
      case 'contains':
        return text(args[1]).includes(String(args[0]));
      case 'toString':
        return args[0] === null || args[0] === undefined ? '<nil>' : text(args[0]);
      case 'kindIs':
        return kindOf(args[1]) === args[0];
      case 'eq':
        return args.slice(1).some((v) => v === args[0]);
      case 'ne':
        return args[0] !== args[1];
      case 'not':
        return !truthy(args[0]);
      case 'and':
        return args.find((v) => !truthy(v)) ?? args[args.length - 1];
      case 'or':
        return args.find((v) => truthy(v)) ?? args[args.length - 1];
      case 'dict': {
        const dict: Record<string, Value> = {};
        for (let i = 0; i < args.length; i += 2) dict[String(args[i])] = args[i + 1];
        return dict;
      }
      case 'list':
        return [...args];
      default:
        void scope;
        throw new HelmTemplateError(`function "${name}" is not supported by this renderer`);
    }
  }
}

function child(scope: Scope, dot: Value): Scope {
  return { dot, vars: [new Map(), ...scope.vars] };
}

function truthy(value: Value): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

function kindOf(value: Value): string {
  if (value === null || value === undefined) return 'invalid';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64';
  if (Array.isArray(value)) return 'slice';
  return 'map';
}

function printValue(value: Value): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new HelmTemplateError(`cannot print a ${kindOf(value)} without toYaml`);
}

function indent(spaces: number, text: string): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

function printf(format: string, args: Value[]): string {
  let next = 0;
  return format.replace(/%([svdq%])/g, (_match, verb: string) => {
    if (verb === '%') return '%';
    const value = args[next++];
    if (verb === 'q') return JSON.stringify(printValue(value));
    return printValue(value);
  });
}
