import { goQuote } from '../src/go-text';
import { isInstructionName } from '../src/instruction-info';
import type { Ast, InstructionNode } from '../src/types';

/**
 * strata's AST in the s-expression form of BuildKit's `parser.Node.Dump()`, the form of
 * BuildKit's `parser/testfiles/<case>/result`: one `(keyword ["--flag" …] "arg" …)` per
 * instruction. The argument list is BuildKit's `Next` chain, rebuilt from what strata keeps:
 * ENV/LABEL pairs carry a third node, `=` (or `""` for the legacy `KEY value` form); an unknown
 * keyword has one empty node; ONBUILD nests its trigger.
 */
export function dumpAst(ast: Ast): string {
  return ast.children.map((n) => `(${dumpNode(n)})`).join('\n');
}

function dumpNode(node: InstructionNode): string {
  let out = node.keyword;
  if (node.flags.length > 0) out += ` [${node.flags.map((f) => goQuote(f.raw)).join(' ')}]`;
  for (const word of nextChain(node)) out += ' ' + word;
  return out;
}

function nextChain(node: InstructionNode): string[] {
  switch (node.keyword) {
    case 'onbuild':
      return node.inner ? [`(${dumpNode(node.inner)})`] : [];
    case 'env':
    case 'label': {
      const sep = node.legacyKeyValue ? '' : '=';
      const out: string[] = [];
      for (let i = 0; i < node.args.length; i += 2) out.push(goQuote(node.args[i]!), goQuote(node.args[i + 1]!), goQuote(sep));
      return out;
    }
    default:
      if (!isInstructionName(node.keyword)) return ['""']; // BuildKit parseIgnore: one empty node
      return node.args.map(goQuote);
  }
}
