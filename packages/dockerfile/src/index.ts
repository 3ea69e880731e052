export type * from './types';
export { parse } from './parse';
export { toInstructions } from './to-instructions';
export { parseDockerfile } from './parse-dockerfile';
export { createLexer, expand } from './lexer';
export { parseMount } from './mount';
export { chompHeredoc, runHeredocPlan } from './heredoc';
export { INSTRUCTION_INFO, INSTRUCTION_NAMES, isInstructionName } from './instruction-info';
export { dockerfileErrorLine } from './syntax-error';
